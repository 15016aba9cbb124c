// The container's OCI bundle: overlay rootfs over the image layers, volumes, and config.json
// built from the record. Everything here is undone by unmount_rootfs().
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "engine/containers/record.h"
#include "engine/images/store.h"
#include "runtime/spec.h"
#include "sys/error.h"

namespace mydocker::engine::containers {

/// Paths of a container: its record's dir in the store (record, log, overlay upper and work
/// dirs), and its bundle on the run root (config.json, rootfs mount point, /etc files).
struct Paths {
    std::string dir, upper, work, log;
    std::string bundle, rootfs, config;
};
Paths paths_of(const Context& ctx, const std::string& id);

/// Mount the overlay (lower = the image's layers, upper/work = the container's own) on the
/// container's rootfs dir, unless it is mounted already.
sys::Result<void> mount_rootfs(const Context& ctx, const Container& c, const images::Image& image);
/// The same overlay as a detached mount (fsmount(2)), for init to attach in the container's
/// own mount namespace (runtime::CreateOptions::rootfs_mount): the host's mount table then
/// does not grow with every running container. Before 6.8 (no "lowerdir+") a clone of the
/// overlay mounted in place for a moment. Invalid where that fails too; the caller then
/// mounts it in place.
sys::Result<sys::UniqueFd> open_rootfs(const Context& ctx, const Container& c, const images::Image& image);
/// Unmount the rootfs overlay if mounted (MNT_DETACH: a stray reader cannot keep it busy),
/// then remove the bundle dir.
sys::Result<void> unmount_rootfs(const Context& ctx, const std::string& id);

/// Named and anonymous volumes of the record exist (created on first use), bind sources too
/// (a missing host dir is created, as the tutorial does). Fills in names and sources.
sys::Result<void> prepare_mounts(const Context& ctx, Container& c);

/// "-u user[:group]" as uid and gid: numbers as they are, names from the rootfs' /etc/passwd
/// and /etc/group (read inside the rootfs: a symlinked /etc cannot point at the host's).
sys::Result<std::pair<uint32_t, uint32_t>> resolve_user(const std::string& rootfs, const std::string& spec);

/// Where the container's network namespace and name-service files come from.
struct NetworkJoin {
    std::string files_dir;   // holds hosts, resolv.conf, hostname (bind-mounted over /etc's)
    // --network container:X: X's namespace; or one made ahead for us (runtime::PendingNetns);
    // empty: a new one (or host)
    std::string netns_path;
    std::string hostname;    // container:X takes X's
};
/// Write the name-service files (or find the container whose network is shared).
sys::Result<NetworkJoin> prepare_network(const Context& ctx, const Container& c);

/// The runtime spec of the record. The user and workdir are resolved in the rootfs, read at
/// `rootfs_now`: its mount point, or (open_rootfs) the detached mount's /proc/self/fd path.
sys::Result<nlohmann::json> build_config(const Context& ctx, const Container& c, const NetworkJoin& net,
                                         const std::string& rootfs_now);

}  // namespace mydocker::engine::containers
