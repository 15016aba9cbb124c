#include "runtime/spec_json.h"

#include <algorithm>

namespace mydocker::runtime::spec_detail {

std::string key_path(std::string_view parent, std::string_view key) {
    std::string out(parent);
    if (!out.empty()) out += '.';
    out += key;
    return out;
}

std::string index_path(std::string_view parent, size_t i) {
    return std::string(parent) + "[" + std::to_string(i) + "]";
}

std::string map_path(std::string_view parent, std::string_view key) {
    return std::string(parent) + "[\"" + std::string(key) + "\"]";
}

sys::Error invalid_at(std::string_view path, std::string_view what) {
    return sys::Error::invalid(std::string(path) + ": " + std::string(what));
}

namespace {

// nlohmann's what() reads "[json.exception.parse_error.101] parse error at line 1, column 5:
// syntax error ...": keep only the description; our prefix says where.
std::string describe_json_exception(const std::string& what) {
    std::string text = what;
    if (auto close = text.find("] ");
        text.starts_with("[json.exception.") && close != std::string::npos)
        text.erase(0, close + 2);
    if (auto col = text.find("column ");
        text.starts_with("parse error") && col != std::string::npos) {
        if (auto colon = text.find(": ", col); colon != std::string::npos) text.erase(0, colon + 2);
    }
    return text;
}

}  // namespace

sys::Result<Json> parse_document(const std::string& text, std::string_view name) {
    try {
        return Json::parse(text);
    } catch (const Json::parse_error& e) {
        // e.byte counts the characters read, the offending one included: report where that
        // character sits, counting lines and columns from 1 as editors do.
        size_t consumed = std::min<size_t>(e.byte > 0 ? e.byte - 1 : 0, text.size());
        size_t line =
            1 + static_cast<size_t>(std::count(text.begin(), text.begin() + consumed, '\n'));
        auto last_nl = text.rfind('\n', consumed == 0 ? std::string::npos : consumed - 1);
        size_t line_start = (consumed == 0 || last_nl == std::string::npos) ? 0 : last_nl + 1;
        size_t column = consumed - line_start + 1;
        return sys::fail_invalid(std::string(name) + ": parse error at line " +
                                 std::to_string(line) + ", column " + std::to_string(column) +
                                 ": " + describe_json_exception(e.what()));
    } catch (const Json::exception& e) {
        // e.g. out_of_range.406 for a number too large even for a double.
        return sys::fail_invalid(std::string(name) + ": " + describe_json_exception(e.what()));
    }
}

const Json* member(const Json& obj, std::string_view key) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
}

sys::Result<const Json*> require(const Json& obj, std::string_view parent, std::string_view key) {
    if (const Json* v = member(obj, key)) return v;
    return sys::fail(invalid_at(key_path(parent, key), "is required"));
}

sys::Result<void> expect_object(const Json& j, std::string_view path) {
    if (!j.is_object()) return sys::fail(invalid_at(path, "must be an object"));
    return {};
}

sys::Result<void> expect_array(const Json& j, std::string_view path) {
    if (!j.is_array()) return sys::fail(invalid_at(path, "must be an array"));
    return {};
}

sys::Result<std::string> to_string(const Json& j, std::string_view path) {
    if (!j.is_string()) return sys::fail(invalid_at(path, "must be a string"));
    return j.get<std::string>();
}

sys::Result<bool> to_bool(const Json& j, std::string_view path) {
    if (!j.is_boolean()) return sys::fail(invalid_at(path, "must be a boolean"));
    return j.get<bool>();
}

sys::Result<std::vector<std::string>> to_string_list(const Json& j, std::string_view path) {
    MD_TRY(expect_array(j, path));
    std::vector<std::string> out;
    out.reserve(j.size());
    for (size_t i = 0; i < j.size(); ++i)
        out.push_back(MD_TRY(to_string(j[i], index_path(path, i))));
    return out;
}

sys::Result<std::map<std::string, std::string>> to_string_map(const Json& j,
                                                              std::string_view path) {
    MD_TRY(expect_object(j, path));
    std::map<std::string, std::string> out;
    for (const auto& [k, v] : j.items()) out.emplace(k, MD_TRY(to_string(v, map_path(path, k))));
    return out;
}

std::string clean_path(std::string_view path) {
    std::vector<std::string_view> parts;
    while (!path.empty()) {
        auto slash = path.find('/');
        auto part = path.substr(0, slash);
        if (part == "..") {
            // ".." at the root stays at the root, as the kernel resolves it.
            if (!parts.empty()) parts.pop_back();
        } else if (!part.empty() && part != ".") {
            parts.push_back(part);
        }
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    std::string out;
    for (auto p : parts) {
        out += '/';
        out += p;
    }
    return out.empty() ? "/" : out;
}

sys::Result<void> read(const Json& obj, std::string_view parent, std::string_view key,
                       std::string& out) {
    if (const Json* v = member(obj, key)) out = MD_TRY(to_string(*v, key_path(parent, key)));
    return {};
}

sys::Result<void> read(const Json& obj, std::string_view parent, std::string_view key, bool& out) {
    if (const Json* v = member(obj, key)) out = MD_TRY(to_bool(*v, key_path(parent, key)));
    return {};
}

sys::Result<void> read(const Json& obj, std::string_view parent, std::string_view key,
                       std::optional<bool>& out) {
    if (const Json* v = member(obj, key)) out = MD_TRY(to_bool(*v, key_path(parent, key)));
    return {};
}

sys::Result<void> read(const Json& obj, std::string_view parent, std::string_view key,
                       std::vector<std::string>& out) {
    if (const Json* v = member(obj, key)) out = MD_TRY(to_string_list(*v, key_path(parent, key)));
    return {};
}

sys::Result<void> read(const Json& obj, std::string_view parent, std::string_view key,
                       std::map<std::string, std::string>& out) {
    if (const Json* v = member(obj, key)) out = MD_TRY(to_string_map(*v, key_path(parent, key)));
    return {};
}

}  // namespace mydocker::runtime::spec_detail
