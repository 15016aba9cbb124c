// Process helpers over /proc and pidfds: start times (pid reuse detection), liveness, waits.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sys/error.h"
#include "sys/fd.h"

namespace mydocker::sys {

/// What /proc/PID/stat says about a process.
struct ProcStat {
    char state = '?';        // R, S, D, Z, T, X ...
    pid_t ppid = 0;
    uint64_t start_time = 0;  // clock ticks since boot (field 22)
};

/// Parse /proc/PID/stat; not_found if the process is gone.
Result<ProcStat> read_proc_stat(pid_t pid);
/// True if `pid` is alive (not a zombie) and started at `start_time` (0 = don't check).
bool process_alive(pid_t pid, uint64_t start_time);
/// pidfd_open(2).
Result<UniqueFd> pidfd_open(pid_t pid);
/// pidfd_send_signal(2).
Result<void> pidfd_signal(int pidfd, int sig);
/// Wait until the process behind `pidfd` exits, at most `timeout_ms` (-1 forever).
/// Returns true if it exited.
bool pidfd_wait_exit(int pidfd, int timeout_ms);
/// waitpid(2) retrying EINTR; returns the raw status.
Result<int> wait_pid(pid_t pid);
/// The shell convention for a wait status: the exit code, or 128 + signal.
int exit_code_of(int wait_status);
/// Set FD_CLOEXEC on or off.
Result<void> set_cloexec(int fd, bool on);
/// A NULL-terminated argv/envp view of `v` for execve (valid while `v` lives).
std::vector<char*> exec_strings(const std::vector<std::string>& v);
/// Duplicate `fd` to a number >= `min_fd` (CLOEXEC) and close the old one.
Result<void> move_fd_above(UniqueFd& fd, int min_fd);

}  // namespace mydocker::sys
