// Pure conversions between OCI resource values and cgroup knob contents (unit-tested).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cgroups/resources.h"
#include "sys/error.h"

namespace mydocker::cgroups {

/// One write of `value` to the knob `file` (a name inside the cgroup directory).
struct KnobWrite {
    std::string file;
    std::string value;
    bool operator==(const KnobWrite&) const = default;
};

/// v1 cpu.shares (2..262144) to v2 cpu.weight (1..10000); 0 (unset) stays 0.
uint64_t shares_to_weight(uint64_t shares);
/// v1 blkio.weight (10..1000) to v2 io.weight (1..10000); 0 (unset) stays 0.
uint64_t blkio_weight_to_io_weight(uint64_t weight);

/// The lines for devices.allow / devices.deny expressing `rule` ("c 1:3 rwm", "a").
sys::Result<std::vector<std::string>> v1_device_rule_lines(const DeviceRule& rule);

/// The v1 writes of memory.limit_in_bytes and memory.memsw.limit_in_bytes in an order the
/// kernel accepts: it keeps memsw >= limit at every step, so memsw goes first when the new
/// memsw is at least the current limit. `current_limit` is nullopt when unlimited.
std::vector<KnobWrite> v1_memory_limit_writes(std::optional<int64_t> limit,
                                              std::optional<int64_t> memsw,
                                              std::optional<uint64_t> current_limit);

/// memory.swap.max for OCI's memory.limit / memory.swap (swap counts memory+swap):
/// nullopt = leave the knob alone.
sys::Result<std::optional<std::string>> v2_swap_max(std::optional<int64_t> limit,
                                                    std::optional<int64_t> swap);

/// cpu.max content for a quota/period update; `current` is the knob's present content
/// ("max 100000"), whose parts are kept for whatever the update leaves unset.
std::string v2_cpu_max(std::optional<int64_t> quota, std::optional<uint64_t> period,
                       std::string_view current);

/// A v2 limit value: negative means "max".
std::string v2_limit(int64_t v);

}  // namespace mydocker::cgroups
