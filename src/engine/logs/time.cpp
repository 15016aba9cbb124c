// Log times: the writer's format and the reader's --since / --until.
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>

#include "engine/logs/log_time.h"
#include "engine/logs/logs.h"
#include "sys/clock.h"

namespace mydocker::engine::logs {

namespace {

using std::chrono::system_clock;
using Nanos = std::chrono::nanoseconds;

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Exactly `n` digits at s[pos...]; advances pos.
std::optional<int> fixed_digits(std::string_view s, size_t& pos, size_t n) {
    if (s.size() - pos < n) return std::nullopt;
    int v = 0;
    for (size_t i = 0; i < n; ++i) {
        if (!is_digit(s[pos + i])) return std::nullopt;
        v = v * 10 + (s[pos + i] - '0');
    }
    pos += n;
    return v;
}

// A fraction of a second after the '.', as nanoseconds; digits past the ninth are dropped.
std::optional<int64_t> fraction_ns(std::string_view s, size_t& pos) {
    size_t start = pos;
    int64_t ns = 0;
    int scale = 0;
    while (pos < s.size() && is_digit(s[pos])) {
        if (scale < 9) {
            ns = ns * 10 + (s[pos] - '0');
            ++scale;
        }
        ++pos;
    }
    if (pos == start) return std::nullopt;
    for (; scale < 9; ++scale) ns *= 10;
    return ns;
}

// Go's duration syntax, which docker takes for --since: "10m", "1h30m", "1.5h", "300ms".
std::optional<Nanos> parse_duration(std::string_view s) {
    bool negative = false;
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
        negative = s[0] == '-';
        s.remove_prefix(1);
    }
    if (s.empty()) return std::nullopt;
    static constexpr std::pair<std::string_view, int64_t> kUnits[] = {
        {"ns", 1},
        {"us", 1000},
        {"\xc2\xb5s", 1000},  // U+00B5 micro sign
        {"\xce\xbcs", 1000},  // U+03BC Greek mu
        {"ms", 1000000},
        {"s", 1000000000},
        {"m", 60LL * 1000000000},
        {"h", 3600LL * 1000000000},
    };
    // Nanoseconds fit int64 for ±292 years; beyond that the value is rejected, not wrapped.
    __int128 total = 0;
    size_t pos = 0;
    while (pos < s.size()) {
        __int128 whole = 0;
        size_t digits_start = pos;
        while (pos < s.size() && is_digit(s[pos])) {
            whole = whole * 10 + (s[pos] - '0');
            if (whole > INT64_MAX) return std::nullopt;
            ++pos;
        }
        bool has_whole = pos > digits_start;
        int64_t frac_num = 0, frac_den = 1;
        bool has_frac = false;
        if (pos < s.size() && s[pos] == '.') {
            ++pos;
            while (pos < s.size() && is_digit(s[pos])) {
                if (frac_den < 1000000000000000000LL / 10) {
                    frac_num = frac_num * 10 + (s[pos] - '0');
                    frac_den *= 10;
                }
                has_frac = true;
                ++pos;
            }
        }
        if (!has_whole && !has_frac) return std::nullopt;
        size_t unit_start = pos;
        while (pos < s.size() && !is_digit(s[pos]) && s[pos] != '.') ++pos;
        std::string_view unit = s.substr(unit_start, pos - unit_start);
        int64_t scale = 0;
        for (auto [name, ns] : kUnits)
            if (unit == name) scale = ns;
        if (scale == 0) return std::nullopt;
        total += whole * scale + static_cast<__int128>(frac_num) * scale / frac_den;
        if (total > INT64_MAX) return std::nullopt;
    }
    auto ns = static_cast<int64_t>(total);
    return Nanos(negative ? -ns : ns);
}

// "1700000000" or "1700000000.5": seconds since the epoch, UTC.
std::optional<system_clock::time_point> parse_unix(std::string_view s) {
    size_t pos = 0;
    int64_t secs = 0;
    while (pos < s.size() && is_digit(s[pos])) {
        if (secs > (INT64_MAX / 1000000000 - 9) / 10) return std::nullopt;
        secs = secs * 10 + (s[pos] - '0');
        ++pos;
    }
    if (pos == 0) return std::nullopt;
    int64_t ns = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        auto frac = fraction_ns(s, pos);
        if (!frac) return std::nullopt;
        ns = *frac;
    }
    if (pos != s.size()) return std::nullopt;
    return system_clock::time_point(
        std::chrono::duration_cast<system_clock::duration>(std::chrono::seconds(secs) + Nanos(ns)));
}

}  // namespace

namespace detail {

std::optional<system_clock::time_point> parse_rfc3339(std::string_view s) {
    using namespace std::chrono;
    size_t pos = 0;
    auto year = fixed_digits(s, pos, 4);
    if (!year || pos >= s.size() || s[pos++] != '-') return std::nullopt;
    auto month = fixed_digits(s, pos, 2);
    if (!month || pos >= s.size() || s[pos++] != '-') return std::nullopt;
    auto day = fixed_digits(s, pos, 2);
    if (!day) return std::nullopt;
    year_month_day ymd{std::chrono::year(*year), std::chrono::month(static_cast<unsigned>(*month)),
                       std::chrono::day(static_cast<unsigned>(*day))};
    if (!ymd.ok()) return std::nullopt;

    int hh = 0, mm = 0, ss = 0;
    int64_t ns = 0;
    if (pos < s.size() && (s[pos] == 'T' || s[pos] == 't' || s[pos] == ' ')) {
        ++pos;
        auto h = fixed_digits(s, pos, 2);
        if (!h || *h > 23) return std::nullopt;
        hh = *h;
        if (pos < s.size() && s[pos] == ':') {
            ++pos;
            auto m = fixed_digits(s, pos, 2);
            if (!m || *m > 59) return std::nullopt;
            mm = *m;
            if (pos < s.size() && s[pos] == ':') {
                ++pos;
                auto sec = fixed_digits(s, pos, 2);
                if (!sec || *sec > 59) return std::nullopt;
                ss = *sec;
                if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
                    ++pos;
                    auto frac = fraction_ns(s, pos);
                    if (!frac) return std::nullopt;
                    ns = *frac;
                }
            }
        }
    }

    std::optional<int> offset_minutes;  // east of UTC; none: local time
    if (pos < s.size()) {
        char c = s[pos++];
        if (c == 'Z' || c == 'z') {
            offset_minutes = 0;
        } else if (c == '+' || c == '-') {
            auto oh = fixed_digits(s, pos, 2);
            if (!oh || *oh > 23) return std::nullopt;
            if (pos < s.size() && s[pos] == ':') ++pos;
            auto om = fixed_digits(s, pos, 2);
            if (!om || *om > 59) return std::nullopt;
            offset_minutes = (c == '-' ? -1 : 1) * (*oh * 60 + *om);
        } else {
            return std::nullopt;
        }
    }
    if (pos != s.size()) return std::nullopt;

    system_clock::time_point tp;
    if (offset_minutes) {
        tp = sys_days(ymd) + hours(hh) + minutes(mm) + seconds(ss) - minutes(*offset_minutes);
    } else {
        struct tm tm {};
        tm.tm_year = *year - 1900;
        tm.tm_mon = *month - 1;
        tm.tm_mday = *day;
        tm.tm_hour = hh;
        tm.tm_min = mm;
        tm.tm_sec = ss;
        tm.tm_isdst = -1;  // let the zone rules say whether DST applies on that date
        // A 4-digit year always fits a 64-bit time_t, so mktime cannot fail here.
        tp = system_clock::from_time_t(::mktime(&tm));
    }
    return tp + duration_cast<system_clock::duration>(Nanos(ns));
}

}  // namespace detail

std::string format_time(system_clock::time_point t) {
    using namespace std::chrono;
    auto secs = floor<seconds>(t);
    auto ns = duration_cast<nanoseconds>(t - secs).count();
    return sys::format_rfc3339_utc(static_cast<int64_t>(system_clock::to_time_t(secs)), static_cast<long>(ns));
}

sys::Result<system_clock::time_point> parse_time(std::string_view s, system_clock::time_point now) {
    auto bad = [&] {
        return sys::fail_invalid(
            "invalid time \"" + std::string(s) +
            "\": use RFC 3339 (2006-01-02T15:04:05Z), Unix seconds (1700000000.5) or "
            "a duration before now (10m, 1h30m)");
    };
    if (s.empty()) return bad();
    // "0" is the epoch, not a zero duration: docker reads it that way too.
    if (s != "0") {
        if (auto d = parse_duration(s))
            return now - std::chrono::duration_cast<system_clock::duration>(*d);
    }
    if (s.find('-') != std::string_view::npos) {
        if (auto t = detail::parse_rfc3339(s)) return *t;
        return bad();
    }
    if (auto t = parse_unix(s)) return *t;
    return bad();
}

}  // namespace mydocker::engine::logs
