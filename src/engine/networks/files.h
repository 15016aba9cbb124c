// The name-service files the engine writes for each container and bind-mounts over the
// image's: /etc/hosts, /etc/resolv.conf and /etc/hostname (not baked into the image, and
// rewritten in place when peers come and go, so the container sees the change).
#pragma once

#include <string>
#include <vector>

#include "sys/error.h"

namespace mydocker::engine::networks {

struct HostEntry {
    std::string ip;
    std::string names;  // "name" or "name alias ..."
};

/// /etc/hosts: localhost lines, the container's own address and hostname (when it has an
/// address), the --add-host entries, then one line per peer on its networks.
std::string render_hosts(const std::string& hostname, const std::string& own_ip, const std::vector<HostEntry>& extra,
                         const std::vector<HostEntry>& peers);

/// /etc/resolv.conf from the host's: the --dns servers when given, else the host's own
/// nameservers minus loopback ones (a 127.0.0.53 stub is unreachable from a container's
/// namespace), else 8.8.8.8 and 8.8.4.4 as docker does; search and options lines kept.
std::string render_resolv_conf(const std::string& host_resolv, const std::vector<std::string>& dns);

/// "--add-host NAME:IP" (also NAME=IP); the error names the flag.
sys::Result<HostEntry> parse_add_host(const std::string& s);

}  // namespace mydocker::engine::networks
