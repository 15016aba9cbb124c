// The sealed stub every container process is exec'd through (CVE-2019-5736; src/stub/stub.c
// says why and what it does). The runtime never calls execve for the container itself.
#pragma once

#include <string>
#include <vector>

#include "sys/error.h"
#include "sys/fd.h"

namespace mydocker::runtime {

/// A sealed, close-on-exec memfd holding the stub: what a container can reach through
/// /proc/PID/exe of the processes we start in it, and can neither write, grow nor shrink.
sys::Result<sys::UniqueFd> sealed_stub();

/// init's last step: exec `path` with `args` and `env` through the stub. Returns only when
/// the stub itself could not be executed (errno set).
void exec_through_stub(int stub_fd, const std::string& path, const std::vector<std::string>& args,
                       const std::vector<std::string>& env);

/// exec's last step: the stub forks the process into the pid namespace joined for our
/// children, reports its pid on `sync_fd` (SyncType::exec_pid) and exits; the process becomes
/// a session leader (with the terminal on fd 0 as controlling tty when `tty`) and execs.
/// Returns only when the stub could not be executed (errno set).
void fork_through_stub(int stub_fd, int sync_fd, bool tty, const std::string& path,
                       const std::vector<std::string>& args, const std::vector<std::string>& env);

}  // namespace mydocker::runtime
