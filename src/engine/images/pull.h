// pull: an image from a registry (distribution API v2) into the store.
#pragma once

#include <functional>
#include <string>

#include "engine/context.h"
#include "engine/images/layout.h"
#include "sys/error.h"

namespace mydocker::engine::images {

struct PullOptions {
    std::string platform;  // "os/arch[/variant]"; empty: linux and this host's architecture
    // One line of docker's plain progress ("latest: Pulling from library/busybox", "<id>: Pull
    // complete", ...); unset: silent.
    std::function<void(const std::string&)> progress;
    // Each layer's status by its short id ("Waiting", "Downloading", "Extracting", "Pull
    // complete", "Already exists"), with the bytes so far and the total (-1: none); called from
    // the download threads, one call at a time. Unset: each change of status goes to
    // `progress` as a line "<id>: <status>".
    std::function<void(const std::string& id, const std::string& status, int64_t current, int64_t total)>
        layer_progress;
};

struct PullResult {
    std::string name;       // the reference pulled, in full: "docker.io/library/busybox:latest"
    std::string store_name; // its name in the store ("busybox:latest"), "" for a digest alone
    std::string digest;     // of the manifest that was pulled
    bool up_to_date = false;
};

/// Pull `ref` (docker's reference grammar) into the store of `ctx`: layers fetched three at a
/// time, each decompressed and unpacked as it arrives (pull_layer.h), without the store's
/// lock but for each commit. Every blob is checked against its digest and size as it streams,
/// and every layer against its diff_id before it enters the store; nothing is registered
/// unless all of it arrived whole.
sys::Result<PullResult> pull(const Context& ctx, const std::string& ref, const PullOptions& opts);

}  // namespace mydocker::engine::images
