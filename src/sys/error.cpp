#include "sys/error.h"

#include <cstring>

namespace mydocker::sys {

std::string Error::message() const {
    if (code_ == ErrorCode::system && errno_ != 0) {
        std::string out = message_;
        out += ": ";
        out += std::strerror(errno_);
        return out;
    }
    return message_;
}

}  // namespace mydocker::sys
