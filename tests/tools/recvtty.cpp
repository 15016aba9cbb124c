// recvtty: the receiving end of an OCI runtime's --console-socket, for tests.
//
//   recvtty [--mode single|null] [--output FILE] [--pid-file FILE] [--timeout SECONDS] SOCKET
//
// Listens on the unix socket SOCKET, accepts one connection and receives the pty master fd
// the runtime sends with SCM_RIGHTS (as runc's contrib/cmd/recvtty does). Then:
//   single (default): copies the pty's output to stdout (or FILE) and this program's stdin to
//                     the pty, until the pty hangs up (every slave fd is closed: the container
//                     exited);
//   null:             drains the pty and discards the output, until it hangs up.
// The socket path is unlinked on exit. Exit status 0 after a hangup, 1 on an error, 2 on a
// usage error, 3 when --timeout passed before the hangup.

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <fcntl.h>
#include <poll.h>
#include <csignal>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace {

std::string g_socket_path;

[[noreturn]] void die(std::string_view what) {
    int saved = errno;
    std::fprintf(stderr, "recvtty: %.*s: %s\n", static_cast<int>(what.size()), what.data(),
                 std::strerror(saved));
    if (!g_socket_path.empty()) ::unlink(g_socket_path.c_str());
    std::exit(1);
}

[[noreturn]] void usage() {
    std::fputs("usage: recvtty [--mode single|null] [--output FILE] [--pid-file FILE] "
               "[--timeout SECONDS] SOCKET\n",
               stderr);
    std::exit(2);
}

extern "C" void on_alarm(int) {
    // Only async-signal-safe calls here.
    if (!g_socket_path.empty()) ::unlink(g_socket_path.c_str());
    static const char msg[] = "recvtty: timed out waiting for the pty to hang up\n";
    ssize_t ignored = ::write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)ignored;
    ::_exit(3);
}

bool write_all(int fd, const char* buf, size_t len) {
    while (len > 0) {
        ssize_t n = ::write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        buf += n;
        len -= static_cast<size_t>(n);
    }
    return true;
}

int listen_on(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) {
        errno = ENAMETOOLONG;
        die("socket path \"" + path + "\"");
    }
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    ::unlink(path.c_str());
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) die("bind \"" + path + "\"");
    g_socket_path = path;
    if (::listen(fd, 1) < 0) die("listen");
    return fd;
}

// Receives one fd sent with SCM_RIGHTS on the connected socket conn.
int receive_fd(int conn) {
    char data[4096];
    iovec iov{data, sizeof data};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    do {
        n = ::recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) die("recvmsg");
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
            c->cmsg_len == CMSG_LEN(sizeof(int))) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
            return fd;
        }
    }
    errno = EBADMSG;
    die("no fd (SCM_RIGHTS) in the message from the runtime");
}

}  // namespace

int main(int argc, char** argv) {
    std::string mode = "single";
    std::optional<std::string> output, pid_file;
    unsigned timeout = 0;
    std::string socket_path;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage();
            return argv[++i];
        };
        if (a == "--mode" || a == "-m") mode = value();
        else if (a == "--output" || a == "-o") output = value();
        else if (a == "--pid-file") pid_file = value();
        else if (a == "--timeout") timeout = static_cast<unsigned>(std::strtoul(value().c_str(), nullptr, 10));
        else if (a == "-h" || a == "--help") usage();
        else if (a.starts_with("-")) usage();
        else if (socket_path.empty()) socket_path = a;
        else usage();
    }
    if (socket_path.empty() || (mode != "single" && mode != "null")) usage();

    std::signal(SIGPIPE, SIG_IGN);
    if (timeout > 0) {
        std::signal(SIGALRM, on_alarm);
        ::alarm(timeout);
    }

    int out = STDOUT_FILENO;
    if (output) {
        out = ::open(output->c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out < 0) die("open \"" + *output + "\"");
    }

    // Listen before writing the pid file, so a caller that waits for either can connect.
    int listener = listen_on(socket_path);
    if (pid_file) {
        std::string pid = std::to_string(::getpid());
        int fd = ::open(pid_file->c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || !write_all(fd, pid.data(), pid.size())) die("write \"" + *pid_file + "\"");
        ::close(fd);
    }

    int conn;
    do {
        conn = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    } while (conn < 0 && errno == EINTR);
    if (conn < 0) die("accept");
    int pty = receive_fd(conn);
    ::close(conn);
    ::close(listener);
    ::unlink(socket_path.c_str());
    g_socket_path.clear();

    bool forward_stdin = mode == "single";
    char buf[8192];
    for (;;) {
        pollfd fds[2] = {{pty, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
        int nfds = forward_stdin ? 2 : 1;
        if (::poll(fds, static_cast<nfds_t>(nfds), -1) < 0) {
            if (errno == EINTR) continue;
            die("poll");
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = ::read(pty, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            // EIO: the last slave fd was closed, the pty hung up. That is the normal end.
            if (n < 0 && errno != EIO) die("read pty");
            if (n <= 0) break;
            if (mode == "single" && !write_all(out, buf, static_cast<size_t>(n))) die("write output");
        }
        if (forward_stdin && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                forward_stdin = false;  // our stdin ended; keep copying the pty's output
                continue;
            }
            if (!write_all(pty, buf, static_cast<size_t>(n))) die("write pty");
        }
    }
    if (output) ::close(out);
    ::close(pty);
    return 0;
}
