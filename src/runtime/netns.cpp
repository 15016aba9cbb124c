#include "runtime/netns.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>
#include <system_error>

namespace mydocker::runtime {

sys::Result<void> loopback_up() {
    sys::UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!s.valid()) return sys::fail_errno("loopback: socket");
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (::ioctl(s.get(), SIOCGIFFLAGS, &ifr) < 0)
        return sys::fail_errno("loopback: get lo's flags");
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (::ioctl(s.get(), SIOCSIFFLAGS, &ifr) < 0) return sys::fail_errno("loopback: set lo up");
    return {};
}

namespace {

// On the helper thread, which ends in the new namespace (nothing else runs on it).
sys::Result<sys::UniqueFd> make_netns() {
    if (::unshare(CLONE_NEWNET) < 0) return sys::fail_errno("unshare network namespace");
    MD_TRY(loopback_up());
    int fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return sys::fail_errno("open the new network namespace");
    return sys::UniqueFd(fd);
}

}  // namespace

PendingNetns PendingNetns::start() {
    PendingNetns p;
    p.slot_ = std::make_unique<Slot>();
    try {
        p.thread_ = std::thread([slot = p.slot_.get()] { slot->result = make_netns(); });
    } catch (const std::system_error& e) {
        p.slot_->result = sys::fail(
            sys::Error::from_errno(e.code().value(), "start a thread for the network namespace"));
    }
    return p;
}

sys::Result<sys::UniqueFd> PendingNetns::take() {
    if (thread_.joinable()) thread_.join();
    if (!slot_ || !slot_->result) return sys::fail_invalid("no network namespace was started");
    auto r = std::move(*slot_->result);
    slot_.reset();
    return r;
}

PendingNetns& PendingNetns::operator=(PendingNetns&& o) noexcept {
    if (this != &o) {
        if (thread_.joinable()) thread_.join();  // (assigning over a running std::thread aborts)
        thread_ = std::move(o.thread_);
        slot_ = std::move(o.slot_);
    }
    return *this;
}

PendingNetns::~PendingNetns() {
    if (thread_.joinable()) thread_.join();
}

std::string netns_fd_path(int fd) {
    return "/proc/self/fd/" + std::to_string(fd);
}

}  // namespace mydocker::runtime
