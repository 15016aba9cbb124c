#include "sys/units.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <cstdlib>
#include <string>

namespace mydocker::sys {

Result<int64_t> parse_bytes(std::string_view s) {
    std::string str(s);
    if (str == "-1") return -1;
    auto bad = [&] { return fail_invalid("invalid size \"" + str + "\": use a number with an optional unit (b, k, m, g, t)"); };
    if (str.empty()) return bad();
    char* end = nullptr;
    double v = std::strtod(str.c_str(), &end);
    if (end == str.c_str() || v < 0 || !std::isfinite(v)) return bad();
    std::string unit;
    for (const char* p = end; *p; ++p) unit += static_cast<char>(std::tolower(static_cast<unsigned char>(*p)));
    if (unit.size() > 1 && unit.back() == 'b') unit.pop_back();       // "mb" -> "m"
    if (unit.size() > 1 && unit.back() == 'i') unit.pop_back();       // "mib" -> "m"
    double mult = 1;
    if (unit.empty() || unit == "b") mult = 1;
    else if (unit == "k") mult = 1024.0;
    else if (unit == "m") mult = 1024.0 * 1024;
    else if (unit == "g") mult = 1024.0 * 1024 * 1024;
    else if (unit == "t") mult = 1024.0 * 1024 * 1024 * 1024;
    else return bad();
    double bytes = v * mult;
    if (bytes > 9.2e18) return bad();
    return static_cast<int64_t>(bytes);
}

std::string human_size(double bytes, int digits) {
    static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    size_t unit = 0;
    while (bytes >= 1000 && unit + 1 < std::size(kUnits)) {
        bytes /= 1000;
        ++unit;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.*g%s", digits, bytes, kUnits[unit]);
    return buf;
}

}  // namespace mydocker::sys
