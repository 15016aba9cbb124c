// The engine's default seccomp profile: an allow-list with the effect of docker's default
// profile. Everything not listed fails with EPERM (docker's defaultErrnoRet 1), so a program
// probing for a missing feature sees "not permitted" rather than being killed. Syscalls a
// capability unlocks are allowed only when the container's bounding set holds it, so
// `--cap-add SYS_ADMIN` opens mount(2) at both layers at once.
//
// Left out on purpose (never allowed): keyctl, add_key, request_key (the kernel keyring is
// not namespaced), userfaultfd (stalls the kernel on a fault: a tool for exploiting races),
// kexec_*, swapon/swapoff, nfsservctl, uselib, vm86, pivot_root, and the old or obscure
// ones (sysfs, _sysctl, ustat, get_kernel_syms, query_module, create_module, ...).
#include <linux/sched.h>
#include <sys/socket.h>

#include <cerrno>

#include "engine/containers/seccomp_profile.h"

namespace mydocker::engine::containers {

namespace {

using Names = std::vector<std::string>;

// What every process may call: files, memory, signals, time, ids, ipc, sockets.
Names always_allowed() {
    Names files = {
        "access",
        "faccessat",
        "faccessat2",
        "chdir",
        "fchdir",
        "getcwd",
        "chmod",
        "fchmod",
        "fchmodat",
        "fchmodat2",
        "chown",
        "chown32",
        "fchown",
        "fchown32",
        "fchownat",
        "lchown",
        "lchown32",
        "umask",
        "open",
        "openat",
        "openat2",
        "creat",
        "close",
        "close_range",
        "dup",
        "dup2",
        "dup3",
        "fcntl",
        "fcntl64",
        "flock",
        "read",
        "readv",
        "pread64",
        "preadv",
        "preadv2",
        "write",
        "writev",
        "pwrite64",
        "pwritev",
        "pwritev2",
        "lseek",
        "_llseek",
        "readahead",
        "fadvise64",
        "fadvise64_64",
        "fallocate",
        "truncate",
        "truncate64",
        "ftruncate",
        "ftruncate64",
        "fsync",
        "fdatasync",
        "sync",
        "syncfs",
        "sync_file_range",
        "sendfile",
        "sendfile64",
        "splice",
        "tee",
        "vmsplice",
        "copy_file_range",
        "stat",
        "stat64",
        "lstat",
        "lstat64",
        "fstat",
        "fstat64",
        "fstatat64",
        "newfstatat",
        "statx",
        "statfs",
        "statfs64",
        "fstatfs",
        "fstatfs64",
        "getdents",
        "getdents64",
        "mkdir",
        "mkdirat",
        "rmdir",
        "mknod",
        "mknodat",
        "link",
        "linkat",
        "symlink",
        "symlinkat",
        "unlink",
        "unlinkat",
        "rename",
        "renameat",
        "renameat2",
        "readlink",
        "readlinkat",
        "utime",
        "utimes",
        "utimensat",
        "utimensat_time64",
        "futimesat",
        "name_to_handle_at",
        "getxattr",
        "lgetxattr",
        "fgetxattr",
        "setxattr",
        "lsetxattr",
        "fsetxattr",
        "listxattr",
        "llistxattr",
        "flistxattr",
        "removexattr",
        "lremovexattr",
        "fremovexattr",
        "ioctl",
    };
    Names waiting = {
        "poll",
        "ppoll",
        "ppoll_time64",
        "select",
        "_newselect",
        "pselect6",
        "pselect6_time64",
        "epoll_create",
        "epoll_create1",
        "epoll_ctl",
        "epoll_ctl_old",
        "epoll_wait",
        "epoll_wait_old",
        "epoll_pwait",
        "epoll_pwait2",
        "eventfd",
        "eventfd2",
        "signalfd",
        "signalfd4",
        "inotify_init",
        "inotify_init1",
        "inotify_add_watch",
        "inotify_rm_watch",
        "fanotify_mark",
        "timerfd_create",
        "timerfd_settime",
        "timerfd_settime64",
        "timerfd_gettime",
        "timerfd_gettime64",
        "io_setup",
        "io_destroy",
        "io_submit",
        "io_cancel",
        "io_getevents",
        "io_pgetevents",
        "io_pgetevents_time64",
        "io_uring_setup",
        "io_uring_enter",
        "io_uring_register",
        "ioprio_get",
        "ioprio_set",
        "futex",
        "futex_time64",
        "futex_waitv",
    };
    Names memory = {
        "brk",           "mmap",         "mmap2",      "munmap",     "mremap",
        "mprotect",      "madvise",      "mincore",    "msync",      "remap_file_pages",
        "mlock",         "mlock2",       "mlockall",   "munlock",    "munlockall",
        "memfd_create",  "memfd_secret", "membarrier", "pkey_alloc", "pkey_free",
        "pkey_mprotect",
    };
    Names processes = {
        "fork",
        "vfork",
        "execve",
        "execveat",
        "exit",
        "exit_group",
        "wait4",
        "waitid",
        "waitpid",
        "kill",
        "tkill",
        "tgkill",
        "pidfd_open",
        "pidfd_send_signal",
        "process_mrelease",
        "restart_syscall",
        "pause",
        "getpid",
        "getppid",
        "gettid",
        "getpgid",
        "setpgid",
        "getpgrp",
        "getsid",
        "setsid",
        "getpriority",
        "setpriority",
        "getrlimit",
        "setrlimit",
        "ugetrlimit",
        "prlimit64",
        "getrusage",
        "times",
        "uname",
        "sysinfo",
        "getcpu",
        "getrandom",
        "prctl",
        "capget",
        "capset",
        "seccomp",
        "landlock_create_ruleset",
        "landlock_add_rule",
        "landlock_restrict_self",
        "set_tid_address",
        "set_robust_list",
        "get_robust_list",
        "rseq",
        "set_thread_area",
        "get_thread_area",
        "sched_yield",
        "sched_getaffinity",
        "sched_setaffinity",
        "sched_getattr",
        "sched_setattr",
        "sched_getparam",
        "sched_setparam",
        "sched_getscheduler",
        "sched_setscheduler",
        "sched_get_priority_max",
        "sched_get_priority_min",
        "sched_rr_get_interval",
        "sched_rr_get_interval_time64",
    };
    Names ids = {
        "getuid",    "getuid32",    "geteuid",   "geteuid32",   "getgid",    "getgid32",
        "getegid",   "getegid32",   "getresuid", "getresuid32", "getresgid", "getresgid32",
        "getgroups", "getgroups32", "setuid",    "setuid32",    "setgid",    "setgid32",
        "setreuid",  "setreuid32",  "setregid",  "setregid32",  "setresuid", "setresuid32",
        "setresgid", "setresgid32", "setfsuid",  "setfsuid32",  "setfsgid",  "setfsgid32",
        "setgroups", "setgroups32",
    };
    Names signals = {
        "rt_sigaction",
        "rt_sigprocmask",
        "rt_sigreturn",
        "rt_sigpending",
        "rt_sigsuspend",
        "rt_sigtimedwait",
        "rt_sigtimedwait_time64",
        "rt_sigqueueinfo",
        "rt_tgsigqueueinfo",
        "sigaltstack",
        "sigprocmask",
        "sigreturn",
        "alarm",
    };
    // Reading clocks, and adjtimex / clock_adjtime, which change nothing without CAP_SYS_TIME.
    Names time = {
        "time",
        "gettimeofday",
        "clock_gettime",
        "clock_gettime64",
        "clock_getres",
        "clock_getres_time64",
        "clock_nanosleep",
        "clock_nanosleep_time64",
        "nanosleep",
        "adjtimex",
        "clock_adjtime",
        "clock_adjtime64",
        "getitimer",
        "setitimer",
        "timer_create",
        "timer_delete",
        "timer_settime",
        "timer_settime64",
        "timer_gettime",
        "timer_gettime64",
        "timer_getoverrun",
    };
    Names ipc = {
        "pipe",
        "pipe2",
        "ipc",
        "msgget",
        "msgsnd",
        "msgrcv",
        "msgctl",
        "semget",
        "semop",
        "semtimedop",
        "semtimedop_time64",
        "semctl",
        "shmget",
        "shmat",
        "shmdt",
        "shmctl",
        "mq_open",
        "mq_unlink",
        "mq_timedsend",
        "mq_timedsend_time64",
        "mq_timedreceive",
        "mq_timedreceive_time64",
        "mq_notify",
        "mq_getsetattr",
    };
    // socket(2) itself is allowed below, for every family but AF_VSOCK.
    Names sockets = {
        "socketpair",      "socketcall", "bind",     "listen",      "accept",
        "accept4",         "connect",    "shutdown", "getsockname", "getpeername",
        "getsockopt",      "setsockopt", "send",     "sendto",      "sendmsg",
        "sendmmsg",        "recv",       "recvfrom", "recvmsg",     "recvmmsg",
        "recvmmsg_time64",
    };
    Names all;
    for (Names* group :
         {&files, &waiting, &memory, &processes, &ids, &signals, &time, &ipc, &sockets})
        all.insert(all.end(), group->begin(), group->end());
    return all;
}

ProfileRule allow(Names names) {
    ProfileRule r;
    r.rule.names = std::move(names);
    r.rule.action = "SCMP_ACT_ALLOW";
    return r;
}

ProfileRule allow_with_cap(Names names, std::string cap) {
    ProfileRule r = allow(std::move(names));
    r.includes.caps = {std::move(cap)};
    return r;
}

ProfileRule allow_on(Names names, std::vector<std::string> arches) {
    ProfileRule r = allow(std::move(names));
    r.includes.arches = std::move(arches);
    return r;
}

// Allowed when argument `index` equals `value`.
ProfileRule allow_if_arg(std::string name, unsigned index, uint64_t value,
                         const char* op = "SCMP_CMP_EQ") {
    ProfileRule r = allow({std::move(name)});
    r.rule.args = {runtime::SeccompArg{.index = index, .value = value, .value_two = 0, .op = op}};
    return r;
}

// Personalities that only select an ABI flavour or query the current one: 0 (PER_LINUX),
// 0x8 (PER_LINUX32), 0x20000 (UNAME26), 0x20008 (both) and 0xffffffff (query). The others
// turn off protections (ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, MMAP_PAGE_ZERO).
void add_personality(std::vector<ProfileRule>& rules) {
    for (uint64_t p : {0x0ULL, 0x8ULL, 0x20000ULL, 0x20008ULL, 0xffffffffULL})
        rules.push_back(allow_if_arg("personality", 0, p));
}

// Without CAP_SYS_ADMIN: clone only without new namespaces (the flags argument is the first
// one, but the second on s390), and clone3 answers ENOSYS, since its flags sit in a struct
// that seccomp cannot read: libc then falls back to clone, where they are checked.
void add_clone(std::vector<ProfileRule>& rules) {
    const uint64_t ns_flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
                              CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP;
    ProfileRule clone = allow_if_arg("clone", 0, ns_flags, "SCMP_CMP_MASKED_EQ");
    clone.excludes.caps = {"CAP_SYS_ADMIN"};
    clone.excludes.arches = {"s390", "s390x"};
    rules.push_back(clone);
    ProfileRule clone_s390 = allow_if_arg("clone", 1, ns_flags, "SCMP_CMP_MASKED_EQ");
    clone_s390.includes.arches = {"s390", "s390x"};
    clone_s390.excludes.caps = {"CAP_SYS_ADMIN"};
    rules.push_back(clone_s390);
    ProfileRule clone3;
    clone3.rule.names = {"clone3"};
    clone3.rule.action = "SCMP_ACT_ERRNO";
    clone3.rule.errno_ret = ENOSYS;
    clone3.excludes.caps = {"CAP_SYS_ADMIN"};
    rules.push_back(clone3);
}

// What a capability would let the process do anyway, allowed when the container holds it.
void add_capability_rules(std::vector<ProfileRule>& rules) {
    rules.push_back(allow_with_cap(
        {"bpf",           "clone",         "clone3",      "fanotify_init",   "fsconfig",
         "fsmount",       "fsopen",        "fspick",      "lookup_dcookie",  "mount",
         "mount_setattr", "move_mount",    "open_tree",   "perf_event_open", "quotactl",
         "quotactl_fd",   "setdomainname", "sethostname", "setns",           "syslog",
         "umount",        "umount2",       "unshare"},
        "CAP_SYS_ADMIN"));
    rules.push_back(allow_with_cap({"open_by_handle_at"}, "CAP_DAC_READ_SEARCH"));
    rules.push_back(allow_with_cap({"reboot"}, "CAP_SYS_BOOT"));
    rules.push_back(allow_with_cap({"chroot"}, "CAP_SYS_CHROOT"));
    rules.push_back(
        allow_with_cap({"init_module", "finit_module", "delete_module"}, "CAP_SYS_MODULE"));
    rules.push_back(allow_with_cap({"acct"}, "CAP_SYS_PACCT"));
    rules.push_back(allow_with_cap({"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv",
                                    "process_vm_writev", "ptrace"},
                                   "CAP_SYS_PTRACE"));
    rules.push_back(allow_with_cap({"iopl", "ioperm"}, "CAP_SYS_RAWIO"));
    rules.push_back(allow_with_cap({"settimeofday", "stime", "clock_settime", "clock_settime64"},
                                   "CAP_SYS_TIME"));
    rules.push_back(allow_with_cap({"vhangup"}, "CAP_SYS_TTY_CONFIG"));
    rules.push_back(allow_with_cap(
        {"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"}, "CAP_SYS_NICE"));
    rules.push_back(allow_with_cap({"syslog"}, "CAP_SYSLOG"));
    rules.push_back(allow_with_cap({"bpf"}, "CAP_BPF"));
    rules.push_back(allow_with_cap({"perf_event_open"}, "CAP_PERFMON"));
}

SeccompProfile build_default() {
    SeccompProfile p;
    p.default_action = "SCMP_ACT_ERRNO";
    p.default_errno_ret = EPERM;
    // The compat ABIs a 64-bit kernel also accepts are filtered with the same rules.
    p.arch_map = {
        {"SCMP_ARCH_X86_64", {"SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
        {"SCMP_ARCH_AARCH64", {"SCMP_ARCH_ARM"}},
        {"SCMP_ARCH_MIPS64", {"SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32"}},
        {"SCMP_ARCH_MIPS64N32", {"SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64"}},
        {"SCMP_ARCH_MIPSEL64", {"SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32"}},
        {"SCMP_ARCH_MIPSEL64N32", {"SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64"}},
        {"SCMP_ARCH_S390X", {"SCMP_ARCH_S390"}},
        {"SCMP_ARCH_RISCV64", {}},
    };
    auto& rules = p.syscalls;
    rules.push_back(allow(always_allowed()));
    // Since 4.8 seccomp filters are re-checked after a tracer changes a syscall, so a traced
    // process cannot be steered past the filter: ptrace of one's own processes is then safe.
    ProfileRule trace = allow({"ptrace", "process_vm_readv", "process_vm_writev"});
    trace.includes.min_kernel = KernelVersion{4, 8};
    rules.push_back(trace);
    // AF_VSOCK reaches the hypervisor's host, outside the container's network namespace.
    rules.push_back(allow_if_arg("socket", 0, AF_VSOCK, "SCMP_CMP_NE"));
    add_personality(rules);
    rules.push_back(allow_on({"arch_prctl"}, {"amd64", "x32"}));
    rules.push_back(allow_on({"modify_ldt"}, {"amd64", "x32", "x86"}));
    rules.push_back(allow_on({"sync_file_range2", "swapcontext"}, {"ppc64le"}));
    rules.push_back(allow_on({"arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2",
                              "breakpoint", "cacheflush", "set_tls"},
                             {"arm", "arm64"}));
    rules.push_back(allow_on({"s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"},
                             {"s390", "s390x"}));
    rules.push_back(allow_on({"riscv_flush_icache"}, {"riscv64"}));
    add_capability_rules(rules);
    add_clone(rules);
    return p;
}

}  // namespace

const SeccompProfile& default_seccomp_profile() {
    static const SeccompProfile profile = build_default();
    return profile;
}

}  // namespace mydocker::engine::containers
