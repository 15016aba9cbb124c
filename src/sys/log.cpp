#include "sys/log.h"

#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

#include "sys/clock.h"

namespace mydocker::sys {

namespace {

const char* level_name(LogLevel level) {
    switch (level) {
        case LogLevel::debug: return "debug";
        case LogLevel::info: return "info";
        case LogLevel::warn: return "warning";
        case LogLevel::error: return "error";
    }
    return "info";
}

}  // namespace

std::string json_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 8);
    for (unsigned char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    return out;
}

void Logger::log(LogLevel level, std::string_view msg) const {
    std::string line;
    if (format_ == LogFormat::json) {
        line = "{\"level\":\"" + std::string(level_name(level)) + "\",\"msg\":\"" + json_escape(msg) +
               "\",\"time\":\"" + now_rfc3339() + "\"}\n";
    } else {
        line = now_rfc3339() + " " + level_name(level) + ": " + std::string(msg) + "\n";
        if (!fd_.valid()) line = "mydocker-runc: " + std::string(level_name(level)) + ": " + std::string(msg) + "\n";
    }
    // One write: lines from several processes sharing the log never interleave.
    ssize_t rc = ::write(fd(), line.data(), line.size());
    (void)rc;
}

}  // namespace mydocker::sys
