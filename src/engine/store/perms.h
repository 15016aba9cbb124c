// The store's permissions: only root may traverse the engine's root and runroot.
#pragma once

#include "engine/context.h"
#include "sys/error.h"

namespace mydocker::engine::store {

/// Take group and other access off the engine's root and runroot and off the dirs that hold
/// layers, images, containers' upper dirs, volumes and running containers' rootfs mount
/// points, where they exist: a store made before they were made 0700 is tightened.
sys::Result<void> secure(const Context& ctx);

}  // namespace mydocker::engine::store
