#include "engine/images/reference.h"

#include <algorithm>

#include "engine/images/digest.h"

namespace mydocker::engine::images {

namespace {

// distribution's RepositoryNameTotalLengthMax. Since distribution/reference v0.6 it bounds the
// path alone (the <name> the registry sees), not the domain with it.
constexpr size_t kMaxPathLength = 255;
constexpr size_t kMaxTagLength = 128;
// A digest shorter than 128 bits identifies nothing (distribution's digest-hex).
constexpr size_t kMinDigestHex = 32;

constexpr std::string_view kLegacyDockerHubDomain = "index.docker.io";
constexpr std::string_view kOfficialPrefix = "library/";

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_lower(char c) {
    return c >= 'a' && c <= 'z';
}
bool is_upper(char c) {
    return c >= 'A' && c <= 'Z';
}
bool is_lower_alnum(char c) {
    return is_lower(c) || is_digit(c);
}
bool is_alnum(char c) {
    return is_lower_alnum(c) || is_upper(c);
}
// Go's \w (RE2) is ASCII only: no locale decides what a tag may hold.
bool is_word(char c) {
    return is_alnum(c) || c == '_';
}
bool is_xdigit(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_lower_xdigit(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f');
}

bool all_chars(std::string_view s, bool (*pred)(char)) {
    return std::ranges::all_of(s, pred);
}

sys::Error bad(std::string_view ref, const std::string& why) {
    return sys::Error::invalid("invalid reference format \"" + std::string(ref) + "\": " + why);
}

// domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool valid_domain_component(std::string_view c) {
    if (c.empty() || !is_alnum(c.front()) || !is_alnum(c.back())) return false;
    return std::ranges::all_of(c, [](char x) { return is_alnum(x) || x == '-'; });
}

bool valid_domain_name(std::string_view h) {
    for (;;) {
        size_t dot = h.find('.');
        if (!valid_domain_component(h.substr(0, dot))) return false;
        if (dot == std::string_view::npos) return true;
        h.remove_prefix(dot + 1);
    }
}

// ipv6address := "[" [a-fA-F0-9:]+ "]": no zone ("%eth0") and no embedded IPv4, which
// distribution leaves out on purpose.
bool valid_ipv6(std::string_view h) {
    if (h.size() < 3 || h.front() != '[' || h.back() != ']') return false;
    return std::ranges::all_of(h.substr(1, h.size() - 2),
                               [](char c) { return is_xdigit(c) || c == ':'; });
}

// domain := host [ ":" [0-9]+ ]; host := domain-name | ipv6address. The port colon of an IPv6
// host is the one after its ']'.
bool valid_domain(std::string_view d) {
    size_t host_end = d.starts_with('[') ? d.find(']') : d.find(':');
    if (d.starts_with('[') && host_end != std::string_view::npos) host_end++;
    std::string_view host = d.substr(0, host_end);
    if (!(d.starts_with('[') ? valid_ipv6(host) : valid_domain_name(host))) return false;
    if (host_end == std::string_view::npos || host_end == d.size()) return true;
    std::string_view port = d.substr(host_end);
    return port.size() > 1 && port[0] == ':' && all_chars(port.substr(1), is_digit);
}

// path-component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
// Empty when `c` is one, else what is wrong with it.
std::string path_component_error(std::string_view c) {
    const std::string quoted = "\"" + std::string(c) + "\"";
    if (c.empty()) return "empty path component";
    if (!is_lower_alnum(c.front()))
        return "path component " + quoted + " must start with a lowercase letter or digit";
    size_t i = 0;
    while (i < c.size()) {
        while (i < c.size() && is_lower_alnum(c[i])) i++;
        size_t sep = i;
        while (i < c.size() && !is_lower_alnum(c[i])) i++;
        std::string_view run = c.substr(sep, i - sep);
        if (run.empty()) break;
        auto bad_char =
            std::ranges::find_if(run, [](char x) { return x != '.' && x != '_' && x != '-'; });
        if (bad_char != run.end())
            return "character '" + std::string(1, *bad_char) + "' is not allowed in " + quoted;
        if (i == c.size())
            return "path component " + quoted + " must end with a lowercase letter or digit";
        bool dashes = all_chars(run, [](char x) { return x == '-'; });
        if (!(run == "." || run == "_" || run == "__" || dashes))
            return "\"" + std::string(run) + "\" in " + quoted +
                   " is not a separator (one '.', one or two '_', or '-'s)";
    }
    return {};
}

// tag := [\w][\w.-]{0,127}
std::string tag_error(std::string_view t) {
    if (t.empty()) return "empty tag";
    if (t.size() > kMaxTagLength) return "tag is longer than 128 characters";
    if (!is_word(t.front()) ||
        !all_chars(t, [](char c) { return is_word(c) || c == '.' || c == '-'; }))
        return "invalid tag \"" + std::string(t) +
               "\" (letters, digits, '_', '.' and '-', not starting with '.' or '-')";
    return {};
}

// algorithm := component ( [-_+.] component )*, component := [a-z][a-z0-9]*: distribution's
// digestPat wants each component to start with a letter, go-digest wants lowercase.
bool valid_algorithm(std::string_view a) {
    bool at_component_start = true;
    for (char c : a) {
        if (at_component_start) {
            if (!is_lower(c)) return false;
            at_component_start = false;
        } else if (c == '-' || c == '_' || c == '+' || c == '.') {
            at_component_start = true;
        } else if (!is_lower_alnum(c)) {
            return false;
        }
    }
    return !at_component_start;
}

// The hex length of the algorithms go-digest knows; 0 for others, which are checked by syntax
// only and left to the registry to accept or refuse.
size_t known_hex_length(std::string_view algorithm) {
    if (algorithm == "sha256") return 64;
    if (algorithm == "sha384") return 96;
    if (algorithm == "sha512") return 128;
    return 0;
}

std::string digest_error(std::string_view d) {
    const std::string quoted = "\"" + std::string(d) + "\"";
    size_t colon = d.find(':');
    if (colon == std::string_view::npos) return "digest " + quoted + " is not algorithm:hex";
    std::string_view algorithm = d.substr(0, colon);
    std::string_view hex = d.substr(colon + 1);
    if (!valid_algorithm(algorithm))
        return "invalid digest algorithm \"" + std::string(algorithm) + "\"";
    if (size_t want = known_hex_length(algorithm)) {
        if (hex.size() != want || !all_chars(hex, is_lower_xdigit))
            return "digest " + quoted + ": " + std::string(algorithm) + " takes " +
                   std::to_string(want) + " lowercase hex digits";
    } else if (hex.size() < kMinDigestHex || !all_chars(hex, is_xdigit)) {
        return "digest " + quoted + ": needs at least 32 hex digits";
    }
    return {};
}

struct DomainSplit {
    std::string domain;
    std::string rest;  // path[:tag][@digest]
};

// docker's splitDockerDomain: the first component is a registry when it can only be one
// (a '.' or ':' in it, "localhost", or an uppercase letter, which no path may hold); a single
// component is always a Docker Hub name, so "localhost:5000" is docker.io/library/localhost
// tagged 5000, as in docker.
DomainSplit split_docker_domain(std::string_view ref) {
    size_t slash = ref.find('/');
    DomainSplit out{std::string(kDockerHubDomain), std::string(ref)};
    if (slash != std::string_view::npos) {
        std::string_view first = ref.substr(0, slash);
        bool is_domain = first == "localhost" ||
                         first.find_first_of(".:") != std::string_view::npos ||
                         std::ranges::any_of(first, is_upper);
        if (is_domain) {
            out.domain = first == kLegacyDockerHubDomain ? kDockerHubDomain : first;
            out.rest = ref.substr(slash + 1);
        }
    }
    if (out.domain == kDockerHubDomain && out.rest.find('/') == std::string::npos)
        out.rest.insert(0, kOfficialPrefix);
    return out;
}

sys::Result<void> check_path(std::string_view ref, std::string_view path) {
    for (size_t start = 0;;) {
        size_t slash = path.find('/', start);
        auto why = path_component_error(path.substr(start, slash - start));
        if (!why.empty()) return sys::fail(bad(ref, why));
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    if (path.size() > kMaxPathLength)
        return sys::fail(bad(ref, "repository path is longer than 255 characters"));
    return {};
}

}  // namespace

sys::Result<Reference> parse_reference(std::string_view ref) {
    if (ref.empty()) return sys::fail(bad(ref, "empty reference"));
    // An image id (identifier := [a-f0-9]{64}) is no name: docker refuses it, so that a name
    // cannot shadow an id.
    if (is_hex64(ref))
        return sys::fail(bad(ref, "a 64-character hex string is an image id, not a name"));
    if (ref.front() == ':' || ref.front() == '@')
        return sys::fail(bad(ref, "no repository name before the tag or digest"));
    DomainSplit split = split_docker_domain(ref);
    std::string_view rest = split.rest;
    size_t at = rest.find('@');
    std::string_view name_tag = rest.substr(0, at);
    size_t colon = name_tag.find(':');
    std::string_view path = name_tag.substr(0, colon);

    // Checked first, as docker does, so "Foo" gets the message that says what to fix.
    if (std::ranges::any_of(path, is_upper))
        return sys::fail(bad(ref, "repository name (" + std::string(path) + ") must be lowercase"));
    if (!valid_domain(split.domain))
        return sys::fail(bad(ref, "invalid registry host \"" + split.domain + "\""));
    MD_TRY(check_path(ref, path));

    Reference out{split.domain, std::string(path), std::nullopt, std::nullopt};
    if (colon != std::string_view::npos) {
        std::string_view tag = name_tag.substr(colon + 1);
        if (auto why = tag_error(tag); !why.empty()) return sys::fail(bad(ref, why));
        out.tag = std::string(tag);
    }
    if (at != std::string_view::npos) {
        std::string_view digest = rest.substr(at + 1);
        if (digest.empty()) return sys::fail(bad(ref, "empty digest"));
        if (auto why = digest_error(digest); !why.empty()) return sys::fail(bad(ref, why));
        out.digest = std::string(digest);
    }
    return out;
}

Reference Reference::normalized() const {
    Reference r = *this;
    if (!r.tag && !r.digest) r.tag = std::string(kDefaultTag);
    return r;
}

std::string Reference::familiar_name() const {
    if (domain != kDockerHubDomain) return full_name();
    std::string_view p = path;
    // Only a direct child of library/ is an official image: library/a/b keeps its prefix.
    if (p.starts_with(kOfficialPrefix) &&
        p.find('/', kOfficialPrefix.size()) == std::string_view::npos)
        return std::string(p.substr(kOfficialPrefix.size()));
    return path;
}

std::string Reference::full_name() const {
    return domain + "/" + path;
}

namespace {
std::string with_suffixes(std::string name, const Reference& r) {
    if (r.tag) name += ":" + *r.tag;
    if (r.digest) name += "@" + *r.digest;
    return name;
}
}  // namespace

std::string Reference::string() const {
    return with_suffixes(full_name(), *this);
}

std::string Reference::familiar_string() const {
    return with_suffixes(familiar_name(), *this);
}

std::string Reference::registry_host() const {
    return domain == kDockerHubDomain ? std::string(kDockerHubRegistry) : domain;
}

std::string Reference::manifest_reference() const {
    if (digest) return *digest;
    return tag ? *tag : std::string(kDefaultTag);
}

}  // namespace mydocker::engine::images
