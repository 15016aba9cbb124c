// exec: a new process inside a running container (setns into its namespaces and cgroup).
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "runtime/capabilities.h"
#include "runtime/console.h"
#include "runtime/container.h"
#include "runtime/foreground.h"
#include "runtime/init.h"
#include "runtime/stub.h"
#include "runtime/sync.h"
#include "sys/files.h"
#include "sys/proc.h"

namespace mydocker::runtime {

namespace {

// pid: setns only moves the children, so the child stays invisible to the container; the
// stub it execs forks the process, born inside (stub.h, CVE-2019-5736).
constexpr NamespaceType kJoinOrder[] = {NamespaceType::user,    NamespaceType::ipc,    NamespaceType::uts,
                                        NamespaceType::network, NamespaceType::cgroup, NamespaceType::time,
                                        NamespaceType::pid,     NamespaceType::mount};

/// The container's namespaces that differ from ours (setns into one's own user ns fails).
sys::Result<std::vector<std::pair<NamespaceType, sys::UniqueFd>>> open_namespaces(pid_t pid) {
    std::vector<std::pair<NamespaceType, sys::UniqueFd>> out;
    for (NamespaceType t : kJoinOrder) {
        std::string theirs = "/proc/" + std::to_string(pid) + "/ns/" + namespace_proc_name(t);
        std::string ours = std::string("/proc/self/ns/") + namespace_proc_name(t);
        struct stat a, b;
        if (::stat(theirs.c_str(), &a) < 0) {
            if (errno == ENOENT) continue;  // kernel without this namespace type
            return sys::fail_errno("stat \"" + theirs + "\"");
        }
        if (::stat(ours.c_str(), &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) continue;
        auto fd = MD_TRY(sys::open_file(theirs, O_RDONLY));
        out.emplace_back(t, std::move(fd));
    }
    return out;
}

sys::Result<std::pair<uint32_t, uint32_t>> parse_user(const std::string& u) {
    auto colon = u.find(':');
    auto num = [&](const std::string& s) -> sys::Result<uint32_t> {
        if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos)
            return sys::fail_invalid("--user: \"" + u + "\" must be uid[:gid] with numeric ids");
        return static_cast<uint32_t>(std::stoul(s));
    };
    uint32_t uid = MD_TRY(num(u.substr(0, colon)));
    uint32_t gid = colon == std::string::npos ? 0 : MD_TRY(num(u.substr(colon + 1)));
    return std::pair{uid, gid};
}

sys::Result<Process> build_process(const ExecOptions& o, const Spec& spec) {
    if (o.process) return *o.process;
    if (o.args.empty()) return sys::fail_invalid("exec: a command is required (args or --process)");
    Process p = spec.process ? *spec.process : Process{};
    p.args = o.args;
    p.terminal = o.tty.value_or(false);
    p.console_size.reset();
    for (const auto& e : o.env) {
        if (e.find('=') == std::string::npos) return sys::fail_invalid("--env: \"" + e + "\" must be KEY=VALUE");
        auto key = e.substr(0, e.find('=') + 1);
        std::erase_if(p.env, [&](const std::string& x) { return x.rfind(key, 0) == 0; });
        p.env.push_back(e);
    }
    if (!o.cwd.empty()) {
        if (o.cwd[0] != '/') return sys::fail_invalid("--cwd: \"" + o.cwd + "\" must be an absolute path");
        p.cwd = o.cwd;
    }
    if (o.user) {
        auto [uid, gid] = MD_TRY(parse_user(*o.user));
        p.user.uid = uid;
        p.user.gid = gid;
    }
    if (!o.additional_gids.empty()) p.user.additional_gids = o.additional_gids;
    if (o.no_new_privs) p.no_new_privileges = true;
    if (!o.cap_add.empty()) {
        if (!p.capabilities) p.capabilities = Capabilities{};
        for (const auto& c : o.cap_add) {
            for (auto* set : {&p.capabilities->bounding, &p.capabilities->effective, &p.capabilities->permitted,
                              &p.capabilities->ambient})
                set->push_back(c);
        }
    }
    return p;
}

}  // namespace

sys::Result<int> exec(const Context& ctx, const ExecOptions& o) {
    auto st = MD_TRY(load_state(ctx, o.id));
    Status s = current_status(ctx, st);
    if (s == Status::paused) return sys::fail(sys::Error::bad_state("cannot exec in a paused container"));
    if (s != Status::running && s != Status::created)
        return sys::fail(sys::Error::bad_state("cannot exec in a stopped container"));
    auto text = MD_TRY(load_config(ctx, o.id));
    auto spec = MD_TRY(parse_spec(text, st.bundle));
    auto proc = MD_TRY(build_process(o, spec));
    if (proc.capabilities) warn_ungrantable(*proc.capabilities, ctx.log);
    if (proc.terminal && o.detach && o.console_socket.empty())
        return sys::fail_invalid("--tty: a detached exec with a terminal needs --console-socket");
    std::optional<SeccompFilter> seccomp;
    if (spec.linux && spec.linux->seccomp) seccomp = MD_TRY_CTX(compile_seccomp(*spec.linux->seccomp, ctx.log, ctx.seccomp_cache), "linux.seccomp");
    int min_fd = 3 + static_cast<int>(o.preserve_fds);

    auto namespaces = MD_TRY(open_namespaces(st.pid));
    auto root_fd = MD_TRY(sys::open_file("/proc/" + std::to_string(st.pid) + "/root", O_RDONLY | O_DIRECTORY));
    MD_TRY(sys::move_fd_above(root_fd, min_fd));
    auto mgr = MD_TRY(cgroups::make_manager(cgroups::Config{ctx.cgroup_root, st.cgroup_path}, ctx.log));

    sys::UniqueFd console, console_recv;
    if (proc.terminal) {
        if (!o.console_socket.empty()) {
            console = MD_TRY(connect_console_socket(o.console_socket));
        } else {
            int cp[2];
            if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cp) < 0) return sys::fail_errno("socketpair");
            console_recv.reset(cp[0]);
            console.reset(cp[1]);
        }
        MD_TRY(sys::move_fd_above(console, min_fd));
    }
    int sp[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) return sys::fail_errno("socketpair");
    sys::UniqueFd parent_sock(sp[0]), child_sock(sp[1]);
    MD_TRY(sys::move_fd_above(child_sock, min_fd));

    ExecConfig cfg;
    cfg.process = &proc;
    cfg.sync_fd = child_sock.get();
    cfg.console_fd = console.get();
    cfg.root_fd = root_fd.get();
    cfg.seccomp = seccomp ? &*seccomp : nullptr;
    cfg.preserve_fds = o.preserve_fds;
    for (auto& [t, fd] : namespaces) {
        MD_TRY(sys::move_fd_above(fd, min_fd));
        if (t == NamespaceType::user) cfg.container_user_ns = true;
        cfg.join_ns.emplace_back(t, fd.get());
    }
    auto stub = MD_TRY(sealed_stub());
    MD_TRY(sys::move_fd_above(stub, min_fd));
    cfg.stub_fd = stub.get();
    if (!o.detach) {
        sigset_t old;
        block_forwarded_signals(&old);
    }
    // The stub's child is reparented to us when the stub exits.
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) return sys::fail_errno("prctl PR_SET_CHILD_SUBREAPER");
    long pid = ::syscall(SYS_clone, static_cast<unsigned long>(SIGCHLD), nullptr, nullptr, nullptr, 0);
    if (pid < 0) return sys::fail_errno("clone");
    if (pid == 0) exec_main(cfg);
    child_sock.reset();
    console.reset();
    stub.reset();
    auto kill_child = [&] {
        ::kill(static_cast<pid_t>(pid), SIGKILL);
        (void)sys::wait_pid(static_cast<pid_t>(pid));
    };
    if (auto r = mgr->add_process(static_cast<pid_t>(pid)); !r) {
        kill_child();
        return sys::fail(std::move(r.error()).wrap("join cgroup of \"" + o.id + "\""));
    }
    if (auto r = sync_send(parent_sock.get(), SyncType::continue_, pid); !r) {
        kill_child();
        return sys::fail(std::move(r.error()));
    }
    // EOF means the stub is gone and its child's execve closed the last CLOEXEC end: the
    // process runs. Before that, a filter with SCMP_ACT_NOTIFY sends its listener for the
    // agent, and the stub the pid of the process (sync.h).
    pid_t process = 0;
    std::optional<sys::Error> failed;
    for (;;) {
        auto r = sync_recv_fds(parent_sock.get());
        if (!r) break;
        const SyncMessage& m = r->first;
        if (m.type == SyncType::exec_pid && m.value > 0 && process == 0) {
            process = static_cast<pid_t>(m.value);
            continue;
        }
        if (m.type == SyncType::seccomp_fd && !r->second.empty() && spec.linux && spec.linux->seccomp && !failed) {
            std::string ps = container_process_state_json(static_cast<pid_t>(pid), spec.linux->seccomp->listener_metadata,
                                                          oci_state_json(st, s, false));
            auto sent = send_seccomp_listener(spec.linux->seccomp->listener_path, ps, r->second.front().get());
            if (sent) sent = sync_send(parent_sock.get(), SyncType::seccomp_done);
            if (sent) continue;
            kill_child();
            return sys::fail(std::move(sent.error()));
        }
        if (failed) continue;
        if (m.type == SyncType::error) failed = sys::Error(sys::ErrorCode::system, m.text, static_cast<int>(m.value));
        else failed = sys::Error::invalid("exec: unexpected message from the child");
        // The child (or the stub's child) exits after an error: read on to EOF.
        ::kill(static_cast<pid_t>(pid), SIGKILL);
    }
    // Reaping the stub makes its child ours (we are a subreaper).
    (void)sys::wait_pid(static_cast<pid_t>(pid));
    if (failed || process == 0) {
        if (process > 0) {
            ::kill(process, SIGKILL);
            (void)sys::wait_pid(process);
        }
        if (failed) return sys::fail(std::move(*failed));
        return sys::fail(sys::Error::bad_state("exec: the child exited before it started the process"));
    }
    pid = process;
    if (!o.pid_file.empty()) {
        auto pf = MD_TRY(sys::absolute_path(o.pid_file));
        MD_TRY_CTX(sys::write_file_atomic(pf, std::to_string(pid), 0644), "--pid-file");
    }
    if (o.detach) return 0;
    sys::UniqueFd master_fd;
    if (console_recv) master_fd = MD_TRY(receive_fd(console_recv.get()));
    return wait_foreground(static_cast<pid_t>(pid), master_fd.get());
}

}  // namespace mydocker::runtime
