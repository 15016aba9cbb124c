// See registry_auth.h.
#include "engine/images/registry_auth.h"

#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "engine/images/http.h"

namespace mydocker::engine::images {

using nlohmann::json;

namespace {

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string url_escape(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
            out += static_cast<char>(c);
        else {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", c);
            out += buf;
        }
    }
    return out;
}

/// A token server's reason for refusing: docker's {"details": ...}, distribution's
/// {"errors": [{"message": ...}]}, or {"error": ...}.
std::string refusal_reason(const HttpResponse& resp) {
    json j = json::parse(resp.body, nullptr, false);
    if (j.is_object()) {
        for (const char* k : {"details", "error_description", "error"})
            if (j.contains(k) && j[k].is_string() && !j[k].get<std::string>().empty())
                return j[k].get<std::string>();
        if (j.contains("errors") && j["errors"].is_array() && !j["errors"].empty() &&
            j["errors"][0].is_object())
            if (auto m = j["errors"][0].value("message", ""); !m.empty()) return m;
    }
    return "HTTP " + std::to_string(resp.status);
}

std::string basic(const Credentials& c) {
    return "Basic " + base64_encode(c.username + ":" + c.password);
}

sys::Result<std::string> bearer_token(const AuthChallenge& ch, const AuthRequest& req) {
    auto realm = ch.params.find("realm");
    if (realm == ch.params.end() || realm->second.empty())
        return sys::fail_invalid("registry " + req.host + ": bearer challenge without a realm");
    std::string url = realm->second;
    char sep = url.find('?') == std::string::npos ? '?' : '&';
    auto add = [&](const std::string& k, const std::string& v) {
        url += sep + k + "=" + url_escape(v);
        sep = '&';
    };
    if (auto s = ch.params.find("service"); s != ch.params.end() && !s->second.empty())
        add("service", s->second);
    for (size_t at = 0; at < req.scope.size();) {
        size_t end = req.scope.find(' ', at);
        if (end == std::string::npos) end = req.scope.size();
        if (end > at) add("scope", req.scope.substr(at, end - at));
        at = end + 1;
    }
    HttpRequest hr;
    if (req.creds) {
        add("account", req.creds->username);
        hr.headers.push_back("Authorization: " + basic(*req.creds));
    }
    hr.url = url;
    hr.ca_file = req.ca_file;
    hr.verify_tls = req.verify_tls;
    hr.timeout_seconds = 60;
    auto resp = MD_TRY_CTX(http_request(hr), "registry " + req.host + ": token");
    if (resp.status == 401 || resp.status == 403)
        // A wrong password is bad input: fail_invalid, no strerror after the server's reason.
        return sys::fail_invalid("Get \"" + url + "\": unauthorized: " + refusal_reason(resp) +
                                 (req.creds && !req.creds->source.empty()
                                      ? " (credentials of " + req.creds->username + " from \"" +
                                            req.creds->source + "\")"
                                      : ""));
    if (resp.status != 200)
        return sys::fail(sys::Error::from_errno(EACCES, "registry " + req.host + ": token server " +
                                                            realm->second + " answered " +
                                                            refusal_reason(resp)));
    json j = json::parse(resp.body, nullptr, false);
    std::string token;
    if (j.is_object()) {
        token = j.value("token", "");
        if (token.empty()) token = j.value("access_token", "");
    }
    if (token.empty())
        return sys::fail_invalid("registry " + req.host + ": token server " + realm->second +
                                 " gave no token");
    return "Bearer " + token;
}

}  // namespace

AuthChallenge parse_challenge(std::string_view h) {
    AuthChallenge ch;
    size_t i = 0;
    auto skip_space = [&] {
        while (i < h.size() && (h[i] == ' ' || h[i] == '\t')) ++i;
    };
    skip_space();
    size_t start = i;
    while (i < h.size() && h[i] != ' ' && h[i] != '\t') ++i;
    ch.scheme = lower(std::string(h.substr(start, i - start)));
    while (i < h.size()) {
        skip_space();
        size_t k = i;
        while (i < h.size() && h[i] != '=' && h[i] != ',' && h[i] != ' ') ++i;
        std::string key = lower(std::string(h.substr(k, i - k)));
        skip_space();
        if (i >= h.size() || h[i] != '=')
            break;  // another challenge begins: the first one is enough
        ++i;
        skip_space();
        std::string value;
        if (i < h.size() && h[i] == '"') {
            for (++i; i < h.size() && h[i] != '"'; ++i) {
                if (h[i] == '\\' && i + 1 < h.size()) ++i;
                value += h[i];
            }
            ++i;
        } else {
            size_t v = i;
            while (i < h.size() && h[i] != ',' && h[i] != ' ') ++i;
            value = std::string(h.substr(v, i - v));
        }
        ch.params[key] = value;
        skip_space();
        if (i < h.size() && h[i] == ',') ++i;
    }
    return ch;
}

sys::Result<std::string> answer_challenge(const std::string& challenge, const AuthRequest& req) {
    AuthChallenge ch = parse_challenge(challenge);
    if (ch.scheme == "bearer") return bearer_token(ch, req);
    if (ch.scheme == "basic" && req.creds) return basic(*req.creds);
    std::string shown = challenge.empty() ? "no challenge" : challenge;
    // bad_state: nothing the caller passed is wrong, a login is missing (and no strerror).
    if (ch.scheme == "basic")
        return sys::fail(sys::Error::bad_state("registry " + req.host +
                                               ": authentication required (" + shown +
                                               "); log in with `mydocker login " + req.host + "`"));
    return sys::fail(sys::Error::bad_state("registry " + req.host + ": authentication required (" +
                                           shown + "): not a Basic or Bearer challenge"));
}

}  // namespace mydocker::engine::images
