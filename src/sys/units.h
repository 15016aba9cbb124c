// Human sizes: "512", "100m", "1.5G", "64KiB" -> bytes (binary multiples, as Docker's -m).
#pragma once

#include <cstdint>
#include <string_view>

#include "sys/error.h"

namespace mydocker::sys {

/// Parse a byte size; "-1" is passed through (unlimited). invalid_argument on bad input.
Result<int64_t> parse_bytes(std::string_view s);

}  // namespace mydocker::sys
