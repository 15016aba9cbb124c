// `run` / `create` flags, validated into the container's record before anything is created.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/containers/record.h"
#include "engine/images/store.h"
#include "sys/error.h"

namespace mydocker::engine::containers {

/// The flags of `run` and `create` as the user typed them.
struct RunRequest {
    std::string image;
    std::vector<std::string> command;              // after IMAGE
    std::optional<std::string> entrypoint;         // --entrypoint ("" clears the image's)
    std::string name;
    std::vector<std::string> env;                  // -e KEY=value or KEY (taken from our env)
    std::vector<std::string> env_files;
    std::vector<std::string> volumes;              // -v
    std::vector<std::string> tmpfs;                // --tmpfs /path[:options]
    std::string memory, memory_swap, cpus, cpuset_cpus;
    int64_t cpu_shares = 0;
    int64_t pids_limit = 0;
    std::string workdir, user, hostname;
    std::vector<std::string> cap_add, cap_drop, ulimits, labels;
    std::vector<std::string> security_opts;        // --security-opt
    std::string network = "bridge";                // --network
    std::string ip;                                // --ip (a user network's address)
    std::vector<std::string> publish;              // -p
    bool publish_all = false;                      // -P
    std::vector<std::string> expose;               // --expose PORT[/PROTO]
    std::vector<std::string> dns, add_hosts;       // --dns, --add-host
    std::string cgroup_parent = "mydocker";
    std::string cgroup_manager = "cgroupfs";       // --cgroup-manager cgroupfs | systemd
    std::string log_driver = "json-file";          // --log-driver json-file | none
    std::vector<std::string> log_opts;             // --log-opt KEY=VALUE
    std::string pull = "missing";                  // --pull missing | always | never
    bool interactive = false, tty = false, detach = false, rm = false;
    bool read_only = false, init = false, privileged = false;
};

/// One parsed -v: a bind (source absolute), a named volume, or an anonymous one (name empty).
struct VolumeSpec {
    std::string type;  // bind | volume
    std::string source;
    std::string destination;
    bool rw = true;
};
sys::Result<VolumeSpec> parse_volume(const std::string& spec);
/// "KEY=value" stays; "KEY" takes our own value (dropped when unset), as docker does.
std::vector<std::string> resolve_env(const std::vector<std::string>& env);
/// Lines of an --env-file: KEY=value / KEY, '#' comments and blank lines skipped.
sys::Result<std::vector<std::string>> parse_env_file(const std::string& text, const std::string& path);
/// Merge env lists: later KEY=... replaces an earlier one.
std::vector<std::string> merge_env(const std::vector<std::string>& base, const std::vector<std::string>& over);
/// "--cpus 1.5" -> 1500000000 nano cpus.
/// The CPUs this process may run on (its affinity), as docker's runtime.NumCPU.
long available_cpus();
/// `--cpus` in nano-CPUs: from 0.01 to `host_cpus`, as docker allows.
sys::Result<int64_t> parse_cpus(const std::string& s, long host_cpus);
/// "nofile=1024[:2048]" -> {RLIMIT name, soft, hard}.
struct Ulimit {
    std::string type;  // RLIMIT_NOFILE
    uint64_t soft = 0, hard = 0;
};
sys::Result<Ulimit> parse_ulimit(const std::string& s);
/// A capability name with or without CAP_ (any case) -> "CAP_X"; "ALL" stays.
sys::Result<std::string> normalize_cap(const std::string& s);

/// Validate every flag and combine it with the image config into a record (not saved).
/// Nothing is created here.
sys::Result<Container> prepare(const RunRequest& req, const images::Image& image);

}  // namespace mydocker::engine::containers
