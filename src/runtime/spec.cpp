// Namespace names and flags, and reading a bundle's config.json.
#include "runtime/spec.h"

#include <sched.h>

#include "sys/files.h"

// glibc 2.36 has it; older headers lack the time namespace (Linux 5.6).
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace mydocker::runtime {

namespace {

/// One row per namespace type: its config.json name, its /proc/PID/ns name, its clone flag.
struct NamespaceInfo {
    NamespaceType type;
    const char* name;
    const char* proc_name;
    int flag;
};
constexpr NamespaceInfo kNamespaces[] = {
    {NamespaceType::pid, "pid", "pid", CLONE_NEWPID},
    {NamespaceType::network, "network", "net", CLONE_NEWNET},
    {NamespaceType::mount, "mount", "mnt", CLONE_NEWNS},
    {NamespaceType::ipc, "ipc", "ipc", CLONE_NEWIPC},
    {NamespaceType::uts, "uts", "uts", CLONE_NEWUTS},
    {NamespaceType::user, "user", "user", CLONE_NEWUSER},
    {NamespaceType::cgroup, "cgroup", "cgroup", CLONE_NEWCGROUP},
    {NamespaceType::time, "time", "time", CLONE_NEWTIME},
};

const NamespaceInfo* namespace_info(NamespaceType t) {
    for (const auto& n : kNamespaces)
        if (n.type == t) return &n;
    return nullptr;
}

}  // namespace

const char* namespace_type_name(NamespaceType t) {
    const auto* n = namespace_info(t);
    return n ? n->name : "unknown";
}

int namespace_clone_flag(NamespaceType t) {
    const auto* n = namespace_info(t);
    return n ? n->flag : 0;
}

const char* namespace_proc_name(NamespaceType t) {
    const auto* n = namespace_info(t);
    return n ? n->proc_name : "unknown";
}

bool Linux::has_namespace(NamespaceType t) const {
    return find_namespace(t) != nullptr;
}

const Namespace* Linux::find_namespace(NamespaceType t) const {
    for (const auto& ns : namespaces)
        if (ns.type == t) return &ns;
    return nullptr;
}

sys::Result<Spec> load_spec(const std::string& bundle) {
    auto text = MD_TRY(sys::read_file(sys::path_join(bundle, "config.json")));
    return parse_spec(text, bundle);
}

}  // namespace mydocker::runtime
