// Internal to the spec_*.cpp files: typed, path-naming accessors over nlohmann::json.
// Every accessor checks the JSON type before converting, so nlohmann never throws past
// here, and every error reads `<json path>: <what is wrong>` (STYLE.md §2).
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cgroups/resources.h"
#include "runtime/spec.h"
#include "sys/error.h"

namespace mydocker::runtime::spec_detail {

using Json = nlohmann::json;

/// "parent.key", or "key" at the top level (parse_process names paths without a prefix).
std::string key_path(std::string_view parent, std::string_view key);
/// "parent[i]".
std::string index_path(std::string_view parent, size_t i);
/// `parent["key"]`: map keys may contain dots (sysctl, annotations).
std::string map_path(std::string_view parent, std::string_view key);

/// The invalid_argument error `path: what`.
sys::Error invalid_at(std::string_view path, std::string_view what);

/// Parse a whole document; a syntax error reads `name: parse error at line L, column C: ...`.
sys::Result<Json> parse_document(const std::string& text, std::string_view name);

/// The member `key` of object `obj`, or nullptr when it is absent or null: the Go runtimes
/// decode an explicit null as "not set", and configs written by them contain such nulls.
const Json* member(const Json& obj, std::string_view key);
/// Like member() but a missing member is the error `parent.key: is required`.
sys::Result<const Json*> require(const Json& obj, std::string_view parent, std::string_view key);

sys::Result<void> expect_object(const Json& j, std::string_view path);
sys::Result<void> expect_array(const Json& j, std::string_view path);
sys::Result<std::string> to_string(const Json& j, std::string_view path);
sys::Result<bool> to_bool(const Json& j, std::string_view path);
sys::Result<std::vector<std::string>> to_string_list(const Json& j, std::string_view path);
sys::Result<std::map<std::string, std::string>> to_string_map(const Json& j, std::string_view path);

/// Lexically clean an absolute path: no ".", "..", duplicate or trailing slashes.
std::string clean_path(std::string_view path);
/// True for a path starting with '/'.
inline bool is_absolute(std::string_view path) {
    return !path.empty() && path.front() == '/';
}

/// An integer of type T within [min, max]. Floats, strings and booleans are type errors
/// (`must be an integer`), as Go's decoder rejects them for integer fields.
template <typename T>
sys::Result<T> to_int(const Json& j, std::string_view path, T min = std::numeric_limits<T>::min(),
                      T max = std::numeric_limits<T>::max()) {
    if (!j.is_number_integer()) return sys::fail(invalid_at(path, "must be an integer"));
    bool below, above;
    if (j.is_number_unsigned()) {
        auto u = j.get<uint64_t>();
        below = std::cmp_less(u, min);
        above = std::cmp_greater(u, max);
    } else {
        auto s = j.get<int64_t>();
        below = std::cmp_less(s, min);
        above = std::cmp_greater(s, max);
    }
    if (!below && !above) {
        if (j.is_number_unsigned()) return static_cast<T>(j.get<uint64_t>());
        return static_cast<T>(j.get<int64_t>());
    }
    // Name only the bound that matters unless the caller narrowed both.
    bool open_top = max == std::numeric_limits<T>::max();
    bool open_bottom = min == std::numeric_limits<T>::min();
    std::string what;
    if (below && open_top)
        what = "must be >= " + std::to_string(min);
    else if (above && open_bottom)
        what = "must be <= " + std::to_string(max);
    else
        what = "must be between " + std::to_string(min) + " and " + std::to_string(max);
    return sys::fail(invalid_at(path, what));
}

// Optional members: each reader leaves `out` untouched when the member is absent or null.
sys::Result<void> read(const Json& obj, std::string_view parent, std::string_view key,
                       std::string& out);
sys::Result<void> read(const Json& obj, std::string_view parent, std::string_view key, bool& out);
sys::Result<void> read(const Json& obj, std::string_view parent, std::string_view key,
                       std::optional<bool>& out);
sys::Result<void> read(const Json& obj, std::string_view parent, std::string_view key,
                       std::vector<std::string>& out);
sys::Result<void> read(const Json& obj, std::string_view parent, std::string_view key,
                       std::map<std::string, std::string>& out);

template <typename T>
sys::Result<void> read_int(const Json& obj, std::string_view parent, std::string_view key, T& out,
                           T min = std::numeric_limits<T>::min(),
                           T max = std::numeric_limits<T>::max()) {
    if (const Json* v = member(obj, key))
        out = MD_TRY(to_int<T>(*v, key_path(parent, key), min, max));
    return {};
}

template <typename T>
sys::Result<void> read_int(const Json& obj, std::string_view parent, std::string_view key,
                           std::optional<T>& out, T min = std::numeric_limits<T>::min(),
                           T max = std::numeric_limits<T>::max()) {
    if (const Json* v = member(obj, key))
        out = MD_TRY(to_int<T>(*v, key_path(parent, key), min, max));
    return {};
}

/// A required integer member.
template <typename T>
sys::Result<T> require_int(const Json& obj, std::string_view parent, std::string_view key,
                           T min = std::numeric_limits<T>::min(),
                           T max = std::numeric_limits<T>::max()) {
    const Json* v = MD_TRY(require(obj, parent, key));
    return to_int<T>(*v, key_path(parent, key), min, max);
}

// Pieces shared between the spec_*.cpp files.

/// linux.resources at `path` (an object) into the cgroups model.
sys::Result<cgroups::Resources> parse_resources_at(const Json& j, std::string_view path);

/// An array of {containerID, hostID, size} at `path`: sizes > 0, ranges within 32 bits and
/// not overlapping (what the kernel's uid_map refuses, said before any clone()).
sys::Result<std::vector<IdMapping>> parse_id_mappings(const Json& j, std::string_view path);

/// The mount options this runtime recognises (the features document lists them).
const std::vector<std::string>& mount_option_names();
/// mounts[] at `path` (an array); bind sources are resolved against `bundle`.
sys::Result<std::vector<Mount>> parse_mounts_at(const Json& j, std::string_view path,
                                                const std::string& bundle);
/// The "linux" object at `path`, namespace-dependent rules (sysctl, id mappings) included.
sys::Result<Linux> parse_linux_at(const Json& j, std::string_view path);

}  // namespace mydocker::runtime::spec_detail
