// Image names in the store: a reference (reference.h) without digest, in docker's familiar
// spelling with its tag ("x:latest" for docker.io/library/x), so every name in index.json has
// one spelling.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sys/error.h"

namespace mydocker::engine::images {

/// A normalised name split in two: repo "busybox", tag "latest".
struct NameParts {
    std::string repo;
    std::string tag;
};

/// Split a normalised "repo:tag" at the tag's colon (a registry port is not a tag).
NameParts split_name(std::string_view name);

/// "repo@sha256:<hex>" as docker keeps RepoDigests: `repo` familiar ("busybox",
/// "127.0.0.1:5000/x"), the digest checked.
sys::Result<std::string> repo_digest(std::string_view repo, std::string_view digest);

/// A reference that carries a digest ("busybox@sha256:...", "x:1@sha256:...") as the
/// RepoDigest it names ("busybox@sha256:..."); none when `ref` has no digest; an error names a
/// malformed reference.
sys::Result<std::optional<std::string>> parse_repo_digest(std::string_view ref);

/// The repository of a "repo@sha256:..." RepoDigest ("busybox").
std::string_view repo_of_digest(std::string_view repo_digest);

}  // namespace mydocker::engine::images
