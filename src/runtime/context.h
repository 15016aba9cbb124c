// Context: what every runtime operation needs from its caller, passed explicitly.
#pragma once

#include <string>

#include "sys/log.h"

namespace mydocker::runtime {

struct Context {
    const sys::Logger& log;
    std::string root = "/run/mydocker-runc";  // state root: one directory per container
    std::string cgroup_root = "/sys/fs/cgroup";
};

}  // namespace mydocker::runtime
