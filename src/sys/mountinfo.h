// /proc/PID/mountinfo parsing.
#pragma once

#include <string>
#include <vector>

#include "sys/error.h"

namespace mydocker::sys {

struct MountInfo {
    int id = 0;
    int parent = 0;
    std::string root;         // field 4: root of the mount within its filesystem
    std::string mount_point;  // field 5
    std::string options;      // per-mount options
    std::string fstype;
    std::string source;
    std::string super_options;
};

/// Parse mountinfo text (octal escapes like \040 decoded).
std::vector<MountInfo> parse_mountinfo(const std::string& text);
/// Read and parse /proc/self/mountinfo.
Result<std::vector<MountInfo>> read_mountinfo();

}  // namespace mydocker::sys
