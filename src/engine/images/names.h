// Image names in the store: a reference (reference.h) without digest, in docker's familiar
// spelling with its tag ("x:latest" for docker.io/library/x), so every name in index.json has
// one spelling.
#pragma once

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

}  // namespace mydocker::engine::images
