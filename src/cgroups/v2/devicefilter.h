// The cgroup v2 device controller: an eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE) built from
// linux.resources.devices and attached to the container's cgroup directory.
#pragma once

#include <linux/bpf.h>

#include <string>
#include <vector>

#include "cgroups/resources.h"
#include "sys/error.h"

namespace mydocker::cgroups {

/// The program enforcing `rules` as the spec reads them: the last rule that matches a
/// request decides; a request no rule matches is allowed (ancestors' programs still apply,
/// like a new v1 cgroup inheriting its parent's list). An allow rule matches when it grants
/// every requested access, a deny rule when it refuses any of them (the v1 kernel's reading).
sys::Result<std::vector<bpf_insn>> build_device_filter(const std::vector<DeviceRule>& rules);

/// Load `prog` with bpf(2), attach it to the cgroup directory `dir` (BPF_F_ALLOW_MULTI), then
/// detach every other program attached there directly, so an update replaces the old rules.
sys::Result<void> attach_device_filter(const std::string& dir, const std::vector<bpf_insn>& prog);

}  // namespace mydocker::cgroups
