// Signal names: "TERM", "SIGTERM", "15", "RTMIN+3" <-> numbers, as runc's kill accepts them.
#pragma once

#include <string>
#include <string_view>

#include "sys/error.h"

namespace mydocker::sys {

/// Parse a signal given by name (with or without "SIG", any case) or number.
Result<int> parse_signal(std::string_view s);
/// "SIGTERM" for 15.
std::string signal_name(int sig);

}  // namespace mydocker::sys
