// Wall-clock time in UTC, as the engine's records and logs write it (RFC 3339, "Z").
#pragma once

#include <cstdint>
#include <string>

namespace mydocker::sys {

/// A UTC calendar time, to the second.
struct UtcTime {
    int year = 1970;
    int month = 1;  // 1..12
    int day = 1;    // 1..31
    int hour = 0;
    int minute = 0;
    int second = 0;
};

/// `secs` since the epoch as UTC calendar fields: gmtime_r's answer, by arithmetic alone.
/// (glibc's gmtime_r sets up the local time zone first, which reads /etc/localtime once per
/// process: a file open on the path of every `run`.)
UtcTime utc_time(int64_t secs);
/// `secs` as RFC 3339 in UTC, "2026-12-02T05:04:03Z"; with `nanos` (0..999999999) given,
/// "2026-12-02T05:04:03.000000123Z".
std::string format_rfc3339_utc(int64_t secs, long nanos = -1);
/// The current time as RFC 3339 with nanoseconds, UTC.
std::string now_rfc3339();

}  // namespace mydocker::sys
