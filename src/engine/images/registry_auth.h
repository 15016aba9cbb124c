// Answering a registry's 401: its WWW-Authenticate challenge, and the Authorization header
// that answers it. Basic: the user's password itself. Bearer (distribution's token auth, as
// Docker Hub, GHCR and Quay do it): a token from the challenge's realm for the service and
// scope, asked with the user's password in Basic auth (and account=USER), or anonymously.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "engine/images/credentials.h"
#include "sys/error.h"

namespace mydocker::engine::images {

/// A WWW-Authenticate challenge: its scheme in lowercase ("basic", "bearer") and its
/// parameters (lowercase names, unquoted values).
struct AuthChallenge {
    std::string scheme;
    std::map<std::string, std::string> params;
};

/// Parse the (first) challenge of a WWW-Authenticate header; an empty scheme when there is none.
AuthChallenge parse_challenge(std::string_view header);

/// What a client knows when it answers a challenge.
struct AuthRequest {
    std::string host;                  // the registry, for messages
    std::string ca_file;               // its CA, for a realm on the same server
    std::optional<Credentials> creds;  // none: anonymous
    // "repository:NAME:pull,push"; "" for login's check; several separated by spaces (each
    // its own scope= of the token request: push's pull on a repository it mounts from).
    std::string scope;
    bool verify_tls = true;            // false: an insecure registry's (for its realm too)
};

/// The value of the Authorization header that answers `challenge` ("Basic ..." or
/// "Bearer ..."). Errors name the registry: a Basic challenge without credentials
/// ("authentication required"), a realm that refuses them ("unauthorized: <its reason>").
sys::Result<std::string> answer_challenge(const std::string& challenge, const AuthRequest& req);

}  // namespace mydocker::engine::images
