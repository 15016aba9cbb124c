// sysprobe NAME [ARG...]: make one system call with the given arguments and print how it
// went: "OK <return value>" or the errno's name ("EPERM", "ENOSYS", ...). Exits 0 either way,
// so a test compares the printed word. Linked statically: it runs inside busybox containers.
//
// ARG: a number (decimal, 0x hex, or negative), "self" (our pid), or "s:TEXT" (a pointer to
// TEXT). A clone or fork that succeeds: the child exits at once and is reaped.
//
// "euid" is no syscall: it prints the effective uid (for setuid checks).
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

struct Call {
    const char* name;
    long nr;
};

constexpr Call calls[] = {
    {"getpid", SYS_getpid},
    {"unshare", SYS_unshare},
    {"clone", SYS_clone},
    {"clone3", SYS_clone3},
    {"keyctl", SYS_keyctl},
    {"add_key", SYS_add_key},
    {"request_key", SYS_request_key},
    {"personality", SYS_personality},
    {"ptrace", SYS_ptrace},
    {"userfaultfd", SYS_userfaultfd},
    {"mkdir", SYS_mkdir},
    {"mount", SYS_mount},
    {"umount2", SYS_umount2},
    {"pivot_root", SYS_pivot_root},
    {"setns", SYS_setns},
    {"chroot", SYS_chroot},
    {"acct", SYS_acct},
    {"reboot", SYS_reboot},
    {"settimeofday", SYS_settimeofday},
    {"clock_settime", SYS_clock_settime},
    {"kcmp", SYS_kcmp},
    {"bpf", SYS_bpf},
    {"perf_event_open", SYS_perf_event_open},
    {"init_module", SYS_init_module},
    {"kexec_load", SYS_kexec_load},
    {"socket", SYS_socket},
    {"sethostname", SYS_sethostname},
    {"vhangup", SYS_vhangup},
    {"ioperm", SYS_ioperm},
};

long arg_value(const char* a) {
    if (std::strcmp(a, "self") == 0) return static_cast<long>(::getpid());
    if (std::strncmp(a, "s:", 2) == 0) return reinterpret_cast<long>(a + 2);
    char* end = nullptr;
    long v = static_cast<long>(std::strtoul(a, &end, 0));
    if (a[0] == '-') v = std::strtol(a, &end, 0);
    if (!end || *end) {
        std::fprintf(stderr, "sysprobe: bad argument \"%s\"\n", a);
        std::exit(2);
    }
    return v;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: sysprobe NAME [ARG...]\n");
        return 2;
    }
    std::string_view name = argv[1];
    if (name == "euid") {
        std::printf("%u\n", ::geteuid());
        return 0;
    }
    long nr = -1;
    for (const auto& c : calls)
        if (name == c.name) nr = c.nr;
    if (nr < 0) {
        std::fprintf(stderr, "sysprobe: unknown syscall \"%s\"\n", argv[1]);
        return 2;
    }
    long a[6] = {};
    for (int i = 2; i < argc && i < 8; ++i) a[i - 2] = arg_value(argv[i]);
    errno = 0;
    long r = ::syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    if (r < 0) {
        const char* e = strerrorname_np(errno);
        std::printf("%s\n", e ? e : std::to_string(errno).c_str());
        return 0;
    }
    if (nr == SYS_clone && r == 0) ::_exit(0);  // the child of a clone that worked
    if (nr == SYS_clone) ::waitpid(static_cast<pid_t>(r), nullptr, __WALL);
    std::printf("OK %ld\n", r);
    return 0;
}
