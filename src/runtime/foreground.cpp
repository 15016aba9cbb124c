#include "runtime/foreground.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "sys/fd.h"
#include "sys/files.h"
#include "sys/proc.h"

namespace mydocker::runtime {

namespace {
constexpr int kForwarded[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD, SIGCONT, SIGALRM};

void copy_winsize(int from, int to) {
    struct winsize ws;
    if (::ioctl(from, TIOCGWINSZ, &ws) == 0) ::ioctl(to, TIOCSWINSZ, &ws);
}

/// Copy what is readable on `from` to `to` (and to `tee`); false on EOF / error.
bool pump(int from, int to, const std::function<void(std::string_view)>* tee = nullptr) {
    char buf[16384];
    ssize_t n = ::read(from, buf, sizeof buf);
    if (n <= 0) return n < 0 && (errno == EAGAIN || errno == EINTR);
    std::string_view chunk(buf, static_cast<size_t>(n));
    if (tee && *tee) (*tee)(chunk);
    return static_cast<bool>(sys::write_all(to, chunk));
}
}  // namespace

void block_forwarded_signals(sigset_t* old) {
    sigset_t set;
    sigemptyset(&set);
    for (int s : kForwarded) sigaddset(&set, s);
    ::sigprocmask(SIG_BLOCK, &set, old);
}

sys::Result<int> wait_foreground(pid_t pid, int pty_master, const std::function<void(std::string_view)>& on_output) {
    // Orphans of the container (no pid namespace) are reparented to us and reaped here.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    sigset_t set;
    sigemptyset(&set);
    for (int s : kForwarded) sigaddset(&set, s);
    int sfd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) return sys::fail_errno("signalfd");
    sys::UniqueFd sig_fd(sfd);

    struct termios saved;
    bool raw = false;
    if (pty_master >= 0 && ::isatty(0) && ::tcgetattr(0, &saved) == 0) {
        struct termios t = saved;
        ::cfmakeraw(&t);
        raw = ::tcsetattr(0, TCSANOW, &t) == 0;
        copy_winsize(0, pty_master);
    }
    bool stdin_open = pty_master >= 0;
    bool pty_open = pty_master >= 0;
    int status = -1;
    bool exited = false;
    while (!exited || pty_open) {
        struct pollfd fds[3] = {{sig_fd.get(), POLLIN, 0}, {stdin_open ? 0 : -1, POLLIN, 0}, {pty_open ? pty_master : -1, POLLIN, 0}};
        // After the process is gone, drain the pty without waiting on it forever.
        int rc = ::poll(fds, 3, exited ? 100 : -1);
        if (rc < 0 && errno == EINTR) continue;
        if (rc == 0 && exited) break;
        if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
            if (!pump(pty_master, 1, &on_output)) pty_open = false;
        }
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            if (!pump(0, pty_master)) stdin_open = false;
        }
        if (fds[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (::read(sig_fd.get(), &si, sizeof si) == sizeof si) {
                int sig = static_cast<int>(si.ssi_signo);
                if (sig == SIGCHLD) {
                    int st;
                    pid_t r;
                    while ((r = ::waitpid(-1, &st, WNOHANG)) > 0) {
                        if (r == pid) {
                            status = st;
                            exited = true;
                        }
                    }
                } else if (sig == SIGWINCH) {
                    if (pty_master >= 0) copy_winsize(0, pty_master);
                } else {
                    ::kill(pid, sig);
                }
            }
        }
    }
    if (raw) ::tcsetattr(0, TCSANOW, &saved);
    return sys::exit_code_of(status);
}

}  // namespace mydocker::runtime
