// Passing fds over a unix socket (SCM_RIGHTS): the console socket's pty master, the seccomp
// agent's listener, the runtime's sync messages.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "sys/error.h"

namespace mydocker::sys {

/// At most this many fds ride on one message.
inline constexpr size_t kMaxPassedFds = 16;

/// sendmsg(2) of `data` with `fds` attached (none: `data` alone; MSG_NOSIGNAL, EINTR retried).
/// Returns how much of `data` went: a stream socket may take less, the rest is the caller's.
Result<size_t> send_with_fds(int sock, std::string_view data, std::span<const int> fds);

}  // namespace mydocker::sys
