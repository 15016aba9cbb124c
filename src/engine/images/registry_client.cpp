// See registry_client.h.
#include "engine/images/registry_client.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "engine/images/registry_auth.h"
#include "sys/files.h"

namespace mydocker::engine::images {

using nlohmann::json;

namespace {

/// Loopback registries may speak plain HTTP, as docker allows for 127.0.0.0/8 and localhost.
bool loopback_host(const std::string& host) {
    std::string h = host.substr(0, host.rfind(':') == std::string::npos || host.back() == ']' ? host.size()
                                                                                             : host.rfind(':'));
    return h == "localhost" || h.starts_with("127.") || h == "[::1]";
}

/// A registry's own CA, as docker reads it from certs.d/HOST[:PORT]/ca.crt.
std::string registry_ca(const std::string& host) {
    std::vector<std::string> dirs;
    if (const char* d = std::getenv("MYDOCKER_CERTS_D"); d && *d) dirs.emplace_back(d);
    dirs.emplace_back("/etc/mydocker/certs.d");
    dirs.emplace_back("/etc/docker/certs.d");
    for (const auto& d : dirs) {
        std::string ca = d + "/" + host + "/ca.crt";
        if (sys::path_exists(ca)) return ca;
    }
    return "";
}

}  // namespace

bool insecure_registry_host(const std::string& host) { return loopback_host(host); }

RegistryClient::RegistryClient(const Reference& ref, std::string actions)
    : ref_(ref), actions_(std::move(actions)), host_(ref.registry_host()), ca_(registry_ca(host_)) {}

sys::Result<HttpResponse> RegistryClient::request(HttpRequest req, const std::string& what) {
    const bool absolute = what.starts_with("http://") || what.starts_with("https://");
    const std::vector<std::string> headers = req.headers;
    for (int attempt = 0; attempt < 3; ++attempt) {
        req.url = absolute ? what : what.starts_with('/') ? base() + what : base() + "/v2/" + ref_.repository() + "/" + what;
        req.headers = headers;
        if (!token_.empty()) req.headers.push_back("Authorization: " + token_);
        req.ca_file = ca_;
        auto resp = http_request(req);
        if (!resp && is_tls_error(resp.error()) && scheme_ == "https" && !absolute && loopback_host(host_)) {
            scheme_ = "http";
            continue;
        }
        if (!resp) return sys::fail(std::move(resp.error()).wrap("registry " + host_));
        if (resp->status == 401 && token_.empty()) {
            MD_TRY(authenticate(resp->headers["www-authenticate"]));
            continue;
        }
        return resp;
    }
    return sys::fail(sys::Error::from_errno(EACCES, "registry " + host_ + ": authentication failed"));
}

sys::Result<HttpResponse> RegistryClient::get(const std::string& what, std::vector<std::string> headers,
                                              std::function<sys::Result<void>(std::string_view)> sink) {
    HttpRequest req;
    req.headers = std::move(headers);
    req.sink = std::move(sink);
    return request(std::move(req), what);
}

// A 401: the saved credentials for this repository (unless login gave some) answer the
// challenge, as Basic auth or for a Bearer token scoped to this repository's actions.
sys::Result<void> RegistryClient::authenticate(const std::string& challenge) {
    // (No home and no MYDOCKER_CONFIG: no saved credentials, anonymous.)
    if (auto files = default_credential_files(); files && !creds_)
        creds_ = MD_TRY_CTX(find_credentials(*files, login_host(host_).value_or(host_), ref_.repository()),
                            "registry " + host_);
    AuthRequest req{host_, ca_, creds_, ""};
    if (!ref_.repository().empty())
        req.scope = "repository:" + ref_.repository() + ":" + actions_ + extra_scopes_;
    token_ = MD_TRY(answer_challenge(challenge, req));
    return {};
}

std::string registry_status_error(const HttpResponse& resp, const std::string& what) {
    json j = json::parse(resp.body, nullptr, false);
    std::string detail;
    if (j.is_object() && j.contains("errors") && j["errors"].is_array() && !j["errors"].empty() &&
        j["errors"][0].is_object())
        detail = j["errors"][0].value("message", "");
    return what + ": " + (detail.empty() ? "HTTP " + std::to_string(resp.status) : detail);
}


}  // namespace mydocker::engine::images
