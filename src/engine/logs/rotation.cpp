// The json-file driver's options (--log-opt max-size, max-file), as docker validates them.
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "engine/logs/logs.h"

namespace mydocker::engine::logs {

namespace {

sys::Error opt_error(const std::string& key, const std::string& value, const std::string& why) {
    return sys::Error::invalid("--log-opt " + key + "=" + value + ": " + why);
}

// go-units' FromHumanSize, which docker's json-file uses: decimal multiples (10m = 10,000,000
// bytes, unlike -m's binary ones), a fraction, an optional space, unit k/m/g/t/p, then an
// optional "i" and "b" in any case.
std::optional<int64_t> decimal_size(const std::string& s) {
    size_t i = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == 0) return std::nullopt;
    if (i < s.size() && s[i] == '.') {
        size_t frac = ++i;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
        if (i == frac) return std::nullopt;
    }
    double v = std::strtod(s.substr(0, i).c_str(), nullptr);
    if (i < s.size() && s[i] == ' ') ++i;
    double mult = 1;
    if (i < s.size()) {
        switch (std::tolower(static_cast<unsigned char>(s[i]))) {
            case 'k':
                mult = 1e3;
                ++i;
                break;
            case 'm':
                mult = 1e6;
                ++i;
                break;
            case 'g':
                mult = 1e9;
                ++i;
                break;
            case 't':
                mult = 1e12;
                ++i;
                break;
            case 'p':
                mult = 1e15;
                ++i;
                break;
            default:
                break;
        }
    }
    if (i < s.size() && std::tolower(static_cast<unsigned char>(s[i])) == 'i') ++i;
    if (i < s.size() && std::tolower(static_cast<unsigned char>(s[i])) == 'b') ++i;
    if (i != s.size() || !std::isfinite(v * mult) || v * mult > 9.2e18) return std::nullopt;
    return static_cast<int64_t>(v * mult);
}

}  // namespace

sys::Result<Rotation> parse_rotation(const std::map<std::string, std::string>& opts) {
    Rotation r;
    for (const auto& [key, value] : opts) {
        if (key == "max-size") {
            auto size = decimal_size(value);
            if (!size)
                return sys::fail(opt_error(key, value, "invalid size (examples: 10m, 500k, 1g)"));
            if (*size <= 0)
                return sys::fail(opt_error(key, value, "max-size must be a positive number"));
            r.max_size = *size;
        } else if (key == "max-file") {
            char* end = nullptr;
            errno = 0;
            long n = std::strtol(value.c_str(), &end, 10);
            if (value.empty() || *end || errno == ERANGE || n > 1'000'000)
                return sys::fail(opt_error(key, value, "not a number"));
            if (n < 1) return sys::fail(opt_error(key, value, "max-file cannot be less than 1"));
            r.max_file = static_cast<int>(n);
        } else {
            return sys::fail(sys::Error::invalid(
                "--log-opt " + key + ": unknown log opt '" + key +
                "' for json-file log driver (mydocker knows max-size, max-file)"));
        }
    }
    return r;
}

std::string rotated_path(const std::string& path, int n) {
    return n == 0 ? path : path + "." + std::to_string(n);
}

}  // namespace mydocker::engine::logs
