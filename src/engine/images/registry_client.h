// One registry's API (distribution v2) for one repository: the scheme (TLS, or plain HTTP
// for a loopback or insecure registry that does not speak TLS), its CA from certs.d, and auth:
// anonymous, or the credentials `login` saved (credentials.h), as Basic auth or for a Bearer
// token from the realm a 401 names (distribution's token auth; registry_auth.h).
//
// The daemon configuration (registry_config.h) is read at the first request: its
// insecure-registries (no certificate check, plain HTTP when TLS fails), and for pulls of
// docker.io images its registry-mirrors, tried in turn before Docker Hub itself.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/images/credentials.h"
#include "engine/images/http.h"
#include "engine/images/reference.h"
#include "sys/error.h"

namespace mydocker::engine::images {

class RegistryClient {
public:
    /// `actions`: the token scope asked for this repository ("pull", or "pull,push").
    explicit RegistryClient(const Reference& ref, std::string actions = "pull");

    /// METHOD /v2/<repository>/<what> (or `what` itself when it is an absolute URL, as the
    /// Location of an upload is; a path from the registry's root when it starts with '/',
    /// as login's "/v2/"): the scheme fallback and auth are handled here; an HTTP
    /// error status is the caller's to read.
    sys::Result<HttpResponse> request(HttpRequest req, const std::string& what);
    /// GET, the body streamed to `sink` when set.
    sys::Result<HttpResponse> get(const std::string& what, std::vector<std::string> headers,
                                  std::function<sys::Result<void>(std::string_view)> sink = {});

    /// Ask for pull on `repository` too in the token (push mounts blobs from it); before the
    /// first request.
    void add_pull_scope(const std::string& repository) {
        extra_scopes_ += " repository:" + repository + ":pull";
    }

    /// Authenticate with `creds`, not with the saved ones (login checks them so).
    void set_credentials(Credentials creds) { creds_ = std::move(creds); }

    const std::string& host() const { return host_; }
    /// scheme://host (and a mirror's path): where absolute upload URLs are resolved against.
    std::string base() const { return scheme_ + "://" + host_ + prefix_; }

private:
    /// Where requests go: a mirror of docker.io (pulls only), then the registry itself.
    struct Endpoint {
        std::string scheme;  // the first one tried
        std::string host;    // host[:port]
        std::string prefix;  // a mirror's path, or ""
        bool mirror = false;
        bool http_fallback = false;  // plain HTTP when TLS fails (loopback, insecure)
        bool verify_tls = true;      // false: an insecure registry
    };

    sys::Result<void> configure();
    void use_endpoint(size_t i);
    /// request() on the current endpoint only.
    sys::Result<HttpResponse> request_here(HttpRequest req, const std::string& what, bool absolute);
    /// request() on a mirror that is not the last endpoint: an error or an error status
    /// (nothing given to the sink) is returned as nullopt plus `why`, for the next endpoint.
    std::optional<sys::Result<HttpResponse>> request_mirror(const HttpRequest& req, const std::string& what,
                                                            std::string& why);
    sys::Result<void> authenticate(const std::string& challenge);

    Reference ref_;
    std::string actions_;
    std::string host_;
    std::string ca_;
    // Its client certificate and key from certs.d (docker's NAME.cert and NAME.key), looked up
    // at the first request: "" when it has none.
    std::optional<std::pair<std::string, std::string>> client_cert_;
    std::string scheme_ = "https";
    std::string prefix_;
    bool http_fallback_ = false;
    bool verify_tls_ = true;
    bool configured_ = false;
    std::vector<Endpoint> endpoints_;
    size_t current_ = 0;
    std::string config_path_;            // the daemon configuration read, for messages
    std::vector<std::string> passed_over_;  // mirrors given up, with why
    std::string token_;  // the Authorization header's value once a 401 was answered
    std::string extra_scopes_;  // " repository:NAME:pull..." (add_pull_scope)
    // Looked up at the first 401 (an anonymous registry never reads the files).
    std::optional<Credentials> creds_;
};

/// The client certificate and key docker would present to `host` ([host][:port]): NAME.cert
/// and NAME.key in its certs.d directory (MYDOCKER_CERTS_D, /etc/mydocker/certs.d,
/// /etc/docker/certs.d; the first that has one for the host), or two empty strings; an error
/// when one of the pair is missing.
sys::Result<std::pair<std::string, std::string>> registry_client_cert(const std::string& host);

/// "what: <the registry's first error message>" or "what: HTTP <status>".
std::string registry_status_error(const HttpResponse& resp, const std::string& what);

/// Whether `host` ([host][:port]) is a loopback registry, where plain HTTP is allowed (as
/// docker allows it for 127.0.0.0/8 and localhost; others through insecure-registries).
bool insecure_registry_host(const std::string& host);

}  // namespace mydocker::engine::images
