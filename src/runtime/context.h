// Context: what every runtime operation needs from its caller, passed explicitly.
#pragma once

#include <string>

#include "sys/log.h"

namespace mydocker::runtime {

struct Context {
    const sys::Logger& log;
    std::string root = "/run/mydocker-runc";  // state root: one directory per container
    std::string cgroup_root = "/sys/fs/cgroup";
    // Where generated seccomp programs are kept for the next container with the same
    // profile (compile_seccomp); empty: generated every time.
    std::string seccomp_cache;
    // The systemd cgroup driver (--systemd-cgroup): cgroupsPath is "slice:prefix:name" and
    // each container's cgroup is a transient unit of systemd's.
    bool systemd_cgroup = false;
};

}  // namespace mydocker::runtime
