// The init stage: what the cloned child does between clone() and execve() (see sync.h for
// the protocol with the parent). Also the steps `exec` shares with it.
#pragma once

#include <sched.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cgroups/manager.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"
#include "sys/error.h"

namespace mydocker::runtime {

/// Everything init needs, prepared by the parent before clone(); the child's copy of the
/// parent's memory carries it (no argv, no re-exec).
struct InitConfig {
    const Spec* spec = nullptr;
    int rootfs_mount = -1;  // CreateOptions::rootfs_mount
    int sync_fd = -1;
    int fifo_fd = -1;
    int console_fd = -1;  // console socket (connected), or -1
    std::vector<std::pair<NamespaceType, int>> join_ns;  // setns targets (not pid: the parent joined it)
    bool new_user_ns = false;
    bool joined_user_ns = false;  // linux.namespaces user with a path (joined here or by a bridge)
    bool new_cgroup_ns = false;
    bool no_pivot = false;
    bool no_new_keyring = false;  // keep the caller's session keyring (runc's --no-new-keyring)
    bool parent_hooks = false;  // prestart / createRuntime hooks: ask the parent to run them
    // The parent sends CONTINUE before it joins the cgroup and CGROUP_READY after: init mounts
    // the rootfs meanwhile (see sync.h). False when a new cgroup namespace needs the cgroup first.
    bool early_continue = false;
    bool self_join = false;           // init joins its cgroup itself (create.cpp explains)
    bool cloned_into_cgroup = false;  // clone3 put init in the cgroup2 part already
    // The parent creates the cgroup after the clone (see sync.h): CGROUP_TREE when it exists,
    // CGROUP_READY once its limits are set; init joins it then.
    bool defer_cgroup = false;
    int unshare_flags = 0;         // CLONE_NEW* init makes itself, after CONTINUE
    bool loopback_up = false;      // set "lo" up in the new network namespace (CreateOptions)
    bool start_over_sync = false;  // wait for START on the sync socket, not on exec.fifo
    // The parent moved init off its CPU for the deferred-cgroup phase (create.cpp); init
    // takes back this, the parent's own affinity, when it joins the cgroup.
    bool restore_affinity = false;
    cpu_set_t affinity{};
    cgroups::Manager* cgroup = nullptr;
    const SeccompFilter* seccomp = nullptr;
    unsigned preserve_fds = 0;
    int stub_fd = -1;             // the sealed exec stub (stub.h): the process is exec'd through it
    int stdio[3] = {-1, -1, -1};  // dup2'd onto 0, 1, 2 first when >= 0
    std::vector<int> idmap_fds;   // per spec mount: its id-mapped tree (idmap.h), or -1
    std::string cgroup_path;
    std::string cgroup_root;
    std::string id;
    std::string bundle;
};

/// The container's init: never returns.
[[noreturn]] void init_main(const InitConfig& cfg);

struct ExecConfig {
    const Process* process = nullptr;
    int sync_fd = -1;
    int console_fd = -1;
    int root_fd = -1;  // /proc/<init>/root of the container
    int stub_fd = -1;  // the sealed exec stub (stub.h): it forks the process into the pid namespace
    std::vector<std::pair<NamespaceType, int>> join_ns;  // pid too: joined for the stub's child
    bool container_user_ns = false;
    const SeccompFilter* seccomp = nullptr;
    unsigned preserve_fds = 0;
};

/// The child of `exec`: joins the container and execs; never returns.
[[noreturn]] void exec_main(const ExecConfig& cfg);

/// Open a pty in the current mount namespace, send its master over `console_sock`, make the
/// slave our stdio (and controlling terminal when `controlling`); bind it onto /dev/console
/// when `console`.
sys::Result<void> setup_console(int console_sock, const std::optional<ConsoleSize>& size, bool console,
                                bool controlling = true);

/// Look `file` up in the PATH of `env` (or take it as a path if it has a '/').
sys::Result<std::string> find_executable(const std::string& file, const std::vector<std::string>& env);

}  // namespace mydocker::runtime
