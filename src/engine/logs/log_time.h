// Time parsing shared by parse_time() and the log reader (private to engine/logs).
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace mydocker::engine::logs::detail {

/// An RFC 3339 date-time, leniently: "2006-01-02", "2006-01-02T15", "...T15:04",
/// "...T15:04:05", any fraction, then "Z", "+07:00" or no zone (local time, as docker does).
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view s);

}  // namespace mydocker::engine::logs::detail
