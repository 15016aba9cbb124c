// Networks of the engine: records (<root>/networks/<id>/network.json), the Linux bridge of
// each, IPAM leases (a locked file per network), the veth pair of each container endpoint,
// published ports (DNAT) and NAT in mydocker's nftables table, and the /etc/hosts of every
// container on a network (peers by name).
//
// Predefined: `bridge` (the default, device mydocker0, subnet chosen at first use from
// docker's pools where it clashes with no host route, or --bip / MYDOCKER_BIP), `host` and
// `none`. User networks: `network create`. Every host-global object (bridge, table) of a
// private --root carries a suffix of the root's hash, so two roots never share one.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/networks/ipam.h"
#include "sys/error.h"
#include "sys/lock.h"

namespace mydocker::engine::networks {

struct Network {
    std::string id;
    std::string name;
    std::string driver = "bridge";  // bridge | host | null
    std::string created;
    std::optional<Subnet> subnet;  // the default bridge has none until its first use
    Ipv4 gateway;
    std::string bridge;  // the Linux bridge device
    std::map<std::string, std::string> labels;
    bool internal = false;
};

/// The record as JSON, in `docker network inspect`'s shape (without "Containers").
std::string to_json(const Network& n);

/// The predefined network names docker has.
bool predefined(const std::string& name);

struct CreateRequest {
    std::string name;
    std::string driver = "bridge";
    std::string subnet;   // CIDR, empty = pick one
    std::string gateway;  // empty = first host of the subnet
    std::map<std::string, std::string> labels;
    bool internal = false;
};

/// A container's attachment to one network, as inspect shows it.
struct Endpoint {
    std::string network;     // name
    std::string network_id;
    std::string requested_ip;  // --ip (kept for restarts)
    std::string ip;
    int prefix = 0;
    std::string gateway;
    std::string mac;
    std::string ifname;     // inside: eth0, eth1, ...
    std::string host_veth;  // the host's end
};

/// A published port as asked (host_port 0: any free port) and as bound.
struct PortBinding {
    std::string proto = "tcp";
    std::string host_ip;  // empty: every address
    uint16_t host_port = 0;
    uint16_t container_port = 0;
};
/// "-p [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/tcp|/udp]"; errors name the flag.
sys::Result<PortBinding> parse_publish(const std::string& s);
/// "80/tcp" (an image's ExposedPorts key) -> a binding to any free host port.
sys::Result<PortBinding> parse_exposed(const std::string& s);

/// What a container asks of the network layer, from its record.
struct AttachRequest {
    std::string container;  // id
    std::string name;
    std::string hostname;
    pid_t pid = 0;  // the container's init (its network namespace)
    uint64_t pid_start = 0;
    int netns_fd = -1;  // that namespace itself, when the caller holds it (else /proc/PID/ns/net)
    std::vector<Endpoint> endpoints;  // network (+ requested_ip) filled in; the rest is ours
    std::vector<PortBinding> ports;
    bool default_route = true;  // via the first endpoint's gateway (not for `network connect`)
};
struct Attached {
    std::vector<Endpoint> endpoints;
    std::vector<PortBinding> ports;  // with the host ports actually bound
};

class Store {
public:
    explicit Store(const Context& ctx);

    sys::Result<Network> create(const CreateRequest& req);
    /// Every network, predefined ones first.
    sys::Result<std::vector<Network>> list();
    /// By name, full id or unique id prefix.
    sys::Result<Network> get(const std::string& ref);
    /// Refused while a container is attached; `bridge` goes too (its device and rules; the
    /// next container on it makes them again), `host` and `none` cannot be removed.
    sys::Result<void> remove(const std::string& ref);
    /// Remove every user network no container uses; returns their names.
    sys::Result<std::vector<std::string>> prune();
    /// The containers attached to a network: id -> (name, address).
    sys::Result<std::map<std::string, std::pair<std::string, std::string>>> attached(const Network& n);

    /// Bring the container (init `pid`, created, not started) onto its networks: an address
    /// per network, a veth pair into its namespace (eth0 with the default route, eth1, ...),
    /// its published ports, and /etc/hosts of it and of its peers. Undone on error. (lo is
    /// up already: the runtime's init sets it, see runtime::CreateOptions::loopback_up.)
    sys::Result<Attached> attach(const AttachRequest& req);
    /// Take the container off every network: leases, port rules, peers' /etc/hosts, and
    /// (`delete_links`) its veths; without it they go with the container's network namespace,
    /// which the kernel tears down once no process is left in it. Safe to call twice, and for
    /// a container that never got that far.
    void detach(const std::string& container, const std::vector<Endpoint>& endpoints, bool delete_links);
    /// The container is called `name` now: its leases and its peers' /etc/hosts follow.
    sys::Result<void> rename(const std::string& container, const std::string& name);
    /// Take the container off one network (disconnect).
    sys::Result<void> detach_one(const std::string& container, const Endpoint& ep);

    /// Write the name-service files of a container (<dir>/hosts, resolv.conf, hostname) before
    /// it is created; attach() rewrites hosts with its own address and peers.
    /// `mode` "host": copies of the host's /etc/hosts and resolv.conf instead; "none": no
    /// address will come, so nothing is kept for attach() to rewrite.
    sys::Result<void> write_files(const std::string& container, const std::string& hostname,
                                  const std::vector<std::string>& extra_hosts, const std::vector<std::string>& dns,
                                  const std::string& mode);

    /// The nftables table and default bridge names of this root.
    const std::string& table() const { return table_; }
    const std::string& default_bridge() const { return default_bridge_; }

private:
    // Callers of these hold lock_ (the store's one lock over networks, leases and ports).
    sys::Result<std::vector<Network>> load_all();
    sys::Result<void> save(const Network& n);
    sys::Result<Network> ensure_predefined(const std::string& name);
    sys::Result<Network> find(const std::string& ref);
    sys::Result<int> ensure_bridge(Network& n);  // the bridge's ifindex
    sys::Result<std::vector<Subnet>> taken_subnets(const std::string& except_id);
    sys::Result<void> refresh_rules(bool force);
    // Rewrite /etc/hosts of every container on `networks` (and of `also`).
    void update_hosts(const std::vector<std::string>& networks, const std::string& also = "");
    sys::Result<sys::FileLock> lock();
    std::string dir_of(const std::string& id) const;
    /// A network's leases (leases.json, leases.lock): they hold only live containers, so they
    /// live on the run root (a tmpfs by default) and start empty after a reboot.
    std::string leases_dir(const std::string& id) const;

    const Context& ctx_;
    std::string dir_;
    std::string table_;
    std::string default_bridge_;
};

}  // namespace mydocker::engine::networks
