// Inside the runtime: what `create` hands to `start` and `delete` when one process does all
// three (`run`), so none of them reads back from the state dir what it has in memory.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "cgroups/manager.h"
#include "runtime/container.h"
#include "runtime/spec.h"
#include "runtime/state.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/lock.h"

namespace mydocker::runtime {

/// A container this process created, with what it knows of it.
struct Created {
    ContainerState state;
    std::vector<Hook> poststart, poststop;
    // With `start_over_sync`, init waits for START on this socket instead of on exec.fifo.
    sys::UniqueFd start_sock;
    sys::FileLock lock;  // the state dir's lock, held from create until start
    dev_t dir_dev = 0;   // the state dir we made: delete leaves alone one that replaced it
    ino_t dir_ino = 0;
    std::unique_ptr<cgroups::Manager> cgroup;  // the container's, with what it looked up
};

/// create(): everything up to init waiting for start. With `start_over_sync` (run), no
/// exec.fifo is made: start_created() releases init over the sync socket.
sys::Result<Created> create_container(const Context& ctx, const CreateOptions& opts, Spec spec,
                                      const std::string& config_text, bool start_over_sync);
/// start() of a container from create_container(): release init, then the poststart hooks.
sys::Result<void> start_created(const Context& ctx, Created& c);
/// delete --force of a container from create_container(), once its init was reaped by us.
sys::Result<void> remove_created(const Context& ctx, const Created& c);

/// Until /proc/PID/exe stops being this program (init has execve'd), the process is gone, or
/// 10 s passed.
void wait_for_exec(pid_t pid, uint64_t pid_start);
/// Tear a container down: every process gone, poststop hooks (`poststop`, or the recorded
/// config's when null), cgroup (through `mgr` when given) and state dir removed.
sys::Result<void> destroy(const Context& ctx, const ContainerState& st, const std::vector<Hook>* poststop,
                          cgroups::Manager* mgr = nullptr);

}  // namespace mydocker::runtime
