// mydocker-init: the small PID 1 of `mydocker run --init`. It starts the command as its child,
// forwards the signals it gets to it, reaps every orphan the container re-parents to PID 1,
// and exits with the command's status (128 + N when a signal killed it), as docker-init does.
// Static and free of C++ runtime machinery: the engine bind-mounts it read-only into images
// that may have no libc at all.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fputs("usage: mydocker-init COMMAND [ARG...]\n", stderr);
        return 2;
    }
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    pid_t child = fork();
    if (child < 0) {
        std::perror("mydocker-init: fork");
        return 1;
    }
    if (child == 0) {
        sigprocmask(SIG_SETMASK, &old, nullptr);
        setpgid(0, 0);
        execvp(argv[1], argv + 1);
        std::fprintf(stderr, "mydocker-init: exec \"%s\": %s\n", argv[1], std::strerror(errno));
        _exit(errno == ENOENT ? 127 : 126);
    }
    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(&all, &si);
        if (sig < 0) continue;
        if (sig != SIGCHLD) {
            kill(child, sig);
            continue;
        }
        // Reap everything that exited; stop when our command did.
        for (;;) {
            int status = 0;
            pid_t p = waitpid(-1, &status, WNOHANG);
            if (p <= 0) break;
            if (p == child) {
                if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
                return WEXITSTATUS(status);
            }
        }
    }
}
