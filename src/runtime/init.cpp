// The init stage (DESIGN.md "The life of a container", steps 3-5).
#include "runtime/init.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <linux/openat2.h>
#include <sched.h>
#include <sys/mount.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "runtime/capabilities.h"
#include "runtime/hooks.h"
#include "runtime/netns.h"
#include "runtime/rootfs.h"
#include "runtime/state.h"
#include "runtime/stub.h"
#include "runtime/sync.h"
#include "sys/files.h"
#include "sys/proc.h"

namespace mydocker::runtime {

namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The signals this process ignores, from /proc/self/status (SigIgn): one read instead of a
/// sigaction(2) per signal. ~0 when /proc cannot say.
uint64_t ignored_signals() {
    char buf[4096];
    int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ~uint64_t{0};
    ssize_t n = MD_RETRY(::read(fd, buf, sizeof buf - 1));
    ::close(fd);
    if (n <= 0) return ~uint64_t{0};
    buf[n] = '\0';
    const char* p = std::strstr(buf, "\nSigIgn:\t");
    if (!p) return ~uint64_t{0};
    char* end = nullptr;
    uint64_t mask = std::strtoull(p + 9, &end, 16);
    return end && *end == '\n' ? mask : ~uint64_t{0};
}

void reset_signals() {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // Ignored dispositions survive execve: give the container the defaults. (Handlers are
    // reset by execve itself.)
    const uint64_t ignored = ignored_signals();
    for (int s = 1; s < NSIG; ++s) {
        if (s == SIGKILL || s == SIGSTOP) continue;
        if (s <= 64 && !(ignored & (uint64_t{1} << (s - 1)))) continue;
        struct sigaction sa;
        if (::sigaction(s, nullptr, &sa) == 0 && sa.sa_handler == SIG_IGN) ::signal(s, SIG_DFL);
    }
}

sys::Result<void> join_namespaces(const std::vector<std::pair<NamespaceType, int>>& ns) {
    // The user namespace first: it decides what the others may be joined with.
    for (auto& [type, fd] : ns)
        if (type == NamespaceType::user && ::setns(fd, CLONE_NEWUSER) < 0)
            return sys::fail_errno("join user namespace");
    for (auto& [type, fd] : ns) {
        if (type == NamespaceType::user) continue;
        if (::setns(fd, namespace_clone_flag(type)) < 0)
            return sys::fail_errno(std::string("join ") + namespace_type_name(type) + " namespace");
    }
    return {};
}

/// A new, anonymous session keyring, as runc makes one: without it the container shares the
/// caller's session keyring and every key in it. (Anonymous, not named after the container:
/// a named one is joined if it exists, and a container could have made it.) A kernel without
/// keys, or a caller whose seccomp profile denies keyctl, has nothing to share.
sys::Result<void> join_new_session_keyring() {
    if (::syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, nullptr) >= 0) return {};
    if (errno == ENOSYS || errno == EPERM) return {};
    return sys::fail_errno("join a new session keyring");
}

sys::Result<void> set_rlimits(const Process& p) {
    for (const auto& r : p.rlimits) {
        struct rlimit rl = {r.soft, r.hard};
        if (::setrlimit(static_cast<__rlimit_resource>(r.resource), &rl) < 0)
            return sys::fail_errno("set rlimit " + r.type);
    }
    return {};
}

/// A procfs instance of our own, attached nowhere (CVE-2025-52881): the runtime's writes to
/// /proc go through it, so no file or link of the container's tree (an image's /proc link, a
/// volume over where its procfs went, a bind of the host's /proc) can send them elsewhere.
/// Made in our pid namespace, where "self" is us. An invalid fd when the kernel refuses
/// (no fsopen, or a user namespace's rules): then the container's /proc is used, checked.
sys::UniqueFd private_procfs() {
    int fs = ::fsopen("proc", FSOPEN_CLOEXEC);
    if (fs < 0) return sys::UniqueFd(-1);
    sys::UniqueFd ctx(fs);
    if (::fsconfig(ctx.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) return sys::UniqueFd(-1);
    int m = ::fsmount(ctx.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    return sys::UniqueFd(m >= 0 ? m : -1);
}

/// Write `value` to /proc/`rel`: through `proc_fd` (private_procfs) when valid, resolved
/// beneath it and on that one mount (procfs' own links, like self, are all it can follow);
/// else through the container's /proc. Either way the file must be on procfs.
sys::Result<void> write_proc(int proc_fd, const std::string& rel, const std::string& value) {
    const std::string shown = "/proc/" + rel;
    sys::UniqueFd fd(-1);
    if (proc_fd >= 0) {
        struct open_how how{};
        how.flags = O_WRONLY | O_CLOEXEC;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS;
        long r = MD_RETRY(::syscall(SYS_openat2, proc_fd, rel.c_str(), &how, sizeof how));
        if (r < 0) return sys::fail_errno("open \"" + shown + "\"");
        fd = sys::UniqueFd(static_cast<int>(r));
    } else {
        fd = MD_TRY(sys::open_file(shown, O_WRONLY));
    }
    MD_TRY(check_procfs(fd.get(), shown));
    if (MD_RETRY(::write(fd.get(), value.data(), value.size())) < 0)
        return sys::fail_errno("write \"" + value + "\" to \"" + shown + "\"");
    return {};
}

sys::Result<void> apply_sysctl(const Spec& spec, int proc_fd) {
    if (!spec.linux) return {};
    for (const auto& [key, value] : spec.linux->sysctl) {
        std::string rel = "sys/" + key;
        for (size_t i = 4; i < rel.size(); ++i)
            if (rel[i] == '.') rel[i] = '/';
        if (auto r = write_proc(proc_fd, rel, value); !r)
            return sys::fail(std::move(r.error()).wrap("linux.sysctl \"" + key + "\""));
    }
    return {};
}

sys::Result<void> set_identity(const Process& p, bool allow_setgroups) {
    if (allow_setgroups) {
        std::vector<gid_t> groups(p.user.additional_gids.begin(), p.user.additional_gids.end());
        if (::setgroups(groups.size(), groups.data()) < 0) return sys::fail_errno("setgroups");
    }
    if (::setresgid(p.user.gid, p.user.gid, p.user.gid) < 0)
        return sys::fail_errno("setgid " + std::to_string(p.user.gid));
    if (::setresuid(p.user.uid, p.user.uid, p.user.uid) < 0)
        return sys::fail_errno("setuid " + std::to_string(p.user.uid));
    return {};
}

/// Load the filter; with SCMP_ACT_NOTIFY rules hand the listener fd to the parent at once
/// (sync.h) and wait until it reached the agent: from here on a notified syscall blocks until
/// the agent answers, so nothing but the hand-over may come first.
sys::Result<void> load_seccomp(const SeccompFilter& filter, int sync_fd) {
    const int fd = MD_TRY_CTX(filter.load(), "load seccomp filter");
    if (fd < 0) return {};
    sys::UniqueFd listener(fd);
    if (sync_fd < 0) return sys::fail(sys::Error::bad_state("seccomp notify: no runtime to hand the listener to"));
    MD_TRY(sync_send_fd(sync_fd, SyncType::seccomp_fd, listener.get()));
    // Closed only now: the parent's copy keeps the listener alive until the agent has it.
    MD_TRY(sync_wait_for(sync_fd, SyncType::seccomp_done));
    return {};
}

/// The process's credentials, as runc's finalizeNamespace: seccomp first when it needs
/// CAP_SYS_ADMIN (no no_new_privs), capabilities, user, umask, no_new_privs. Init does this
/// before READY (a refusal is reported to the parent), the rest after START.
/// `sync_fd` carries the notify listener to the parent (see load_seccomp).
sys::Result<void> finish_credentials(const Process& p, const SeccompFilter* seccomp, bool allow_setgroups,
                                     int sync_fd) {
    // Without no_new_privs the filter needs CAP_SYS_ADMIN: load it before dropping caps.
    if (seccomp && !p.no_new_privileges) MD_TRY(load_seccomp(*seccomp, sync_fd));
    if (p.capabilities) MD_TRY(drop_bounding_set(*p.capabilities));
    if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return sys::fail_errno("prctl PR_SET_KEEPCAPS");
    MD_TRY(set_identity(p, allow_setgroups));
    if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) return sys::fail_errno("prctl PR_SET_KEEPCAPS");
    if (p.capabilities) MD_TRY(apply_capability_sets(*p.capabilities));
    if (p.user.umask) ::umask(*p.user.umask);
    if (p.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return sys::fail_errno("prctl PR_SET_NO_NEW_PRIVS");
    return {};
}

/// The last steps before exec: the seccomp filter with no_new_privs (as close to the exec
/// as it can be), then only 0-2 and the preserved fds left open across it.
sys::Result<void> finish_exec(const Process& p, const SeccompFilter* seccomp, unsigned preserve_fds, int sync_fd) {
    if (seccomp && p.no_new_privileges) MD_TRY(load_seccomp(*seccomp, sync_fd));
    // Only 0-2 and the preserved fds reach the container (CVE-2024-21626): everything else
    // of ours is marked close-on-exec, whoever opened it.
    unsigned first = 3 + preserve_fds;
    if (::syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
        for (int fd = static_cast<int>(first); fd < 65536; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    for (unsigned fd = 3; fd < first; ++fd) ::fcntl(static_cast<int>(fd), F_SETFD, 0);
    return {};
}

/// Both, for exec and for a notify filter (whose listener goes to the parent before READY).
sys::Result<void> finish_process(const Process& p, const SeccompFilter* seccomp, unsigned preserve_fds,
                                 bool allow_setgroups, int sync_fd) {
    MD_TRY(finish_credentials(p, seccomp, allow_setgroups, sync_fd));
    return finish_exec(p, seccomp, preserve_fds, sync_fd);
}

/// cwd is resolved after pivot_root, so it can only name a directory inside the container;
/// check the kernel agrees (a cwd outside the root reads as "(unreachable)").
sys::Result<void> enter_cwd(const std::string& cwd, bool create) {
    if (create) (void)sys::mkdir_all(cwd, 0755);
    if (::chdir(cwd.c_str()) < 0) return sys::fail_errno("chdir to cwd \"" + cwd + "\"");
    char buf[4096];
    if (!::getcwd(buf, sizeof buf) || buf[0] != '/')
        return sys::fail(sys::Error::from_errno(EPERM, "cwd \"" + cwd + "\" is outside the container"));
    return {};
}

std::string hook_state(const InitConfig& cfg, pid_t pid, Status status) {
    ContainerState st;
    st.id = cfg.id;
    st.pid = pid;
    st.bundle = cfg.bundle;
    st.rootfs = cfg.spec->root.path;
    st.annotations = cfg.spec->annotations;
    return oci_state_json(st, status, false);
}

/// Close every fd from `from` up except `keep`: an fd inherited by the clone (a state-dir
/// lock, a caller's stray fd) must not stay open in the container's init.
void close_fds_except(int from, std::vector<int> keep) {
    std::sort(keep.begin(), keep.end());
    unsigned lo = static_cast<unsigned>(from);
    for (int k : keep) {
        if (k < from) continue;
        if (static_cast<unsigned>(k) > lo) ::syscall(SYS_close_range, lo, static_cast<unsigned>(k) - 1, 0);
        lo = static_cast<unsigned>(k) + 1;
    }
    ::syscall(SYS_close_range, lo, ~0U, 0);
}

[[noreturn]] void fail_child(int sync_fd, const sys::Error& e) {
    if (sync_fd >= 0) sync_send_error(sync_fd, e);
    ::_exit(1);
}

[[noreturn]] void fail_after_start(const sys::Error& e, int code) {
    dprintf(2, "mydocker-runc: %s\n", e.message().c_str());
    ::_exit(code);
}

sys::Result<std::string> init_setup(const InitConfig& cfg, pid_t& host_pid) {
    const Spec& spec = *cfg.spec;
    const Process& proc = *spec.process;
    auto cont = MD_TRY(sync_wait_for(cfg.sync_fd, SyncType::continue_));
    host_pid = static_cast<pid_t>(cont.value);
    if (cfg.unshare_flags && ::unshare(cfg.unshare_flags) < 0) return sys::fail_errno("unshare namespaces");
    if (cfg.loopback_up) MD_TRY(loopback_up());
    auto join_cgroup = [&]() -> sys::Result<void> {
        MD_TRY_CTX(cfg.cgroup->join_self_v1(), "join cgroup \"" + cfg.cgroup_path + "\"");
        std::string v2 = cfg.cgroup->clone_into_dir();
        if (!cfg.cloned_into_cgroup && !v2.empty())
            MD_TRY_CTX(sys::write_existing(v2 + "/cgroup.procs", "0"), "join cgroup \"" + cfg.cgroup_path + "\"");
        return {};
    };
    if (cfg.self_join && !cfg.defer_cgroup) MD_TRY(join_cgroup());
    // CGROUP_READY (early continue): the cgroup exists with its limits set; a deferred one
    // is joined then.
    bool cgroup_ready = !cfg.early_continue;
    auto wait_cgroup = [&]() -> sys::Result<void> {
        if (cgroup_ready) return {};
        cgroup_ready = true;
        auto fds = MD_TRY(sync_wait_for_fds(cfg.sync_fd, SyncType::cgroup_ready));
        if (cfg.defer_cgroup) {
            if (fds.empty()) {
                MD_TRY(join_cgroup());  // the parent could not open them all
            } else {
                // The parent opened every `tasks` file: "0" into each moves this thread.
                for (size_t i = 0; i < fds.size(); ++i)
                    if (MD_RETRY(::write(fds[i].get(), "0", 1)) < 0)
                        return sys::fail_errno("join cgroup \"" + cfg.cgroup_path + "\": write \"0\" to tasks file " +
                                               std::to_string(i + 1) + " of " + std::to_string(fds.size()));
            }
        }
        // (A cpuset join set it to the cpuset's CPUs already; the kernel keeps it within them.)
        if (cfg.restore_affinity) ::sched_setaffinity(0, sizeof cfg.affinity, &cfg.affinity);
        return {};
    };
    if (cfg.new_user_ns) {
        // Become the container's root now that the parent has written the id maps.
        if (::setresgid(0, 0, 0) < 0 || ::setresuid(0, 0, 0) < 0) return sys::fail_errno("become root in user namespace");
    }
    // A cgroup namespace made after the parent moved us into the container's cgroup has that
    // cgroup as its root.
    if (cfg.new_cgroup_ns && ::unshare(CLONE_NEWCGROUP) < 0) return sys::fail_errno("unshare cgroup namespace");
    MD_TRY(join_namespaces(cfg.join_ns));
    // A joined user namespace leaves our host uid 0 unmapped there: files we create would
    // fail (EOVERFLOW). Become the namespace's root, as with a new one.
    if (cfg.joined_user_ns && (::setresgid(0, 0, 0) < 0 || ::setresuid(0, 0, 0) < 0))
        return sys::fail_errno("become root in the joined user namespace");
    if (::setsid() < 0) return sys::fail_errno("setsid");
    if (!cfg.no_new_keyring) MD_TRY(join_new_session_keyring());

    RootfsOptions ro;
    ro.cgroup_path = cfg.cgroup_path;
    ro.cgroup_root = cfg.cgroup_root;
    ro.new_cgroup_ns = cfg.new_cgroup_ns;
    // (In any user namespace: mknod and a fresh sysfs are refused alike.)
    ro.new_user_ns = cfg.new_user_ns || cfg.joined_user_ns;
    // A deferred cgroup: CGROUP_TREE says it exists (the mounts that need it wait for that),
    // with its v1 mount if the spec has one; CGROUP_READY, later, that its limits are set.
    bool tree_pending = cfg.defer_cgroup;
    sys::UniqueFd tree;
    auto wait_cgroup_made = [&]() -> sys::Result<void> {
        if (!tree_pending) return {};
        tree_pending = false;
        tree = MD_TRY(sync_wait_for_fd(cfg.sync_fd, SyncType::cgroup_tree));
        return {};
    };
    ro.before_cgroup = cfg.defer_cgroup ? std::function<sys::Result<void>()>(wait_cgroup_made) : wait_cgroup;
    ro.idmap_fds = cfg.idmap_fds;
    ro.rootfs_mount = cfg.rootfs_mount;
    ro.take_cgroup_tree = [&]() -> sys::Result<sys::UniqueFd> {
        MD_TRY(wait_cgroup_made());
        return std::move(tree);
    };
    // Hooks before pivot_root see the container as the spec has it: in its cgroup, mounted.
    const bool hooks_before_pivot = cfg.parent_hooks || !spec.hooks.create_container.empty();
    // With a deferred cgroup, the cgroup mount may wait until after pivot_root and the masks
    // (rootfs.h): the parent has that much longer to make the cgroup and build the mount.
    std::vector<size_t> after_pivot;
    if (cfg.defer_cgroup && !cfg.no_pivot && !hooks_before_pivot && can_mount_after_pivot(spec))
        ro.after_pivot = &after_pivot;
    MD_TRY(prepare_rootfs(spec, ro));
    if (after_pivot.empty()) {
        MD_TRY(wait_cgroup_made());
        tree.reset();  // unused (no v1 cgroup mount after all)
    }
    // The join waits until just before READY, with the parent setting the limits meanwhile,
    // unless hooks come first.
    if (!cfg.defer_cgroup || hooks_before_pivot) MD_TRY(wait_cgroup());
    if (cfg.parent_hooks) {
        MD_TRY(sync_send(cfg.sync_fd, SyncType::hooks));
        MD_TRY(sync_wait_for(cfg.sync_fd, SyncType::hooks_done));
    }
    if (!spec.hooks.create_container.empty())
        MD_TRY(run_hooks(spec.hooks.create_container, "createContainer", hook_state(cfg, host_pid, Status::creating),
                         cfg.stub_fd));
    // Made before the masks: a user namespace may mount procfs only while a fully visible
    // one is there.
    const bool writes_proc = (spec.linux && !spec.linux->sysctl.empty()) || proc.oom_score_adj;
    sys::UniqueFd proc_fd = writes_proc ? private_procfs() : sys::UniqueFd(-1);
    if (after_pivot.empty()) {
        MD_TRY(enter_rootfs(spec, cfg.no_pivot));
        if (proc.terminal) MD_TRY(setup_console(cfg.console_fd, proc.console_size, true));
        MD_TRY(apply_sysctl(spec, proc_fd.get()));
        MD_TRY(finalize_rootfs(spec));
    } else {
        auto old_root = MD_TRY(pivot_to_rootfs(spec));
        if (proc.terminal) MD_TRY(setup_console(cfg.console_fd, proc.console_size, true));
        MD_TRY(apply_sysctl(spec, proc_fd.get()));
        MD_TRY(finalize_paths(spec));
        MD_TRY(mount_after_pivot(spec, after_pivot, ro, old_root.get()));
        MD_TRY(detach_old_root(std::move(old_root)));
        MD_TRY(finalize_root(spec));
    }
    MD_TRY(wait_cgroup());
    if (!spec.hostname.empty() && ::sethostname(spec.hostname.data(), spec.hostname.size()) < 0)
        return sys::fail_errno("sethostname \"" + spec.hostname + "\"");
    if (!spec.domainname.empty() && ::setdomainname(spec.domainname.data(), spec.domainname.size()) < 0)
        return sys::fail_errno("setdomainname \"" + spec.domainname + "\"");
    if (proc.oom_score_adj)
        MD_TRY_CTX(write_proc(proc_fd.get(), "self/oom_score_adj", std::to_string(*proc.oom_score_adj)),
                   "process.oomScoreAdj");
    MD_TRY(set_rlimits(proc));
    MD_TRY(enter_cwd(proc.cwd, true));
    return find_executable(proc.args[0], proc.env);
}

}  // namespace

sys::Result<std::string> find_executable(const std::string& file, const std::vector<std::string>& env) {
    auto is_exec = [](const std::string& p) {
        struct stat st;
        return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
    };
    if (file.find('/') != std::string::npos) {
        struct stat st;
        if (::stat(file.c_str(), &st) < 0) return sys::fail_errno("exec: \"" + file + "\"");
        if (!is_exec(file)) return sys::fail(sys::Error::from_errno(EACCES, "exec: \"" + file + "\""));
        return file;
    }
    std::string path = kDefaultPath;
    for (const auto& e : env)
        if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
    size_t i = 0;
    while (i <= path.size()) {
        size_t j = path.find(':', i);
        if (j == std::string::npos) j = path.size();
        std::string dir = path.substr(i, j - i);
        std::string cand = (dir.empty() ? "." : dir) + "/" + file;
        if (is_exec(cand)) return cand;
        i = j + 1;
    }
    return sys::fail(sys::Error::not_found("exec: \"" + file + "\": executable file not found in $PATH"));
}

void init_main(const InitConfig& cfg) {
    reset_signals();
    for (int i = 0; i < 3; ++i)
        if (cfg.stdio[i] >= 0 && cfg.stdio[i] != i) ::dup2(cfg.stdio[i], i);
    {
        std::vector<int> keep = {cfg.sync_fd, cfg.fifo_fd, cfg.console_fd, cfg.stub_fd};
        for (auto& [t, fd] : cfg.join_ns) keep.push_back(fd);
        for (int fd : cfg.idmap_fds) keep.push_back(fd);
        if (cfg.rootfs_mount >= 0) keep.push_back(cfg.rootfs_mount);
        close_fds_except(3 + static_cast<int>(cfg.preserve_fds), keep);
    }
    // If the runtime dies while we are being set up, die too; and keep the container from
    // reaching our binary through /proc/<pid>/exe while it is still ours (CVE-2019-5736).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    pid_t host_pid = 0;
    auto exe = init_setup(cfg, host_pid);
    if (!exe) fail_child(cfg.sync_fd, exe.error());
    const Spec& spec = *cfg.spec;
    const Process& proc = *spec.process;
    // A notify listener must reach the agent through the parent, and the parent of `create`
    // is gone by `start`: so the process is finished (user, caps, seccomp last) now, before
    // READY, as runc does; the startContainer hooks then run with the final credentials.
    // Otherwise the credentials alone are final before READY, as runc's are before its fifo,
    // and the filter with no_new_privs waits until after START.
    const bool finish_early = cfg.seccomp && cfg.seccomp->uses_notify();
    if (auto r = finish_early ? finish_process(proc, cfg.seccomp, cfg.preserve_fds, true, cfg.sync_fd)
                              : finish_credentials(proc, cfg.seccomp, true, cfg.sync_fd);
        !r)
        fail_child(cfg.sync_fd, r.error());
    // The parent exits after READY (create): we must outlive it from here on.
    ::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
    if (!sync_send(cfg.sync_fd, SyncType::ready)) ::_exit(1);
    if (cfg.console_fd >= 0) ::close(cfg.console_fd);
    if (cfg.start_over_sync) {
        // `run`: the parent that holds the other end says START (EOF: it is gone).
        if (!sync_wait_for(cfg.sync_fd, SyncType::start)) ::_exit(1);
        ::close(cfg.sync_fd);
    } else {
        ::close(cfg.sync_fd);
        // Wait for `start`: it writes one byte into exec.fifo.
        char byte;
        ssize_t n;
        do {
            n = ::read(cfg.fifo_fd, &byte, 1);
        } while (n < 0 && errno == EINTR);
        if (n != 1) ::_exit(1);
        ::close(cfg.fifo_fd);
    }

    if (!spec.hooks.start_container.empty()) {
        if (auto r = run_hooks(spec.hooks.start_container, "startContainer", hook_state(cfg, host_pid, Status::created),
                               cfg.stub_fd);
            !r)
            fail_after_start(r.error(), 1);
    }
    if (!finish_early) {
        if (auto r = finish_exec(proc, cfg.seccomp, cfg.preserve_fds, -1); !r) fail_after_start(r.error(), 1);
    }
    // Through the sealed stub, never directly: what the container reaches through
    // /proc/self/exe must not be our binary (stub.h).
    exec_through_stub(cfg.stub_fd, *exe, proc.args, proc.env);
    fail_after_start(sys::Error::from_errno(errno, "exec the sealed stub for \"" + proc.args[0] + "\""), 126);
}

void exec_main(const ExecConfig& cfg) {
    reset_signals();
    {
        std::vector<int> keep = {cfg.sync_fd, cfg.console_fd, cfg.root_fd, cfg.stub_fd};
        for (auto& [t, fd] : cfg.join_ns) keep.push_back(fd);
        close_fds_except(3 + static_cast<int>(cfg.preserve_fds), keep);
    }
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    const Process& proc = *cfg.process;
    auto setup = [&]() -> sys::Result<std::string> {
        MD_TRY(sync_wait_for(cfg.sync_fd, SyncType::continue_));
        MD_TRY(join_namespaces(cfg.join_ns));
        // setns(mnt) puts us at the namespace's root; the container's root is where its init
        // is rooted (pivot_root or chroot), so take that one explicitly.
        if (::fchdir(cfg.root_fd) < 0 || ::chroot(".") < 0) return sys::fail_errno("enter container root");
        if (cfg.container_user_ns && (::setresgid(0, 0, 0) < 0 || ::setresuid(0, 0, 0) < 0))
            return sys::fail_errno("become root in user namespace");
        MD_TRY(join_new_session_keyring());
        // The stub's child becomes the session leader and takes the pty as its terminal.
        if (proc.terminal) MD_TRY(setup_console(cfg.console_fd, proc.console_size, false, false));
        MD_TRY(enter_cwd(proc.cwd, false));
        MD_TRY(set_rlimits(proc));
        auto exe = MD_TRY(find_executable(proc.args[0], proc.env));
        MD_TRY(finish_process(proc, cfg.seccomp, cfg.preserve_fds, true, cfg.sync_fd));
        return exe;
    };
    auto exe = setup();
    if (!exe) fail_child(cfg.sync_fd, exe.error());
    // The parent-death signal survives execve: a detached exec must outlive `exec -d`.
    ::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
    // The stub reports on the sync socket: keep it open across its exec (finish_process
    // marked it close-on-exec); the stub's child closes it at its own execve.
    ::fcntl(cfg.sync_fd, F_SETFD, 0);
    fork_through_stub(cfg.stub_fd, cfg.sync_fd, proc.terminal, *exe, proc.args, proc.env);
    fail_child(cfg.sync_fd, sys::Error::from_errno(errno, "exec the sealed stub for \"" + proc.args[0] + "\""));
}

}  // namespace mydocker::runtime
