// The engine's configuration file for registries: the keys of docker's daemon.json that matter
// to pull and push, read from /etc/mydocker/daemon.json, or from the file named by
// MYDOCKER_DAEMON_CONFIG. Other keys are ignored (the same file may serve dockerd); a missing
// file means the defaults (no insecure registry but loopback, no mirror).
//
//   {
//     "insecure-registries": ["myreg.example:5000", "10.0.0.0/8"],
//     "registry-mirrors": ["https://mirror.example", "http://10.1.2.3:5000"]
//   }
//
// insecure-registries: a registry named by host[:port] (exactly as in image references), or
// whose address falls in a CIDR, is reached over HTTPS without checking its certificate, and
// over plain HTTP when TLS fails (docker's --insecure-registry). registry-mirrors: pulls of
// docker.io images try each mirror in turn, then Docker Hub itself (docker's --registry-mirror).
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "sys/error.h"

namespace mydocker::engine::images {

/// Where the configuration is read when MYDOCKER_DAEMON_CONFIG is not set.
inline constexpr std::string_view kDaemonConfigPath = "/etc/mydocker/daemon.json";

/// An IPv4 or IPv6 network ("10.0.0.0/8", "fd00::/8").
struct Cidr {
    int family = 0;                       // AF_INET or AF_INET6
    std::array<unsigned char, 16> net{};  // the address, its host bits cleared
    int prefix = 0;
    std::string text;  // as written in the file

    /// Whether the address `ip` (of `family`, 4 or 16 bytes) is in this network.
    bool contains(int ip_family, const unsigned char* ip) const;
};

/// A registry mirror: scheme://host[:port][/path], without a trailing '/'.
struct RegistryMirror {
    std::string scheme;  // "http" or "https"
    std::string host;    // host[:port]
    std::string path;    // "" or "/prefix"
    std::string url() const { return scheme + "://" + host + path; }
};

/// The registry settings of the daemon configuration. Plain data; parse_registry_config
/// fills it with validated entries only.
struct RegistryConfig {
    std::string path;                         // the file read, or "" when there was none
    std::vector<std::string> insecure_hosts;  // host[:port], as given
    std::vector<Cidr> insecure_cidrs;
    std::vector<RegistryMirror> mirrors;

    /// Whether `host` (host[:port] of a reference) is an insecure registry: listed by name, or
    /// one of `addresses` (its IP addresses, text) is in a listed CIDR. Loopback is not
    /// implied here (see insecure_registry_host).
    bool insecure(const std::string& host, const std::vector<std::string>& addresses) const;
    /// insecure() with the host's addresses looked up (an IP literal is its own address; a
    /// name is resolved only when a CIDR is listed).
    bool insecure(const std::string& host) const;
};

/// MYDOCKER_DAEMON_CONFIG when set and not empty, else kDaemonConfigPath.
std::string daemon_config_path();

/// Parse the JSON `text` of the file `path`. Errors (invalid_argument) name the file, and the
/// key and value at fault: malformed JSON, a key of the wrong type, a bad host, CIDR or URL.
sys::Result<RegistryConfig> parse_registry_config(std::string_view text, const std::string& path);

/// Read and parse `path`; a missing file gives the defaults (and an empty `path`).
sys::Result<RegistryConfig> load_registry_config(const std::string& path);

/// load_registry_config(daemon_config_path()).
sys::Result<RegistryConfig> load_registry_config();

}  // namespace mydocker::engine::images
