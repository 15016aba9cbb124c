#include "sys/unix_socket.h"

#include <sys/socket.h>

#include <cstring>

#include "sys/files.h"

namespace mydocker::sys {

Result<size_t> send_with_fd(int sock, std::string_view data, int fd) {
    struct iovec iov = {const_cast<char*>(data.data()), data.size()};
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(struct cmsghdr) char cbuf[CMSG_SPACE(sizeof(int))] = {};
    msg.msg_control = cbuf;
    msg.msg_controllen = sizeof cbuf;
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
    ssize_t n = MD_RETRY(::sendmsg(sock, &msg, MSG_NOSIGNAL));
    if (n < 0) return fail_errno("sendmsg with an fd");
    return static_cast<size_t>(n);
}

}  // namespace mydocker::sys
