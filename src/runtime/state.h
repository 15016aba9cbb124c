// Container state: the record kept in <root>/<id>/state.json and the status computed from it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/context.h"
#include "sys/error.h"
#include "sys/lock.h"

namespace mydocker::runtime {

enum class Status { creating, created, running, paused, stopped };

/// "created", "running"... as the OCI state document spells them.
const char* status_name(Status s);
inline bool can_start(Status s) { return s == Status::created; }
inline bool can_kill(Status s) { return s == Status::created || s == Status::running || s == Status::paused; }
inline bool can_delete(Status s) { return s == Status::stopped || s == Status::created; }

/// What the runtime records about a container. Status is not stored: it is computed from
/// the process, the exec fifo and the freezer (runc's approach), so it is never stale.
struct ContainerState {
    std::string id;
    pid_t pid = 0;
    uint64_t pid_start = 0;  // /proc/PID/stat starttime: guards against pid reuse
    std::string bundle;
    std::string rootfs;
    std::string created;  // RFC 3339
    std::string cgroup_path;
    // The systemd driver's cgroupsPath ("slice:prefix:name") when a unit holds the cgroup
    // (cgroup_path is then the unit's cgroup), else empty.
    std::string systemd_cgroup;
    std::string owner;
    bool no_pivot = false;
    std::map<std::string, std::string> annotations;
    // The config has poststart / poststop hooks: only then is it read back for them.
    bool poststart_hooks = false;
    bool poststop_hooks = false;
    bool config_in_state = false;  // state.json holds the config (else: config.json beside it)
};

/// `<root>/<id>`.
std::string state_dir(const Context& ctx, const std::string& id);
/// Check a container id: letters, digits, '_', '-', '.', '+' (as runc), 1..1024 chars.
sys::Result<void> validate_id(const std::string& id);
/// Read a container's record; not_found names the id.
sys::Result<ContainerState> load_state(const Context& ctx, const std::string& id);
/// Write the record atomically (temp file + rename), with `config` (the config.json text the
/// container was created from, valid JSON) under "config" when given: one file, one inode
/// fewer per container than a config.json beside it.
sys::Result<void> save_state(const Context& ctx, const ContainerState& st, std::string_view config = {});
/// The config.json text the container was created from.
sys::Result<std::string> load_config(const Context& ctx, const std::string& id);
/// The container's status right now.
Status current_status(const Context& ctx, const ContainerState& st);
/// The OCI state JSON (ociVersion, id, status, pid, bundle, annotations, created, owner).
std::string oci_state_json(const ContainerState& st, Status status, bool pretty);
/// Lock a container's state dir for the duration of an operation.
sys::Result<sys::FileLock> lock_container(const Context& ctx, const std::string& id);
/// Ids of every container under the root, sorted.
sys::Result<std::vector<std::string>> list_ids(const Context& ctx);

}  // namespace mydocker::runtime
