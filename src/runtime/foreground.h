// Foreground processes (run, exec without -d): forward signals, copy a pty, reap, exit code.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <functional>
#include <string_view>

#include "sys/error.h"

namespace mydocker::runtime {

/// Block the signals a foreground runtime forwards, before the child exists, so none is
/// lost or kills us in between. Returns the previous mask via `old`.
void block_forwarded_signals(sigset_t* old);

/// Wait for `pid` to exit while forwarding signals to it; when `pty_master` >= 0, copy stdin
/// to it and its output to stdout (raw mode on a tty stdin, restored after), and to
/// `on_output` when given (the engine's log). Returns the exit code (128 + signal when killed).
sys::Result<int> wait_foreground(pid_t pid, int pty_master,
                                 const std::function<void(std::string_view)>& on_output = {});

}  // namespace mydocker::runtime
