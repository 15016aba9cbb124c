// parse_time (--since / --until) and format_time.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <string>

#include "engine/logs/logs.h"

namespace mydocker::engine::logs {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

system_clock::time_point utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
    return sys_days(year(y) / month(mo) / day(d)) + hours(h) + minutes(mi) + seconds(s);
}

// Sets TZ for the test's local-time cases and puts the old value back.
class ScopedTz {
  public:
    explicit ScopedTz(const char* tz) {
        if (const char* old = std::getenv("TZ")) old_ = old;
        ::setenv("TZ", tz, 1);
        ::tzset();
    }
    ~ScopedTz() {
        if (old_)
            ::setenv("TZ", old_->c_str(), 1);
        else
            ::unsetenv("TZ");
        ::tzset();
    }

  private:
    std::optional<std::string> old_;
};

const auto kNow = utc(2026, 11, 23, 18, 0, 0);

system_clock::time_point ok(const char* s) {
    auto t = parse_time(s, kNow);
    EXPECT_TRUE(t) << s << ": " << t.error().message();
    return t ? *t : system_clock::time_point{};
}

TEST(ParseTimeTest, Rfc3339WithZone) {
    EXPECT_EQ(ok("2026-11-23T18:00:00Z"), utc(2026, 11, 23, 18));
    EXPECT_EQ(ok("2026-11-23t18:00:00z"), utc(2026, 11, 23, 18));
    EXPECT_EQ(ok("2026-11-23T18:00:00.123456789Z"), utc(2026, 11, 23, 18) + 123456789ns);
    EXPECT_EQ(ok("2026-11-23T18:00:00.5Z"), utc(2026, 11, 23, 18) + 500ms);
    EXPECT_EQ(ok("2026-11-23T18:00:00.1234567891234Z"), utc(2026, 11, 23, 18) + 123456789ns);
    EXPECT_EQ(ok("2026-11-23T19:30:00+01:30"), utc(2026, 11, 23, 18));
    EXPECT_EQ(ok("2026-11-23T13:00:00-05:00"), utc(2026, 11, 23, 18));
    EXPECT_EQ(ok("2026-11-23T18:05Z"), utc(2026, 11, 23, 18, 5));
    EXPECT_EQ(ok("2024-02-29T00:00:00Z"), utc(2024, 2, 29));
}

TEST(ParseTimeTest, WithoutZoneIsLocalTime) {
    {
        ScopedTz tz("UTC0");
        EXPECT_EQ(ok("2026-11-23T18:00:00"), utc(2026, 11, 23, 18));
        EXPECT_EQ(ok("2026-11-23"), utc(2026, 11, 23));
        EXPECT_EQ(ok("2026-11-23T18:00"), utc(2026, 11, 23, 18));
        EXPECT_EQ(ok("2026-11-23T18:00:00.25"), utc(2026, 11, 23, 18) + 250ms);
    }
    {
        ScopedTz tz("EST5");  // a fixed five hours west of UTC, no DST
        EXPECT_EQ(ok("2026-11-23T13:00:00"), utc(2026, 11, 23, 18));
        EXPECT_EQ(ok("2026-11-23T13:00:00Z"), utc(2026, 11, 23, 13));
    }
}

TEST(ParseTimeTest, UnixSeconds) {
    EXPECT_EQ(ok("1700000000"), system_clock::time_point(1700000000s));
    EXPECT_EQ(ok("1700000000.5"), system_clock::time_point(1700000000s + 500ms));
    EXPECT_EQ(ok("1700000000.000000001"), system_clock::time_point(1700000000s + 1ns));
    EXPECT_EQ(ok("0"), system_clock::time_point{});  // the epoch, not "0 before now"
}

TEST(ParseTimeTest, DurationsCountBackFromNow) {
    EXPECT_EQ(ok("10m"), kNow - 10min);
    EXPECT_EQ(ok("1h30m"), kNow - 90min);
    EXPECT_EQ(ok("45s"), kNow - 45s);
    EXPECT_EQ(ok("1.5h"), kNow - 90min);
    EXPECT_EQ(ok("300ms"), kNow - 300ms);
    EXPECT_EQ(ok("2h0m3s"), kNow - 2h - 3s);
    EXPECT_EQ(ok("10us"), kNow - 10us);
    EXPECT_EQ(ok("-5m"), kNow + 5min);
}

TEST(ParseTimeTest, BadValuesAreNamed) {
    for (const char* bad :
         {"", "abc", "10x", "1h30", "m", ".m", "-", "10 m", "2026-13-01", "2026-02-30T00:00:00Z",
          "2026-11-23T25:00:00Z", "2026-11-23T18:61:00Z", "2026-11-23T18:00:00+25:00",
          "2026-11-23T18:00:00Zjunk", "2026-1-1", "1700000000.", "1700000000.5.5",
          "99999999999999999999", "9999999999999999999h"}) {
        auto t = parse_time(bad, kNow);
        ASSERT_FALSE(t) << "accepted \"" << bad << "\"";
        EXPECT_EQ(t.error().code(), sys::ErrorCode::invalid_argument);
        EXPECT_NE(t.error().message().find(std::string("\"") + bad + "\""), std::string::npos)
            << t.error().message();
    }
}

TEST(FormatTimeTest, NanosecondUtc) {
    EXPECT_EQ(format_time(utc(2026, 11, 23, 18) + 123456789ns), "2026-11-23T18:00:00.123456789Z");
    EXPECT_EQ(format_time(utc(2026, 1, 2, 3, 4, 5)), "2026-01-02T03:04:05.000000000Z");
    auto now = system_clock::now();
    EXPECT_EQ(ok(format_time(now).c_str()), now);  // round trip
}

}  // namespace
}  // namespace mydocker::engine::logs
