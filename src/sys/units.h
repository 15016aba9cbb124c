// Human sizes: "512", "100m", "1.5G", "64KiB" -> bytes (binary multiples, as Docker's -m).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sys/error.h"

namespace mydocker::sys {

/// Parse a byte size; "-1" is passed through (unlimited). invalid_argument on bad input.
Result<int64_t> parse_bytes(std::string_view s);

/// Docker's (go-units) HumanSize: decimal units ("1.024kB", "12.3MB") with `digits`
/// significant digits (4 in docker's listings; its progress bars show 3).
std::string human_size(double bytes, int digits);

}  // namespace mydocker::sys
