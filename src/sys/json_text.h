// JSON text that never throws on the bytes it holds.
#pragma once

#include <string>

namespace mydocker::sys {

/// The JSON text of `j` (nlohmann's dump): a string that is not valid UTF-8 (an argument,
/// label, name or log line may be any bytes) has each bad sequence replaced by U+FFFD, as
/// Go's encoder (docker's) writes it, instead of throwing (an exception that reached the
/// engine's API ended in std::terminate).
template <class Json>
std::string json_text(const Json& j, int indent = -1, char indent_char = ' ') {
    return j.dump(indent, indent_char, false, Json::error_handler_t::replace);
}

}  // namespace mydocker::sys
