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
/// holds, as docker does: each layer as a gzip blob (one the distribution metadata knows for
/// this registry, checked with HEAD or mounted from the repository it was seen in; else
/// compressed on the fly into a chunked upload, recorded for the next push), the config as
/// stored, then a docker schema-2 manifest under the tag. The same image pushed again gives
/// the same manifest digest.
sys::Result<PushResult> push(const Context& ctx, const std::string& ref, const PushOptions& opts);

/// Where an upload continues: `location` (the registry's Location header, absolute or relative
/// to `base`, "scheme://host") with `query` (if not "") appended to any query it already has.
std::string upload_url(const std::string& base, const std::string& location,
                       const std::string& query);

/// A repository of `ref`'s registry, other than `ref`'s own, among an image's `names`: the
/// registry has the image's blobs there, to mount from. "" when none.
std::string mount_source(const std::vector<std::string>& names, const Reference& ref);

}  // namespace mydocker::engine::images
