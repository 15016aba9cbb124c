#include "runtime/features.h"

#include <nlohmann/json.hpp>

#include "runtime/capabilities.h"
#include "runtime/spec.h"
#include "runtime/spec_json.h"
#include "sys/json_text.h"

// CMake defines it from the project version; a standalone build still compiles.
#ifndef MYDOCKER_VERSION
#define MYDOCKER_VERSION "dev"
#endif

namespace mydocker::runtime {

std::string features_json() {
    using OJson = nlohmann::ordered_json;

    // Only what create sets up (features.md: claim what works). "time" parses, but create
    // does not make time namespaces yet, so it is not advertised.
    OJson namespaces = OJson::array();
    for (auto t :
         {NamespaceType::cgroup, NamespaceType::ipc, NamespaceType::mount, NamespaceType::network,
          NamespaceType::pid, NamespaceType::user, NamespaceType::uts})
        namespaces.push_back(namespace_type_name(t));

    // Every capability the running kernel knows: the list config.json may name.
    OJson capabilities = OJson::array();
    for (int i = 0; i <= last_capability(); ++i) capabilities.push_back(capability_name(i));

    // The names seccomp.cpp maps onto libseccomp (keep in step with its tables);
    // LoongArch is left out because it depends on the libseccomp version.
    OJson seccomp = {
        {"enabled", true},
        {"actions",
         {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
          "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE",
          "SCMP_ACT_TRAP"}},
        {"operators",
         {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
          "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"}},
        {"archs",
         {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64",
          "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
          "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
          "SCMP_ARCH_PPC64LE", "SCMP_ARCH_RISCV64", "SCMP_ARCH_S390", "SCMP_ARCH_S390X",
          "SCMP_ARCH_X32", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64"}},
    };

    OJson linux_features = {
        {"namespaces", std::move(namespaces)},
        {"capabilities", std::move(capabilities)},
        // No systemd driver: cgroups are managed through cgroupfs directly. rdma is parsed
        // and ignored, so it is not "supported".
        {"cgroup",
         {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}, {"rdma", false}}},
        {"seccomp", std::move(seccomp)},
        // Labels are a non-goal (DESIGN.md): accepted in config.json, never applied.
        {"apparmor", {{"enabled", false}}},
        {"selinux", {{"enabled", false}}},
        {"intelRdt", {{"enabled", false}}},
        // Id-mapped binds with the mount's own uidMappings / gidMappings.
        {"mountExtensions", {{"idmap", {{"enabled", true}}}}},
    };

    OJson doc = {
        {"ociVersionMin", "1.0.0"},
        {"ociVersionMax", "1.2.0"},
        {"hooks",
         {"prestart", "createRuntime", "createContainer", "startContainer", "poststart",
          "poststop"}},
        {"mountOptions", spec_detail::mount_option_names()},
        {"linux", std::move(linux_features)},
        {"annotations", {{"io.github.mydocker.version", MYDOCKER_VERSION}}},
    };
    return sys::json_text(doc, 4);
}

}  // namespace mydocker::runtime
