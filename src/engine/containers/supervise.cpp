#include "engine/containers/supervise.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "sys/fd.h"
#include "sys/files.h"

namespace mydocker::engine::containers {

namespace {

constexpr int kForwarded[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};

// Copy what is readable on `fd` to the log and to `tee`; false at EOF (or a dead pty).
bool pump(int fd, logs::Stream stream, logs::JsonFileWriter* log, int tee) {
    char buf[16384];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
            std::string_view chunk(buf, static_cast<size_t>(n));
            if (log) (void)log->write(stream, chunk);
            if (tee >= 0) (void)sys::write_all(tee, chunk);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return true;
        return false;  // EOF, or EIO from a pty whose other side is gone
    }
}

}  // namespace

sys::Result<int> supervise(pid_t pid, SuperviseIo io, logs::JsonFileWriter* log) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    if (io.forward_signals)
        for (int s : kForwarded) sigaddset(&set, s);
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
    sys::UniqueFd sfd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!sfd.valid()) return sys::fail_errno("signalfd");
    for (int fd : {io.out, io.err})
        if (fd >= 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);

    int status = -1;
    bool exited = false;
    int out = io.out, err = io.err, src_in = io.src_in;
    int exit_polls = 0;
    int caller = io.caller;
    auto caller_gone = [&] {
        if (caller < 0) return;
        ::close(caller);
        caller = -1;
        if (io.when_caller_gone) io.when_caller_gone();
    };
    for (;;) {
        if (!exited) {
            int st = 0;
            pid_t r = ::waitpid(pid, &st, WNOHANG);
            if (r == pid) {
                exited = true;
                status = st;
            }
        }
        // After the exit, drain what the pipes still hold; a process of the container that
        // escaped the pid namespace's end cannot hold us forever (bounded by the poll count).
        if (exited && ((out < 0 && err < 0) || exit_polls > 20)) break;
        pollfd fds[5];
        int n = 0;
        fds[n++] = {sfd.get(), POLLIN, 0};
        int i_out = -1, i_err = -1, i_in = -1, i_caller = -1;
        if (out >= 0) { i_out = n; fds[n++] = {out, POLLIN, 0}; }
        if (err >= 0) { i_err = n; fds[n++] = {err, POLLIN, 0}; }
        if (src_in >= 0 && io.in >= 0 && !exited) { i_in = n; fds[n++] = {src_in, POLLIN, 0}; }
        if (caller >= 0) { i_caller = n; fds[n++] = {caller, 0, 0}; }  // POLLERR is always reported
        int r = ::poll(fds, static_cast<nfds_t>(n), exited ? 50 : caller >= 0 ? 1000 : -1);
        if (r < 0) {
            if (errno == EINTR) continue;
            return sys::fail_errno("poll");
        }
        if (i_caller >= 0 && (r == 0 || fds[i_caller].revents)) caller_gone();
        if (exited) ++exit_polls;
        if (fds[0].revents & POLLIN) {
            signalfd_siginfo si;
            while (::read(sfd.get(), &si, sizeof si) == sizeof si) {
                if (si.ssi_signo != SIGCHLD) ::kill(pid, static_cast<int>(si.ssi_signo));
            }
        }
        if (i_out >= 0 && fds[i_out].revents) {
            if (!pump(out, logs::Stream::stdout_, log, io.tee_out)) out = -1;
        }
        if (i_err >= 0 && fds[i_err].revents) {
            if (!pump(err, logs::Stream::stderr_, log, io.tee_err)) err = -1;
        }
        if (i_in >= 0 && fds[i_in].revents) {
            char buf[4096];
            ssize_t k = ::read(src_in, buf, sizeof buf);
            if (k > 0) {
                (void)sys::write_all(io.in, std::string_view(buf, static_cast<size_t>(k)));
            } else if (k == 0 || errno != EINTR) {
                src_in = -1;
                ::close(io.in);  // EOF on our stdin: the container's stdin ends too
                io.in = -1;
            }
        }
    }
    caller_gone();
    if (log) (void)log->flush();
    if (io.in >= 0) ::close(io.in);
    return status;
}

sys::Result<logs::JsonFileWriter> open_log(const Container& c) {
    if (!c.host.log_config.keeps_file()) return logs::JsonFileWriter::discard();
    auto rotation = MD_TRY_CTX(logs::parse_rotation(c.host.log_config.config), "container " + c.name + ": LogConfig");
    return logs::JsonFileWriter::open(c.log_path, rotation);
}

}  // namespace mydocker::engine::containers
