#include "sys/clock.h"

#include <gtest/gtest.h>
#include <time.h>

#include <cstdint>
#include <string>

namespace mydocker::sys {
namespace {

// utc_time(s) against glibc's gmtime_r; false (with the failures reported) if they differ.
bool agrees_with_gmtime(int64_t s) {
    time_t t = static_cast<time_t>(s);
    struct tm want;
    if (!gmtime_r(&t, &want)) {
        ADD_FAILURE() << "gmtime_r " << s;
        return false;
    }
    UtcTime got = utc_time(s);
    bool same = got.year == want.tm_year + 1900 && got.month == want.tm_mon + 1 && got.day == want.tm_mday &&
                got.hour == want.tm_hour && got.minute == want.tm_min && got.second == want.tm_sec;
    EXPECT_TRUE(same) << s << ": " << got.year << "-" << got.month << "-" << got.day << " " << got.hour << ":"
                      << got.minute << ":" << got.second;
    return same;
}

TEST(UtcTime, AgreesWithGmtime) {
    // Around the epoch, leap days (2000 is one, 2100 is not), and far from both.
    const int64_t samples[] = {0,          -1,         59,         86399,      86400,       951782400,
                               951868799,  951868800,  4107542400, 4107628800, -2208988800, 1796187843,
                               253402300799};
    for (int64_t s : samples) agrees_with_gmtime(s);
    // Every 7th day for eight centuries around the epoch, at a second that moves through the day.
    for (int64_t d = -146097; d < 146097; d += 7)
        if (!agrees_with_gmtime(d * 86400 + (d * 7919) % 86400)) break;
}

TEST(UtcTime, FormatsRfc3339) {
    EXPECT_EQ(format_rfc3339_utc(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(format_rfc3339_utc(1796187843), "2026-12-02T05:04:03Z");
    EXPECT_EQ(format_rfc3339_utc(1796187843, 123), "2026-12-02T05:04:03.000000123Z");
    EXPECT_EQ(format_rfc3339_utc(-1, 999999999), "1969-12-31T23:59:59.999999999Z");
    std::string now = now_rfc3339();
    ASSERT_EQ(now.size(), 30u) << now;
    EXPECT_EQ(now.back(), 'Z');
    EXPECT_EQ(now[10], 'T');
}

}  // namespace
}  // namespace mydocker::sys
