// Passing an fd over a unix socket (SCM_RIGHTS): the console socket's pty master, the seccomp
// agent's listener.
#pragma once

#include <cstddef>
#include <string_view>

#include "sys/error.h"

namespace mydocker::sys {

/// sendmsg(2) of `data` with `fd` attached (MSG_NOSIGNAL, EINTR retried). Returns how much
/// of `data` went: a stream socket may take less, the rest is the caller's to send.
Result<size_t> send_with_fd(int sock, std::string_view data, int fd);

}  // namespace mydocker::sys
