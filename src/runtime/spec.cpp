// Namespace names and flags, and reading a bundle's config.json.
#include "runtime/spec.h"

#include <sched.h>

#include "sys/files.h"

// glibc 2.36 has it; older headers lack the time namespace (Linux 5.6).
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace mydocker::runtime {

const char* namespace_type_name(NamespaceType t) {
    switch (t) {
        case NamespaceType::pid:
            return "pid";
        case NamespaceType::network:
            return "network";
        case NamespaceType::mount:
            return "mount";
        case NamespaceType::ipc:
            return "ipc";
        case NamespaceType::uts:
            return "uts";
        case NamespaceType::user:
            return "user";
        case NamespaceType::cgroup:
            return "cgroup";
        case NamespaceType::time:
            return "time";
    }
    return "unknown";
}

int namespace_clone_flag(NamespaceType t) {
    switch (t) {
        case NamespaceType::pid:
            return CLONE_NEWPID;
        case NamespaceType::network:
            return CLONE_NEWNET;
        case NamespaceType::mount:
            return CLONE_NEWNS;
        case NamespaceType::ipc:
            return CLONE_NEWIPC;
        case NamespaceType::uts:
            return CLONE_NEWUTS;
        case NamespaceType::user:
            return CLONE_NEWUSER;
        case NamespaceType::cgroup:
            return CLONE_NEWCGROUP;
        case NamespaceType::time:
            return CLONE_NEWTIME;
    }
    return 0;
}

const char* namespace_proc_name(NamespaceType t) {
    switch (t) {
        case NamespaceType::pid:
            return "pid";
        case NamespaceType::network:
            return "net";
        case NamespaceType::mount:
            return "mnt";
        case NamespaceType::ipc:
            return "ipc";
        case NamespaceType::uts:
            return "uts";
        case NamespaceType::user:
            return "user";
        case NamespaceType::cgroup:
            return "cgroup";
        case NamespaceType::time:
            return "time";
    }
    return "unknown";
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
