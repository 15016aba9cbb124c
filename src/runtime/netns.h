// A network namespace made ahead of init, on a thread of its own, while the engine does other set-up.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "sys/error.h"
#include "sys/fd.h"

namespace mydocker::runtime {

/// IFF_UP on "lo" of the network namespace the calling thread is in: one ioctl, no netlink.
sys::Result<void> loopback_up();

/// A new network namespace with lo up, made while the caller goes on with other set-up: on a
/// thread started by start() (unshare moves only the thread that calls it; that thread ends
/// once it holds the namespace as an fd), or by another process that sends it (receive()).
/// The kernel's set-up of a network namespace is the costliest step of a container's start
/// (~0.4 ms here); made this way it is off init's path: init joins it (a namespace path in
/// the spec: netns_fd_path()) instead of unsharing one.
class PendingNetns {
  public:
    PendingNetns() = default;
    PendingNetns(PendingNetns&&) = default;
    PendingNetns& operator=(PendingNetns&& o) noexcept;  // waits for our own thread first
    ~PendingNetns();

    static PendingNetns start();
    /// One that another process makes for us and sends over `sock` (send_new_netns_raw()).
    static PendingNetns receive(sys::UniqueFd sock);
    /// start() was called (and take() not yet).
    bool started() const { return slot_ != nullptr; }
    /// Waits for the thread: the namespace (an O_CLOEXEC fd of its nsfs file), or what failed.
    sys::Result<sys::UniqueFd> take();

  private:
    // On the heap: the thread writes into it while this object may be moved.
    struct Slot {
        std::optional<sys::Result<sys::UniqueFd>> result;
    };
    std::unique_ptr<Slot> slot_;
    std::thread thread_;
    sys::UniqueFd sock_;  // receive(): what take() reads the namespace from
};

/// Makes a network namespace with lo up for the calling process (which it moves into it) and
/// sends it as an fd over the unix socket `sock`, or, if a step fails, which one and its errno,
/// for PendingNetns::receive() at the other end. Raw system calls only (sys/raw_syscall.h):
/// for a process that shares its memory with the receiver and may not touch libc's state.
/// Needs sys::kHaveRawSyscall.
void send_new_netns_raw(int sock);

/// The path by which init opens a namespace held as `fd` by the runtime's process.
std::string netns_fd_path(int fd);

}  // namespace mydocker::runtime
