// NAT and isolation rules in one nftables table owned by mydocker (`inet mydocker`, or
// `inet mydocker_<hash>` for a private --root). The whole table is rendered from the
// networks and the published ports and replaced in one transaction, so `nft list table`
// shows exactly what the engine's state says, and the table goes when nothing needs it.
// libnftables is loaded with dlopen() only when the rules change.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/networks/ipam.h"
#include "sys/error.h"

namespace mydocker::engine::networks {

struct NatNetwork {
    std::string bridge;
    Subnet subnet;
};

/// One published port: HOST_IP:HOST_PORT/PROTO -> CONTAINER_IP:PORT.
struct PortRule {
    std::string proto = "tcp";  // tcp | udp
    std::string host_ip;        // empty or 0.0.0.0: every local address
    uint16_t host_port = 0;
    Ipv4 container_ip;
    uint16_t container_port = 0;
};

/// The nft script that replaces table `table` with these rules (or deletes it when there
/// are no networks and no ports):
/// - masquerade what leaves a network's subnet through another interface;
/// - DNAT of published ports for traffic from outside (prerouting) and from the host itself
///   (output), on every local address or the given one; traffic from 127.0.0.0/8 or from
///   the container's own network (hairpin) to a published port is masqueraded so replies
///   come back through us;
/// - drop forwarding from one of our bridges to another (networks are isolated);
/// - drop what arrives on our bridges for the host's 127.0.0.0/8 unless it belongs to a
///   DNAT'd connection (route_localnet is on for published ports; containers must not reach
///   the host's loopback services).
std::string render_table(const std::string& table, const std::vector<NatNetwork>& networks,
                         const std::vector<PortRule>& ports);

/// Run an nft script through libnftables (one atomic transaction).
sys::Result<void> run_nft(const std::string& script);

}  // namespace mydocker::engine::networks
