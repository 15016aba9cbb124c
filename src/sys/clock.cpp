#include "sys/clock.h"

#include <time.h>

#include <chrono>
#include <cstdio>

namespace mydocker::sys {

UtcTime utc_time(int64_t secs) {
    using namespace std::chrono;
    // Floor division: a time before the epoch still has its second of day in 0..86399.
    int64_t days = secs / 86400, sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        --days;
    }
    year_month_day ymd{sys_days{std::chrono::days{days}}};
    UtcTime t;
    t.year = static_cast<int>(ymd.year());
    t.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
    t.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
    t.hour = static_cast<int>(sod / 3600);
    t.minute = static_cast<int>(sod / 60 % 60);
    t.second = static_cast<int>(sod % 60);
    return t;
}

std::string format_rfc3339_utc(int64_t secs, long nanos) {
    UtcTime t = utc_time(secs);
    char buf[64];
    int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", t.year, t.month, t.day, t.hour, t.minute,
                          t.second);
    if (nanos >= 0) std::snprintf(buf + n, sizeof buf - n, ".%09ldZ", nanos);
    else std::snprintf(buf + n, sizeof buf - n, "Z");
    return buf;
}

std::string now_rfc3339() {
    struct timespec ts;
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return format_rfc3339_utc(ts.tv_sec, ts.tv_nsec);
}

}  // namespace mydocker::sys
