// Starting a container's monitor: fork_monitor, clone_monitor_and_exit (monitor_process.h).
#include "engine/containers/monitor_process.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "runtime/netns.h"
#include "sys/files.h"
#include "sys/log.h"
#include "sys/raw_syscall.h"

namespace mydocker::engine::containers {

void report_error(int ready_fd, const sys::Error& e) {
    (void)sys::write_all(ready_fd, "errno=" + std::to_string(e.code() == sys::ErrorCode::system ? e.err() : 0) + " " +
                                       e.message());
    ::close(ready_fd);
}

namespace {

// The monitor's side of fork_monitor / clone_monitor_and_exit: its own session, no terminal,
// detached from our stdio; runs `body` (which starts the container, then watches it in place)
// and exits with its status.
[[noreturn]] void monitor_child(const Context& ctx, const MonitorFds& given, const MonitorBody& body) {
    ::setsid();
    int devnull = ::open("/dev/null", O_RDWR);
    for (int i = 0; i < 3; ++i) ::dup2(devnull, i);
    // The monitor's fds become 3, 4, ... in MonitorFds' order, and every other inherited fd
    // goes: the monitor outlives us, and must not keep a caller's pipe (a shell's `$(...)`,
    // bats' fd 3) open until the container exits. Our logger's fd goes too: the monitor gets
    // its own, on /dev/null. (Each is moved out of the way first: it may be 3, 4 or 5.)
    MonitorFds fds = given;
    int* const slots[] = {&fds.ready, &fds.netns, &fds.netns_sock};
    for (int* f : slots)
        if (*f >= 0) *f = ::fcntl(*f, F_DUPFD_CLOEXEC, 10);
    int next = 3;
    for (int* f : slots) {
        if (*f < 0) continue;
        ::dup3(*f, next, O_CLOEXEC);
        *f = next++;
    }
    ::close_range(static_cast<unsigned>(next), ~0U, 0);
    sys::Logger logger(sys::UniqueFd(::dup(2)), sys::LogFormat::text, sys::LogLevel::warn);
    Context mctx{logger, ctx.root, ctx.run_root, ctx.cgroup_root, ctx.exe, ctx.default_bip};
    ::_exit(body(mctx, fds));
}

// The error a monitor reported ("errno=N message", see report_error), or that it said nothing.
sys::Error monitor_error(std::string msg) {
    if (msg.empty()) msg = "the container's monitor exited before starting it";
    int err = 0;
    if (msg.rfind("errno=", 0) == 0) {
        size_t sp = msg.find(' ');
        err = std::atoi(msg.substr(6, sp - 6).c_str());
        msg = sp == std::string::npos ? std::string() : msg.substr(sp + 1);
        // The monitor sent the whole message, the errno's text included: not twice.
        std::string text = std::string(": ") + std::strerror(err);
        if (err != 0 && msg.ends_with(text)) msg.resize(msg.size() - text.size());
    }
    return sys::Error(sys::ErrorCode::system, msg, err);
}

}  // namespace

sys::Result<std::string> fork_monitor(const Context& ctx, int netns, const MonitorBody& body) {
    int rp[2];
    if (::pipe2(rp, O_CLOEXEC) < 0) return sys::fail_errno("pipe");
    sys::UniqueFd ready_r(rp[0]), ready_w(rp[1]);
    std::fflush(nullptr);  // the child must not inherit unwritten output
    pid_t pid = ::fork();
    if (pid < 0) return sys::fail_errno("fork monitor");
    if (pid == 0) monitor_child(ctx, MonitorFds{ready_w.get(), netns, -1}, body);
    ready_w.reset();
    std::string msg;
    char buf[4096];
    // "ok ID\n" (the monitor stays and keeps the pipe), or "errno=N message" up to EOF.
    for (;;) {
        ssize_t n = ::read(ready_r.get(), buf, sizeof buf);
        if (n > 0) msg.append(buf, static_cast<size_t>(n));
        else if (n == 0 || errno != EINTR) break;
        if (msg.starts_with("ok ") && msg.ends_with("\n")) return msg.substr(3, msg.size() - 4);
    }
    int st;
    (void)::waitpid(pid, &st, WNOHANG);
    return sys::fail(monitor_error(std::move(msg)));
}

namespace {

// The monitor's own stack when it runs on our memory: 8 MiB of address space (only what it
// touches costs memory; shed_memory's drop of the deep stack, up to 1 MiB below its frame,
// stays inside it), with a guard page at the bottom.
constexpr size_t kMonitorStack = size_t{8} << 20;

struct CloneStart {
    const Context* ctx;
    const MonitorBody* body;
    MonitorFds fds;
};

int clone_monitor_entry(void* arg) {
    auto* s = static_cast<const CloneStart*>(arg);
    monitor_child(*s->ctx, s->fds, *s->body);
}

}  // namespace

// fork_monitor for a command that ends once the monitor reports: the monitor is started with
// clone(CLONE_VM) on a stack of its own and runs on this process's memory. No page tables to
// copy, no copy-on-write fault for each page the start writes, no code to fault in again,
// and our exit tears down nothing (the address space lives on in the monitor): all of that
// was on the path of `run -d` (0.5-0.7 ms of 5 per start here). The price: from the clone on,
// this process runs nothing that touches memory the monitor uses (the heap, libc's state,
// errno in thread-local storage), only raw system calls into buffers on its own stack, until
// it ends. On "ok ID" it writes "ID\n" to `out_fd` and exits with status 0 from here; on a
// failure it reaps the monitor first (the memory is then its own again) and returns the
// error. (Libc still believes the monitor is us: see getcpu in runtime/create.cpp.)
sys::Error clone_monitor_and_exit(const Context& ctx, int netns, bool make_netns, const MonitorBody& body, int out_fd) {
    int rp[2];
    if (::pipe2(rp, O_CLOEXEC) < 0) return sys::Error::from_errno(errno, "pipe");
    sys::UniqueFd ready_r(rp[0]), ready_w(rp[1]);
    sys::UniqueFd ns_ours, ns_theirs;
    if (make_netns) {
        int sp[2];
        if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
            return sys::Error::from_errno(errno, "socketpair");
        ns_ours.reset(sp[0]);
        ns_theirs.reset(sp[1]);
    }
    void* stack = ::mmap(nullptr, kMonitorStack, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) return sys::Error::from_errno(errno, "map the monitor's stack");
    (void)::mprotect(stack, static_cast<size_t>(::sysconf(_SC_PAGESIZE)), PROT_NONE);
    std::fflush(nullptr);  // our output must not be written twice, nor after the monitor's
    const CloneStart start{&ctx, &body, MonitorFds{ready_w.get(), netns, ns_theirs.get()}};
    int pid = ::clone(clone_monitor_entry, static_cast<char*>(stack) + kMonitorStack, CLONE_VM | SIGCHLD,
                      const_cast<CloneStart*>(&start));
    if (pid < 0) {
        int err = errno;
        ::munmap(stack, kMonitorStack);
        return sys::Error::from_errno(err, "start the container's monitor");
    }
    // Raw system calls only from here (see above): not even UniqueFd's close, which may set
    // errno. (memcmp touches nothing but its arguments.) First, the thread id and the
    // robust-futex list libc registered with the kernel for us go: both are in the memory the
    // monitor goes on using, and the kernel would clear the one and walk the other when we
    // end, by a signal too.
    (void)sys::raw_syscall(SYS_set_tid_address, 0);
    (void)sys::raw_syscall(SYS_set_robust_list, 0, sizeof(robust_list_head));
    (void)sys::raw_syscall(SYS_close, ready_w.release());
    const int rfd = ready_r.release();
    // Idle until the monitor reports, we make the container's network namespace meanwhile
    // (the kernel's longest step of a start) and hand it over: the monitor needs no thread.
    if (ns_ours.valid()) {
        (void)sys::raw_syscall(SYS_close, ns_theirs.release());
        const int sock = ns_ours.release();
        runtime::send_new_netns_raw(sock);
        (void)sys::raw_syscall(SYS_close, sock);
    }
    char buf[16384];
    size_t len = 0;
    for (;;) {
        char* to = buf + len;
        char drop[512];
        size_t room = sizeof buf - len;
        if (room == 0) to = drop, room = sizeof drop;  // a longer error is cut
        long n = sys::raw_syscall(SYS_read, rfd, reinterpret_cast<long>(to), static_cast<long>(room));
        if (n == -EINTR) continue;
        if (n <= 0) break;
        if (to == drop) continue;
        len += static_cast<size_t>(n);
        if (len > 3 && std::memcmp(buf, "ok ", 3) == 0 && buf[len - 1] == '\n') {
            // The container runs: "ID\n" out, and the end.
            for (size_t off = 3; off < len;) {
                long w = sys::raw_syscall(SYS_write, out_fd, reinterpret_cast<long>(buf + off),
                                          static_cast<long>(len - off));
                if (w == -EINTR) continue;
                if (w <= 0) break;
                off += static_cast<size_t>(w);
            }
            for (;;) (void)sys::raw_syscall(SYS_exit_group, 0);
        }
    }
    int status = 0;
    while (sys::raw_syscall(SYS_wait4, pid, reinterpret_cast<long>(&status), 0) == -EINTR) {
    }
    // The monitor is gone (it reported why, or died): our memory is ours alone again.
    ::close(rfd);
    ::munmap(stack, kMonitorStack);
    return monitor_error(std::string(buf, len));
}

}  // namespace mydocker::engine::containers
