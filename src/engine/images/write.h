// Building blocks of every operation that adds an image (busybox, import, commit, load):
// a layer blob from a tar stream or from entries written by hand, and a config document.
// All of them run under the store's write lock.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/images/layout.h"
#include "engine/images/tar.h"

namespace mydocker::engine::images {

/// A layer from a tar read from `fd` (plain or compressed): stored uncompressed, so its digest
/// is its diff_id, and unpacked. With `want_diff_id`, a different digest is an error.
sys::Result<Descriptor> add_layer_from_fd(
    const Layout& lay, const WriteLock& lk, int fd, const std::string& what,
    const std::optional<std::string>& want_diff_id = std::nullopt);

/// A layer whose tar `build` writes entry by entry; stored and unpacked.
sys::Result<Descriptor> add_layer_built(const Layout& lay, const WriteLock& lk,
                                        const std::function<sys::Result<void>(TarWriter&)>& build);

/// What one step adds to an image's history.
struct HistoryStep {
    std::string created;
    std::string created_by;
    std::string author;
    std::string comment;
};

/// A config document: `parent` (the parent image's parsed config, or null) with `config`
/// replacing its "config", `diff_ids` as rootfs, `step` appended to its history.
std::string make_config_text(const nlohmann::json& parent, const ImageConfig& config,
                             const std::vector<std::string>& diff_ids, const HistoryStep& step);

}  // namespace mydocker::engine::images
