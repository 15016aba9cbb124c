// Registry credentials in docker's config.json "auths" format:
//
//   {"auths": {"HOST[:PORT]": {"auth": base64("user:password")}}}
//
// mydocker writes its own file ($MYDOCKER_CONFIG/config.json, else ~/.mydocker/config.json;
// mode 0600 in a 0700 dir, replaced atomically) and reads docker's ($DOCKER_CONFIG/config.json,
// else ~/.docker/config.json) and podman's ($REGISTRY_AUTH_FILE, else
// $XDG_RUNTIME_DIR/containers/auth.json or /run/containers/UID/auth.json, then
// ~/.config/containers/auth.json) after it, never writing those. Docker Hub is keyed
// "https://index.docker.io/v1/" as docker keys it; keys are matched by host, so "https://h/v2/"
// and podman's "docker.io" or "h/namespace" keys match too.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sys/error.h"

namespace mydocker::engine::images {

/// The key docker's files give Docker Hub.
inline constexpr std::string_view kDockerHubAuthKey = "https://index.docker.io/v1/";

struct Credentials {
    std::string username;
    std::string password;
    std::string source;  // the file they came from (for messages)
};

/// Where credentials are written (`own`) and read (`own`, then each of `foreign`).
struct CredentialFiles {
    std::string own;
    std::vector<std::string> foreign;
};

/// The files of this environment (MYDOCKER_CONFIG, HOME, DOCKER_CONFIG, REGISTRY_AUTH_FILE,
/// XDG_RUNTIME_DIR, XDG_CONFIG_HOME); an error when no home directory is known.
sys::Result<CredentialFiles> default_credential_files();

/// A login server as docker names it, to the registry host it stands for: "https://h:5000/v2/"
/// and "h:5000" are "h:5000"; "docker.io", "index.docker.io", "registry-1.docker.io" and "" are
/// "docker.io". Invalid (empty host, spaces, a bad port): invalid_argument naming `server`.
sys::Result<std::string> login_host(std::string_view server);

/// The key a host is saved under: docker's kDockerHubAuthKey for "docker.io", else the host.
std::string auth_key(const std::string& host);

/// base64 (RFC 4648, with padding) of `data`.
std::string base64_encode(std::string_view data);
/// The bytes of base64 `text` (padding optional); nullopt when it is not base64.
std::optional<std::string> base64_decode(std::string_view text);

/// The credentials for `host` (as login_host gives it) and `repository` in the text of one
/// auths file: a "host/namespace" key (podman) that is a prefix of host/repository wins over
/// the host's own. nullopt when there are none; invalid_argument naming `source` when the text
/// is not such a file or the entry is not base64 of "user:password".
sys::Result<std::optional<Credentials>> find_in_auth_file(std::string_view text,
                                                          const std::string& source,
                                                          const std::string& host,
                                                          const std::string& repository);

/// The credentials for `host`/`repository` from the first of `files` that has some.
sys::Result<std::optional<Credentials>> find_credentials(const CredentialFiles& files,
                                                         const std::string& host,
                                                         const std::string& repository);

/// The text of an auths file `old` (empty: none yet) with `host` set to `creds`; other keys
/// and entries are kept.
sys::Result<std::string> auth_file_with(std::string_view old, const std::string& source,
                                        const std::string& host, const Credentials& creds);
/// The text of `old` without `host`'s entries (any spelling of its key); nullopt when it had none.
sys::Result<std::optional<std::string>> auth_file_without(std::string_view old,
                                                          const std::string& source,
                                                          const std::string& host);

/// Save `creds` for `host` in `path` (dir 0700, file 0600, replaced atomically under a lock).
sys::Result<void> store_credentials(const std::string& path, const std::string& host,
                                    const Credentials& creds);
/// Remove `host` from `path`; false when it was not there.
sys::Result<bool> remove_credentials(const std::string& path, const std::string& host);

}  // namespace mydocker::engine::images
