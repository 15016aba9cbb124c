// Id-mapped mounts (runtime-spec 1.1 mounts[].uidMappings / gidMappings): built by the parent,
// where the host's ids are ours to map, and attached by init inside the rootfs.
#pragma once

#include <vector>

#include "runtime/spec.h"
#include "sys/error.h"
#include "sys/fd.h"

namespace mydocker::runtime {

/// A user namespace whose uid_map / gid_map are `uids` / `gids` (containerID hostID size),
/// as an fd for MOUNT_ATTR_IDMAP. No process stays in it.
sys::Result<sys::UniqueFd> make_userns_fd(const std::vector<IdMapping>& uids,
                                          const std::vector<IdMapping>& gids);

/// A detached copy (open_tree OPEN_TREE_CLONE) of the bind source of `m`, id-mapped with the
/// mount's mappings; init moves it onto the resolved destination (move_mount).
sys::Result<sys::UniqueFd> open_idmapped_tree(const Mount& m);

}  // namespace mydocker::runtime
