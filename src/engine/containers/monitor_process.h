// Starting a container's monitor, the process that starts the container and stays its parent
// (lifecycle.cpp: monitor_run, monitor_main): forked (`start`), or on the caller's own memory
// (`run -d`), and how it reports back.
#pragma once

#include <functional>
#include <string>

#include "engine/context.h"
#include "sys/error.h"

namespace mydocker::engine::containers {

/// The fds a monitor starts with, -1 where there is none: the pipe it reports on (first "ok
/// ID\n" once the container runs, or report_error's line); a network namespace made ahead for
/// the container (runtime::PendingNetns); a socket the namespace will come over
/// (runtime::PendingNetns::receive).
struct MonitorFds {
    int ready = -1;
    int netns = -1;
    int netns_sock = -1;
};

/// What a monitor runs (its exit status).
using MonitorBody = std::function<int(const Context& mctx, const MonitorFds& fds)>;

/// "errno=N message" on `ready_fd` (N: 0 unless a system error, whose message then ends in N's
/// text), then the pipe is closed: the caller reads it up to EOF.
void report_error(int ready_fd, const sys::Error& e);

/// Fork the monitor, which runs `body` and reports over a pipe; returns the container's id
/// once it runs. `netns`: a network namespace made ahead for the container, or -1.
sys::Result<std::string> fork_monitor(const Context& ctx, int netns, const MonitorBody& body);

/// fork_monitor for a command that ends once the monitor reports, with the monitor on this
/// process's memory (clone(CLONE_VM)); with `make_netns`, this process makes the container's
/// network namespace meanwhile and hands it over. On "ok ID": writes "ID\n" to `out_fd` and
/// exits with status 0. Returns only the error of a monitor that failed (and is reaped).
/// Needs sys::kHaveRawSyscall; see monitor_process.cpp for what it asks of the caller.
sys::Error clone_monitor_and_exit(const Context& ctx, int netns, bool make_netns, const MonitorBody& body, int out_fd);

}  // namespace mydocker::engine::containers
