// Helpers shared by the v1 and v2 drivers: knob I/O, filesystem checks, polling, tree walks.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sys/error.h"
#include "sys/files.h"

namespace mydocker::cgroups {

/// Write `value` to the cgroup knob `path` (no O_CREAT); errors read
/// `write "<value>" to "<path>": <strerror>`.
sys::Result<void> write_knob(const std::string& path, std::string_view value);
/// Write each of `values` to the knob `path` in turn, as write_knob would. On a real cgroupfs
/// (which parses every write(2) on its own) one fd serves them all.
sys::Result<void> write_knob_values(const std::string& path, const std::vector<std::string_view>& values);
/// Read a knob and strip surrounding whitespace.
sys::Result<std::string> read_knob(const std::string& path);
/// Read a knob as an unsigned number; "max" (and v1's "-1") read as nullopt.
sys::Result<std::optional<uint64_t>> read_knob_u64(const std::string& path);
/// The value of `key` in a flat-keyed file ("key value" per line: cpu.stat, memory.events).
std::optional<uint64_t> keyed_value(std::string_view content, std::string_view key);

/// True if `path` is on a cgroup2 filesystem.
bool is_cgroup2_fs(const std::string& path);
/// True if `path` is on a cgroup v1 filesystem.
bool is_cgroup1_fs(const std::string& path);
// is_dir follows symlinks: v1 hosts link "cpu" -> "cpu,cpuacct".
using sys::is_dir;

/// Split a cgroup path into its components; rejects ".." (a path must stay under the root).
sys::Result<std::vector<std::string>> split_cgroup_path(const std::string& path);

/// Call `done` until it returns true or `timeout_ms` passes, sleeping 1 ms growing to 20 ms.
/// Returns the last result of `done`.
bool poll_until(const std::function<bool()>& done, int timeout_ms);

/// Append the pids in `dir`/cgroup.procs and in every descendant cgroup to `out`.
sys::Result<void> collect_pids(const std::string& dir, std::vector<pid_t>& out);

/// Remove the cgroup directory `dir` and its descendants, children first. ENOENT is fine;
/// EBUSY (tasks still exiting) is retried for up to `busy_timeout_ms`.
sys::Result<void> remove_cgroup_tree(const std::string& dir, int busy_timeout_ms = 2000);

}  // namespace mydocker::cgroups
