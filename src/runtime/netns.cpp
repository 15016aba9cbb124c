#include "runtime/netns.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <cstring>
#include <iterator>
#include <system_error>
#include <vector>

#include "sys/raw_syscall.h"
#include "sys/unix_socket.h"

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

// What send_new_netns_raw() sends beside the fd: 0, or the errno of step `step`.
struct NetnsReport {
    int err;
    int step;
};
constexpr const char* kNetnsSteps[] = {"", "unshare network namespace", "loopback: socket", "loopback: set lo up",
                                       "open the new network namespace"};

}  // namespace

void send_new_netns_raw(int sock) {
    NetnsReport r{0, 0};
    long ns = -1;
    if (long rc = sys::raw_syscall(SYS_unshare, CLONE_NEWNET); rc < 0) {
        r = {static_cast<int>(-rc), 1};
    } else if (long s = sys::raw_syscall(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); s < 0) {
        r = {static_cast<int>(-s), 2};
    } else {
        ifreq ifr;
        std::memset(&ifr, 0, sizeof ifr);
        std::memcpy(ifr.ifr_name, "lo", 3);
        rc = sys::raw_syscall(SYS_ioctl, s, SIOCGIFFLAGS, reinterpret_cast<long>(&ifr));
        if (rc == 0) {
            ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
            rc = sys::raw_syscall(SYS_ioctl, s, SIOCSIFFLAGS, reinterpret_cast<long>(&ifr));
        }
        (void)sys::raw_syscall(SYS_close, s);
        if (rc < 0) r = {static_cast<int>(-rc), 3};
    }
    if (r.err == 0) {
        ns = sys::raw_syscall(SYS_openat, AT_FDCWD, reinterpret_cast<long>("/proc/self/ns/net"), O_RDONLY | O_CLOEXEC);
        if (ns < 0) r = {static_cast<int>(-ns), 4};
    }
    iovec iov{&r, sizeof r};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int))];
    if (ns >= 0) {
        std::memset(cbuf, 0, sizeof cbuf);
        msg.msg_control = cbuf;
        msg.msg_controllen = sizeof cbuf;
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        const int fd = static_cast<int>(ns);
        std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    while (sys::raw_syscall(SYS_sendmsg, sock, reinterpret_cast<long>(&msg), MSG_NOSIGNAL) == -EINTR) {
    }
    if (ns >= 0) (void)sys::raw_syscall(SYS_close, ns);
}

PendingNetns PendingNetns::receive(sys::UniqueFd sock) {
    PendingNetns p;
    p.slot_ = std::make_unique<Slot>();
    p.sock_ = std::move(sock);
    return p;
}

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
    if (sock_.valid() && slot_ && !slot_->result) {
        NetnsReport r{EPIPE, 0};
        std::vector<sys::UniqueFd> fds;
        auto n = sys::recv_with_fds(sock_.get(), {reinterpret_cast<char*>(&r), sizeof r}, fds);
        sock_.reset();
        if (!n) {
            slot_->result = sys::fail(std::move(n.error()).wrap("receive the network namespace"));
        } else if (*n == sizeof r && r.err == 0 && fds.size() == 1) {
            slot_->result = std::move(fds[0]);
        } else {
            const bool known = *n == sizeof r && r.step > 0 && r.step < static_cast<int>(std::size(kNetnsSteps));
            slot_->result = sys::fail(sys::Error::from_errno(
                *n == sizeof r && r.err != 0 ? r.err : EPIPE,
                known ? kNetnsSteps[r.step] : "receive the network namespace: nothing came"));
        }
    }
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
        sock_ = std::move(o.sock_);
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
