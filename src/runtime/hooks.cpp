#include "runtime/hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

#include "runtime/stub.h"
#include "sys/files.h"
#include "sys/proc.h"

namespace mydocker::runtime {

namespace {

sys::Result<void> run_hook(const Hook& h, const std::string& state_json, int stub_fd) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) < 0) return sys::fail_errno("pipe");
    sys::UniqueFd in_r(in[0]), in_w(in[1]);
    if (::pipe2(out, O_CLOEXEC) < 0) return sys::fail_errno("pipe");
    sys::UniqueFd out_r(out[0]), out_w(out[1]);
    std::vector<std::string> args = h.args.empty() ? std::vector<std::string>{h.path} : h.args;
    std::vector<std::string> env = h.env;
    auto argv = sys::exec_strings(args);
    auto envp = sys::exec_strings(env);
    pid_t pid = ::fork();
    if (pid < 0) return sys::fail_errno("fork");
    if (pid == 0) {
        ::dup2(in_r.get(), 0);
        ::dup2(out_w.get(), 1);
        ::dup2(out_w.get(), 2);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        if (stub_fd >= 0) exec_through_stub(stub_fd, h.path, args, env);
        else ::execve(h.path.c_str(), argv.data(), envp.data());
        dprintf(2, "exec \"%s\": %s\n", h.path.c_str(), strerror(errno));
        ::_exit(127);
    }
    in_r.reset();
    out_w.reset();
    // A hook that does not read stdin must not block us: ignore EPIPE.
    (void)sys::write_all(in_w.get(), state_json);
    in_w.reset();
    auto pidfd = sys::pidfd_open(pid);
    std::string output;
    int timeout_ms = h.timeout ? *h.timeout * 1000 : -1;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    bool timed_out = false;
    for (;;) {
        struct pollfd p = {out_r.get(), POLLIN, 0};
        int wait_ms = -1;
        if (timeout_ms >= 0) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
            wait_ms = static_cast<int>(timeout_ms - elapsed);
            if (wait_ms <= 0) {
                timed_out = true;
                break;
            }
        }
        int rc = ::poll(&p, 1, wait_ms);
        if (rc < 0 && errno == EINTR) continue;
        if (rc == 0) {
            timed_out = true;
            break;
        }
        char buf[4096];
        ssize_t n = ::read(out_r.get(), buf, sizeof buf);
        if (n <= 0) break;
        if (output.size() < 8192) output.append(buf, static_cast<size_t>(n));
    }
    if (timed_out) {
        ::kill(pid, SIGKILL);
        (void)sys::wait_pid(pid);
        return sys::fail(sys::Error::from_errno(ETIMEDOUT, "timed out after " + std::to_string(*h.timeout) + "s"));
    }
    // Output closed: wait for the exit, still bounded by the timeout.
    if (pidfd && timeout_ms >= 0 && !sys::pidfd_wait_exit(pidfd->get(), timeout_ms)) {
        ::kill(pid, SIGKILL);
        (void)sys::wait_pid(pid);
        return sys::fail(sys::Error::from_errno(ETIMEDOUT, "timed out after " + std::to_string(*h.timeout) + "s"));
    }
    int status = MD_TRY(sys::wait_pid(pid));
    while (!output.empty() && output.back() == '\n') output.pop_back();
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
    std::string why = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                        : "killed by signal " + std::to_string(WTERMSIG(status));
    if (!output.empty()) why += ", output: " + output;
    return sys::fail(sys::Error(sys::ErrorCode::system, why));
}

}  // namespace

sys::Result<void> run_hooks(const std::vector<Hook>& hooks, const char* kind, const std::string& state_json,
                            int stub_fd) {
    for (size_t i = 0; i < hooks.size(); ++i) {
        if (auto r = run_hook(hooks[i], state_json, stub_fd); !r) {
            return sys::fail(std::move(r.error())
                                 .wrap(std::string(kind) + " hook #" + std::to_string(i) + " \"" + hooks[i].path + "\""));
        }
    }
    return {};
}

}  // namespace mydocker::runtime
