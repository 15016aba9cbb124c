// See registry_client.h.
#include "engine/images/registry_client.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "engine/images/registry_auth.h"
#include "engine/images/registry_config.h"
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

/// The certs.d directories, first found first: $MYDOCKER_CERTS_D, then ours, then docker's.
std::vector<std::string> certs_dirs() {
    std::vector<std::string> dirs;
    if (const char* d = std::getenv("MYDOCKER_CERTS_D"); d && *d) dirs.emplace_back(d);
    dirs.emplace_back("/etc/mydocker/certs.d");
    dirs.emplace_back("/etc/docker/certs.d");
    return dirs;
}

/// A registry's own CA, as docker reads it from certs.d/HOST[:PORT]/ca.crt.
std::string registry_ca(const std::string& host) {
    for (const auto& d : certs_dirs()) {
        std::string ca = d + "/" + host + "/ca.crt";
        if (sys::path_exists(ca)) return ca;
    }
    return "";
}

}  // namespace

sys::Result<std::pair<std::string, std::string>> registry_client_cert(const std::string& host) {
    // As docker: the first certs.d/HOST[:PORT]/ directory that exists is the registry's; in
    // it, NAME.cert is a client certificate whose key must be NAME.key (and a key without
    // its certificate is as wrong).
    for (const auto& d : certs_dirs()) {
        std::string dir = d + "/" + host;
        if (!sys::is_dir(dir)) continue;
        std::vector<std::string> names = MD_TRY(sys::list_dir(dir));
        std::sort(names.begin(), names.end());
        auto has = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) != names.end(); };
        for (const auto& n : names) {
            if (n.ends_with(".cert")) {
                std::string key = n.substr(0, n.size() - 5) + ".key";
                if (!has(key))
                    return sys::fail_invalid("registry " + host + ": client certificate " + dir + "/" + n +
                                             " has no key " + key + " beside it");
                return std::make_pair(dir + "/" + n, dir + "/" + key);
            }
            if (n.ends_with(".key") && !has(n.substr(0, n.size() - 4) + ".cert"))
                return sys::fail_invalid("registry " + host + ": key " + dir + "/" + n + " has no certificate " +
                                         n.substr(0, n.size() - 4) + ".cert beside it");
        }
        return std::make_pair(std::string(), std::string());
    }
    return std::make_pair(std::string(), std::string());
}

bool insecure_registry_host(const std::string& host) { return loopback_host(host); }

RegistryClient::RegistryClient(const Reference& ref, std::string actions)
    : ref_(ref), actions_(std::move(actions)), host_(ref.registry_host()), ca_(registry_ca(host_)) {}

// The endpoints, from the daemon configuration: docker's lookupV2Endpoints. A mirror is tried
// with its own scheme only, its certificate unchecked when its host is insecure; the registry
// itself over TLS, checked unless it is insecure, and over plain HTTP when TLS fails for a
// loopback or insecure one. docker.io is never insecure (docker pins its index secure).
sys::Result<void> RegistryClient::configure() {
    if (configured_) return {};
    RegistryConfig cfg = MD_TRY(load_registry_config());
    config_path_ = daemon_config_path();
    const bool hub = ref_.domain == kDockerHubDomain;
    // Mirrors serve pulls only: a push or a login goes to Docker Hub itself.
    if (hub && actions_ == "pull") {
        for (const auto& m : cfg.mirrors)
            endpoints_.push_back(
                Endpoint{m.scheme, m.host, m.path, true, false, !cfg.insecure(m.host)});
    }
    const bool insecure = !hub && cfg.insecure(ref_.domain);
    const std::string host = ref_.registry_host();
    endpoints_.push_back(
        Endpoint{"https", host, "", false, insecure || loopback_host(host), !insecure});
    configured_ = true;
    use_endpoint(0);
    return {};
}

void RegistryClient::use_endpoint(size_t i) {
    const Endpoint& e = endpoints_[i];
    current_ = i;
    scheme_ = e.scheme;
    host_ = e.host;
    prefix_ = e.prefix;
    http_fallback_ = e.http_fallback;
    verify_tls_ = e.verify_tls;
    ca_ = registry_ca(host_);
    client_cert_.reset();
    token_.clear();  // a token is one server's
}

sys::Result<HttpResponse> RegistryClient::request(HttpRequest req, const std::string& what) {
    MD_TRY(configure());
    const bool absolute = what.starts_with("http://") || what.starts_with("https://");
    // docker passes over a mirror for any failure of a pull from it (continueOnError): down,
    // refusing, or without the content. Once passed over, a mirror is not asked again.
    while (!absolute && current_ + 1 < endpoints_.size()) {
        std::string why;
        if (auto resp = request_mirror(req, what, why)) return std::move(*resp);
        passed_over_.push_back(scheme_ + "://" + host_ + prefix_ + " (" + why + ")");
        use_endpoint(current_ + 1);
    }
    auto resp = request_here(std::move(req), what, absolute);
    if (!resp && !passed_over_.empty()) {
        std::string mirrors;
        for (const auto& m : passed_over_) mirrors += (mirrors.empty() ? "" : ", ") + m;
        return sys::fail(
            std::move(resp.error()).wrap("mirrors passed over: " + mirrors + "; then"));
    }
    return resp;
}

// A body streamed to a sink cannot be taken back: the mirror is asked with HEAD first, and
// passed over after the GET only when nothing reached the sink.
std::optional<sys::Result<HttpResponse>> RegistryClient::request_mirror(const HttpRequest& req,
                                                                        const std::string& what,
                                                                        std::string& why) {
    auto reason = [&](const sys::Result<HttpResponse>& r) {
        return r ? registry_status_error(*r, r->effective_url.empty() ? what : r->effective_url)
                 : r.error().context();
    };
    if (req.sink && req.method == "GET") {
        HttpRequest head = req;
        head.method = "HEAD";
        head.sink = {};
        auto probe = request_here(std::move(head), what, false);
        if (!probe || probe->status / 100 != 2) {
            why = reason(probe);
            return std::nullopt;
        }
    }
    bool delivered = false;
    HttpRequest mine = req;
    if (req.sink)
        mine.sink = [&delivered, &req](std::string_view d) {
            delivered = true;
            return req.sink(d);
        };
    auto resp = request_here(std::move(mine), what, false);
    if (delivered || (resp && resp->status < 400)) return resp;
    why = reason(resp);
    return std::nullopt;
}

sys::Result<HttpResponse> RegistryClient::request_here(HttpRequest req, const std::string& what,
                                                       bool absolute) {
    const std::vector<std::string> headers = req.headers;
    std::optional<sys::Error> https_error;  // what made this request fall back to plain HTTP
    for (int attempt = 0; attempt < 3; ++attempt) {
        req.url = absolute ? what : what.starts_with('/') ? base() + what : base() + "/v2/" + ref_.repository() + "/" + what;
        req.headers = headers;
        if (!token_.empty()) req.headers.push_back("Authorization: " + token_);
        req.ca_file = ca_;
        if (!client_cert_) client_cert_ = MD_TRY(registry_client_cert(host_));
        req.client_cert = client_cert_->first;
        req.client_key = client_cert_->second;
        req.verify_tls = verify_tls_;
        auto resp = http_request(req);
        // An insecure registry gets plain HTTP after any failure of HTTPS (docker's endpoint
        // fallback: one named without a port may listen on 80 only); loopback after a TLS one.
        if (!resp && (is_tls_error(resp.error()) || !verify_tls_) && scheme_ == "https" &&
            !absolute && http_fallback_) {
            https_error = std::move(resp.error());
            scheme_ = "http";
            continue;
        }
        // A TLS server answers plain HTTP with 400 (Go's "Client sent an HTTP request to an
        // HTTPS server"): its TLS error is the one that tells the user what to fix.
        if (resp && resp->status == 400 && https_error) {
            scheme_ = "https";
            return sys::fail(std::move(*https_error)
                                 .wrap("registry " + host_ + " (it refuses plain HTTP too)"));
        }
        if (!resp && is_tls_error(resp.error()) && scheme_ == "https" && !absolute && verify_tls_ &&
            current_ + 1 == endpoints_.size() && ref_.domain != kDockerHubDomain)
            // Plain HTTP (or an unknown certificate) is for the registries the user declared.
            return sys::fail(sys::Error::invalid(
                "registry " + host_ + ": " + resp.error().message() + " (TLS failed, and \"" +
                ref_.domain +
                "\" is not an insecure registry: add it to \"insecure-registries\" in \"" +
                config_path_ +
                "\" to allow plain HTTP and unchecked certificates, or its CA to certs.d/" + host_ +
                "/ca.crt)"));
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
        // Keyed by the repository's registry, also on a mirror of it (as docker sends a mirror
        // the credentials of docker.io).
        creds_ =
            MD_TRY_CTX(find_credentials(
                           *files, login_host(ref_.registry_host()).value_or(ref_.registry_host()),
                           ref_.repository()),
                       "registry " + host_);
    AuthRequest req{host_, ca_, creds_, "", verify_tls_};
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
