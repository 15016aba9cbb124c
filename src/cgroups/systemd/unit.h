// The pure part of the systemd cgroup driver (unit-tested): cgroupsPath "slice:prefix:name"
// as runc reads it, the slice's place in the cgroup tree, and the unit properties that carry
// OCI's resources to systemd.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "cgroups/manager.h"
#include "cgroups/resources.h"
#include "sys/error.h"

namespace mydocker::cgroups::systemd {

/// Where a container's unit goes.
struct UnitPath {
    std::string slice;  // the parent slice ("system.slice")
    std::string unit;   // "prefix-name.scope", or a slice's own name
    std::string path;   // the unit's cgroup, relative to the hierarchy root
    bool is_slice() const { return unit.ends_with(".slice"); }
    bool operator==(const UnitPath&) const = default;
};

/// Parses cgroupsPath "slice:prefix:name" as runc does: an empty slice is "system.slice";
/// the unit is "prefix-name.scope" ("name.scope" without a prefix), or `name` itself when it
/// ends in ".slice". Every error names cgroupsPath.
sys::Result<UnitPath> parse_cgroups_path(const std::string& cgroups_path);

/// The cgroup path of slice `name`: "a-b.slice" is "/a.slice/a-b.slice", "-.slice" is "/".
sys::Result<std::string> expand_slice(const std::string& name);

/// A property value of the few D-Bus types systemd's unit properties use here.
using Value =
    std::variant<std::string, bool, uint64_t, std::vector<uint32_t>, std::vector<uint8_t>>;
/// One unit property: its name and value.
struct Property {
    std::string name;
    Value value;
    bool operator==(const Property&) const = default;
};

/// systemd's "infinity" for a limit.
inline constexpr uint64_t kInfinity = UINT64_MAX;

/// The resource properties systemd sets itself, for cgroup version `v`: memory, swap (v2),
/// CPU weight/shares and quota, cpuset, tasks, IO weight, and the accounting switches that
/// make systemd enable the controllers. What has no property is left to the cgroupfs driver.
sys::Result<std::vector<Property>> resource_properties(const Resources& r, Version v);

/// A cpuset list ("0-3,8") as systemd's AllowedCPUs bitmask: byte i holds CPUs 8i..8i+7.
sys::Result<std::vector<uint8_t>> cpuset_bits(const std::string& list);

/// The D-Bus body of StartTransientUnit(name, "replace", properties, no aux units):
/// signature "ssa(sv)a(sa(sv))".
std::string start_transient_unit_body(const std::string& unit, const std::vector<Property>& props);

/// The D-Bus body of SetUnitProperties(name, runtime=true, properties): signature "sba(sv)".
std::string set_unit_properties_body(const std::string& unit, const std::vector<Property>& props);

}  // namespace mydocker::cgroups::systemd
