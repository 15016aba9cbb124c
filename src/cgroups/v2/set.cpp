// ManagerV2::set: linux.resources to cgroup2 knobs and the eBPF device filter. Every value is
// validated and every write planned before the first one, so bad input changes nothing.
#include <cctype>

#include "cgroups/convert.h"
#include "cgroups/util.h"
#include "cgroups/v2/devicefilter.h"
#include "cgroups/v2/manager.h"
#include "sys/files.h"

namespace mydocker::cgroups {

namespace {

std::string dev(int64_t major, int64_t minor) {
    return std::to_string(major) + ":" + std::to_string(minor);
}

// The controller owning a knob: "memory" for "memory.swap.max".
std::string controller_of(const std::string& file) {
    return file.substr(0, file.find('.'));
}

}  // namespace

sys::Result<void> ManagerV2::write_planned(const Planned& w) const {
    const std::string knob = dir() + "/" + w.file;
    if (is_dir(dir()) && !sys::path_exists(knob)) {
        if (w.skip_if_missing) {
            log_->debug("cgroup v2: \"" + knob + "\" does not exist; \"" + w.value +
                        "\" needs no write");
            return {};
        }
        // A knob appears only when its controller is enabled in the parent's subtree_control.
        return sys::fail(sys::Error::not_found("write \"" + w.value + "\" to \"" + knob +
                                               "\": no such file: the \"" + controller_of(w.file) +
                                               "\" controller is not enabled for this cgroup"));
    }
    MD_TRY(write_knob(knob, w.value));
    log_->debug("cgroup v2: " + w.file + " = " + w.value);
    return {};
}

sys::Result<void> ManagerV2::plan_memory(const MemoryResources& m,
                                         std::vector<Planned>& out) const {
    const std::string field = "linux.resources.memory";
    // Knobs cgroup2 does not have: a spec written for v1 still runs, with a warning.
    if (m.kernel) log_->warn(field + ".kernel is deprecated by the kernel and ignored");
    if (m.kernel_tcp) log_->warn(field + ".kernelTCP is not supported on cgroup v2; ignored");
    if (m.swappiness) log_->warn(field + ".swappiness is not supported on cgroup v2; ignored");
    if (m.disable_oom_killer.value_or(false))
        log_->warn(field + ".disableOOMKiller is not supported on cgroup v2; ignored");
    if (m.use_hierarchy)
        log_->debug(field + ".useHierarchy ignored: cgroup v2 is always hierarchical");

    auto swap = MD_TRY(v2_swap_max(m.limit, m.swap));
    if (m.check_before_update.value_or(false) && m.limit && *m.limit > 0) {
        auto usage = read_knob_u64(dir() + "/memory.current");
        if (usage && *usage && **usage > static_cast<uint64_t>(*m.limit))
            return sys::fail_invalid(field + ".limit: " + std::to_string(*m.limit) +
                                     " is below the current usage " + std::to_string(**usage));
    }
    // Without swap accounting the kernel has no memory.swap.max; "no limit" and "no swap"
    // are then what the container gets anyway.
    if (swap) out.push_back({"memory.swap.max", *swap, *swap == "max" || *swap == "0"});
    if (m.limit) out.push_back({"memory.max", v2_limit(*m.limit)});
    if (m.reservation) out.push_back({"memory.low", v2_limit(*m.reservation)});
    return {};
}

sys::Result<void> ManagerV2::plan_cpu(const CpuResources& c, std::vector<Planned>& out) const {
    const std::string field = "linux.resources.cpu";
    if (c.realtime_runtime.value_or(0) != 0 || c.realtime_period.value_or(0) != 0)
        return sys::fail_invalid(field +
                                 ".realtimeRuntime/realtimePeriod: not supported on cgroup v2");
    if (c.shares && *c.shares != 0)
        out.push_back({"cpu.weight", std::to_string(shares_to_weight(*c.shares))});
    if (c.quota || c.period) {
        std::string current;
        if (auto cur = read_knob(dir() + "/cpu.max")) current = *cur;
        out.push_back({"cpu.max", v2_cpu_max(c.quota, c.period, current)});
    }
    if (c.burst) out.push_back({"cpu.max.burst", std::to_string(*c.burst)});
    if (c.idle) out.push_back({"cpu.idle", std::to_string(*c.idle)});
    if (!c.cpus.empty()) out.push_back({"cpuset.cpus", c.cpus});
    if (!c.mems.empty()) out.push_back({"cpuset.mems", c.mems});
    return {};
}

sys::Result<void> ManagerV2::plan_io(const BlockIoResources& b, std::vector<Planned>& out) const {
    // io.weight belongs to the iocost controller; kernels with only BFQ expose io.bfq.weight,
    // which keeps blkio's 1..1000 scale.
    bool bfq =
        !sys::path_exists(dir() + "/io.weight") && sys::path_exists(dir() + "/io.bfq.weight");
    const std::string weight_file = bfq ? "io.bfq.weight" : "io.weight";
    auto weight = [&](uint16_t w) {
        return std::to_string(bfq ? w : blkio_weight_to_io_weight(w));
    };
    if (b.weight) out.push_back({weight_file, weight(*b.weight)});
    if (b.leaf_weight)
        log_->warn("linux.resources.blockIO.leafWeight is not supported on cgroup v2; ignored");
    for (const auto& d : b.weight_device) {
        if (d.weight) out.push_back({weight_file, dev(d.major, d.minor) + " " + weight(*d.weight)});
        if (d.leaf_weight)
            log_->warn(
                "linux.resources.blockIO.weightDevice.leafWeight is not supported on cgroup v2; "
                "ignored");
    }
    // One device limit per write: io.max parses a single "maj:min key=value" line.
    auto throttle = [&](const std::vector<ThrottleDevice>& list, const char* key) {
        for (const auto& t : list)
            out.push_back({"io.max", dev(t.major, t.minor) + " " + key + "=" +
                                         (t.rate == 0 ? "max" : std::to_string(t.rate))});
    };
    throttle(b.throttle_read_bps_device, "rbps");
    throttle(b.throttle_write_bps_device, "wbps");
    throttle(b.throttle_read_iops_device, "riops");
    throttle(b.throttle_write_iops_device, "wiops");
    return {};
}

sys::Result<void> ManagerV2::plan_unified(const std::map<std::string, std::string>& unified,
                                          std::vector<Planned>& out) const {
    for (const auto& [key, value] : unified) {
        // A key names a file in this cgroup, never a path that leaves it.
        if (key.empty() || key.find('/') != std::string::npos ||
            key.find("..") != std::string::npos || key.front() == '.')
            return sys::fail_invalid("linux.resources.unified: bad key \"" + key + "\"");
        out.push_back({key, value});
    }
    return {};
}

sys::Result<void> ManagerV2::set_devices(const std::vector<DeviceRule>& rules) const {
    if (rules.empty()) return {};
    auto prog = MD_TRY(build_device_filter(rules));
    // A fake cgroupfs (tests) cannot hold a BPF program; the builder has run and validated.
    if (!is_cgroup2_fs(dir())) {
        log_->debug("cgroup v2: \"" + dir() + "\" is not on cgroup2; device filter not attached");
        return {};
    }
    MD_TRY(attach_device_filter(dir(), prog));
    log_->debug("cgroup v2: device filter of " + std::to_string(prog.size()) + " insns attached");
    return {};
}

sys::Result<void> ManagerV2::set(const Resources& r) {
    MD_TRY(check_path());
    std::vector<Planned> plan;
    if (r.memory) MD_TRY(plan_memory(*r.memory, plan));
    if (r.cpu) MD_TRY(plan_cpu(*r.cpu, plan));
    if (r.pids)
        plan.push_back({"pids.max", r.pids->limit > 0 ? std::to_string(r.pids->limit) : "max"});
    if (r.block_io) MD_TRY(plan_io(*r.block_io, plan));
    for (const auto& h : r.hugepage_limits) {
        bool ok = !h.page_size.empty();
        for (char c : h.page_size) ok = ok && std::isalnum(static_cast<unsigned char>(c));
        if (!ok)
            return sys::fail_invalid("linux.resources.hugepageLimits: bad page size \"" +
                                     h.page_size + "\"");
        plan.push_back({"hugetlb." + h.page_size + ".max", std::to_string(h.limit)});
    }
    // Unified entries go last: they are the user's explicit override of the fields above.
    MD_TRY(plan_unified(r.unified, plan));
    // Rules are checked (the program built) before any knob changes.
    if (!r.devices.empty()) MD_TRY(build_device_filter(r.devices));
    for (const auto& w : plan) MD_TRY_CTX(write_planned(w), "set cgroup \"" + cfg_.path + "\"");
    MD_TRY_CTX(set_devices(r.devices), "set cgroup \"" + cfg_.path + "\"");
    return {};
}

}  // namespace mydocker::cgroups
