// The loop that sits beside a running container (in the monitor, or in the CLI for a
// foreground run): copies its output to the log (and to our stdout/stderr in the
// foreground), feeds its stdin, forwards signals, and returns when it exits.
#pragma once

#include <sys/types.h>

#include <functional>

#include "engine/containers/record.h"
#include "engine/logs/logs.h"
#include "sys/error.h"

namespace mydocker::engine::containers {

struct SuperviseIo {
    int out = -1;       // container stdout (pipe read end), or the pty master
    int err = -1;       // container stderr (pipe read end)
    int in = -1;        // container stdin (pipe write end), fed from src_in; supervise closes it
    int src_in = -1;    // our stdin (foreground -i)
    int tee_out = -1;   // foreground: copy stdout here
    int tee_err = -1;   // foreground: copy stderr here
    bool forward_signals = false;
    // The write end of a pipe our caller reads (the monitor's ready pipe): once the caller has
    // gone (POLLERR), or after a second, `when_caller_gone` runs once and the fd is closed.
    int caller = -1;
    std::function<void()> when_caller_gone;
};

/// Run the loop until `pid` (our child) exits; returns its wait status. The forwarded
/// signals must have been blocked (runtime::block_forwarded_signals) before the child existed.
sys::Result<int> supervise(pid_t pid, SuperviseIo io, logs::JsonFileWriter* log);

/// The writer of the container's log, as its LogConfig says (json-file with its rotation, or
/// none: nothing kept).
sys::Result<logs::JsonFileWriter> open_log(const Container& c);

}  // namespace mydocker::engine::containers
