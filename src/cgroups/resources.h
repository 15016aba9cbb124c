// Resources: the cgroup limits of a container, as OCI's linux.resources describes them.
// Plain data shared by the spec model (runtime/) and both drivers; no parsing here.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mydocker::cgroups {

/// One device cgroup rule (linux.resources.devices[]).
struct DeviceRule {
    bool allow = false;
    char type = 'a';             // 'a', 'c' or 'b'
    int64_t major = -1;          // -1 means any ('*')
    int64_t minor = -1;          // -1 means any ('*')
    std::string access = "rwm";  // subset of "rwm"
};

struct MemoryResources {
    std::optional<int64_t> limit;        // bytes, -1 = unlimited
    std::optional<int64_t> reservation;  // soft limit (v1) / memory.low (v2)
    std::optional<int64_t> swap;         // memory+swap (v1 semantics), -1 = unlimited
    std::optional<int64_t> kernel;       // deprecated; ignored with a warning
    std::optional<int64_t> kernel_tcp;
    std::optional<uint64_t> swappiness;
    std::optional<bool> disable_oom_killer;
    std::optional<bool> use_hierarchy;
    std::optional<bool> check_before_update;
};

struct CpuResources {
    std::optional<uint64_t> shares;
    std::optional<int64_t> quota;  // microseconds per period, -1 = unlimited
    std::optional<uint64_t> burst;
    std::optional<uint64_t> period;
    std::optional<int64_t> realtime_runtime;
    std::optional<uint64_t> realtime_period;
    std::string cpus;  // cpuset list, "" = unchanged
    std::string mems;
    std::optional<int64_t> idle;
};

struct PidsResources {
    int64_t limit = 0;  // > 0 a limit, -1 (or 0 via update) = max
};

struct WeightDevice {
    int64_t major = 0, minor = 0;
    std::optional<uint16_t> weight;
    std::optional<uint16_t> leaf_weight;
};

struct ThrottleDevice {
    int64_t major = 0, minor = 0;
    uint64_t rate = 0;
};

struct BlockIoResources {
    std::optional<uint16_t> weight;       // 10..1000
    std::optional<uint16_t> leaf_weight;  // 10..1000
    std::vector<WeightDevice> weight_device;
    std::vector<ThrottleDevice> throttle_read_bps_device;
    std::vector<ThrottleDevice> throttle_write_bps_device;
    std::vector<ThrottleDevice> throttle_read_iops_device;
    std::vector<ThrottleDevice> throttle_write_iops_device;
};

struct HugepageLimit {
    std::string page_size;  // "2MB"
    uint64_t limit = 0;
};

/// linux.resources: every field optional; an absent field leaves the kernel default.
struct Resources {
    std::vector<DeviceRule> devices;
    std::optional<MemoryResources> memory;
    std::optional<CpuResources> cpu;
    std::optional<PidsResources> pids;
    std::optional<BlockIoResources> block_io;
    std::vector<HugepageLimit> hugepage_limits;
    std::map<std::string, std::string> unified;  // v2 file name -> value
};

}  // namespace mydocker::cgroups
