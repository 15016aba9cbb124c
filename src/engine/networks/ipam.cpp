#include "engine/networks/ipam.h"
#include "sys/json_text.h"

#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace mydocker::engine::networks {

using Json = nlohmann::ordered_json;

std::string Ipv4::str() const {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", value >> 24, (value >> 16) & 255, (value >> 8) & 255, value & 255);
    return buf;
}

sys::Result<Ipv4> parse_ipv4(const std::string& s) {
    uint32_t v = 0;
    const char* p = s.data();
    const char* end = s.data() + s.size();
    for (int i = 0; i < 4; ++i) {
        if (i > 0) {
            if (p == end || *p != '.') return sys::fail_invalid("invalid IPv4 address \"" + s + "\"");
            ++p;
        }
        unsigned octet = 0;
        // No sign, no leading zeros beyond a lone 0 (010 is octal to some parsers).
        if (p == end || *p < '0' || *p > '9' || (p[0] == '0' && p + 1 < end && p[1] >= '0' && p[1] <= '9'))
            return sys::fail_invalid("invalid IPv4 address \"" + s + "\"");
        auto [q, ec] = std::from_chars(p, end, octet);
        if (ec != std::errc() || octet > 255) return sys::fail_invalid("invalid IPv4 address \"" + s + "\"");
        p = q;
        v = (v << 8) | octet;
    }
    if (p != end) return sys::fail_invalid("invalid IPv4 address \"" + s + "\"");
    return Ipv4{v};
}

std::string Subnet::str() const { return network.str() + "/" + std::to_string(prefix); }

sys::Result<Subnet> parse_subnet(const std::string& s) {
    size_t slash = s.find('/');
    if (slash == std::string::npos) return sys::fail_invalid("invalid subnet \"" + s + "\": expected ADDRESS/PREFIX, e.g. 172.20.0.0/16");
    auto ip = parse_ipv4(s.substr(0, slash));
    if (!ip) return sys::fail_invalid("invalid subnet \"" + s + "\": " + ip.error().message());
    std::string ps = s.substr(slash + 1);
    int prefix = -1;
    auto [q, ec] = std::from_chars(ps.data(), ps.data() + ps.size(), prefix);
    if (ps.empty() || ec != std::errc() || q != ps.data() + ps.size() || prefix < 0 || prefix > 32)
        return sys::fail_invalid("invalid subnet \"" + s + "\": the prefix length must be a number from 0 to 32");
    if (prefix < 8 || prefix > 30)
        return sys::fail_invalid("invalid subnet \"" + s + "\": the prefix length must be between /8 and /30");
    Subnet sn{*ip, prefix};
    if ((ip->value & sn.mask()) != ip->value)
        return sys::fail_invalid("invalid subnet \"" + s + "\": host bits are set (did you mean " +
                                 Ipv4{ip->value & sn.mask()}.str() + "/" + std::to_string(prefix) + "?)");
    return sn;
}

bool overlaps(const Subnet& a, const Subnet& b) {
    uint32_t m = a.prefix < b.prefix ? a.mask() : b.mask();  // the shorter prefix decides
    return (a.network.value & m) == (b.network.value & m);
}

std::vector<Subnet> default_pools() {
    std::vector<Subnet> pools;
    for (uint32_t second = 17; second <= 31; ++second) pools.push_back(Subnet{Ipv4{(172u << 24) | (second << 16)}, 16});
    for (uint32_t third = 0; third < 256; third += 16)
        pools.push_back(Subnet{Ipv4{(192u << 24) | (168u << 16) | (third << 8)}, 20});
    return pools;
}

sys::Result<Subnet> pick_subnet(const std::vector<Subnet>& taken) {
    for (const auto& pool : default_pools()) {
        bool clash = false;
        for (const auto& t : taken) clash = clash || overlaps(pool, t);
        if (!clash) return pool;
    }
    return sys::fail(sys::Error::not_found(
        "no free subnet left in the default pools (172.17-31.0.0/16, 192.168.0.0/16 in /20s): give one with --subnet"));
}

bool LeaseTable::release(const std::string& container) {
    bool any = false;
    for (auto it = leases_.begin(); it != leases_.end();) {
        if (it->second.container == container) {
            it = leases_.erase(it);
            any = true;
        } else {
            ++it;
        }
    }
    return any;
}

void LeaseTable::update_holder(const std::string& container, pid_t pid, uint64_t start) {
    for (auto& [ip, l] : leases_)
        if (l.container == container) {
            l.pid = pid;
            l.start = start;
        }
}

sys::Result<Ipv4> LeaseTable::take(const Lease& lease, std::optional<Ipv4> requested) {
    if (requested) {
        if (!subnet_.contains(*requested) || *requested == subnet_.network || *requested == subnet_.broadcast())
            return sys::fail_invalid("--ip " + requested->str() + ": not a host address of the subnet " + subnet_.str());
        if (*requested == gateway_) return sys::fail_invalid("--ip " + requested->str() + ": is the network's gateway");
        auto it = leases_.find(*requested);
        if (it != leases_.end() && it->second.container != lease.container)
            return sys::fail(sys::Error::exists("--ip " + requested->str() + ": address already in use by container " +
                                                (it->second.name.empty() ? it->second.container : it->second.name)));
        leases_[*requested] = lease;
        return *requested;
    }
    // Lowest free address: a map walk, so even a /8 with many leases costs O(leases).
    uint32_t first = subnet_.network.value + 1, last = subnet_.broadcast().value - 1;
    auto it = leases_.lower_bound(Ipv4{first});
    for (uint32_t v = first; v <= last; ++v) {
        if (Ipv4{v} == gateway_) continue;
        while (it != leases_.end() && it->first.value < v) ++it;
        if (it != leases_.end() && it->first.value == v) continue;
        leases_[Ipv4{v}] = lease;
        return Ipv4{v};
    }
    return sys::fail(sys::Error(sys::ErrorCode::not_found,
                                "no free address left in the network's subnet " + subnet_.str() + " (" +
                                    std::to_string(leases_.size()) + " in use)",
                                0));
}

std::string leases_to_json(const LeaseTable& t) {
    Json leases = Json::object();
    for (const auto& [ip, l] : t.leases())
        leases[ip.str()] = {{"container", l.container}, {"name", l.name}, {"pid", l.pid}, {"start", l.start}};
    Json j = {{"subnet", t.subnet().str()}, {"gateway", t.gateway().str()}, {"leases", leases}};
    return sys::json_text(j, 2);
}

sys::Result<void> leases_from_json(const std::string& text, LeaseTable& t) {
    try {
        Json j = Json::parse(text);
        for (const auto& [ip, l] : j.at("leases").items()) {
            auto addr = MD_TRY(parse_ipv4(ip));
            Lease lease;
            lease.container = l.at("container").get<std::string>();
            lease.name = l.value("name", "");
            lease.pid = l.value("pid", 0);
            lease.start = l.value("start", uint64_t{0});
            t.insert(addr, std::move(lease));
        }
        return {};
    } catch (const std::exception& e) {
        return sys::fail_invalid(std::string("lease file: ") + e.what());
    }
}

std::string mac_for(Ipv4 ip) {
    char buf[18];
    std::snprintf(buf, sizeof buf, "02:42:%02x:%02x:%02x:%02x", ip.value >> 24, (ip.value >> 16) & 255, (ip.value >> 8) & 255,
                  ip.value & 255);
    return buf;
}

}  // namespace mydocker::engine::networks
