#include "engine/images/names.h"

#include <vector>

#include "engine/images/digest.h"
#include "engine/images/store.h"

namespace mydocker::engine::images {

namespace {

bool is_lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_alnum(char c) {
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

// A path component of a repository (distribution/reference grammar):
// [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
std::string check_component(std::string_view c) {
    if (c.empty()) return "empty path component";
    size_t i = 0;
    while (i < c.size()) {
        if (!is_lower_alnum(c[i])) {
            if (c[i] >= 'A' && c[i] <= 'Z') return "repository name must be lowercase";
            return "bad character or separator in \"" + std::string(c) + "\"";
        }
        while (i < c.size() && is_lower_alnum(c[i])) i++;
        if (i == c.size()) break;
        size_t sep = i;
        if (c[i] == '.') {
            i++;
        } else if (c[i] == '_') {
            i++;
            if (i < c.size() && c[i] == '_') i++;
        } else if (c[i] == '-') {
            while (i < c.size() && c[i] == '-') i++;
        } else if (c[i] >= 'A' && c[i] <= 'Z') {
            return "repository name must be lowercase";
        } else {
            return "bad character '" + std::string(1, c[i]) + "'";
        }
        if (i == c.size() || !is_lower_alnum(c[i]))
            return "separator \"" + std::string(c.substr(sep, i - sep)) +
                   "\" must be followed by a letter or digit";
    }
    return {};
}

// A registry host: dot-separated labels of [A-Za-z0-9-] (not starting or ending with '-'),
// with an optional :port.
bool valid_domain(std::string_view d) {
    auto colon = d.find(':');
    std::string_view host = d.substr(0, colon);
    if (colon != std::string_view::npos) {
        std::string_view port = d.substr(colon + 1);
        if (port.empty() || port.size() > 5) return false;
        for (char c : port) {
            if (c < '0' || c > '9') return false;
        }
    }
    if (host.empty()) return false;
    size_t start = 0;
    while (start <= host.size()) {
        size_t dot = host.find('.', start);
        std::string_view label = host.substr(
            start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (label.empty() || label.front() == '-' || label.back() == '-') return false;
        for (char c : label) {
            if (!is_alnum(c) && c != '-') return false;
        }
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    return true;
}

bool valid_tag(std::string_view t) {
    if (t.empty() || t.size() > 128) return false;
    for (size_t i = 0; i < t.size(); i++) {
        char c = t[i];
        bool word = is_alnum(c) || c == '_';
        if (!(word || (i > 0 && (c == '.' || c == '-')))) return false;
    }
    return true;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    size_t start = 0;
    for (;;) {
        size_t p = s.find(sep, start);
        out.push_back(
            s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
        if (p == std::string_view::npos) break;
        start = p + 1;
    }
    return out;
}

}  // namespace

NameParts split_name(std::string_view name) {
    auto slash = name.rfind('/');
    auto colon = name.rfind(':');
    if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash))
        return {std::string(name.substr(0, colon)), std::string(name.substr(colon + 1))};
    return {std::string(name), "latest"};
}

sys::Result<std::string> normalize_name(std::string_view ref) {
    auto bad = [&](const std::string& why) {
        return sys::fail_invalid("invalid image name \"" + std::string(ref) + "\": " + why);
    };
    if (ref.empty()) return bad("empty name");
    if (ref.find('@') != std::string_view::npos) return bad("digest references are not supported");
    NameParts parts = split_name(ref);
    if (ref.back() == ':') return bad("empty tag");
    if (!valid_tag(parts.tag)) return bad("invalid tag \"" + parts.tag + "\"");
    auto comps = split(parts.repo, '/');
    size_t first = 0;
    std::string domain;
    if (comps.size() > 1 &&
        (comps[0].find_first_of(".:") != std::string_view::npos || comps[0] == "localhost")) {
        if (!valid_domain(comps[0]))
            return bad("invalid registry host \"" + std::string(comps[0]) + "\"");
        domain = std::string(comps[0]);
        first = 1;
    }
    for (size_t i = first; i < comps.size(); i++) {
        if (auto why = check_component(comps[i]); !why.empty()) return bad(why);
    }
    // Docker Hub's spellings of the same repository collapse to the short one.
    std::vector<std::string_view> path(comps.begin() + static_cast<long>(first), comps.end());
    if (domain == "docker.io" || domain == "index.docker.io" || domain == "registry-1.docker.io")
        domain.clear();
    if (domain.empty() && path.size() == 2 && path[0] == "library") path.erase(path.begin());
    std::string repo = domain;
    for (auto c : path) {
        if (!repo.empty()) repo += '/';
        repo += c;
    }
    if (repo.size() > 255) return bad("repository name is longer than 255 characters");
    if (is_hex64(repo))
        return bad("a repository name cannot be a 64-character hex string (an image id)");
    return repo + ":" + parts.tag;
}

}  // namespace mydocker::engine::images
