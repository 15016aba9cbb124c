// login / logout: credentials for a registry checked against it and kept in mydocker's
// credentials file (credentials.h), for pull (and push) to use.
#pragma once

#include <string>

#include "engine/images/credentials.h"
#include "sys/error.h"

namespace mydocker::engine::images {

struct LoginResult {
    std::string key;   // the entry saved: "127.0.0.1:5000", "https://index.docker.io/v1/"
    std::string file;  // where
};

/// Check `creds` against the registry of `server` (docker's spelling; "" is Docker Hub): GET
/// /v2/, answering its challenge (Basic, or a Bearer token asked for account=USER), and save
/// them in `files.own` once it lets them in. A refusal: an error naming the registry and its
/// reason ("unauthorized: ..."), nothing saved.
sys::Result<LoginResult> login(const std::string& server, const Credentials& creds,
                               const CredentialFiles& files);

struct LogoutResult {
    std::string key;  // the entry removed (or not found)
    bool removed = false;
    std::string foreign;  // when not ours: a file of docker or podman that has credentials for it
};

/// Remove the credentials of `server` from `files.own`.
sys::Result<LogoutResult> logout(const std::string& server, const CredentialFiles& files);

}  // namespace mydocker::engine::images
