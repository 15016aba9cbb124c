// The OCI runtime-spec (1.0-1.2) config.json model: plain data, parsed and validated by
// spec_parse.cpp before any side effect. Field comments give the JSON names.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "cgroups/resources.h"
#include "sys/error.h"

namespace mydocker::runtime {

struct User {
    uint32_t uid = 0;
    uint32_t gid = 0;
    std::optional<uint32_t> umask;
    std::vector<uint32_t> additional_gids;  // additionalGids
    std::string username;                   // Windows only; kept for round trips
};

/// Capability sets, each a list of names like "CAP_CHOWN" (validated against the kernel's).
struct Capabilities {
    std::vector<std::string> bounding, effective, inheritable, permitted, ambient;
};

struct Rlimit {
    std::string type;  // "RLIMIT_NOFILE"
    int resource = 0;  // RLIMIT_NOFILE, resolved at validation
    uint64_t soft = 0;
    uint64_t hard = 0;
};

struct ConsoleSize {
    unsigned height = 0;
    unsigned width = 0;
};

struct Process {
    bool terminal = false;
    std::optional<ConsoleSize> console_size;  // consoleSize
    User user;
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::string cwd = "/";
    std::optional<Capabilities> capabilities;
    std::vector<Rlimit> rlimits;
    bool no_new_privileges = false;  // noNewPrivileges
    std::optional<int> oom_score_adj;  // oomScoreAdj
    std::string apparmor_profile;      // accepted, not applied (non-goal)
    std::string selinux_label;         // accepted, not applied (non-goal)
};

struct Root {
    std::string path;  // absolute after validation (relative paths are bundle-relative)
    bool readonly = false;
};

/// A mount with its options already split into flags (spec "mounts[]").
struct IdMapping {
    uint32_t container_id = 0;  // containerID
    uint32_t host_id = 0;       // hostID
    uint32_t size = 0;
};

struct Mount {
    std::string destination;
    std::string type;    // "" means bind when options contain bind/rbind
    std::string source;  // absolute after validation for binds (bundle-relative otherwise)
    std::vector<std::string> options;
    // Derived at validation:
    unsigned long flags = 0;              // MS_* for mount(2)
    unsigned long propagation_flags = 0;  // MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (| MS_REC)
    bool bind = false;                    // bind or rbind
    bool recursive = false;               // rbind
    std::string data;                     // the options mount(2) takes as a string
    // Flags cleared explicitly ("rw", "suid", "dev", "exec", "atime"...): remount keeps them off.
    unsigned long clear_flags = 0;
    // Id-mapped bind (runtime-spec 1.1 uidMappings/gidMappings, options "idmap"/"ridmap"):
    // the source's ids are shown through a user namespace with these maps.
    std::vector<IdMapping> uid_mappings;
    std::vector<IdMapping> gid_mappings;
    bool idmap = false;
    bool idmap_recursive = false;  // "ridmap": every mount of an rbind tree, not only its top
};

struct Hook {
    std::string path;
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::optional<int> timeout;  // seconds, > 0
};

struct Hooks {
    std::vector<Hook> prestart;          // deprecated, run with createRuntime
    std::vector<Hook> create_runtime;    // createRuntime
    std::vector<Hook> create_container;  // createContainer
    std::vector<Hook> start_container;   // startContainer
    std::vector<Hook> poststart;
    std::vector<Hook> poststop;
};

enum class NamespaceType { pid, network, mount, ipc, uts, user, cgroup, time };

struct Namespace {
    NamespaceType type = NamespaceType::pid;
    std::string path;  // "" = create a new one; otherwise join the namespace at path
};

struct Device {
    std::string path;
    char type = 'c';  // c, b, u, p
    int64_t major = 0;
    int64_t minor = 0;
    std::optional<uint32_t> file_mode;  // fileMode
    std::optional<uint32_t> uid;
    std::optional<uint32_t> gid;
};

struct SeccompArg {
    unsigned index = 0;
    uint64_t value = 0;
    uint64_t value_two = 0;  // valueTwo
    std::string op;          // SCMP_CMP_EQ ...
};

struct SeccompSyscall {
    std::vector<std::string> names;
    std::string action;  // SCMP_ACT_ERRNO ...
    std::optional<uint32_t> errno_ret;  // errnoRet
    std::vector<SeccompArg> args;
};

struct Seccomp {
    std::string default_action;  // defaultAction
    std::optional<uint32_t> default_errno_ret;  // defaultErrnoRet
    std::vector<std::string> architectures;
    std::vector<std::string> flags;
    std::string listener_path;  // listenerPath
    std::string listener_metadata;
    std::vector<SeccompSyscall> syscalls;
};

struct Linux {
    std::vector<Namespace> namespaces;
    std::vector<IdMapping> uid_mappings;  // uidMappings
    std::vector<IdMapping> gid_mappings;  // gidMappings
    std::vector<Device> devices;
    std::string cgroups_path;  // cgroupsPath
    std::optional<cgroups::Resources> resources;
    std::map<std::string, std::string> sysctl;
    std::optional<Seccomp> seccomp;
    std::string rootfs_propagation;  // rootfsPropagation
    unsigned long rootfs_propagation_flags = 0;  // derived
    std::vector<std::string> masked_paths;    // maskedPaths
    std::vector<std::string> readonly_paths;  // readonlyPaths
    std::string mount_label;                  // accepted, not applied (non-goal)

    bool has_namespace(NamespaceType t) const;
    const Namespace* find_namespace(NamespaceType t) const;
};

struct Spec {
    std::string oci_version;  // ociVersion
    std::optional<Process> process;
    Root root;
    std::string hostname;
    std::string domainname;
    std::vector<Mount> mounts;
    Hooks hooks;
    std::map<std::string, std::string> annotations;
    std::optional<Linux> linux;
};

/// Parse and validate config.json text. `bundle` (absolute) resolves relative root and
/// mount sources. Every error names the JSON path: `linux.resources.memory.limit: must be an integer`.
sys::Result<Spec> parse_spec(const std::string& json_text, const std::string& bundle);
/// The same from a parsed document (the engine builds its config as one: no text round trip).
sys::Result<Spec> parse_spec_doc(const nlohmann::json& doc, const std::string& bundle);

/// Parse and validate a process.json (runc exec -p): the "process" object alone.
sys::Result<Process> parse_process(const std::string& json_text);

/// Read `<bundle>/config.json` and parse it.
sys::Result<Spec> load_spec(const std::string& bundle);

/// The config.json `mydocker-runc spec` writes: a busybox-ready default like runc's
/// (`rootless` maps the caller's uid/gid in a user namespace and drops cgroup limits).
std::string default_spec_json(bool rootless, uint32_t uid = 0, uint32_t gid = 0);
/// The same default as a document, for a caller that edits it before parse_spec_doc.
nlohmann::json default_spec_doc(bool rootless, uint32_t uid = 0, uint32_t gid = 0);

/// Serialize a Resources to the linux.resources JSON object (used by `update` and state).
std::string resources_to_json(const cgroups::Resources& r);
/// Parse a linux.resources JSON object (`update -r FILE`); errors name the JSON path.
sys::Result<cgroups::Resources> parse_resources(const std::string& json_text);

/// Whether a mount may have `destination` (clean, absolute) inside /proc: only /proc itself and
/// the files lxcfs emulates, as runc allows; anything else could redirect the runtime's own
/// writes to procfs (CVE-2019-16884 class).
bool proc_destination_allowed(std::string_view destination);

/// Name of a namespace type as config.json spells it ("network", "mount"...).
const char* namespace_type_name(NamespaceType t);
/// CLONE_NEW* flag of a namespace type.
int namespace_clone_flag(NamespaceType t);
/// File name under /proc/PID/ns/ for a namespace type ("net", "mnt"...).
const char* namespace_proc_name(NamespaceType t);

}  // namespace mydocker::runtime
