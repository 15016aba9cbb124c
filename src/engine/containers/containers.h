// Containers of the engine: records, run / create / start / stop / kill / rm, exec, ps,
// inspect, commit and the per-container overlay. The engine calls the runtime library
// in-process: a container here is an OCI bundle under <root>/containers/<id>/ plus the
// runtime's state under <run_root>/<id>/.
#pragma once

#include <set>
#include <string>

#include "engine/context.h"
#include "runtime/netns.h"
#include "sys/error.h"

namespace mydocker::engine::containers {

/// Ids of the images any container (running or not) was created from: `rmi` refuses them.
sys::Result<std::set<std::string>> images_in_use(const Context& ctx);
/// Names of the named volumes any container mounts: `volume rm` refuses them.
sys::Result<std::set<std::string>> volumes_in_use(const Context& ctx);

}  // namespace mydocker::engine::containers

#include <optional>
#include <vector>

#include "engine/containers/options.h"
#include "engine/containers/record.h"

namespace mydocker::engine::containers {

/// Exit code `run` gives for an error: 126 (not executable), 127 (not found), else 125.
int run_exit_code(const sys::Error& e);

/// `create`: validate, resolve the image, reserve the name, write the record (status
/// created) and the container's dirs. Nothing is left behind on error.
sys::Result<Container> create(const Context& ctx, const RunRequest& req);
/// `run` in the foreground: create, start, copy the output (and the log), forward signals,
/// wait; returns the container's exit code. `ahead`: a network namespace the caller started
/// making (runtime::PendingNetns), used if the container gets one of its own.
sys::Result<int> run_foreground(const Context& ctx, const RunRequest& req, runtime::PendingNetns ahead = {});
/// `run -d`: create, then start under a monitor process. Once the container runs, writes its
/// id and a newline to `out_fd` and ends the process with status 0 (the monitor may run on
/// this process's memory, see monitor_process.h); returns only on failure, with the error, nothing
/// of the container left. `ahead`: as above.
sys::Error run_detached_and_exit(const Context& ctx, const RunRequest& req, int out_fd,
                                 runtime::PendingNetns ahead = {});
/// `start` of a created or exited container, detached (under a monitor).
sys::Result<void> start(const Context& ctx, const std::string& ref);
/// `stop`: the stop signal (SIGTERM), then SIGKILL after `timeout` seconds.
sys::Result<void> stop(const Context& ctx, const std::string& ref, int timeout);
/// `kill -s SIG`.
sys::Result<void> kill(const Context& ctx, const std::string& ref, int sig);
/// `rm`: refused for a running container unless force (then killed); `volumes` removes
/// its anonymous volumes.
sys::Result<void> remove(const Context& ctx, const std::string& ref, bool force, bool volumes);
/// `wait`: block until the container is not running; its exit code.
sys::Result<int> wait(const Context& ctx, const std::string& ref);
sys::Result<void> pause(const Context& ctx, const std::string& ref);
sys::Result<void> unpause(const Context& ctx, const std::string& ref);
sys::Result<void> rename(const Context& ctx, const std::string& ref, const std::string& new_name);
/// The record, with a container whose process vanished (monitor killed) marked exited.
sys::Result<Container> inspect(const Context& ctx, const std::string& ref);
/// Every container (ps -a), reconciled like inspect().
sys::Result<std::vector<Container>> list(const Context& ctx);
/// Host pids of the container's processes.
sys::Result<std::vector<pid_t>> top(const Context& ctx, const std::string& ref);
/// `network connect NETWORK CONTAINER [--ip IP]`: live when it runs, else at its next start.
sys::Result<void> connect(const Context& ctx, const std::string& network, const std::string& ref, const std::string& ip);
/// `network disconnect NETWORK CONTAINER`.
sys::Result<void> disconnect(const Context& ctx, const std::string& network, const std::string& ref);
/// Remove every stopped container; returns their ids.
sys::Result<std::vector<std::string>> prune(const Context& ctx);

struct ExecRequest {
    std::vector<std::string> command;
    std::vector<std::string> env;
    std::string workdir, user;
    bool interactive = false, tty = false, detach = false, privileged = false;
};
/// `exec`: a new process in the running container (its namespaces, cgroup, root, env).
sys::Result<int> exec(const Context& ctx, const std::string& ref, const ExecRequest& req);

/// `commit`: a new image from the container's changes; returns the image id.
sys::Result<std::string> commit(const Context& ctx, const std::string& ref, std::optional<std::string> name,
                                const std::string& author, const std::string& message);
/// `export`: the container's filesystem as a tar on out_fd.
sys::Result<void> export_fs(const Context& ctx, const std::string& ref, int out_fd);

}  // namespace mydocker::engine::containers
