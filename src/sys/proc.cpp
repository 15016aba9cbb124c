#include "sys/proc.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "sys/files.h"

namespace mydocker::sys {

Result<ProcStat> read_proc_stat(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    auto text = read_file(path);
    if (!text) {
        if (text.error().err() == ENOENT || text.error().err() == ESRCH)
            return fail(Error::not_found("process " + std::to_string(pid) + " does not exist"));
        return fail(std::move(text.error()));
    }
    // The command name (field 2) may hold spaces and ')': parse after the last ')'.
    auto close = text->rfind(')');
    if (close == std::string::npos || close + 2 >= text->size())
        return fail(Error::invalid("malformed " + std::string(path)));
    ProcStat st;
    const char* p = text->c_str() + close + 2;
    st.state = *p;
    // Fields after the state: ppid(4) ... starttime(22).
    int field = 3;
    const char* cur = p;
    while (*cur && field < 22) {
        if (*cur == ' ') {
            ++field;
            if (field == 4) st.ppid = static_cast<pid_t>(strtol(cur + 1, nullptr, 10));
            if (field == 22) st.start_time = strtoull(cur + 1, nullptr, 10);
        }
        ++cur;
    }
    return st;
}

bool process_alive(pid_t pid, uint64_t start_time) {
    if (pid <= 0) return false;
    auto st = read_proc_stat(pid);
    if (!st) return false;
    if (st->state == 'Z' || st->state == 'X') return false;
    return start_time == 0 || st->start_time == start_time;
}

Result<UniqueFd> pidfd_open(pid_t pid) {
    int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd < 0) return fail_errno("pidfd_open " + std::to_string(pid));
    return UniqueFd(fd);
}

Result<void> pidfd_signal(int pidfd, int sig) {
    if (::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) < 0)
        return fail_errno("send signal " + std::to_string(sig));
    return {};
}

bool pidfd_wait_exit(int pidfd, int timeout_ms) {
    struct pollfd p = {pidfd, POLLIN, 0};
    for (;;) {
        int rc = ::poll(&p, 1, timeout_ms);
        if (rc < 0 && errno == EINTR) continue;
        return rc > 0;
    }
}

Result<int> wait_pid(pid_t pid) {
    int status = 0;
    if (MD_RETRY(::waitpid(pid, &status, 0)) < 0) return fail_errno("waitpid " + std::to_string(pid));
    return status;
}

int exit_code_of(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 255;
}

Result<void> set_cloexec(int fd, bool on) {
    int flags = ::fcntl(fd, F_GETFD);
    if (flags < 0) return fail_errno("fcntl F_GETFD " + std::to_string(fd));
    flags = on ? (flags | FD_CLOEXEC) : (flags & ~FD_CLOEXEC);
    if (::fcntl(fd, F_SETFD, flags) < 0) return fail_errno("fcntl F_SETFD " + std::to_string(fd));
    return {};
}

std::vector<char*> exec_strings(const std::vector<std::string>& v) {
    std::vector<char*> out;
    out.reserve(v.size() + 1);
    for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

Result<void> move_fd_above(UniqueFd& fd, int min_fd) {
    if (!fd.valid() || fd.get() >= min_fd) return {};
    int n = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, min_fd);
    if (n < 0) return fail_errno("fcntl F_DUPFD_CLOEXEC");
    fd.reset(n);
    return {};
}

}  // namespace mydocker::sys
