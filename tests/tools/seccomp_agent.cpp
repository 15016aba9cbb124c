// seccomp_agent: the receiving end of linux.seccomp.listenerPath (SCMP_ACT_NOTIFY), for tests.
//
//   seccomp_agent [--errno N] [--state FILE] [--log FILE] [--timeout SECONDS] SOCKET
//
// Listens on the unix (SOCK_STREAM) socket SOCKET. Each connection brings, as the runtime-spec
// says, one container process state (JSON: ociVersion, fds, pid, metadata, state) with the
// seccomp listener fd attached (SCM_RIGHTS); the agent closes it after the JSON object.
// The first state is written to FILE, the n-th (n > 1) to FILE.n, each atomically (temp file +
// rename), so a test may poll for it.
// Then every notification on every listener is answered:
//   --errno N   the syscall fails with errno N (the default: 0, continue);
//   otherwise   the syscall goes on as if not filtered (SECCOMP_USER_NOTIF_FLAG_CONTINUE).
// Each notification is logged to FILE (--log) as "syscall NR pid PID".
// The socket path is unlinked on exit. Exit status 1 on an error, 2 on a usage error, 3 when
// --timeout passed (the default: 60 s); otherwise it runs until killed.

#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

std::string g_socket_path;

[[noreturn]] void die(std::string_view what) {
    int saved = errno;
    std::fprintf(stderr, "seccomp_agent: %.*s: %s\n", static_cast<int>(what.size()), what.data(),
                 std::strerror(saved));
    if (!g_socket_path.empty()) ::unlink(g_socket_path.c_str());
    std::exit(1);
}

[[noreturn]] void usage() {
    std::fputs(
        "usage: seccomp_agent [--errno N] [--state FILE] [--log FILE] [--timeout SECONDS] "
        "SOCKET\n",
        stderr);
    std::exit(2);
}

extern "C" void on_alarm(int) {
    if (!g_socket_path.empty()) ::unlink(g_socket_path.c_str());
    static const char msg[] = "seccomp_agent: timed out\n";
    ssize_t ignored = ::write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)ignored;
    ::_exit(3);
}

extern "C" void on_term(int) {
    if (!g_socket_path.empty()) ::unlink(g_socket_path.c_str());
    ::_exit(0);
}

bool write_file_atomic(const std::string& path, const std::string& text) {
    std::string tmp = path + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "w");
    if (!f) return false;
    bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    ok = std::fclose(f) == 0 && ok;
    return ok && std::rename(tmp.c_str(), path.c_str()) == 0;
}

// True once `s` holds one whole JSON object (braces balanced outside strings).
bool complete_object(const std::string& s) {
    int depth = 0;
    bool in_string = false, escaped = false, started = false;
    for (char c : s) {
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{') {
            ++depth;
            started = true;
        } else if (c == '}') {
            if (--depth == 0 && started) return true;
        }
    }
    return false;
}

// One connection: the state and the listener fd (on its first bytes). Read up to the end of
// the JSON object, not to EOF: runc 1.1 keeps its end open until it exits, and `runc run`
// exits only after the container, which may be waiting for this agent.
int receive_state(int conn, std::string& state) {
    int fd = -1;
    char buf[4096];
    for (;;) {
        struct iovec iov = {buf, sizeof buf};
        struct msghdr msg = {};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        alignas(struct cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * 4)] = {};
        msg.msg_control = cbuf;
        msg.msg_controllen = sizeof cbuf;
        ssize_t n = ::recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) die("receive the container process state");
        for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
            size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < count; ++i) {
                int f;
                std::memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
                if (fd < 0)
                    fd = f;
                else
                    ::close(f);  // only seccompFd is expected
            }
        }
        if (n == 0) break;
        state.append(buf, static_cast<size_t>(n));
        if (complete_object(state)) break;
    }
    return fd;
}

struct Sizes {
    size_t notif = sizeof(struct seccomp_notif);
    size_t resp = sizeof(struct seccomp_notif_resp);
};

// Answer one notification on `fd`; false when the listener is gone.
bool answer(int fd, const Sizes& sizes, int reply_errno, FILE* log) {
    // The kernel's structs may be larger than this header's: size the buffers as it says.
    std::vector<unsigned char> nbuf(sizes.notif), rbuf(sizes.resp);
    auto* req = reinterpret_cast<struct seccomp_notif*>(nbuf.data());
    auto* resp = reinterpret_cast<struct seccomp_notif_resp*>(rbuf.data());
    if (::ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
        // ENOENT: the task was killed or the syscall interrupted before we read it.
        return errno == EINTR || errno == ENOENT;
    }
    if (log) {
        std::fprintf(log, "syscall %d pid %u\n", req->data.nr, req->pid);
        std::fflush(log);
    }
    resp->id = req->id;
    if (reply_errno) {
        resp->error = -reply_errno;
        resp->val = 0;
        resp->flags = 0;
    } else {
        resp->error = 0;
        resp->val = 0;
        resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    }
    if (::ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0 && errno != ENOENT) return false;
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    int reply_errno = 0;
    std::string state_path, log_path, socket_path;
    unsigned timeout = 60;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage();
            return argv[++i];
        };
        if (a == "--errno")
            reply_errno = std::atoi(value().c_str());
        else if (a == "--state")
            state_path = value();
        else if (a == "--log")
            log_path = value();
        else if (a == "--timeout")
            timeout = static_cast<unsigned>(std::atoi(value().c_str()));
        else if (!a.empty() && a[0] == '-')
            usage();
        else if (socket_path.empty())
            socket_path = std::string(a);
        else
            usage();
    }
    if (socket_path.empty()) usage();

    Sizes sizes;
    struct seccomp_notif_sizes ks = {};
    if (::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &ks) == 0) {
        if (ks.seccomp_notif > sizes.notif) sizes.notif = ks.seccomp_notif;
        if (ks.seccomp_notif_resp > sizes.resp) sizes.resp = ks.seccomp_notif_resp;
    }

    FILE* log = nullptr;
    if (!log_path.empty() && !(log = std::fopen(log_path.c_str(), "a"))) die("open " + log_path);

    int lsock = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lsock < 0) die("socket");
    struct sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    if (socket_path.size() >= sizeof addr.sun_path) {
        errno = ENAMETOOLONG;
        die(socket_path);
    }
    std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size());
    ::unlink(socket_path.c_str());
    if (::bind(lsock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
        die("bind " + socket_path);
    g_socket_path = socket_path;
    if (::listen(lsock, 8) < 0) die("listen");
    std::signal(SIGALRM, on_alarm);
    std::signal(SIGTERM, on_term);
    std::signal(SIGINT, on_term);
    if (timeout) ::alarm(timeout);

    std::vector<int> listeners;
    unsigned connections = 0;
    for (;;) {
        std::vector<struct pollfd> pfds;
        pfds.push_back({lsock, POLLIN, 0});
        for (int fd : listeners) pfds.push_back({fd, POLLIN, 0});
        if (::poll(pfds.data(), pfds.size(), -1) < 0) {
            if (errno == EINTR) continue;
            die("poll");
        }
        std::vector<int> keep;
        for (size_t i = 1; i < pfds.size(); ++i) {
            int fd = pfds[i].fd;
            bool alive = true;
            if (pfds[i].revents & POLLIN) alive = answer(fd, sizes, reply_errno, log);
            // POLLHUP: every task of the filter has exited.
            else if (pfds[i].revents & (POLLHUP | POLLERR | POLLNVAL))
                alive = false;
            if (alive)
                keep.push_back(fd);
            else
                ::close(fd);
        }
        listeners = std::move(keep);
        if (pfds[0].revents & POLLIN) {
            int conn = ::accept4(lsock, nullptr, nullptr, SOCK_CLOEXEC);
            if (conn < 0) {
                if (errno != EINTR) die("accept");
            } else {
                std::string state;
                int fd = receive_state(conn, state);
                ::close(conn);
                ++connections;
                if (!state_path.empty()) {
                    std::string path = state_path;
                    if (connections > 1) path += "." + std::to_string(connections);
                    if (!write_file_atomic(path, state)) die("write " + path);
                }
                if (fd >= 0) listeners.push_back(fd);
            }
        }
    }
}
