#include "sys/random.h"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <random>

namespace mydocker::sys {

void random_bytes(void* buf, size_t n) {
    auto* p = static_cast<unsigned char*>(buf);
    size_t got = 0;
    while (got < n) {
        ssize_t r = ::getrandom(p + got, n - got, 0);
        if (r > 0) {
            got += static_cast<size_t>(r);
        } else if (r < 0 && errno != EINTR) {
            break;
        }
    }
    if (got < n) {  // no getrandom (old kernel, seccomp): the device, then the library's
        int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            for (ssize_t r; got < n && (r = ::read(fd, p + got, n - got)) != 0;)
                if (r > 0)
                    got += static_cast<size_t>(r);
                else if (errno != EINTR)
                    break;
            ::close(fd);
        }
    }
    if (got < n) {
        std::random_device rd;
        for (; got < n; ++got) p[got] = static_cast<unsigned char>(rd());
    }
}

std::string random_hex(size_t digits) {
    std::string raw((digits + 1) / 2, '\0');
    random_bytes(raw.data(), raw.size());
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(raw.size() * 2);
    for (unsigned char c : raw) {
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
    out.resize(digits);
    return out;
}

uint32_t random_below(uint32_t n) {
    // Rejection of the top sliver keeps it uniform.
    const uint32_t limit = UINT32_MAX - UINT32_MAX % n;
    uint32_t v;
    do random_bytes(&v, sizeof v);
    while (v >= limit);
    return v % n;
}

}  // namespace mydocker::sys
