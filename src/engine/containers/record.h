// A container's record: one JSON file (<root>/containers/<id>/container.json) written
// atomically, in the shape `mydocker inspect` prints (Docker's field names). Names are
// reserved by a symlink <root>/containers/names/<name> -> <id>: symlink(2) is atomic, so two
// `run --name x` at once cannot both win.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/networks/networks.h"
#include "sys/error.h"
#include "sys/lock.h"

namespace mydocker::engine::containers {

struct MountRecord {
    std::string type;  // bind, volume, tmpfs
    std::string name;  // volume name
    std::string source;
    std::string destination;
    bool rw = true;
    std::string options;  // tmpfs options
};

/// --log-driver and --log-opt (inspect: HostConfig.LogConfig), validated.
struct LogConfig {
    std::string type = "json-file";  // json-file | none
    std::map<std::string, std::string> config;
    /// False for --log-driver none: nothing of the output is kept.
    bool keeps_file() const { return type != "none"; }
};

/// What `run` / `create` asked for: enough to (re)create the bundle on `start`.
struct HostConfig {
    std::vector<std::string> binds;  // as given: "src:dst[:ro]"
    int64_t memory = 0;              // bytes, 0 = unlimited
    int64_t memory_swap = 0;         // bytes incl. memory, -1 = unlimited swap, 0 = unset
    int64_t nano_cpus = 0;
    uint64_t cpu_shares = 0;
    std::string cpuset_cpus;
    int64_t pids_limit = 0;
    bool privileged = false;
    std::vector<std::string> cap_add;
    std::vector<std::string> cap_drop;
    // --security-opt as docker records it: seccomp=FILE holds the file's profile itself.
    std::vector<std::string> security_opt;
    bool readonly_rootfs = false;
    bool auto_remove = false;
    bool init = false;
    std::map<std::string, std::string> tmpfs;  // path -> options
    std::vector<std::string> ulimits;          // "nofile=1024:2048"
    std::string cgroup_parent = "mydocker";
    // "systemd": the container's cgroup is a transient scope of systemd's (podman's
    // --cgroup-manager); "cgroupfs": a directory under cgroup_parent.
    std::string cgroup_manager = "cgroupfs";
    // bridge (the default), none, host, container:<id>, or a network's name.
    std::string network_mode = "bridge";
    std::vector<networks::PortBinding> port_bindings;  // -p (host_port 0: any free one)
    bool publish_all = false;                          // -P: every exposed port
    std::vector<std::string> dns;                      // --dns
    std::vector<std::string> extra_hosts;              // --add-host NAME:IP
    LogConfig log_config;
};

struct ContainerConfig {
    std::string hostname;
    std::string user;
    std::vector<std::string> env;
    std::vector<std::string> cmd;
    std::vector<std::string> entrypoint;
    std::string working_dir;
    std::map<std::string, std::string> labels;
    bool tty = false;
    bool open_stdin = false;
    std::string image;  // the reference the user gave
    std::string stop_signal;
    std::vector<std::string> exposed_ports;  // "80/tcp": the image's and -p's
};

/// The container's networks (in order: the first one has the default route) and, while it
/// runs, what they gave it.
struct NetworkSettings {
    std::vector<networks::Endpoint> endpoints;
    std::vector<networks::PortBinding> ports;  // bound host ports
};

struct State {
    std::string status = "created";  // created running paused exited dead
    pid_t pid = 0;
    uint64_t pid_start = 0;  // start time of pid (/proc/<pid>/stat field 22): pid reuse check
    pid_t monitor_pid = 0;
    int exit_code = 0;
    bool oom_killed = false;
    std::string started_at = "0001-01-01T00:00:00Z";
    std::string finished_at = "0001-01-01T00:00:00Z";
    std::string error;
};

struct Container {
    std::string id;
    std::string name;  // without Docker's leading "/"
    std::string created;
    std::string image_id;
    std::string path;               // argv[0] of the process
    std::vector<std::string> args;  // the rest
    ContainerConfig config;
    HostConfig host;
    State state;
    std::vector<MountRecord> mounts;
    NetworkSettings network;
    std::string log_path;
    int restart_count = 0;
};

/// JSON of a record (inspect's shape) and back.
std::string to_json(const Container& c, bool pretty);
sys::Result<Container> from_json(const std::string& text);

/// Random 64-hex id; random "adjective_name" like Docker's.
std::string new_id();
std::string random_name();
/// Docker's name rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+ .
bool valid_name(const std::string& name);

class Store {
public:
    explicit Store(const Context& ctx);
    const std::string& dir() const { return dir_; }
    std::string container_dir(const std::string& id) const;
    /// Reserve `name` for `id` (already_exists when taken: Docker's "Conflict" message).
    sys::Result<void> reserve_name(const std::string& name, const std::string& id);
    /// Make container_dir(id), empty (an error if it exists).
    sys::Result<void> make_dir(const std::string& id);
    void release_name(const std::string& name, const std::string& id);
    /// Find by full id, unique id prefix or name.
    sys::Result<std::string> find(const std::string& ref);
    sys::Result<Container> load(const std::string& id);
    sys::Result<void> save(const Container& c);
    /// Lock one container's record for a read-modify-write (and state transitions).
    sys::Result<sys::FileLock> lock(const std::string& id);
    /// Every container, newest first. Records that fail to parse are skipped with a warning.
    sys::Result<std::vector<Container>> list();

private:
    sys::Result<void> make_by_rename(const std::string& id, const std::string& entry,
                                     const std::function<int(const char*)>& make, const std::string& to);

    const Context& ctx_;
    std::string dir_;
};

}  // namespace mydocker::engine::containers
