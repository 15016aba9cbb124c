// IPv4 address management: CIDR parsing, overlap checks, and the lease table of a network.
// Pure logic (no files, no sockets), so the unit tests can drive every corner; the store
// (store.h) keeps each network's leases in a locked file and calls these.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sys/error.h"

namespace mydocker::engine::networks {

/// An IPv4 address in host byte order.
struct Ipv4 {
    uint32_t value = 0;
    auto operator<=>(const Ipv4&) const = default;
    std::string str() const;
};
/// "10.1.2.3" (four decimal octets, nothing else).
sys::Result<Ipv4> parse_ipv4(const std::string& s);

/// A subnet: the network address (host bits zero) and its prefix length.
struct Subnet {
    Ipv4 network;
    int prefix = 0;
    auto operator<=>(const Subnet&) const = default;
    uint32_t mask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }
    Ipv4 broadcast() const { return Ipv4{network.value | ~mask()}; }
    /// The first usable address: docker's default gateway.
    Ipv4 first_host() const { return Ipv4{network.value + 1}; }
    bool contains(Ipv4 ip) const { return (ip.value & mask()) == network.value; }
    /// Usable host addresses (network and broadcast excluded).
    uint64_t hosts() const { return (uint64_t{1} << (32 - prefix)) - 2; }
    std::string str() const;
};
/// "172.18.0.0/16". Host bits must be zero ("10.0.0.1/8" is refused: say 10.0.0.0/8), the
/// prefix between 8 and 30 (a /31 or /32 has no room for a gateway and a container).
sys::Result<Subnet> parse_subnet(const std::string& s);
bool overlaps(const Subnet& a, const Subnet& b);

/// The address pools docker picks default subnets from, in order: 172.17-31.0.0/16, then
/// 192.168.0.0/16 cut into /20s.
std::vector<Subnet> default_pools();
/// The first pool that overlaps none of `taken`; not_found when every pool is used.
sys::Result<Subnet> pick_subnet(const std::vector<Subnet>& taken);

/// Who holds an address: the container (id and name, for /etc/hosts) and the process whose
/// life the lease follows (the container's init once it exists, before that the engine
/// process starting it). A lease whose process is gone is stale and can be taken again.
struct Lease {
    std::string container;
    std::string name;
    pid_t pid = 0;
    uint64_t start = 0;  // start time of pid (/proc/<pid>/stat field 22): pid reuse check
};

/// The leases of one network: address -> holder.
class LeaseTable {
public:
    LeaseTable(Subnet subnet, Ipv4 gateway) : subnet_(subnet), gateway_(gateway) {}
    /// Take `requested` (when given) or the lowest free address for `lease`. `alive`
    /// tells whether a lease's process still runs: leases of dead ones are reclaimed first.
    /// Errors: the requested address is outside the subnet, is the gateway, or is taken;
    /// no free address is left.
    template <typename Alive>
    sys::Result<Ipv4> allocate(const Lease& lease, std::optional<Ipv4> requested, Alive alive) {
        reclaim(alive);
        return take(lease, requested);
    }
    /// Drop the leases of dead processes; returns the containers whose leases went.
    template <typename Alive>
    std::vector<std::string> reclaim(Alive alive) {
        std::vector<std::string> gone;
        for (auto it = leases_.begin(); it != leases_.end();) {
            if (!alive(it->second)) {
                gone.push_back(it->second.container);
                it = leases_.erase(it);
            } else {
                ++it;
            }
        }
        return gone;
    }
    /// Release every address of `container`; true if it held one.
    bool release(const std::string& container);
    /// Re-point the leases of `container` at a new process (its init, once created).
    void update_holder(const std::string& container, pid_t pid, uint64_t start);
    const std::map<Ipv4, Lease>& leases() const { return leases_; }
    void insert(Ipv4 ip, Lease l) { leases_[ip] = std::move(l); }
    const Subnet& subnet() const { return subnet_; }
    Ipv4 gateway() const { return gateway_; }

private:
    sys::Result<Ipv4> take(const Lease& lease, std::optional<Ipv4> requested);
    Subnet subnet_;
    Ipv4 gateway_;
    std::map<Ipv4, Lease> leases_;
};

/// The lease file's JSON and back.
std::string leases_to_json(const LeaseTable& t);
sys::Result<void> leases_from_json(const std::string& text, LeaseTable& t);

/// A MAC address for a container's interface derived from its IPv4 address, as docker does
/// (02:42 followed by the four octets): locally administered and stable for an address.
std::string mac_for(Ipv4 ip);

}  // namespace mydocker::engine::networks
