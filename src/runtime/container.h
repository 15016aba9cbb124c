// The runtime's operations: one function per OCI / runc command. The CLI front-ends and the
// engine call these in-process.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cgroups/manager.h"
#include "runtime/context.h"
#include "runtime/spec.h"
#include "runtime/state.h"
#include "sys/error.h"

namespace mydocker::runtime {

struct CreateOptions {
    std::string id;
    std::string bundle = ".";
    std::string pid_file;
    std::string console_socket;
    bool no_pivot = false;
    bool no_new_keyring = false;  // keep the caller's session keyring instead of a new one
    unsigned preserve_fds = 0;
    // The process's stdin, stdout, stderr (the engine's pipes); -1 = the caller's own 0/1/2.
    int stdio[3] = {-1, -1, -1};
    // Foreground run with a terminal and no console socket: the caller receives the pty
    // master here instead (it copies between its stdio and the pty).
    int* console_master_out = nullptr;
    // A new network namespace gets its loopback device up, by init itself (docker's
    // `--network none`; the OCI spec leaves lo down, and mydocker-runc does too).
    bool loopback_up = false;
    // A detached mount of the rootfs (fsmount(2)) made by the caller, or -1: init attaches it
    // on root.path in the container's own mount namespace, instead of binding root.path onto
    // itself, so the caller's mount table never holds it (the engine's overlay).
    int rootfs_mount = -1;
    // Called once init is cloned, in its cgroup and its state recorded, while it finishes its
    // mounts (the two run side by side): the caller's own bookkeeping for the container, off
    // the path to READY. An error fails the create, which then undoes everything.
    std::function<sys::Result<void>(const ContainerState&)> while_init_prepares;
    // The config's text for the state, made only once init is cloned (the caller has it as a
    // document, and writes it out there too), when the text given to create is empty.
    std::function<sys::Result<std::string>()> config_text_later;
};

/// Create a container from a bundle: validate, cgroup, clone init, set up, wait for start.
/// Returns the init's host pid. On any error nothing is left behind.
sys::Result<pid_t> create(const Context& ctx, const CreateOptions& opts);
/// Create from an already parsed spec (the engine builds specs in memory).
sys::Result<pid_t> create(const Context& ctx, const CreateOptions& opts, Spec spec,
                          const std::string& config_text);
/// Start a created container: release init to execve, then run poststart hooks.
sys::Result<void> start(const Context& ctx, const std::string& id);

struct RunOptions {
    CreateOptions create;
    bool detach = false;
    bool keep = false;
};
/// create + start; unless detached, wait for the process, forward signals, delete it
/// (unless keep), and return its exit code (128 + signal if killed).
sys::Result<int> run(const Context& ctx, const RunOptions& opts);

/// The container's OCI state.
sys::Result<std::string> state_json(const Context& ctx, const std::string& id);
/// Send `sig` to init, or to every process of the container (`all`).
sys::Result<void> kill(const Context& ctx, const std::string& id, int sig, bool all);
/// Delete a stopped (or created) container; `force` kills a running one first.
sys::Result<void> remove(const Context& ctx, const std::string& id, bool force);
/// delete --force of a container whose init has exited, returning how many of its processes
/// the OOM killer took (read before the cgroup goes): one state load, one cgroup lookup.
sys::Result<uint64_t> remove_exited(const Context& ctx, const std::string& id);

struct ListEntry {
    ContainerState state;
    Status status;
};
sys::Result<std::vector<ListEntry>> list(const Context& ctx);
/// Host pids of every process in the container.
sys::Result<std::vector<pid_t>> pids(const Context& ctx, const std::string& id);
/// The container cgroup's counters (memory, cpu, pids, OOM kills).
sys::Result<cgroups::Stats> stats(const Context& ctx, const std::string& id);
sys::Result<void> pause(const Context& ctx, const std::string& id);
sys::Result<void> resume(const Context& ctx, const std::string& id);
/// Apply new resource limits to a running container.
sys::Result<void> update(const Context& ctx, const std::string& id, const cgroups::Resources& r);

struct ExecOptions {
    std::string id;
    std::optional<Process> process;  // from -p; otherwise built from the fields below
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::string cwd;
    std::optional<std::string> user;  // "uid[:gid]"
    std::vector<uint32_t> additional_gids;
    std::vector<std::string> cap_add;
    std::optional<bool> tty;
    bool no_new_privs = false;
    bool detach = false;
    std::string pid_file;
    std::string console_socket;
    unsigned preserve_fds = 0;
};
/// Run a new process in a running container. Detached: returns 0 once it is exec'd.
/// Otherwise waits and returns its exit code.
sys::Result<int> exec(const Context& ctx, const ExecOptions& opts);

}  // namespace mydocker::runtime
