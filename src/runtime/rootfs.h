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
/// Check `fd` is on a real procfs (CVE-2019-16884 style: never write into a fake /proc).
sys::Result<void> check_procfs(int fd, const std::string& what);

}  // namespace mydocker::runtime
