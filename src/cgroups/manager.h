// cgroups::Manager: one interface over cgroup v1 and v2 (DESIGN.md "cgroups/").
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "cgroups/resources.h"
#include "sys/error.h"
#include "sys/log.h"

namespace mydocker::cgroups {

enum class Version { v1, v2 };

enum class FreezerState { thawed, frozen };

/// A snapshot of usage counters, as far as the driver can read them.
struct Stats {
    uint64_t memory_usage = 0;
    uint64_t memory_limit = 0;
    uint64_t memory_max_usage = 0;
    uint64_t cpu_usage_ns = 0;
    uint64_t pids_current = 0;
    uint64_t pids_limit = 0;  // 0 = unlimited
    uint64_t oom_kills = 0;   // memory.events oom_kill (v2) / oom_control oom_kill (v1)
};

/// Where a container's cgroup lives. `root` is the cgroupfs mount directory
/// ("/sys/fs/cgroup" on a real host, a temp dir filled like cgroupfs in tests);
/// `path` is the container's cgroup path relative to the hierarchy root ("/default/abc").
struct Config {
    std::string root = "/sys/fs/cgroup";
    std::string path;
    // Tests only: plain directories under `root` stand for mounted hierarchies (a fake
    // cgroupfs). Otherwise a hierarchy is what is mounted there, whatever other tools left as
    // plain directories beside them.
    bool fake_fs = false;
};

/// A container's cgroup. Created by `apply`, limited by `set`, joined by `add_process`.
class Manager {
public:
    virtual ~Manager() = default;

    virtual Version version() const = 0;
    /// The cgroup path relative to the hierarchy root, as given.
    virtual const std::string& path() const = 0;

    /// Create the cgroup directories (and enable v2 controllers in parents). Idempotent:
    /// true if it made the cgroup (its directory in any hierarchy), false if it was there.
    virtual sys::Result<bool> apply() = 0;
    /// Write the limits of `r` into the cgroup; the first failing file is named in the error.
    virtual sys::Result<void> set(const Resources& r) = 0;
    /// Move process `pid` into the cgroup (every hierarchy on v1).
    virtual sys::Result<void> add_process(pid_t pid) = 0;
    /// The cgroup2 directory a child can be created in with clone3(CLONE_INTO_CGROUP): the v2
    /// cgroup, or the unified part of a hybrid layout; "" when there is none.
    virtual std::string clone_into_dir() const = 0;
    /// Called by a single-threaded process on itself: join every hierarchy that
    /// clone_into_dir() does not cover by writing "0" into v1 `tasks`. Moving only the calling
    /// thread lets the kernel skip the global threadgroup lock that a write of a pid into
    /// cgroup.procs takes (an RCU grace period: 5-15 ms here, most of a container start).
    virtual sys::Result<void> join_self_v1() = 0;
    /// The files join_self_v1() writes "0" into, in its order (v1: each hierarchy's `tasks`),
    /// so that a parent can open them for the process that joins; none on v2.
    virtual std::vector<std::string> self_join_files() const { return {}; }
    /// True when the cgroup cannot exist before its first process (a systemd scope): the
    /// caller then sets the limits and adds the process after the clone, never self-joins.
    virtual bool needs_process_to_apply() const { return false; }
    /// Freeze or thaw every process in the cgroup; returns once the kernel reports the state.
    virtual sys::Result<void> freeze(FreezerState state) = 0;
    /// The current freezer state.
    virtual sys::Result<FreezerState> freezer_state() const = 0;
    /// Every pid in the cgroup and its descendants.
    virtual sys::Result<std::vector<pid_t>> pids() const = 0;
    /// Usage counters.
    virtual sys::Result<Stats> stats() const = 0;
    /// How many processes the OOM killer took (Stats::oom_kills alone: one file read).
    virtual sys::Result<uint64_t> oom_kills() const = 0;
    /// True if the cgroup (any of its hierarchies) still exists.
    virtual bool exists() const = 0;
    /// Remove the cgroup directories (children first); missing ones are fine.
    virtual sys::Result<void> destroy() = 0;
    /// The absolute directory of one controller's cgroup ("memory" on v1; any name on v2).
    virtual std::string controller_path(const std::string& controller) const = 0;
};

/// Which cgroup layout `root` holds: v2 if it is a cgroup2 mount, else v1 (tmpfs of
/// per-controller mounts, with or without a cgroup2 "unified" mount: the hybrid layout).
sys::Result<Version> detect_version(const std::string& root = "/sys/fs/cgroup");

/// The manager for `cfg`, of the version the host has (`detect_version(cfg.root)`).
sys::Result<std::unique_ptr<Manager>> make_manager(const Config& cfg, const sys::Logger& log);

/// The manager for `cfg` with an explicit version (tests use fake cgroupfs dirs).
std::unique_ptr<Manager> make_manager(Version v, const Config& cfg, const sys::Logger& log);

}  // namespace mydocker::cgroups
