// Console sockets: the unix socket over which a pty master is handed to the caller.
#pragma once

#include <string>

#include "sys/error.h"
#include "sys/fd.h"

namespace mydocker::runtime {

/// Connect to the console socket at `path` (runc's --console-socket).
sys::Result<sys::UniqueFd> connect_console_socket(const std::string& path);
/// Receive one fd sent with SCM_RIGHTS (the pty master).
sys::Result<sys::UniqueFd> receive_fd(int sock);

}  // namespace mydocker::runtime
