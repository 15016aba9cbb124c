// See registry_config.h. Validation follows docker's (registry/config.go: LoadInsecureRegistries,
// ValidateMirror, validateHostPort), so a file dockerd accepts is accepted here.
#include "engine/images/registry_config.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>

#include "sys/files.h"
#include "sys/json_text.h"

namespace mydocker::engine::images {

using nlohmann::json;

namespace {

bool all_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

/// A DNS name or IPv4 address: labels of letters, digits and '-', dot-separated (the domain
/// of distribution's reference grammar, as docker checks it).
bool valid_hostname(std::string_view h) {
    if (h.empty() || h.size() > 253) return false;
    size_t start = 0;
    while (start <= h.size()) {
        size_t dot = h.find('.', start);
        std::string_view label =
            h.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
            return false;
        for (unsigned char c : label)
            if (!std::isalnum(c) && c != '-') return false;
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    return true;
}

/// host, [ipv6], with an optional :port (0-65535), as docker's validateHostPort allows.
bool valid_host_port(std::string_view s) {
    std::string_view host = s, port;
    if (s.starts_with('[')) {
        auto close = s.find(']');
        if (close == std::string_view::npos) return false;
        host = s.substr(1, close - 1);
        std::string_view rest = s.substr(close + 1);
        if (!rest.empty()) {
            if (!rest.starts_with(':')) return false;
            port = rest.substr(1);
            if (port.empty()) return false;
        }
        unsigned char buf[sizeof(struct in6_addr)];
        if (::inet_pton(AF_INET6, std::string(host).c_str(), buf) != 1) return false;
    } else {
        if (auto colon = s.rfind(':'); colon != std::string_view::npos) {
            host = s.substr(0, colon);
            port = s.substr(colon + 1);
            if (port.empty()) return false;
        }
        if (!valid_hostname(host)) return false;
    }
    if (!port.empty() &&
        (!all_digits(port) || port.size() > 5 || std::atoi(std::string(port).c_str()) > 65535))
        return false;
    return true;
}

/// "a.b.c.d/n" or "ipv6/n"; nullopt when `s` is not a CIDR.
std::optional<Cidr> parse_cidr(const std::string& s) {
    auto slash = s.find('/');
    if (slash == std::string::npos) return std::nullopt;
    std::string addr = s.substr(0, slash), bits = s.substr(slash + 1);
    Cidr c;
    c.text = s;
    if (::inet_pton(AF_INET, addr.c_str(), c.net.data()) == 1) {
        c.family = AF_INET;
    } else if (::inet_pton(AF_INET6, addr.c_str(), c.net.data()) == 1) {
        c.family = AF_INET6;
    } else {
        return std::nullopt;
    }
    const int max = c.family == AF_INET ? 32 : 128;
    if (!all_digits(bits) || bits.size() > 3 || std::atoi(bits.c_str()) > max) return std::nullopt;
    c.prefix = std::atoi(bits.c_str());
    // Clear the host bits, as Go's net.ParseCIDR does: "10.1.2.3/8" is 10.0.0.0/8.
    for (int i = 0; i < max / 8; ++i) {
        int keep = std::clamp(c.prefix - i * 8, 0, 8);
        c.net[i] &= static_cast<unsigned char>(0xff00 >> keep);
    }
    return c;
}

/// The strings of the array `key`; an error naming the file and key when it is not one.
sys::Result<std::vector<std::string>> string_list(const json& doc, const char* key,
                                                  const std::string& where) {
    std::vector<std::string> out;
    if (!doc.contains(key) || doc[key].is_null()) return out;
    const json& v = doc[key];
    if (!v.is_array())
        return sys::fail_invalid(where + ": \"" + key + "\" must be a list of strings, not " +
                                 sys::json_text(v));
    for (const auto& e : v) {
        if (!e.is_string())
            return sys::fail_invalid(where + ": \"" + key + "\": " + sys::json_text(e) + " is not a string");
        out.push_back(e.get<std::string>());
    }
    return out;
}

sys::Result<void> add_insecure(RegistryConfig& cfg, std::string entry, const std::string& where) {
    const std::string shown = where + ": \"insecure-registries\": \"" + entry + "\"";
    // docker drops a scheme here (with a warning): the entry names a registry, not a URL.
    std::string lower = entry;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (lower.starts_with("http://"))
        entry.erase(0, 7);
    else if (lower.starts_with("https://"))
        entry.erase(0, 8);
    else if (entry.find("://") != std::string::npos)
        return sys::fail_invalid(shown + " must not contain \"://\"");
    if (entry.find('/') != std::string::npos) {
        auto cidr = parse_cidr(entry);
        if (!cidr) return sys::fail_invalid(shown + " is not a valid CIDR (like 10.0.0.0/8)");
        cfg.insecure_cidrs.push_back(std::move(*cidr));
        return {};
    }
    if (!valid_host_port(entry))
        return sys::fail_invalid(shown + " is not a valid host[:port] or CIDR");
    cfg.insecure_hosts.push_back(std::move(entry));
    return {};
}

sys::Result<void> add_mirror(RegistryConfig& cfg, const std::string& entry,
                             const std::string& where) {
    const std::string shown = where + ": \"registry-mirrors\": \"" + entry + "\"";
    auto sep = entry.find("://");
    if (sep == std::string::npos)
        return sys::fail_invalid(shown +
                                 " is not a URL (http://host[:port] or https://host[:port])");
    RegistryMirror m;
    m.scheme = entry.substr(0, sep);
    std::transform(m.scheme.begin(), m.scheme.end(), m.scheme.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (m.scheme != "http" && m.scheme != "https")
        return sys::fail_invalid(shown + ": unsupported scheme \"" + entry.substr(0, sep) +
                                 "\" (http or https)");
    std::string rest = entry.substr(sep + 3);
    if (rest.find_first_of("?#") != std::string::npos)
        return sys::fail_invalid(shown + ": a query or fragment is not allowed");
    auto slash = rest.find('/');
    m.host = rest.substr(0, slash);
    if (slash != std::string::npos) m.path = rest.substr(slash);
    if (m.host.find('@') != std::string::npos)
        return sys::fail_invalid(
            where + ": \"registry-mirrors\": a user or password is not allowed in a mirror URL");
    if (!valid_host_port(m.host))
        return sys::fail_invalid(shown + ": \"" + m.host + "\" is not a valid host[:port]");
    while (m.path.ends_with('/')) m.path.pop_back();
    cfg.mirrors.push_back(std::move(m));
    return {};
}

/// The host of host[:port] (brackets of an IPv6 address removed).
std::string bare_host(const std::string& host) {
    if (host.starts_with('[')) return host.substr(1, host.find(']') - 1);
    auto colon = host.rfind(':');
    return colon == std::string::npos ? host : host.substr(0, colon);
}

}  // namespace

bool Cidr::contains(int ip_family, const unsigned char* ip) const {
    if (ip_family != family) return false;
    for (int i = 0; i * 8 < prefix; ++i) {
        int keep = std::min(prefix - i * 8, 8);
        auto mask = static_cast<unsigned char>(0xff00 >> keep);
        if ((ip[i] & mask) != net[i]) return false;
    }
    return true;
}

bool RegistryConfig::insecure(const std::string& host,
                              const std::vector<std::string>& addresses) const {
    if (std::find(insecure_hosts.begin(), insecure_hosts.end(), host) != insecure_hosts.end())
        return true;
    for (const auto& a : addresses) {
        unsigned char buf[16];
        int family = ::inet_pton(AF_INET, a.c_str(), buf) == 1    ? AF_INET
                     : ::inet_pton(AF_INET6, a.c_str(), buf) == 1 ? AF_INET6
                                                                  : 0;
        if (family == 0) continue;
        for (const auto& c : insecure_cidrs)
            if (c.contains(family, buf)) return true;
    }
    return false;
}

bool RegistryConfig::insecure(const std::string& host) const {
    std::vector<std::string> addresses;
    std::string bare = bare_host(host);
    unsigned char buf[16];
    if (::inet_pton(AF_INET, bare.c_str(), buf) == 1 ||
        ::inet_pton(AF_INET6, bare.c_str(), buf) == 1) {
        addresses.push_back(bare);
    } else if (!insecure_cidrs.empty()) {
        // As docker: a name that does not resolve matches no CIDR (the request will fail anyway).
        struct addrinfo hints = {};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        struct addrinfo* res = nullptr;
        if (::getaddrinfo(bare.c_str(), nullptr, &hints, &res) == 0) {
            for (auto* a = res; a; a = a->ai_next) {
                char text[INET6_ADDRSTRLEN] = {};
                const void* src =
                    a->ai_family == AF_INET
                        ? static_cast<const void*>(
                              &reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr)
                        : static_cast<const void*>(
                              &reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr);
                if (::inet_ntop(a->ai_family, src, text, sizeof text)) addresses.emplace_back(text);
            }
            ::freeaddrinfo(res);
        }
    }
    return insecure(host, addresses);
}

std::string daemon_config_path() {
    if (const char* p = std::getenv("MYDOCKER_DAEMON_CONFIG"); p && *p) return p;
    return std::string(kDaemonConfigPath);
}

sys::Result<RegistryConfig> parse_registry_config(std::string_view text, const std::string& path) {
    const std::string where = "daemon config \"" + path + "\"";
    RegistryConfig cfg;
    cfg.path = path;
    // An empty file is the defaults, as dockerd takes it.
    if (std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isspace(c); }))
        return cfg;
    json doc;
    try {
        doc = json::parse(text);
    } catch (const json::exception& e) {
        // "[json.exception.parse_error.101] parse error at line 1, column 2: ..." without the tag.
        std::string why = e.what();
        if (auto close = why.find("] "); why.starts_with("[json.") && close != std::string::npos)
            why.erase(0, close + 2);
        return sys::fail_invalid(where + ": malformed JSON: " + why);
    }
    if (!doc.is_object()) return sys::fail_invalid(where + ": not a JSON object");
    for (auto& e : MD_TRY(string_list(doc, "insecure-registries", where)))
        MD_TRY(add_insecure(cfg, std::move(e), where));
    for (const auto& e : MD_TRY(string_list(doc, "registry-mirrors", where)))
        MD_TRY(add_mirror(cfg, e, where));
    return cfg;
}

sys::Result<RegistryConfig> load_registry_config(const std::string& path) {
    auto text = sys::read_file(path);
    if (!text && text.error().err() == ENOENT) return RegistryConfig{};
    if (!text) return sys::fail(std::move(text.error()).wrap("daemon config"));
    return parse_registry_config(*text, path);
}

sys::Result<RegistryConfig> load_registry_config() {
    return load_registry_config(daemon_config_path());
}

}  // namespace mydocker::engine::images
