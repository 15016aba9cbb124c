// Seccomp profiles in docker's format (what `--security-opt seccomp=FILE` names, and the
// engine's default profile), resolved to the OCI linux.seccomp of one container: rules are
// kept or left out by the container's capabilities, the machine's architecture and kernel.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/spec.h"
#include "sys/error.h"

namespace mydocker::engine::containers {

struct KernelVersion {
    int major = 0, minor = 0;
    auto operator<=>(const KernelVersion&) const = default;
};

/// A rule's "includes" / "excludes": capabilities (CAP_X), architectures in docker's (Go)
/// names (amd64, x32, x86, arm64, arm, s390x, ...) and a minimum kernel.
struct ProfileFilter {
    std::vector<std::string> caps;
    std::vector<std::string> arches;
    std::optional<KernelVersion> min_kernel;
    bool empty() const { return caps.empty() && arches.empty() && !min_kernel; }
};

/// One entry of "syscalls": the OCI rule plus when it applies.
struct ProfileRule {
    runtime::SeccompSyscall rule;
    ProfileFilter includes, excludes;
};

/// "archMap" entry: the native architecture and those also filtered on it (x86 and x32 on
/// x86_64: their syscalls reach the same kernel).
struct ProfileArch {
    std::string arch;
    std::vector<std::string> sub_arches;
};

struct SeccompProfile {
    std::string default_action;
    std::optional<uint32_t> default_errno_ret;
    std::vector<std::string> architectures;  // either these or arch_map
    std::vector<ProfileArch> arch_map;
    std::vector<std::string> flags;
    std::string listener_path, listener_metadata;
    std::vector<ProfileRule> syscalls;
};

/// Where a profile is applied: the container's bounding capabilities, this machine's
/// architecture (Go name) and kernel.
struct SeccompTarget {
    std::vector<std::string> caps;
    std::string arch;
    KernelVersion kernel;
};

/// The engine's default profile: docker's, in effect (seccomp_default.cpp).
const SeccompProfile& default_seccomp_profile();

/// Parse a profile in docker's JSON format. Errors name the field ("syscalls[2].includes.minKernel:
/// ..."); action, operator and architecture names are checked as the runtime will
/// (validate_seccomp).
sys::Result<SeccompProfile> parse_seccomp_profile(std::string_view text);

/// "4.8" (and "5.10.0-21-amd64" style: the rest after major.minor is ignored).
std::optional<KernelVersion> parse_kernel_version(std::string_view s);

/// The target of this machine for a container with bounding set `caps`.
SeccompTarget host_seccomp_target(std::vector<std::string> caps);

/// The rules of `p` that apply to `t`, with archMap's entry for t.arch as "architectures".
runtime::Seccomp resolve_seccomp_profile(const SeccompProfile& p, const SeccompTarget& t);

/// linux.seccomp of the OCI config.
nlohmann::json seccomp_to_json(const runtime::Seccomp& s);

}  // namespace mydocker::engine::containers
