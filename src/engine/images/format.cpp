#include "engine/images/format.h"

#include <cstdio>
#include <ctime>

#include "sys/clock.h"

namespace mydocker::engine::images {

namespace {

bool digits(std::string_view s, size_t pos, size_t n, int& out) {
    if (pos + n > s.size()) return false;
    out = 0;
    for (size_t i = pos; i < pos + n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

}  // namespace

std::optional<int64_t> parse_rfc3339(std::string_view s) {
    auto ns = parse_rfc3339_nanos(s);
    if (!ns) return std::nullopt;
    // Floor division: a time before 1970 still rounds down to its second.
    return *ns >= 0 ? *ns / 1000000000 : -((-*ns + 999999999) / 1000000000);
}

std::optional<int64_t> parse_rfc3339_nanos(std::string_view s) {
    // YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
    int y, mo, d, h, mi, se;
    if (!digits(s, 0, 4, y) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, mo) ||
        s[7] != '-' || !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        !digits(s, 11, 2, h) || s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' ||
        !digits(s, 17, 2, se))
        return std::nullopt;
    size_t i = 19;
    int64_t nanos = 0;
    if (i < s.size() && s[i] == '.') {
        i++;
        int64_t scale = 100000000;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            nanos += (s[i] - '0') * scale;
            scale /= 10;
            i++;
        }
    }
    int offset = 0;
    if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
        int oh, om;
        if (!digits(s, i + 1, 2, oh) || i + 3 >= s.size() || s[i + 3] != ':' ||
            !digits(s, i + 4, 2, om))
            return std::nullopt;
        offset = (oh * 60 + om) * 60 * (s[i] == '-' ? -1 : 1);
        i += 6;
    } else {
        return std::nullopt;
    }
    if (i != s.size() || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return std::nullopt;
    struct tm tm {};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    return (static_cast<int64_t>(::timegm(&tm)) - offset) * 1000000000 + nanos;
}

std::string format_rfc3339(int64_t secs) { return sys::format_rfc3339_utc(secs); }

std::string format_docker_time(int64_t secs) {
    sys::UtcTime t = sys::utc_time(secs);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d +0000 UTC", t.year, t.month, t.day, t.hour, t.minute,
                  t.second);
    return buf;
}

std::string human_duration(int64_t seconds) {
    auto n = [](int64_t v, const char* unit) { return std::to_string(v) + " " + unit; };
    if (seconds < 1) return "Less than a second";
    if (seconds == 1) return "1 second";
    if (seconds < 60) return n(seconds, "seconds");
    int64_t minutes = seconds / 60;
    if (minutes == 1) return "About a minute";
    if (minutes < 60) return n(minutes, "minutes");
    int64_t hours = (seconds + 1800) / 3600;  // rounded, as go-units does
    if (hours == 1) return "About an hour";
    if (hours < 48) return n(hours, "hours");
    if (hours < 24 * 7 * 2) return n(hours / 24, "days");
    if (hours < 24 * 30 * 2) return n(hours / 24 / 7, "weeks");
    if (hours < 24 * 365 * 2) return n(hours / 24 / 30, "months");
    return n(seconds / 3600 / 24 / 365, "years");
}

std::string human_size(uint64_t bytes) {
    static const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    double v = static_cast<double>(bytes);
    size_t u = 0;
    while (v >= 1000.0 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1000.0;
        u++;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g%s", v, units[u]);
    return buf;
}

}  // namespace mydocker::engine::images
