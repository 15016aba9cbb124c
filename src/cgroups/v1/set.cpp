// ManagerV1::set: linux.resources to v1 knobs. Every value is validated and every write
// planned before the first one, so bad input leaves the cgroup untouched.
#include <cctype>

#include "cgroups/convert.h"
#include "cgroups/util.h"
#include "cgroups/v1/manager.h"
#include "sys/files.h"

namespace mydocker::cgroups {

namespace {

// A knob's current number; empty (fake roots), "-1" or unparsable reads as unlimited.
std::optional<uint64_t> current_or_unlimited(const std::string& knob) {
    auto v = read_knob_u64(knob);
    return v ? *v : std::nullopt;
}

std::string dev(int64_t major, int64_t minor) {
    return std::to_string(major) + ":" + std::to_string(minor);
}

sys::Result<void> check_page_size(const std::string& size) {
    bool ok = !size.empty();
    for (char c : size) ok = ok && std::isalnum(static_cast<unsigned char>(c));
    if (!ok)
        return sys::fail_invalid("linux.resources.hugepageLimits: bad page size \"" + size + "\"");
    return {};
}

}  // namespace

sys::Result<void> ManagerV1::plan_memory(const MemoryResources& m,
                                         std::vector<Planned>& out) const {
    const std::string field = "linux.resources.memory";
    if (m.kernel) log_->warn(field + ".kernel is deprecated by the kernel and ignored");
    if (m.use_hierarchy)
        log_->debug(field + ".useHierarchy ignored: the kernel is always hierarchical");
    bool any = m.limit || m.reservation || m.swap || m.kernel_tcp || m.swappiness ||
               m.disable_oom_killer.value_or(false);
    if (!any) return {};
    MD_TRY(require("memory", field));
    const std::string dir = controller_path("memory");
    auto add = [&](std::string file, std::string value) {
        out.push_back({"memory", std::move(file), std::move(value)});
    };

    std::optional<int64_t> limit = m.limit, swap = m.swap;
    if (swap && *swap >= 0 && (!limit || *limit < 0 || *swap < *limit)) {
        // memsw counts memory+swap: it can never be below the memory limit.
        if (!limit || *limit < 0)
            return sys::fail_invalid(field + ".swap: a swap limit needs a memory limit");
        return sys::fail_invalid(field + ".swap: " + std::to_string(*swap) + " is below " + field +
                                 ".limit " + std::to_string(*limit));
    }
    if (swap && !sys::path_exists(dir + "/memory.memsw.limit_in_bytes")) {
        // The kernel has no swap accounting (swapaccount=0 or no swap config).
        if (*swap > 0)
            log_->warn(field + ".swap ignored: \"" + dir +
                       "/memory.memsw.limit_in_bytes\" does not exist (no swap accounting)");
        swap.reset();
    }
    if (m.check_before_update.value_or(false) && limit && *limit > 0) {
        auto usage = current_or_unlimited(dir + "/memory.usage_in_bytes");
        if (usage && *usage > static_cast<uint64_t>(*limit))
            return sys::fail_invalid(field + ".limit: " + std::to_string(*limit) +
                                     " is below the current usage " + std::to_string(*usage));
    }
    std::optional<uint64_t> current;
    if (limit && swap) current = current_or_unlimited(dir + "/memory.limit_in_bytes");
    for (auto& w : v1_memory_limit_writes(limit, swap, current))
        add(std::move(w.file), std::move(w.value));
    if (m.reservation) add("memory.soft_limit_in_bytes", std::to_string(*m.reservation));
    if (m.kernel_tcp) add("memory.kmem.tcp.limit_in_bytes", std::to_string(*m.kernel_tcp));
    if (m.swappiness) {
        if (*m.swappiness > 100)
            return sys::fail_invalid(field + ".swappiness: " + std::to_string(*m.swappiness) +
                                     " is not in 0..100");
        add("memory.swappiness", std::to_string(*m.swappiness));
    }
    if (m.disable_oom_killer.value_or(false)) add("memory.oom_control", "1");
    return {};
}

sys::Result<void> ManagerV1::plan_cpu(const CpuResources& c, std::vector<Planned>& out) const {
    const std::string field = "linux.resources.cpu";
    bool cpu = c.shares || c.quota || c.period || c.burst || c.realtime_runtime ||
               c.realtime_period || c.idle;
    if (cpu) MD_TRY(require("cpu", field));
    if (!c.cpus.empty() || !c.mems.empty()) MD_TRY(require("cpuset", field + ".cpus"));
    auto add = [&](const char* ctl, std::string file, std::string value) {
        out.push_back({ctl, std::move(file), std::move(value)});
    };
    if (c.shares) add("cpu", "cpu.shares", std::to_string(*c.shares));
    // The period goes first so the quota is checked against the new period.
    if (c.period) add("cpu", "cpu.cfs_period_us", std::to_string(*c.period));
    if (c.quota && c.burst) {
        // The kernel rejects a burst above the quota at each write: the burst goes first
        // when it fits the current quota, else the (larger) new quota goes first.
        auto cur = current_or_unlimited(controller_path("cpu") + "/cpu.cfs_quota_us");
        bool burst_first = !cur || *c.burst <= *cur;
        if (burst_first) add("cpu", "cpu.cfs_burst_us", std::to_string(*c.burst));
        add("cpu", "cpu.cfs_quota_us", std::to_string(*c.quota));
        if (!burst_first) add("cpu", "cpu.cfs_burst_us", std::to_string(*c.burst));
    } else if (c.quota) {
        add("cpu", "cpu.cfs_quota_us", std::to_string(*c.quota));
    } else if (c.burst) {
        add("cpu", "cpu.cfs_burst_us", std::to_string(*c.burst));
    }
    // rt_runtime may not exceed rt_period: the period first.
    if (c.realtime_period) add("cpu", "cpu.rt_period_us", std::to_string(*c.realtime_period));
    if (c.realtime_runtime) add("cpu", "cpu.rt_runtime_us", std::to_string(*c.realtime_runtime));
    if (c.idle) add("cpu", "cpu.idle", std::to_string(*c.idle));
    if (!c.cpus.empty()) add("cpuset", "cpuset.cpus", c.cpus);
    if (!c.mems.empty()) add("cpuset", "cpuset.mems", c.mems);
    return {};
}

sys::Result<void> ManagerV1::plan_blkio(const BlockIoResources& b,
                                        std::vector<Planned>& out) const {
    bool any = b.weight || b.leaf_weight || !b.weight_device.empty() ||
               !b.throttle_read_bps_device.empty() || !b.throttle_write_bps_device.empty() ||
               !b.throttle_read_iops_device.empty() || !b.throttle_write_iops_device.empty();
    if (!any) return {};
    MD_TRY(require("blkio", "linux.resources.blockIO"));
    const std::string dir = controller_path("blkio");
    // CFQ's blkio.weight is gone from kernels with BFQ only; BFQ takes the same 10..1000 range.
    bool cfq =
        sys::path_exists(dir + "/blkio.weight") || !sys::path_exists(dir + "/blkio.bfq.weight");
    std::string weight = cfq ? "blkio.weight" : "blkio.bfq.weight";
    auto add = [&](std::string file, std::string value) {
        out.push_back({"blkio", std::move(file), std::move(value)});
    };
    if (b.weight) add(weight, std::to_string(*b.weight));
    if (b.leaf_weight) add("blkio.leaf_weight", std::to_string(*b.leaf_weight));
    for (const auto& d : b.weight_device) {
        if (d.weight)
            add(weight + "_device", dev(d.major, d.minor) + " " + std::to_string(*d.weight));
        if (d.leaf_weight)
            add("blkio.leaf_weight_device",
                dev(d.major, d.minor) + " " + std::to_string(*d.leaf_weight));
    }
    auto throttle = [&](const std::vector<ThrottleDevice>& list, const char* file) {
        for (const auto& t : list) add(file, dev(t.major, t.minor) + " " + std::to_string(t.rate));
    };
    throttle(b.throttle_read_bps_device, "blkio.throttle.read_bps_device");
    throttle(b.throttle_write_bps_device, "blkio.throttle.write_bps_device");
    throttle(b.throttle_read_iops_device, "blkio.throttle.read_iops_device");
    throttle(b.throttle_write_iops_device, "blkio.throttle.write_iops_device");
    return {};
}

sys::Result<void> ManagerV1::plan_devices(const std::vector<DeviceRule>& rules,
                                          std::vector<Planned>& out) const {
    if (rules.empty()) return {};
    MD_TRY(require("devices", "linux.resources.devices"));
    // In order: the usual list starts with "deny all" (empties the allow list) and then
    // allows devices one by one; later rules refine earlier ones as in the spec.
    for (const auto& r : rules) {
        auto lines = MD_TRY(v1_device_rule_lines(r));
        for (auto& l : lines)
            out.push_back({"devices", r.allow ? "devices.allow" : "devices.deny", std::move(l)});
    }
    return {};
}

sys::Result<void> ManagerV1::plan_hugetlb(const std::vector<HugepageLimit>& limits,
                                          std::vector<Planned>& out) const {
    if (limits.empty()) return {};
    MD_TRY(require("hugetlb", "linux.resources.hugepageLimits"));
    for (const auto& l : limits) {
        MD_TRY(check_page_size(l.page_size));
        out.push_back(
            {"hugetlb", "hugetlb." + l.page_size + ".limit_in_bytes", std::to_string(l.limit)});
    }
    return {};
}

sys::Result<void> ManagerV1::set(const Resources& r) {
    if (!r.unified.empty()) return sys::fail_invalid("linux.resources.unified: requires cgroup v2");
    MD_TRY(check_path());
    std::vector<Planned> plan;
    if (r.memory) MD_TRY(plan_memory(*r.memory, plan));
    if (r.cpu) MD_TRY(plan_cpu(*r.cpu, plan));
    if (r.pids) {
        MD_TRY(require("pids", "linux.resources.pids"));
        plan.push_back(
            {"pids", "pids.max", r.pids->limit > 0 ? std::to_string(r.pids->limit) : "max"});
    }
    if (r.block_io) MD_TRY(plan_blkio(*r.block_io, plan));
    MD_TRY(plan_devices(r.devices, plan));
    MD_TRY(plan_hugetlb(r.hugepage_limits, plan));
    for (size_t i = 0; i < plan.size();) {
        // A run of writes to one knob (the device rules) goes through one open fd.
        size_t j = i + 1;
        while (j < plan.size() && plan[j].controller == plan[i].controller && plan[j].file == plan[i].file) ++j;
        std::vector<std::string_view> values;
        for (size_t k = i; k < j; ++k) values.push_back(plan[k].value);
        MD_TRY_CTX(write_knob_values(controller_path(plan[i].controller) + "/" + plan[i].file, values),
                   "set cgroup \"" + cfg_.path + "\"");
        if (log_->enabled(sys::LogLevel::debug))
            for (size_t k = i; k < j; ++k)
                log_->debug("cgroup v1: " + plan[k].controller + "/" + plan[k].file + " = " + plan[k].value);
        i = j;
    }
    return {};
}

}  // namespace mydocker::cgroups
