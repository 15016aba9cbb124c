#include "cgroups/convert.h"

#include <algorithm>

namespace mydocker::cgroups {

namespace {

std::string dev_num(int64_t n) {
    return n < 0 ? "*" : std::to_string(n);
}

sys::Result<std::string> checked_access(const std::string& access) {
    if (access.empty()) return std::string("rwm");
    for (char c : access)
        if (c != 'r' && c != 'w' && c != 'm')
            return sys::fail_invalid("linux.resources.devices: bad access \"" + access + "\"");
    return access;
}

}  // namespace

uint64_t shares_to_weight(uint64_t shares) {
    if (shares == 0) return 0;
    // The v1 kernel clamps shares to [2, 262144]; clamp first so the result stays in
    // cpu.weight's [1, 10000] (runtimes agree on this mapping: 1024 -> 39).
    shares = std::clamp<uint64_t>(shares, 2, 262144);
    return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t blkio_weight_to_io_weight(uint64_t weight) {
    if (weight == 0) return 0;
    weight = std::clamp<uint64_t>(weight, 10, 1000);
    return 1 + ((weight - 10) * 9999) / 990;
}

sys::Result<std::vector<std::string>> v1_device_rule_lines(const DeviceRule& rule) {
    auto access = MD_TRY(checked_access(rule.access));
    if (rule.major < -1 || rule.minor < -1)
        return sys::fail_invalid("linux.resources.devices: bad device number " +
                                 std::to_string(rule.major) + ":" + std::to_string(rule.minor));
    std::string nums = dev_num(rule.major) + ":" + dev_num(rule.minor) + " " + access;
    switch (rule.type) {
        case 'c':
        case 'b':
            return std::vector<std::string>{std::string(1, rule.type) + " " + nums};
        case 'a': {
            // The kernel reads "a" as "reset to allow/deny everything" and ignores the rest
            // of the line, so only the full wildcard may use it; anything narrower becomes
            // one rule per device type.
            bool full = rule.major < 0 && rule.minor < 0 && access.find('r') != std::string::npos &&
                        access.find('w') != std::string::npos &&
                        access.find('m') != std::string::npos;
            if (full) return std::vector<std::string>{"a"};
            return std::vector<std::string>{"c " + nums, "b " + nums};
        }
        default:
            return sys::fail_invalid(std::string("linux.resources.devices: bad type \"") +
                                     rule.type + "\"");
    }
}

std::vector<KnobWrite> v1_memory_limit_writes(std::optional<int64_t> limit,
                                              std::optional<int64_t> memsw,
                                              std::optional<uint64_t> current_limit) {
    std::vector<KnobWrite> out;
    KnobWrite lim{"memory.limit_in_bytes", limit ? std::to_string(*limit) : ""};
    KnobWrite sw{"memory.memsw.limit_in_bytes", memsw ? std::to_string(*memsw) : ""};
    if (limit && !memsw) return {lim};
    if (!limit && memsw) return {sw};
    if (!limit && !memsw) return {};
    bool memsw_first;
    if (*memsw < 0)
        memsw_first = true;  // raising memsw to unlimited is always accepted
    else if (!current_limit)
        memsw_first = false;  // the limit must come down from unlimited first
    else
        memsw_first = static_cast<uint64_t>(*memsw) >= *current_limit;
    if (memsw_first) return {sw, lim};
    return {lim, sw};
}

sys::Result<std::optional<std::string>> v2_swap_max(std::optional<int64_t> limit,
                                                    std::optional<int64_t> swap) {
    int64_t mem = limit.value_or(0);
    int64_t sw = swap.value_or(0);
    // OCI's swap is memory+swap (v1 memsw); v2's memory.swap.max counts swap alone.
    // An unlimited memory with no swap value means "both unlimited", as on v1.
    if (mem == -1 && sw == 0) return std::optional<std::string>("max");
    if (sw == 0) return std::optional<std::string>();
    if (sw < 0) return std::optional<std::string>("max");
    if (mem <= 0)
        return sys::fail_invalid("linux.resources.memory.swap: a swap limit needs a memory limit");
    if (sw < mem)
        return sys::fail_invalid("linux.resources.memory.swap: " + std::to_string(sw) +
                                 " is below memory.limit " + std::to_string(mem) +
                                 " (swap counts memory+swap)");
    return std::optional<std::string>(std::to_string(sw - mem));
}

std::string v2_cpu_max(std::optional<int64_t> quota, std::optional<uint64_t> period,
                       std::string_view current) {
    std::string cur_quota = "max", cur_period = "100000";
    auto sp = current.find(' ');
    if (!current.empty()) {
        cur_quota = std::string(current.substr(0, sp));
        if (sp != std::string_view::npos) cur_period = std::string(current.substr(sp + 1));
    }
    std::string q = quota ? (*quota < 0 ? "max" : std::to_string(*quota)) : cur_quota;
    std::string p = period && *period > 0 ? std::to_string(*period) : cur_period;
    return q + " " + p;
}

std::string v2_limit(int64_t v) {
    return v < 0 ? "max" : std::to_string(v);
}

}  // namespace mydocker::cgroups
