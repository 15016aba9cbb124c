// A small rtnetlink client: the links, addresses and routes a bridge network needs, spoken
// over a NETLINK_ROUTE socket (no `ip` subprocess, no library: the messages are few and
// fixed). Every request asks for an ACK, so each call returns the kernel's own errno.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/networks/ipam.h"
#include "sys/error.h"
#include "sys/fd.h"

namespace mydocker::engine::networks {

/// One IPv4 route of the main table (for "does this subnet clash with the host's routes").
struct Route {
    Subnet dst;
    int oif = 0;
};

class Netlink {
public:
    /// A socket in our own network namespace.
    static sys::Result<Netlink> open();
    /// A socket in the network namespace of `netns_fd` (an fd of /proc/PID/ns/net): we enter
    /// it, make the socket (which stays bound to that namespace), and come back.
    static sys::Result<Netlink> open_in(int netns_fd);

    /// The index of link `name`; not_found when there is none.
    sys::Result<int> link_index(const std::string& name);
    /// ip link add NAME type bridge; ip link set NAME up.
    sys::Result<void> add_bridge(const std::string& name);
    /// A veth pair: `host_name` here, enslaved to `master` and up; its peer `peer_name`
    /// created straight in the namespace of `peer_netns_fd` with MAC `peer_mac`.
    sys::Result<void> add_veth(const std::string& host_name, int master, const std::string& peer_name,
                               int peer_netns_fd, const std::string& peer_mac);
    /// ip link del NAME (a veth takes its peer with it); not_found when it is gone already.
    sys::Result<void> delete_link(const std::string& name);
    /// ip link set dev up.
    sys::Result<void> set_up(int index);
    /// ip addr add IP/PREFIX dev (with the subnet's broadcast).
    sys::Result<void> add_address(int index, Ipv4 ip, const Subnet& subnet);
    /// ip route add default via GW.
    sys::Result<void> add_default_route(Ipv4 gateway);
    /// The IPv4 routes of the main table except the default route.
    sys::Result<std::vector<Route>> routes();

private:
    explicit Netlink(sys::UniqueFd fd) : fd_(std::move(fd)) {}
    sys::Result<void> request(std::vector<char>& msg, const std::string& what);
    sys::UniqueFd fd_;
    uint32_t seq_ = 1;
};

/// Write an IPv4 sysctl of one interface (/proc/sys/net/ipv4/conf/IF/KEY), checking first
/// that /proc/sys is procfs.
sys::Result<void> set_interface_sysctl(const std::string& ifname, const std::string& key, const std::string& value);
/// net.ipv4.ip_forward=1: containers of a bridge reach out through the host (docker does
/// the same).
sys::Result<void> enable_ip_forward();

}  // namespace mydocker::engine::networks
