#include "sys/unix_socket.h"

#include <sys/socket.h>

#include <cstring>

#include "sys/files.h"

namespace mydocker::sys {

Result<size_t> send_with_fds(int sock, std::string_view data, std::span<const int> fds) {
    if (fds.size() > kMaxPassedFds) return fail_invalid("too many fds for one message");
    struct iovec iov = {const_cast<char*>(data.data()), data.size()};
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(struct cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * kMaxPassedFds)] = {};
    if (!fds.empty()) {
        msg.msg_control = cbuf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
        struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    ssize_t n = MD_RETRY(::sendmsg(sock, &msg, MSG_NOSIGNAL));
    if (n < 0) return fail_errno("sendmsg with fds");
    return static_cast<size_t>(n);
}

Result<size_t> recv_with_fds(int sock, std::span<char> buf, std::vector<UniqueFd>& fds) {
    struct iovec iov = {buf.data(), buf.size()};
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(struct cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * kMaxPassedFds)] = {};
    msg.msg_control = cbuf;
    msg.msg_controllen = sizeof cbuf;
    ssize_t n = MD_RETRY(::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC));
    if (n < 0) return fail_errno("recvmsg with fds");
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len < CMSG_LEN(0)) continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
            int f;
            std::memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
            fds.emplace_back(f);
        }
    }
    return static_cast<size_t>(n);
}

}  // namespace mydocker::sys
