// cgroupsPath, slices and unit properties, following runc's libcontainer/cgroups/systemd
// (common.go ExpandSlice, getUnitName; v1.go/v2.go genV*ResourcesProperties).
#include "cgroups/systemd/unit.h"

#include <charconv>

#include "cgroups/convert.h"
#include "cgroups/systemd/dbus.h"

namespace mydocker::cgroups::systemd {
namespace {

sys::Error bad_path(const std::string& p, const std::string& why) {
    return sys::Error::invalid("linux.cgroupsPath \"" + p + "\": " + why);
}

// A unit name's characters (systemd's unit_name_is_valid: [A-Za-z0-9:_.\\-@]).
bool valid_unit_chars(const std::string& s) {
    for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == ':' || c == '_' || c == '.' || c == '-' || c == '\\' || c == '@';
        if (!ok) return false;
    }
    return true;
}

}  // namespace

sys::Result<std::string> expand_slice(const std::string& name) {
    const std::string suffix = ".slice";
    if (name.size() < suffix.size() || !name.ends_with(suffix) ||
        name.find('/') != std::string::npos)
        return sys::fail_invalid("invalid slice name \"" + name + "\"");
    if (name == "-.slice") return std::string("/");
    std::string base = name.substr(0, name.size() - suffix.size());
    if (base.empty() || base.front() == '-' || base.back() == '-' ||
        base.find("--") != std::string::npos)
        return sys::fail_invalid("invalid slice name \"" + name + "\"");
    // "a-b-c.slice" lives in "a-b.slice", which lives in "a.slice".
    std::string path;
    size_t start = 0;
    for (;;) {
        size_t dash = base.find('-', start);
        std::string part = base.substr(0, dash);
        path += "/" + part + suffix;
        if (dash == std::string::npos) break;
        start = dash + 1;
    }
    return path;
}

sys::Result<UnitPath> parse_cgroups_path(const std::string& cgroups_path) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (;;) {
        size_t colon = cgroups_path.find(':', start);
        parts.push_back(cgroups_path.substr(start, colon - start));
        if (colon == std::string::npos) break;
        start = colon + 1;
    }
    if (parts.size() != 3)
        return sys::fail(
            bad_path(cgroups_path, "expected \"slice:prefix:name\" for the systemd cgroup driver"));
    UnitPath u;
    u.slice = parts[0].empty() ? "system.slice" : parts[0];
    const std::string& prefix = parts[1];
    const std::string& name = parts[2];
    if (name.empty())
        return sys::fail(bad_path(cgroups_path, "the name (after the second ':') is empty"));
    auto slice_path_r = expand_slice(u.slice);
    if (!slice_path_r) return sys::fail(bad_path(cgroups_path, slice_path_r.error().context()));
    std::string slice_path = *slice_path_r;
    if (name.ends_with(".slice")) {
        // A slice of its own: its place comes from its name, which must sit under `slice`.
        u.unit = name;
        auto own = expand_slice(name);
        if (!own) return sys::fail(bad_path(cgroups_path, own.error().context()));
        u.path = *own;
        size_t last = u.path.rfind('/');
        if (parts[0].empty()) {
            // The parent is the one the name implies ("a-b.slice" is in "a.slice").
            u.slice = last == 0 ? "-.slice"
                                : u.path.substr(u.path.rfind('/', last - 1) + 1,
                                                last - u.path.rfind('/', last - 1) - 1);
        } else if (u.path.substr(0, last) != (slice_path == "/" ? "" : slice_path)) {
            return sys::fail(bad_path(
                cgroups_path, "slice \"" + name + "\" is not a child of \"" + u.slice + "\""));
        }
    } else {
        u.unit = (prefix.empty() ? "" : prefix + "-") + name + ".scope";
        u.path = (slice_path == "/" ? "" : slice_path) + "/" + u.unit;
    }
    if (!valid_unit_chars(u.unit) || u.unit.size() > 255)
        return sys::fail(bad_path(cgroups_path, "\"" + u.unit + "\" is not a valid unit name"));
    return u;
}

sys::Result<std::vector<uint8_t>> cpuset_bits(const std::string& list) {
    std::vector<uint8_t> bits;
    auto number = [&](std::string_view s) -> sys::Result<unsigned> {
        unsigned v = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc{} || p != s.data() + s.size() || s.empty() || v > 8191)
            return sys::fail_invalid("invalid cpuset list \"" + list + "\"");
        return v;
    };
    if (list.ends_with(',')) return sys::fail_invalid("invalid cpuset list \"" + list + "\"");
    std::string_view rest = list;
    while (!rest.empty()) {
        size_t comma = rest.find(',');
        std::string_view item = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        size_t dash = item.find('-');
        unsigned lo = MD_TRY(number(item.substr(0, dash)));
        unsigned hi = dash == std::string_view::npos ? lo : MD_TRY(number(item.substr(dash + 1)));
        if (hi < lo) return sys::fail_invalid("invalid cpuset list \"" + list + "\"");
        for (unsigned c = lo; c <= hi; ++c) {
            if (bits.size() <= c / 8) bits.resize(c / 8 + 1, 0);
            bits[c / 8] |= static_cast<uint8_t>(1u << (c % 8));
        }
    }
    return bits;
}

sys::Result<std::vector<Property>> resource_properties(const Resources& r, Version v) {
    std::vector<Property> p;
    const bool v2 = v == Version::v2;
    // Accounting on: systemd then enables the controllers down to the unit (on v2 the
    // slice's cgroup.subtree_control), so the cgroupfs driver finds every knob in the scope.
    p.push_back({"CPUAccounting", true});
    p.push_back({"MemoryAccounting", true});
    p.push_back({"TasksAccounting", true});
    p.push_back({v2 ? "IOAccounting" : "BlockIOAccounting", true});
    auto limit = [](int64_t x) -> uint64_t { return x < 0 ? kInfinity : static_cast<uint64_t>(x); };
    if (r.memory) {
        if (r.memory->limit && *r.memory->limit != 0)
            p.push_back({v2 ? "MemoryMax" : "MemoryLimit", limit(*r.memory->limit)});
        if (v2 && r.memory->reservation && *r.memory->reservation > 0)
            p.push_back({"MemoryLow", static_cast<uint64_t>(*r.memory->reservation)});
        if (v2) {
            auto swap = MD_TRY(v2_swap_max(r.memory->limit, r.memory->swap));
            if (swap)
                p.push_back({"MemorySwapMax", *swap == "max" ? kInfinity : std::stoull(*swap)});
        }
    }
    if (r.cpu) {
        const CpuResources& c = *r.cpu;
        if (c.shares && *c.shares) {
            if (v2)
                p.push_back({"CPUWeight", shares_to_weight(*c.shares)});
            else
                p.push_back({"CPUShares", *c.shares});
        }
        // systemd takes a quota per second, in steps of 10 ms (runc rounds up the same way).
        if ((c.quota && *c.quota != 0) || (c.period && *c.period != 0)) {
            uint64_t period = c.period && *c.period ? *c.period : 100000;
            if (c.period && *c.period) p.push_back({"CPUQuotaPeriodUSec", period});
            if (c.quota && *c.quota > 0) {
                uint64_t per_sec = static_cast<uint64_t>(*c.quota) * 1000000 / period;
                if (per_sec % 10000) per_sec = (per_sec / 10000 + 1) * 10000;
                p.push_back({"CPUQuotaPerSecUSec", per_sec});
            } else if (c.quota && *c.quota < 0) {
                p.push_back({"CPUQuotaPerSecUSec", kInfinity});
            }
        }
        if (!c.cpus.empty())
            p.push_back(
                {"AllowedCPUs", MD_TRY_CTX(cpuset_bits(c.cpus), "linux.resources.cpu.cpus")});
        if (!c.mems.empty())
            p.push_back({"AllowedMemoryNodes",
                         MD_TRY_CTX(cpuset_bits(c.mems), "linux.resources.cpu.mems")});
    }
    if (r.pids && r.pids->limit != 0) p.push_back({"TasksMax", limit(r.pids->limit)});
    if (r.block_io && r.block_io->weight && *r.block_io->weight) {
        if (v2)
            p.push_back({"IOWeight", blkio_weight_to_io_weight(*r.block_io->weight)});
        else
            p.push_back({"BlockIOWeight", uint64_t{*r.block_io->weight}});
    }
    return p;
}

namespace {

void write_value(dbus::Writer& w, const Value& v) {
    if (auto* s = std::get_if<std::string>(&v)) {
        w.signature("s");
        w.string(*s);
    } else if (auto* b = std::get_if<bool>(&v)) {
        w.signature("b");
        w.boolean(*b);
    } else if (auto* t = std::get_if<uint64_t>(&v)) {
        w.signature("t");
        w.u64(*t);
    } else if (auto* au = std::get_if<std::vector<uint32_t>>(&v)) {
        w.signature("au");
        size_t a = w.begin_array(4);
        for (uint32_t x : *au) w.u32(x);
        w.end_array(a);
    } else if (auto* ay = std::get_if<std::vector<uint8_t>>(&v)) {
        w.signature("ay");
        size_t a = w.begin_array(1);
        for (uint8_t x : *ay) w.byte(x);
        w.end_array(a);
    }
}

void write_properties(dbus::Writer& w, const std::vector<Property>& props) {
    size_t a = w.begin_array(8);
    for (const auto& prop : props) {
        w.begin_struct();
        w.string(prop.name);
        write_value(w, prop.value);
    }
    w.end_array(a);
}

}  // namespace

std::string start_transient_unit_body(const std::string& unit, const std::vector<Property>& props) {
    dbus::Writer w;
    w.string(unit);
    w.string("replace");
    write_properties(w, props);
    size_t aux = w.begin_array(8);  // no auxiliary units
    w.end_array(aux);
    return w.data();
}

std::string set_unit_properties_body(const std::string& unit, const std::vector<Property>& props) {
    dbus::Writer w;
    w.string(unit);
    w.boolean(true);  // runtime: until the next boot, as the unit itself
    write_properties(w, props);
    return w.data();
}

}  // namespace mydocker::cgroups::systemd
