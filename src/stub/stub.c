// mydocker-stub: the last program a runtime process executes before the container's own.
//
// CVE-2019-5736: a clone of the runtime that calls execve inside a container still has the
// host's runtime (or engine) binary as /proc/self/exe at that moment, so a `#!/proc/self/exe`
// script in the image makes the kernel run that binary in the container, dumpable, and a
// root process there can open it through /proc/PID/exe and overwrite it once the runtime has
// exited. So the runtime never execs the container's program itself: it execs this stub from
// a sealed memfd (runtime/stub.h), and the stub execs the program. Whatever the container
// reaches through /proc/self/exe or /proc/PID/exe is then this stub's sealed, private copy.
//
// Freestanding (no libc: nothing of the container is loaded, and it is a few KiB to copy).
//   argv "E" PATH ARGV...           execve(PATH, ARGV): init's last step
//   argv "F" SYNCFD TTY PATH ARGV...  fork; the child (born in the pid namespace the exec
//                                    child joined) becomes a session leader (with the pty on
//                                    0 as controlling terminal when TTY is "t") and execs;
//                                    the stub reports the child's pid on SYNCFD and exits
// argv[0] is the mode: the kernel puts the interpreter's path there when the stub is reached
// through `#!`, so a script can only make the stub refuse to run.
#include <asm/unistd.h>
#include <linux/errno.h>
#include <linux/fcntl.h>
#include <linux/sched.h>
#include <linux/signal.h>

#define TIOCSCTTY 0x540E

#if defined(__x86_64__)
static long sys6(long n, long a, long b, long c, long d, long e, long f) {
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
__asm__(".text\n.global _start\n_start:\n xor %rbp,%rbp\n mov %rsp,%rdi\n and $-16,%rsp\n call stub_main\n hlt\n");
#elif defined(__aarch64__)
static long sys6(long n, long a, long b, long c, long d, long e, long f) {
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
    return x0;
}
__asm__(".text\n.global _start\n_start:\n mov x29, #0\n mov x30, #0\n mov x0, sp\n bl stub_main\n brk #0\n");
#else
#error "mydocker-stub: add this architecture's system call convention"
#endif

#define SYS(n, ...) sys6(n, __VA_ARGS__)

static void die(int code) {
    for (;;) sys6(__NR_exit_group, code, 0, 0, 0, 0, 0);
}

static void append(char* buf, unsigned long* at, unsigned long cap, const char* s) {
    while (*s && *at < cap) buf[(*at)++] = *s++;
}

static const char* errno_text(long err) {
    switch (err) {
        case ENOENT: return "No such file or directory";
        case EACCES: return "Permission denied";
        case ENOEXEC: return "Exec format error";
        case E2BIG: return "Argument list too long";
        case ENOMEM: return "Cannot allocate memory";
        case EPERM: return "Operation not permitted";
        case ETXTBSY: return "Text file busy";
        case ELOOP: return "Too many levels of symbolic links";
        case ENOTDIR: return "Not a directory";
        case EISDIR: return "Is a directory";
        case EAGAIN: return "Resource temporarily unavailable";
        default: return "Unknown error";
    }
}

// "exec \"ARG0\": TEXT" into buf; returns its length.
static unsigned long exec_error(char* buf, unsigned long cap, const char* what, const char* arg0, long err) {
    unsigned long at = 0;
    append(buf, &at, cap, what);
    append(buf, &at, cap, " \"");
    append(buf, &at, cap, arg0 ? arg0 : "");
    append(buf, &at, cap, "\": ");
    append(buf, &at, cap, errno_text(err));
    return at;
}

// One message of runtime/sync.h's protocol: {u32 type, u32 text length, i64 value} + text.
static void sync_send(int fd, unsigned type, long value, const char* text, unsigned long text_len) {
    char msg[16 + 512];
    if (text_len > 512) text_len = 512;
    unsigned* h = (unsigned*)msg;
    h[0] = type;
    h[1] = (unsigned)text_len;
    *(long*)(msg + 8) = value;
    for (unsigned long i = 0; i < text_len; ++i) msg[16 + i] = text[i];
    long r;
    do r = sys6(__NR_sendto, fd, (long)msg, (long)(16 + text_len), 0x4000 /* MSG_NOSIGNAL */, 0, 0);
    while (r == -EINTR);
}

enum { kSyncError = 5, kSyncExecPid = 11 };

static int parse_fd(const char* s) {
    int v = 0;
    if (!*s) return -1;
    for (; *s; ++s) {
        if (*s < '0' || *s > '9' || v > 100000) return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

static int exit_code_for(long err) { return err == ENOENT ? 127 : 126; }

__attribute__((used)) void stub_main(long* sp) {
    long argc = sp[0];
    char** argv = (char**)(sp + 1);
    char** envp = argv + argc + 1;
    char msg[600];
    if (argc >= 3 && argv[0][0] == 'E' && argv[0][1] == 0) {
        long err = -SYS(__NR_execve, (long)argv[1], (long)(argv + 2), (long)envp, 0, 0, 0);
        unsigned long n = 0;
        append(msg, &n, sizeof msg, "mydocker-runc: ");
        n += exec_error(msg + n, sizeof msg - n - 1, "exec", argv[2], err);
        msg[n++] = '\n';
        SYS(__NR_write, 2, (long)msg, (long)n, 0, 0, 0);
        die(exit_code_for(err));
    }
    if (argc >= 5 && argv[0][0] == 'F' && argv[0][1] == 0) {
        int sync_fd = parse_fd(argv[1]);
        if (sync_fd < 0) die(125);
        long pid = SYS(__NR_clone, SIGCHLD, 0, 0, 0, 0, 0);
        if (pid < 0) {
            unsigned long n = exec_error(msg, sizeof msg, "fork for", argv[4], -pid);
            sync_send(sync_fd, kSyncError, -pid, msg, n);
            die(1);
        }
        if (pid > 0) {
            sync_send(sync_fd, kSyncExecPid, pid, "", 0);
            die(0);
        }
        const char* what = "exec";
        long r = SYS(__NR_setsid, 0, 0, 0, 0, 0, 0);
        if (r < 0) what = "setsid for";
        if (r >= 0 && argv[2][0] == 't') {
            r = SYS(__NR_ioctl, 0, TIOCSCTTY, 0, 0, 0, 0);
            if (r < 0) what = "set controlling terminal for";
        }
        if (r >= 0) {
            SYS(__NR_fcntl, sync_fd, F_SETFD, FD_CLOEXEC, 0, 0, 0);
            r = SYS(__NR_execve, (long)argv[3], (long)(argv + 4), (long)envp, 0, 0, 0);
        }
        unsigned long n = exec_error(msg, sizeof msg, what, argv[4], -r);
        sync_send(sync_fd, kSyncError, -r, msg, n);
        die(exit_code_for(-r));
    }
    static const char usage[] = "mydocker-stub: not a program to run by hand\n";
    SYS(__NR_write, 2, (long)usage, (long)(sizeof usage - 1), 0, 0, 0);
    die(125);
}
