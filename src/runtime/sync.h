// The parent <-> init protocol: typed messages over one SOCK_SEQPACKET socketpair.
//
//   parent (create / run / exec)              child (init stage, or exec setup)
//   ----------------------------              ---------------------------------
//   clone(new namespaces) ───────────────────▶ block in wait_for(CONTINUE)
//   [new user ns] write uid_map / gid_map
//   join the cgroup, set resources
//   send CONTINUE {host pid} ────────────────▶ unshare cgroup ns, join namespaces by path,
//                                              mount rootfs and spec mounts
//
//   Joined user namespace + new pid namespace: a bridge process joins the user namespace,
//   unshares the pid namespace and clones init with CLONE_PARENT (so init is still the
//   parent's child); it reports init's pid over a pipe and exits before this protocol starts.
//
//   Early continue (no new cgroup ns): the parent sends CONTINUE right after the id maps and
//   CGROUP_READY once it has joined the cgroup and set the resources; init waits for
//   CGROUP_READY after the spec mounts, before any hook. On cgroup v1 the first write to
//   cgroup.procs waits for an RCU grace period (5-15 ms): init mounts in the meantime.
//
//                       ◀──────────────────── send HOOKS {}   (only if prestart/createRuntime
//   run prestart + createRuntime hooks                          hooks exist; before pivot_root)
//   send HOOKS_DONE ─────────────────────────▶ createContainer hooks, pivot_root, devices,
//                                              masks, hostname, sysctl, console, rlimits
//                                              [SCMP_ACT_NOTIFY: user, caps, seccomp now, see below]
//                       ◀──────────────────── send READY {}
//   record state, exit (create)               wait on exec.fifo for `start`, then
//                                              startContainer hooks, user, caps, seccomp, execve
//
//   Seccomp notify (linux.seccomp.listenerPath): the listener fd exists only once the filter
//   is loaded, and the parent of `create` is gone by `start`; so init finishes the process
//   (user, caps, seccomp) before READY, and right after loading the filter:
//                       ◀──────────────────── send SECCOMP_FD {listener fd}
//   connect to listenerPath, send the state
//   + fd (SCM_RIGHTS), close
//   send SECCOMP_DONE ───────────────────────▶ close the listener fd, go on (READY)
//   If the agent cannot be reached the parent fails the create and kills init (which only
//   waits on the socket: EOF ends it too). `exec` does the same between CONTINUE and its EOF.
//   (run: record state, send START {}) ──────▶ (no exec.fifo: wait for START instead)
//
//   Deferred cgroup (pure v1, no user or cgroup namespace): the cgroup does not exist at the
//   clone. After CONTINUE the parent creates it while init unshares its namespaces and
//   mounts, and sends CGROUP_TREE {fd}: the cgroup exists, and here is the spec's cgroup mount
//   built detached (tmpfs, one bind per hierarchy; no fd: none, or init builds it itself, as
//   without a deferred cgroup). Init waits for it before the first mount that needs the
//   cgroup (or after the mounts) and attaches the tree at the cgroup mount. Then the parent
//   sets the limits and sends CGROUP_READY; init joins the cgroup itself only then: after
//   pivot_root and the masks, just before READY (or before the hooks, if there are any).
//
//   At any point the child may instead send ERROR {errno, message} and _exit(1); every
//   wait_for() turns ERROR into an Error and rejects any other unexpected type. The socket
//   is CLOEXEC: for `exec` the parent takes EOF after CONTINUE as "execve succeeded".
//
//   exec: the child stays in the host's pid namespace (nothing in the container can see it
//   while it runs our binary), joins the other namespaces (pid for its children), enters the
//   root, finishes the process and execs the sealed stub (stub.h) with the socket open; the
//   stub forks the process, born inside the container's mount and pid namespaces:
//                       ◀──────────────────── EXEC_PID {pid}  (stub), then the stub exits
//                       ◀──────────────────── ERROR {errno}   (process, if its execve failed)
//   EOF: the stub is gone and the process has exec'd. The parent is a child subreaper, so
//   the process is its child once the stub is reaped.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sys/error.h"
#include "sys/fd.h"

namespace mydocker::runtime {

enum class SyncType : uint32_t {
    continue_ = 1,  // parent -> child: set-up by the parent is done; `value` = child's host pid
    hooks = 2,      // child -> parent: mounts done, run prestart/createRuntime hooks now
    hooks_done = 3, // parent -> child
    ready = 4,      // child -> parent: init is set up and waits for start
    error = 5,      // child -> parent: `value` = errno, text = message
    cgroup_ready = 6, // parent -> child: init is in its cgroup with the resources set
    start = 7,      // parent -> child: execute the user process now (run: no exec.fifo)
    cgroup_tree = 8,  // parent -> child: the v1 cgroup mount, built detached (fd attached), or none
    seccomp_fd = 9,   // child -> parent: the seccomp notify listener (fd attached)
    seccomp_done = 10,  // parent -> child: the listener reached the agent at listenerPath
    exec_pid = 11,      // exec's stub -> parent: `value` = host pid of the process it forked
};

/// One message. Text is bounded so a message always fits one datagram.
struct SyncMessage {
    SyncType type = SyncType::error;
    int64_t value = 0;
    std::string text;
};

/// Send one message (never blocks long: the peer reads promptly).
sys::Result<void> sync_send(int fd, SyncType type, int64_t value = 0, std::string_view text = {});
/// Receive one message; EOF gives an error with code not_found (peer gone).
sys::Result<SyncMessage> sync_recv(int fd);
/// Receive and require `expected`; an ERROR message becomes the returned Error.
sys::Result<SyncMessage> sync_wait_for(int fd, SyncType expected);
/// Send one message carrying `fds` (SCM_RIGHTS, at most 16; none: the message alone).
sys::Result<void> sync_send_fds(int sock, SyncType type, const std::vector<int>& fds);
/// Receive one message with the fds it carries (EOF: not_found, as sync_recv).
sys::Result<std::pair<SyncMessage, std::vector<sys::UniqueFd>>> sync_recv_fds(int sock);
/// Receive and require `expected`, with the fds it carries.
sys::Result<std::vector<sys::UniqueFd>> sync_wait_for_fds(int sock, SyncType expected);
/// The same for one fd (`fd` < 0: none; an invalid fd back if none came).
sys::Result<void> sync_send_fd(int sock, SyncType type, int fd);
sys::Result<sys::UniqueFd> sync_wait_for_fd(int sock, SyncType expected);
/// Child side: report `e` to the parent. Best effort.
void sync_send_error(int fd, const sys::Error& e);

}  // namespace mydocker::runtime
