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
    std::string run_root = "/run/mydocker";  // the runtime's state (one dir per container)
    std::string cgroup_root = "/sys/fs/cgroup";
    std::string exe;  // this program's path: the monitor of a detached container re-executes it
    std::string default_bip;  // --bip: the default bridge's address and prefix at its first use

    std::string images_dir() const { return sys::path_join(root, "images"); }
    std::string layers_dir() const { return sys::path_join(root, "layers"); }
    std::string containers_dir() const { return sys::path_join(root, "containers"); }
    std::string volumes_dir() const { return sys::path_join(root, "volumes"); }
    std::string networks_dir() const { return sys::path_join(root, "networks"); }
    /// The runtime library's context for containers of this engine.
    runtime::Context runtime() const { return runtime::Context{log, run_root, cgroup_root}; }
};

}  // namespace mydocker::engine
