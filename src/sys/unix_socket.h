// Passing fds over a unix socket (SCM_RIGHTS): the console socket's pty master, the seccomp
// agent's listener, the runtime's sync messages.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "sys/error.h"
#include "sys/fd.h"

namespace mydocker::sys {

/// At most this many fds ride on one message.
inline constexpr size_t kMaxPassedFds = 16;

/// sendmsg(2) of `data` with `fds` attached (none: `data` alone; MSG_NOSIGNAL, EINTR retried).
/// Returns how much of `data` went: a stream socket may take less, the rest is the caller's.
Result<size_t> send_with_fds(int sock, std::string_view data, std::span<const int> fds);

/// recvmsg(2) of one message into `buf`, its fds (up to kMaxPassedFds, made O_CLOEXEC)
/// appended to `fds` (EINTR retried). Returns the bytes received: 0 is the peer's close.
Result<size_t> recv_with_fds(int sock, std::span<char> buf, std::vector<UniqueFd>& fds);

}  // namespace mydocker::sys
