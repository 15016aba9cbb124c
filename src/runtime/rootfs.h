// The container's filesystem, built by init: mounts confined to the rootfs, devices,
// pivot_root, masked and read-only paths.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "runtime/spec.h"
#include "sys/error.h"
#include "sys/fd.h"

namespace mydocker::runtime {

/// Resolve `path` under the directory `root_fd` like a chroot would, never leaving it:
/// ".." stops at the root and symlinks (absolute or relative) are resolved inside it
/// (CVE-2021-30465). Missing components are created (directories; the last one a file when
/// `last_is_file`) if `create`. Returns an O_PATH fd of the result.
sys::Result<sys::UniqueFd> resolve_in_root(int root_fd, const std::string& path, bool create,
                                           bool last_is_file = false);
/// "/proc/self/fd/N": how mount(2) is pointed at an fd-resolved target.
std::string fd_path(int fd);

struct RootfsOptions {
    std::string cgroup_path;  // the container's cgroup, for the "cgroup" mount
    std::string cgroup_root = "/sys/fs/cgroup";
    bool new_cgroup_ns = false;
    bool new_user_ns = false;
    // Called before the first mount that needs the container's cgroup to exist (a cgroup
    // mount, a bind from under cgroup_root): init waits for it there when it is deferred.
    std::function<sys::Result<void>()> before_cgroup;
    // The first v1 cgroup mount: a tree built by the parent (build_cgroup_tree) to attach,
    // or an invalid fd to build it here.
    std::function<sys::Result<sys::UniqueFd>()> take_cgroup_tree;
    // Per spec mount: the id-mapped tree the parent built (open_idmapped_tree), or -1.
    std::vector<int> idmap_fds;
    // A detached mount to attach on root.path (CreateOptions::rootfs_mount), or -1.
    int rootfs_mount = -1;
    // Set: the cgroup mount at /sys/fs/cgroup, rather than wait for before_cgroup, is left
    // out and its index put here, for mount_after_pivot() (see can_mount_after_pivot()).
    std::vector<size_t>* after_pivot = nullptr;
};

/// The v1 cgroup mount `m` (a tmpfs with a bind of the container's cgroup per hierarchy,
/// read-only as `m` says) built detached with the new mount API, for init to attach in one
/// move_mount. Fails where the kernel cannot mount into a detached tree (before 6.15) or `m`
/// asks for flags that cannot be expressed so: init then builds it as usual.
sys::Result<sys::UniqueFd> build_cgroup_tree(const Mount& m, const RootfsOptions& opts);

/// Before pivot_root: make mounts private, bind the rootfs, mount every spec mount inside it,
/// create /dev's default devices and the spec's devices.
sys::Result<void> prepare_rootfs(const Spec& spec, const RootfsOptions& opts);
/// Enter the rootfs: pivot_root (or MS_MOVE + chroot with no_pivot).
sys::Result<void> enter_rootfs(const Spec& spec, bool no_pivot);
/// After pivot_root: masked paths, read-only paths, read-only root, rootfs propagation.
sys::Result<void> finalize_rootfs(const Spec& spec);

/// enter_rootfs() and finalize_rootfs() in steps, for a cgroup mount that waits until after
/// pivot_root (RootfsOptions::after_pivot): the parent, which makes the cgroup and builds its
/// mount meanwhile, then has that much more time. Possible where the order cannot show: the
/// spec mounts the cgroup hierarchies at /sys/fs/cgroup and proc at /proc, and no masked or
/// read-only path is at, above or below /sys/fs/cgroup.
bool can_mount_after_pivot(const Spec& spec);
/// pivot_root into the rootfs; the old root stays, stacked on the new one: its fd.
sys::Result<sys::UniqueFd> pivot_to_rootfs(const Spec& spec);
/// Masked and read-only paths (finalize_rootfs' first part).
sys::Result<void> finalize_paths(const Spec& spec);
/// The mounts `indices` of `spec` (RootfsOptions::after_pivot) in the new root, the old one
/// (`old_root`) still attached: a cgroup mount init builds itself binds the host's
/// hierarchies through it.
sys::Result<void> mount_after_pivot(const Spec& spec, const std::vector<size_t>& indices, const RootfsOptions& opts,
                                    int old_root);
/// Detach the old root pivot_to_rootfs() left (an expedited RCU grace period: the slowest
/// step of all after pivot_root here).
sys::Result<void> detach_old_root(sys::UniqueFd old_root);
/// Read-only root and rootfs propagation (finalize_rootfs' second part), once the old root is
/// gone.
sys::Result<void> finalize_root(const Spec& spec);
/// Check `fd` is on a real procfs (CVE-2019-16884 style: never write into a fake /proc).
sys::Result<void> check_procfs(int fd, const std::string& what);

}  // namespace mydocker::runtime
