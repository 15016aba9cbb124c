// push: an image of the store to a registry (distribution API v2).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/images/reference.h"
#include "sys/error.h"

namespace mydocker::engine::images {

struct PushOptions {
    // One line of docker's plain progress ("The push refers to repository [...]", "<id>:
    // Pushed", "<id>: Layer already exists", ...); unset: silent.
    std::function<void(const std::string&)> progress;
};

struct PushResult {
    std::string name;  // the reference pushed, familiar: "127.0.0.1:5000/test/bb:1"
    std::string tag;
    std::string digest;  // of the manifest pushed
    int64_t size = 0;    // of the manifest pushed
};

/// Push the image named `ref` (NAME[:TAG], tag latest by default) to the registry its name
/// holds. The blobs go as the store keeps them (layers as uncompressed OCI tars, digest ==
/// diff_id), each checked with HEAD first, then mounted from another repository of the same
/// registry the image is also named in, else uploaded whole; the store's own manifest goes
/// last, byte for byte, so the pushed digest is the image's manifest digest.
sys::Result<PushResult> push(const Context& ctx, const std::string& ref, const PushOptions& opts);

/// Where an upload continues: `location` (the registry's Location header, absolute or relative
/// to `base`, "scheme://host") with `query` appended to any query it already has.
std::string upload_url(const std::string& base, const std::string& location,
                       const std::string& query);

/// A repository of `ref`'s registry, other than `ref`'s own, among an image's `names`: the
/// registry has the image's blobs there, to mount from. "" when none.
std::string mount_source(const std::vector<std::string>& names, const Reference& ref);

}  // namespace mydocker::engine::images
