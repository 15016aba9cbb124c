// Declarations shared by the store's source files (not part of the engine's API).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/images/format.h"
#include "engine/images/layout.h"
#include "sys/log.h"

namespace mydocker::engine::images {

/// Find `ref` among `images`: "sha256:<id or prefix>", a full id, a name, a unique id prefix
/// (in that order, as Docker does). nullopt when nothing matches; an ambiguous prefix or a
/// malformed name is an error.
sys::Result<std::optional<size_t>> find_image(const std::vector<StoredImage>& images,
                                              std::string_view ref);

/// The 12-character id docker shows.
inline std::string short_id(const std::string& id) {
    return id.substr(0, 12);
}

/// The name the embedded busybox image is known by.
inline constexpr const char* kBusyboxName = "busybox:latest";

/// Build the busybox image from the host's static busybox (MYDOCKER_BUSYBOX or /bin/busybox)
/// and name it busybox:latest. Called under the lock, after re-checking it is still missing.
sys::Result<StoredImage> build_busybox(const Layout& lay, const WriteLock& lk,
                                       const sys::Logger& log);

}  // namespace mydocker::engine::images
