// docker's confinement of a container: --security-opt (seccomp profile, no-new-privileges)
// and --privileged, turned into the OCI config.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/containers/record.h"
#include "sys/error.h"

namespace mydocker::engine::containers {

/// What the record's SecurityOpt list asks for.
struct Security {
    enum class Seccomp { builtin, unconfined, custom };
    Seccomp seccomp = Seccomp::builtin;
    std::string profile;  // custom: the profile's JSON text
    bool no_new_privileges = false;
};

/// The --security-opt values as the record keeps them (docker's HostConfig.SecurityOpt):
/// "seccomp=FILE" becomes "seccomp=<the file's JSON>", so a later start uses the same
/// profile whatever happens to the file. Every value is checked; errors name the option.
sys::Result<std::vector<std::string>> normalize_security_opts(
    const std::vector<std::string>& given);

/// Parse a normalized SecurityOpt list (as the record holds it).
sys::Result<Security> parse_security_opts(const std::vector<std::string>& opts);

/// Every capability this process holds (permitted set): what --privileged and
/// `exec --privileged` give, since a capability we lack cannot be handed on.
std::vector<std::string> held_capabilities();

/// Set noNewPrivileges and linux.seccomp of `spec` for a container whose bounding set is
/// `caps`; with --privileged, no seccomp, no masked or read-only paths, /sys and the cgroup
/// mount writable, and the host's devices.
sys::Result<void> apply_security(nlohmann::json& spec, const HostConfig& host,
                                 const std::vector<std::string>& caps);

/// The host's device nodes under `dev` as OCI linux.devices entries (docker's HostDevices:
/// pts, shm, mqueue, console and the like left out).
nlohmann::json host_devices(const std::string& dev = "/dev");

}  // namespace mydocker::engine::containers
