// Times and sizes as `docker images` prints them ("2 minutes ago", "4.26MB"), for the CLI.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mydocker::engine::images {

/// Parse an RFC 3339 time ("2024-05-07T10:00:00.123Z", "+02:00" offsets) to Unix seconds.
std::optional<int64_t> parse_rfc3339(std::string_view s);
/// The same in nanoseconds, for ordering images created within one second.
std::optional<int64_t> parse_rfc3339_nanos(std::string_view s);
/// Unix seconds as RFC 3339 UTC without fractions ("2024-05-07T10:00:00Z").
std::string format_rfc3339(int64_t secs);
/// Unix seconds as Docker's CreatedAt ("2024-05-07 10:00:00 +0000 UTC").
std::string format_docker_time(int64_t secs);
/// A duration the way Docker says it: "Less than a second", "About a minute", "3 hours",
/// "2 weeks" (go-units HumanDuration).
std::string human_duration(int64_t seconds);
/// Bytes in decimal units with 3 significant digits: "512B", "4.26MB" (go-units HumanSize).
std::string human_size(uint64_t bytes);

}  // namespace mydocker::engine::images
