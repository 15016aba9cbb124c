// See credentials.h.
#include "engine/images/credentials.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "engine/images/reference.h"
#include "sys/files.h"
#include "sys/lock.h"
#include "sys/json_text.h"

namespace mydocker::engine::images {

using nlohmann::ordered_json;

namespace {

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

bool is_hub_host(std::string_view h) {
    return h == "docker.io" || h == "index.docker.io" || h == "registry-1.docker.io";
}

/// A key of an auths file split into its host (Docker Hub's aliases made "docker.io") and, for
/// podman's "host/namespace" keys, the namespace. A key with a scheme is docker's: its path
/// ("/v1/", "/v2/") is not a namespace.
struct Key {
    std::string host;
    std::string ns;
};

Key split_key(std::string_view key) {
    bool scheme = false;
    for (std::string_view s : {"https://", "http://"}) {
        if (key.starts_with(s)) {
            key.remove_prefix(s.size());
            scheme = true;
        }
    }
    Key k;
    auto slash = key.find('/');
    k.host = std::string(key.substr(0, slash));
    if (slash != std::string_view::npos && !scheme) {
        std::string_view ns = key.substr(slash + 1);
        while (ns.ends_with('/')) ns.remove_suffix(1);
        k.ns = std::string(ns);
    }
    if (is_hub_host(k.host)) k.host = "docker.io";
    return k;
}

sys::Result<ordered_json> parse_file(std::string_view text, const std::string& source) {
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return ordered_json::object();
    ordered_json j = ordered_json::parse(text, nullptr, false);
    if (!j.is_object())
        return sys::fail_invalid("credentials file \"" + source + "\": not a JSON object");
    if (j.contains("auths") && !j["auths"].is_object())
        return sys::fail_invalid("credentials file \"" + source + "\": \"auths\" is not an object");
    return j;
}

sys::Result<Credentials> decode_entry(const ordered_json& entry, const std::string& key,
                                      const std::string& source) {
    const std::string what = "credentials file \"" + source + "\": entry \"" + key + "\"";
    if (!entry.is_object()) return sys::fail_invalid(what + ": not an object");
    Credentials c;
    c.source = source;
    auto auth = entry.find("auth");
    if (auth != entry.end() && auth->is_string() && !auth->get<std::string>().empty()) {
        auto plain = base64_decode(auth->get<std::string>());
        if (!plain) return sys::fail_invalid(what + ": \"auth\" is not base64");
        auto colon = plain->find(':');
        if (colon == std::string::npos)
            return sys::fail_invalid(what + ": \"auth\" is not base64 of user:password");
        c.username = plain->substr(0, colon);
        c.password = plain->substr(colon + 1);
        return c;
    }
    // Older files spell them out.
    if (entry.contains("username") && entry["username"].is_string() && entry.contains("password") &&
        entry["password"].is_string()) {
        c.username = entry["username"].get<std::string>();
        c.password = entry["password"].get<std::string>();
        return c;
    }
    return sys::fail_invalid(
        what + ": no \"auth\" (an identity token or a credential helper is not supported)");
}

}  // namespace

sys::Result<CredentialFiles> default_credential_files() {
    std::string home = env("HOME");
    auto under_home = [&](const std::string& rel) {
        return home.empty() ? std::string() : home + "/" + rel;
    };
    CredentialFiles f;
    if (auto d = env("MYDOCKER_CONFIG"); !d.empty())
        f.own = sys::path_join(d, "config.json");
    else if (!home.empty())
        f.own = under_home(".mydocker/config.json");
    else
        return sys::fail_invalid(
            "no place for credentials: neither MYDOCKER_CONFIG nor HOME is set");
    if (auto d = env("DOCKER_CONFIG"); !d.empty())
        f.foreign.push_back(sys::path_join(d, "config.json"));
    else if (!home.empty())
        f.foreign.push_back(under_home(".docker/config.json"));
    if (auto p = env("REGISTRY_AUTH_FILE"); !p.empty())
        f.foreign.push_back(p);
    else if (auto x = env("XDG_RUNTIME_DIR"); !x.empty())
        f.foreign.push_back(x + "/containers/auth.json");
    else
        f.foreign.push_back("/run/containers/" + std::to_string(::getuid()) + "/auth.json");
    if (auto x = env("XDG_CONFIG_HOME"); !x.empty())
        f.foreign.push_back(x + "/containers/auth.json");
    else if (!home.empty())
        f.foreign.push_back(under_home(".config/containers/auth.json"));
    return f;
}

sys::Result<std::string> login_host(std::string_view server) {
    std::string host = split_key(server).host;
    if (server.empty()) return std::string(kDockerHubDomain);
    if (host.empty())
        return sys::fail_invalid("login server \"" + std::string(server) + "\": no host");
    for (unsigned char c : host) {
        if (!(std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == ':' || c == '[' ||
              c == ']'))
            return sys::fail_invalid("login server \"" + std::string(server) +
                                     "\": not a registry host[:port]");
    }
    if (auto colon = host.rfind(':'); colon != std::string::npos && host.back() != ']') {
        std::string port = host.substr(colon + 1);
        if (port.empty() || port.size() > 5 ||
            port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) == 0 ||
            std::stoi(port) > 65535)
            return sys::fail_invalid("login server \"" + std::string(server) + "\": bad port \"" +
                                     port + "\"");
    }
    return host;
}

std::string auth_key(const std::string& host) {
    return host == kDockerHubDomain ? std::string(kDockerHubAuthKey) : host;
}

std::string base64_encode(std::string_view data) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 2 < data.size(); i += 3) {
        uint32_t v = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8) | uint8_t(data[i + 2]);
        for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
    }
    if (size_t rest = data.size() - i; rest > 0) {
        uint32_t v = uint8_t(data[i]) << 16;
        if (rest == 2) v |= uint8_t(data[i + 1]) << 8;
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    while (text.ends_with('=')) text.remove_suffix(1);
    if (text.size() % 4 == 1) return std::nullopt;
    std::string out;
    uint32_t acc = 0;
    int bits = 0;
    for (char ch : text) {
        int v;
        if (ch >= 'A' && ch <= 'Z')
            v = ch - 'A';
        else if (ch >= 'a' && ch <= 'z')
            v = ch - 'a' + 26;
        else if (ch >= '0' && ch <= '9')
            v = ch - '0' + 52;
        else if (ch == '+')
            v = 62;
        else if (ch == '/')
            v = 63;
        else
            return std::nullopt;
        acc = (acc << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xFF);
        }
    }
    return out;
}

sys::Result<std::optional<Credentials>> find_in_auth_file(std::string_view text,
                                                          const std::string& source,
                                                          const std::string& host,
                                                          const std::string& repository) {
    ordered_json j = MD_TRY(parse_file(text, source));
    if (!j.contains("auths")) return std::nullopt;
    const ordered_json* best = nullptr;
    std::string best_key;
    size_t best_len = 0;
    for (const auto& [key, entry] : j["auths"].items()) {
        Key k = split_key(key);
        if (k.host != host) continue;
        if (!k.ns.empty() && repository != k.ns && !repository.starts_with(k.ns + "/")) continue;
        size_t len = k.ns.empty() ? 0 : k.ns.size() + 1;
        if (best && len <= best_len) continue;
        best = &entry;
        best_key = key;
        best_len = len;
    }
    if (!best) return std::nullopt;
    return MD_TRY(decode_entry(*best, best_key, source));
}

sys::Result<std::optional<Credentials>> find_credentials(const CredentialFiles& files,
                                                         const std::string& host,
                                                         const std::string& repository) {
    std::vector<std::string> all{files.own};
    all.insert(all.end(), files.foreign.begin(), files.foreign.end());
    for (const auto& path : all) {
        if (path.empty() || !sys::path_exists(path)) continue;
        std::string text = MD_TRY(sys::read_file(path));
        if (auto c = MD_TRY(find_in_auth_file(text, path, host, repository))) return c;
    }
    return std::nullopt;
}

sys::Result<std::string> auth_file_with(std::string_view old, const std::string& source,
                                        const std::string& host, const Credentials& creds) {
    if (creds.username.find(':') != std::string::npos)
        return sys::fail_invalid("username \"" + creds.username + "\" holds a ':'");
    std::string text = MD_TRY(auth_file_without(old, source, host)).value_or(std::string(old));
    ordered_json j = MD_TRY(parse_file(text, source));
    j["auths"][auth_key(host)] =
        ordered_json{{"auth", base64_encode(creds.username + ":" + creds.password)}};
    return sys::json_text(j, 1, '\t') + "\n";
}

sys::Result<std::optional<std::string>> auth_file_without(std::string_view old,
                                                          const std::string& source,
                                                          const std::string& host) {
    ordered_json j = MD_TRY(parse_file(old, source));
    if (!j.contains("auths")) return std::nullopt;
    ordered_json& auths = j["auths"];
    std::vector<std::string> drop;
    for (const auto& [key, entry] : auths.items()) {
        Key k = split_key(key);
        if (k.host == host && k.ns.empty()) drop.push_back(key);
    }
    if (drop.empty()) return std::nullopt;
    for (const auto& key : drop) auths.erase(key);
    return sys::json_text(j, 1, '\t') + "\n";
}

namespace {

/// Read `path` (empty when missing) under a lock of its directory (made 0700), hand the text
/// to `edit`, and write what it returns (nullopt: nothing) back atomically, mode 0600.
template <typename Edit>
sys::Result<bool> edit_file(const std::string& path, Edit edit) {
    std::string dir = path.substr(0, path.rfind('/'));
    if (dir.empty()) dir = "/";
    if (MD_TRY(sys::make_dirs(dir, 0700))) (void)::chmod(dir.c_str(), 0700);
    auto lock = MD_TRY(sys::FileLock::acquire_dir(dir));
    std::string old;
    if (sys::path_exists(path)) old = MD_TRY(sys::read_file(path));
    std::optional<std::string> text = MD_TRY(edit(old));
    if (!text) return false;
    MD_TRY_CTX(sys::write_file_atomic(path, *text, 0600), "credentials file \"" + path + "\"");
    // The umask may have taken bits from the temp file's 0600; the mode is exactly 0600.
    if (::chmod(path.c_str(), 0600) < 0) return sys::fail_errno("chmod \"" + path + "\"");
    return true;
}

}  // namespace

sys::Result<void> store_credentials(const std::string& path, const std::string& host,
                                    const Credentials& creds) {
    MD_TRY(edit_file(path, [&](const std::string& old) -> sys::Result<std::optional<std::string>> {
        return MD_TRY(auth_file_with(old, path, host, creds));
    }));
    return {};
}

sys::Result<bool> remove_credentials(const std::string& path, const std::string& host) {
    if (!sys::path_exists(path)) return false;
    return edit_file(path,
                     [&](const std::string& old) { return auth_file_without(old, path, host); });
}

}  // namespace mydocker::engine::images
