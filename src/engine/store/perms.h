// The store's permissions: only root may traverse the engine's root and runroot.
#pragma once

#include "engine/context.h"
#include "sys/error.h"

namespace mydocker::engine::store {

/// Make the engine's root and runroot (0700) if missing, and take group and other access off
/// them and off the dirs that hold layers, images, containers' upper dirs, volumes and
/// running containers' rootfs mount points, also in a store made before with wider modes.
sys::Result<void> secure(const Context& ctx);

}  // namespace mydocker::engine::store
