// run_in_child: run a test body in a fork()ed child, for steps that change the process
// irreversibly (capabilities, seccomp). gtest assertions do not cross processes, so the
// child reports a failure as a non-empty string over a pipe.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <string>

namespace mydocker::testing {

struct ChildResult {
    int status = 0;
    std::string message;  // what the child reported on failure
};

/// Run `body` in a child; its non-empty return fails it. Reaps the child by its pid.
inline ChildResult run_in_child(const std::function<std::string()>& body) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) return {-1, "pipe2 failed"};
    pid_t pid = fork();
    if (pid < 0) return {-1, "fork failed"};
    if (pid == 0) {
        close(fds[0]);
        std::string msg = body();
        if (!msg.empty()) (void)!write(fds[1], msg.data(), msg.size());
        _exit(msg.empty() ? 0 : 1);
    }
    close(fds[1]);
    ChildResult res;
    char buf[512];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0) res.message.append(buf, static_cast<size_t>(n));
    close(fds[0]);
    while (waitpid(pid, &res.status, 0) < 0 && errno == EINTR) {
    }
    return res;
}

}  // namespace mydocker::testing
