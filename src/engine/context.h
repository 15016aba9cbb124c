// engine::Context: what every engine operation needs from its caller, passed explicitly.
#pragma once

#include <string>

#include "runtime/context.h"
#include "sys/log.h"
#include "sys/files.h"

namespace mydocker::engine {

struct Context {
    const sys::Logger& log;
    std::string root = "/var/lib/mydocker";  // images, layers, containers, volumes
    // What lives only while containers run (a tmpfs by default, like docker's exec-root):
    // the runtime's state, and each running container's bundle (see bundles_dir()).
    std::string run_root = "/run/mydocker";
    std::string cgroup_root = "/sys/fs/cgroup";
    std::string exe;  // this program's path: `run --init` finds mydocker-init beside it
    std::string default_bip;  // --bip: the default bridge's address and prefix at its first use

    std::string images_dir() const { return sys::path_join(root, "images"); }
    std::string layers_dir() const { return sys::path_join(root, "layers"); }
    std::string containers_dir() const { return sys::path_join(root, "containers"); }
    std::string volumes_dir() const { return sys::path_join(root, "volumes"); }
    std::string networks_dir() const { return sys::path_join(root, "networks"); }
    /// A running container's OCI bundle (config.json, the rootfs mount point) and the files
    /// bind-mounted over its /etc (hosts, resolv.conf, hostname): made at each start, gone at
    /// its end. Kept off the store's disk: they are rewritten every start.
    std::string bundles_dir() const { return sys::path_join(run_root, "containers"); }
    /// The networks' leases (one dir per network): they hold only running containers.
    std::string leases_dir() const { return sys::path_join(run_root, "networks"); }
    /// The runtime's state dirs (one per container).
    std::string runtime_dir() const { return sys::path_join(run_root, "runtime"); }
    /// Seccomp programs generated for the profiles containers used (one per profile and
    /// capability set): on the run root, so a new kernel after a reboot starts afresh.
    std::string seccomp_cache_dir() const { return sys::path_join(run_root, "seccomp"); }
    /// The runtime library's context for containers of this engine.
    runtime::Context runtime() const {
        return runtime::Context{log, runtime_dir(), cgroup_root, seccomp_cache_dir()};
    }
};

}  // namespace mydocker::engine
