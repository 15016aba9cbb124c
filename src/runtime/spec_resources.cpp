// linux.resources <-> cgroups::Resources: parsed for create and `update -r`, serialized for
// `update` and the state file. Both directions use the runtime-spec field names.
#include <string_view>

#include "runtime/spec.h"
#include "runtime/spec_json.h"

namespace mydocker::runtime {

using spec_detail::Json;

namespace spec_detail {

namespace {

// A memory value: bytes, or -1 for "unlimited" (the spec's only meaningful negative).
sys::Result<void> read_memory_value(const Json& obj, std::string_view path, std::string_view key,
                                    std::optional<int64_t>& out) {
    return read_int<int64_t>(obj, path, key, out, -1);
}

// A device number in a cgroup rule: -1 (what runtimes write for '*') or a real number.
sys::Result<void> read_device_number(const Json& obj, std::string_view path, std::string_view key,
                                     int64_t& out) {
    return read_int<int64_t>(obj, path, key, out, -1);
}

sys::Result<cgroups::DeviceRule> parse_device_rule(const Json& j, std::string_view path) {
    MD_TRY(expect_object(j, path));
    cgroups::DeviceRule r;
    const Json* allow = MD_TRY(require(j, path, "allow"));
    r.allow = MD_TRY(to_bool(*allow, key_path(path, "allow")));
    std::string type = "a";
    MD_TRY(read(j, path, "type", type));
    if (type != "a" && type != "b" && type != "c")
        return sys::fail(invalid_at(key_path(path, "type"), "must be \"a\", \"b\" or \"c\""));
    r.type = type[0];
    MD_TRY(read_device_number(j, path, "major", r.major));
    MD_TRY(read_device_number(j, path, "minor", r.minor));
    MD_TRY(read(j, path, "access", r.access));
    // An empty access string would mean "everything" to some drivers and "nothing" to
    // others; insist on an explicit subset.
    if (r.access.empty() || r.access.find_first_not_of("rwm") != std::string::npos)
        return sys::fail(
            invalid_at(key_path(path, "access"), "must be a non-empty subset of \"rwm\""));
    return r;
}

sys::Result<cgroups::MemoryResources> parse_memory(const Json& j, std::string_view path) {
    MD_TRY(expect_object(j, path));
    cgroups::MemoryResources m;
    MD_TRY(read_memory_value(j, path, "limit", m.limit));
    MD_TRY(read_memory_value(j, path, "reservation", m.reservation));
    MD_TRY(read_memory_value(j, path, "swap", m.swap));
    MD_TRY(read_memory_value(j, path, "kernel", m.kernel));
    MD_TRY(read_memory_value(j, path, "kernelTCP", m.kernel_tcp));
    MD_TRY(read_int<uint64_t>(j, path, "swappiness", m.swappiness, 0, 100));
    MD_TRY(read(j, path, "disableOOMKiller", m.disable_oom_killer));
    MD_TRY(read(j, path, "useHierarchy", m.use_hierarchy));
    MD_TRY(read(j, path, "checkBeforeUpdate", m.check_before_update));
    return m;
}

// The kernel's cpuset list syntax as runtimes write it: "0-2,4,7-8". Checked here so a
// typo fails at validation, not halfway through cgroup setup.
bool valid_cpuset_list(std::string_view s) {
    auto number = [](std::string_view n) {
        return !n.empty() && n.size() <= 9 &&
               n.find_first_not_of("0123456789") == std::string_view::npos;
    };
    if (s.empty()) return true;
    while (true) {
        auto comma = s.find(',');
        auto item = s.substr(0, comma);
        auto dash = item.find('-');
        if (dash == std::string_view::npos) {
            if (!number(item)) return false;
        } else {
            auto lo = item.substr(0, dash), hi = item.substr(dash + 1);
            if (!number(lo) || !number(hi) ||
                std::stoul(std::string(lo)) > std::stoul(std::string(hi)))
                return false;
        }
        if (comma == std::string_view::npos) return true;
        s.remove_prefix(comma + 1);
    }
}

sys::Result<cgroups::CpuResources> parse_cpu(const Json& j, std::string_view path) {
    MD_TRY(expect_object(j, path));
    cgroups::CpuResources c;
    MD_TRY(read_int(j, path, "shares", c.shares));
    MD_TRY(read_int(j, path, "quota", c.quota));
    MD_TRY(read_int(j, path, "burst", c.burst));
    MD_TRY(read_int(j, path, "period", c.period));
    MD_TRY(read_int(j, path, "realtimeRuntime", c.realtime_runtime));
    MD_TRY(read_int(j, path, "realtimePeriod", c.realtime_period));
    MD_TRY(read(j, path, "cpus", c.cpus));
    MD_TRY(read(j, path, "mems", c.mems));
    MD_TRY(read_int(j, path, "idle", c.idle));
    if (!valid_cpuset_list(c.cpus))
        return sys::fail(invalid_at(key_path(path, "cpus"), "invalid cpu list \"" + c.cpus + "\""));
    if (!valid_cpuset_list(c.mems))
        return sys::fail(
            invalid_at(key_path(path, "mems"), "invalid memory node list \"" + c.mems + "\""));
    return c;
}

sys::Result<cgroups::PidsResources> parse_pids(const Json& j, std::string_view path) {
    MD_TRY(expect_object(j, path));
    cgroups::PidsResources p;
    // -1 means "max"; update also sends 0 for "max".
    p.limit = MD_TRY(require_int<int64_t>(j, path, "limit", -1));
    return p;
}

sys::Result<void> read_blkio_weight(const Json& obj, std::string_view path, std::string_view key,
                                    std::optional<uint16_t>& out) {
    // The spec's range; the kernel would refuse anything else with a bare EINVAL.
    return read_int<uint16_t>(obj, path, key, out, 10, 1000);
}

sys::Result<cgroups::WeightDevice> parse_weight_device(const Json& j, std::string_view path) {
    MD_TRY(expect_object(j, path));
    cgroups::WeightDevice d;
    d.major = MD_TRY(require_int<int64_t>(j, path, "major", 0));
    d.minor = MD_TRY(require_int<int64_t>(j, path, "minor", 0));
    MD_TRY(read_blkio_weight(j, path, "weight", d.weight));
    MD_TRY(read_blkio_weight(j, path, "leafWeight", d.leaf_weight));
    return d;
}

sys::Result<cgroups::ThrottleDevice> parse_throttle_device(const Json& j, std::string_view path) {
    MD_TRY(expect_object(j, path));
    cgroups::ThrottleDevice d;
    d.major = MD_TRY(require_int<int64_t>(j, path, "major", 0));
    d.minor = MD_TRY(require_int<int64_t>(j, path, "minor", 0));
    d.rate = MD_TRY(require_int<uint64_t>(j, path, "rate"));
    return d;
}

template <typename T, typename F>
sys::Result<void> read_list(const Json& obj, std::string_view path, std::string_view key,
                            std::vector<T>& out, F parse_one) {
    const Json* v = member(obj, key);
    if (!v) return {};
    auto list_path = key_path(path, key);
    MD_TRY(expect_array(*v, list_path));
    for (size_t i = 0; i < v->size(); ++i)
        out.push_back(MD_TRY(parse_one((*v)[i], index_path(list_path, i))));
    return {};
}

sys::Result<cgroups::BlockIoResources> parse_block_io(const Json& j, std::string_view path) {
    MD_TRY(expect_object(j, path));
    cgroups::BlockIoResources b;
    MD_TRY(read_blkio_weight(j, path, "weight", b.weight));
    MD_TRY(read_blkio_weight(j, path, "leafWeight", b.leaf_weight));
    MD_TRY(read_list(j, path, "weightDevice", b.weight_device, parse_weight_device));
    MD_TRY(read_list(j, path, "throttleReadBpsDevice", b.throttle_read_bps_device,
                     parse_throttle_device));
    MD_TRY(read_list(j, path, "throttleWriteBpsDevice", b.throttle_write_bps_device,
                     parse_throttle_device));
    MD_TRY(read_list(j, path, "throttleReadIOPSDevice", b.throttle_read_iops_device,
                     parse_throttle_device));
    MD_TRY(read_list(j, path, "throttleWriteIOPSDevice", b.throttle_write_iops_device,
                     parse_throttle_device));
    return b;
}

sys::Result<cgroups::HugepageLimit> parse_hugepage_limit(const Json& j, std::string_view path) {
    MD_TRY(expect_object(j, path));
    cgroups::HugepageLimit h;
    const Json* size = MD_TRY(require(j, path, "pageSize"));
    h.page_size = MD_TRY(to_string(*size, key_path(path, "pageSize")));
    if (h.page_size.empty())
        return sys::fail(invalid_at(key_path(path, "pageSize"), "must not be empty"));
    h.limit = MD_TRY(require_int<uint64_t>(j, path, "limit"));
    return h;
}

}  // namespace

sys::Result<cgroups::Resources> parse_resources_at(const Json& j, std::string_view path) {
    MD_TRY(expect_object(j, path));
    cgroups::Resources r;
    MD_TRY(read_list(j, path, "devices", r.devices, parse_device_rule));
    if (const Json* v = member(j, "memory"))
        r.memory = MD_TRY(parse_memory(*v, key_path(path, "memory")));
    if (const Json* v = member(j, "cpu")) r.cpu = MD_TRY(parse_cpu(*v, key_path(path, "cpu")));
    if (const Json* v = member(j, "pids")) r.pids = MD_TRY(parse_pids(*v, key_path(path, "pids")));
    if (const Json* v = member(j, "blockIO"))
        r.block_io = MD_TRY(parse_block_io(*v, key_path(path, "blockIO")));
    MD_TRY(read_list(j, path, "hugepageLimits", r.hugepage_limits, parse_hugepage_limit));
    MD_TRY(read(j, path, "unified", r.unified));
    // "network" (classid, priorities) and "rdma" are accepted and ignored: neither driver
    // implements them, and refusing would break configs that merely carry them.
    return r;
}

}  // namespace spec_detail

sys::Result<cgroups::Resources> parse_resources(const std::string& json_text) {
    auto doc = MD_TRY(spec_detail::parse_document(json_text, "resources"));
    // `update -r` files hold the bare object, so paths start at its members ("memory.limit").
    if (!doc.is_object()) return sys::fail_invalid("resources: must be a JSON object");
    return spec_detail::parse_resources_at(doc, "");
}

namespace {

template <typename T>
void put(Json& obj, const char* key, const std::optional<T>& v) {
    if (v) obj[key] = *v;
}

Json throttle_list(const std::vector<cgroups::ThrottleDevice>& list) {
    Json out = Json::array();
    for (const auto& d : list)
        out.push_back({{"major", d.major}, {"minor", d.minor}, {"rate", d.rate}});
    return out;
}

}  // namespace

std::string resources_to_json(const cgroups::Resources& r) {
    Json out = Json::object();
    if (!r.devices.empty()) {
        Json devices = Json::array();
        for (const auto& d : r.devices) {
            Json rule = {
                {"allow", d.allow}, {"type", std::string(1, d.type)}, {"access", d.access}};
            // The spec spells the '*' wildcard as an absent major/minor.
            if (d.major != -1) rule["major"] = d.major;
            if (d.minor != -1) rule["minor"] = d.minor;
            devices.push_back(std::move(rule));
        }
        out["devices"] = std::move(devices);
    }
    if (r.memory) {
        const auto& m = *r.memory;
        Json mem = Json::object();
        put(mem, "limit", m.limit);
        put(mem, "reservation", m.reservation);
        put(mem, "swap", m.swap);
        put(mem, "kernel", m.kernel);
        put(mem, "kernelTCP", m.kernel_tcp);
        put(mem, "swappiness", m.swappiness);
        put(mem, "disableOOMKiller", m.disable_oom_killer);
        put(mem, "useHierarchy", m.use_hierarchy);
        put(mem, "checkBeforeUpdate", m.check_before_update);
        out["memory"] = std::move(mem);
    }
    if (r.cpu) {
        const auto& c = *r.cpu;
        Json cpu = Json::object();
        put(cpu, "shares", c.shares);
        put(cpu, "quota", c.quota);
        put(cpu, "burst", c.burst);
        put(cpu, "period", c.period);
        put(cpu, "realtimeRuntime", c.realtime_runtime);
        put(cpu, "realtimePeriod", c.realtime_period);
        if (!c.cpus.empty()) cpu["cpus"] = c.cpus;
        if (!c.mems.empty()) cpu["mems"] = c.mems;
        put(cpu, "idle", c.idle);
        out["cpu"] = std::move(cpu);
    }
    if (r.pids) out["pids"] = {{"limit", r.pids->limit}};
    if (r.block_io) {
        const auto& b = *r.block_io;
        Json bio = Json::object();
        put(bio, "weight", b.weight);
        put(bio, "leafWeight", b.leaf_weight);
        if (!b.weight_device.empty()) {
            Json list = Json::array();
            for (const auto& d : b.weight_device) {
                Json e = {{"major", d.major}, {"minor", d.minor}};
                put(e, "weight", d.weight);
                put(e, "leafWeight", d.leaf_weight);
                list.push_back(std::move(e));
            }
            bio["weightDevice"] = std::move(list);
        }
        if (!b.throttle_read_bps_device.empty())
            bio["throttleReadBpsDevice"] = throttle_list(b.throttle_read_bps_device);
        if (!b.throttle_write_bps_device.empty())
            bio["throttleWriteBpsDevice"] = throttle_list(b.throttle_write_bps_device);
        if (!b.throttle_read_iops_device.empty())
            bio["throttleReadIOPSDevice"] = throttle_list(b.throttle_read_iops_device);
        if (!b.throttle_write_iops_device.empty())
            bio["throttleWriteIOPSDevice"] = throttle_list(b.throttle_write_iops_device);
        out["blockIO"] = std::move(bio);
    }
    if (!r.hugepage_limits.empty()) {
        Json list = Json::array();
        for (const auto& h : r.hugepage_limits)
            list.push_back({{"pageSize", h.page_size}, {"limit", h.limit}});
        out["hugepageLimits"] = std::move(list);
    }
    if (!r.unified.empty()) out["unified"] = r.unified;
    // replace: a unified value read from elsewhere may hold invalid UTF-8, and dump() would
    // throw on it.
    return out.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace mydocker::runtime
