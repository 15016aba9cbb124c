// create / start / run: the parent side of the container's life (DESIGN.md steps 1-2, 5).
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <linux/sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "cgroups/systemd/manager.h"
#include "runtime/capabilities.h"
#include "runtime/console.h"
#include "runtime/container.h"
#include "runtime/hooks.h"
#include "runtime/idmap.h"
#include "runtime/init.h"
#include "runtime/lifecycle.h"
#include "runtime/rootfs.h"
#include "runtime/seccomp.h"
#include "runtime/stub.h"
#include "runtime/sync.h"
#include "sys/cleanup.h"
#include "sys/clock.h"
#include "sys/files.h"
#include "sys/proc.h"

namespace mydocker::runtime {

namespace {

/// The devices every container may use, appended after the spec's own cgroup rules as runc
/// does, so a "deny all" spec still gets /dev/null, ttys and ptys. linux.devices nodes are
/// not allowed implicitly: a node needs its own allow rule.
std::vector<cgroups::DeviceRule> default_device_rules() {
    return {
        {true, 'c', -1, -1, "m"}, {true, 'b', -1, -1, "m"}, {true, 'c', 1, 3, "rwm"},   {true, 'c', 1, 5, "rwm"},
        {true, 'c', 1, 7, "rwm"}, {true, 'c', 1, 8, "rwm"}, {true, 'c', 1, 9, "rwm"},   {true, 'c', 5, 0, "rwm"},
        {true, 'c', 5, 1, "rwm"}, {true, 'c', 5, 2, "rwm"}, {true, 'c', 136, -1, "rwm"},
    };
}

sys::Result<void> write_id_map(pid_t pid, const char* file, const std::vector<IdMapping>& maps) {
    std::string text;
    for (const auto& m : maps)
        text += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " + std::to_string(m.size) + "\n";
    return sys::write_existing("/proc/" + std::to_string(pid) + "/" + file, text);
}

std::string cgroup_path_for(const Spec& spec, const std::string& id) {
    std::string p = spec.linux ? spec.linux->cgroups_path : "";
    if (p.empty()) return "/" + id;
    // A relative path is taken from the hierarchy root: joining our own cgroup would nest the
    // container inside whatever cgroup the caller happens to run in.
    if (p[0] != '/') p = "/" + p;
    return p;
}

/// How many fds after 0-2 go to the container: --preserve-fds plus systemd's LISTEN_FDS.
unsigned listen_fds() {
    const char* v = std::getenv("LISTEN_FDS");
    if (!v) return 0;
    long n = std::strtol(v, nullptr, 10);
    return n > 0 && n < 1024 ? static_cast<unsigned>(n) : 0;
}

/// Clone init from a bridge process that joined the user namespace `userns_fd` and unshared
/// a pid namespace there: init is pid 1 of a pid namespace the joined user namespace owns,
/// and, through CLONE_PARENT, still our child. The bridge reports init's pid and exits.
sys::Result<long> clone_through_bridge(int userns_fd, int clone_flags, const InitConfig& icfg) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) return sys::fail_errno("pipe");
    sys::UniqueFd rd(p[0]), wr(p[1]);
    struct Report {
        long pid;
        int err;
        int step;  // 0: setns(user), 1: unshare(pid), 2: clone
    };
    long bridge = ::syscall(SYS_clone, static_cast<unsigned long>(SIGCHLD), nullptr, nullptr, nullptr, 0);
    if (bridge < 0) return sys::fail_errno("clone bridge process");
    if (bridge == 0) {
        // Only syscalls from here: this is a fork of the runtime.
        Report r{-1, 0, 0};
        if (::setns(userns_fd, CLONE_NEWUSER) < 0) {
            r.err = errno;
        } else if (r.step = 1; ::unshare(CLONE_NEWPID) < 0) {
            r.err = errno;
        } else {
            r.step = 2;
            const unsigned long flags = (static_cast<unsigned long>(clone_flags) & ~static_cast<unsigned long>(CLONE_NEWPID)) |
                                        CLONE_PARENT | SIGCHLD;
            r.pid = ::syscall(SYS_clone, flags, nullptr, nullptr, nullptr, 0);
            if (r.pid == 0) init_main(icfg);
            if (r.pid < 0) r.err = errno;
        }
        (void)!::write(wr.get(), &r, sizeof r);
        ::_exit(0);
    }
    wr.reset();
    Report r{-1, EPIPE, 2};
    ssize_t n = MD_RETRY(::read(rd.get(), &r, sizeof r));
    (void)sys::wait_pid(static_cast<pid_t>(bridge));
    if (n != static_cast<ssize_t>(sizeof r)) r = Report{-1, EPIPE, 2};
    if (r.pid > 0) return r.pid;
    static const char* const what[] = {"join user namespace", "unshare pid namespace in the joined user namespace",
                                       "clone init in the joined user namespace"};
    return sys::fail(sys::Error::from_errno(r.err, std::string("linux.namespaces: ") + what[r.step]));
}

}  // namespace

sys::Result<pid_t> create(const Context& ctx, const CreateOptions& opts) {
    auto bundle = MD_TRY(sys::absolute_path(opts.bundle));
    auto text = sys::read_file(sys::path_join(bundle, "config.json"));
    if (!text) return sys::fail(std::move(text.error()).wrap("load bundle"));
    auto spec = MD_TRY(parse_spec(*text, bundle));
    CreateOptions o = opts;
    o.bundle = bundle;
    return create(ctx, o, std::move(spec), *text);
}

sys::Result<pid_t> create(const Context& ctx, const CreateOptions& opts, Spec spec, const std::string& config_text) {
    auto c = MD_TRY(create_container(ctx, opts, std::move(spec), config_text, false));
    return c.state.pid;
}

sys::Result<Created> create_container(const Context& ctx, const CreateOptions& opts, Spec spec,
                                      const std::string& config_text, bool start_over_sync) {
    // 1. Validate everything before the first side effect.
    MD_TRY(validate_id(opts.id));
    if (!spec.process) return sys::fail_invalid("process: required to create a container");
    if (!spec.linux) spec.linux = Linux{};
    Linux& lx = *spec.linux;
    if (!lx.has_namespace(NamespaceType::mount))
        return sys::fail_invalid("linux.namespaces: a mount namespace is required");
    if (spec.process->terminal && opts.console_socket.empty() && !opts.console_master_out)
        return sys::fail_invalid("process.terminal: a terminal needs a console socket (--console-socket) unless run in the foreground");
    if (!spec.process->terminal && !opts.console_socket.empty())
        return sys::fail_invalid("--console-socket: a console socket was given but process.terminal is false");
    struct stat rst;
    if (::stat(spec.root.path.c_str(), &rst) < 0 || !S_ISDIR(rst.st_mode))
        return sys::fail(sys::Error::from_errno(ENOENT, "root.path: rootfs \"" + spec.root.path + "\" is not a directory"));
    std::optional<SeccompFilter> seccomp;
    if (lx.seccomp) seccomp = MD_TRY_CTX(compile_seccomp(*lx.seccomp, ctx.log, ctx.seccomp_cache), "linux.seccomp");
    if (spec.process->capabilities) warn_ungrantable(*spec.process->capabilities, ctx.log);
    const Namespace* user_ns = lx.find_namespace(NamespaceType::user);
    bool new_user_ns = user_ns && user_ns->path.empty();
    const Namespace* pid_ns = lx.find_namespace(NamespaceType::pid);
    // A joined user namespace with a new pid namespace: a namespace belongs to the user
    // namespace of the process that makes it, and init needs its capabilities over the pid
    // namespace (to mount /proc). So a bridge process joins the user namespace, unshares the
    // pid namespace and clones init (see clone_through_bridge).
    const bool bridge = user_ns && !user_ns->path.empty() && pid_ns && pid_ns->path.empty();

    std::string dir = state_dir(ctx, opts.id);
    ctx.log.debug("create \"" + opts.id + "\" in \"" + dir + "\"");
    // Declared before `undo`: its undo steps use it, so it must outlive them.
    std::string cg_path = cgroup_path_for(spec, opts.id);
    std::unique_ptr<cgroups::Manager> mgr;
    std::string systemd_cgroup;
    if (ctx.systemd_cgroup) {
        // runc's default for an empty cgroupsPath under systemd: a scope in system.slice.
        systemd_cgroup = lx.cgroups_path.empty() ? "system.slice:mydocker:" + opts.id : lx.cgroups_path;
        mgr = MD_TRY(cgroups::systemd::make_systemd_manager(systemd_cgroup, ctx.cgroup_root, false, ctx.log));
        cg_path = mgr->path();
    } else {
        mgr = MD_TRY(cgroups::make_manager(cgroups::Config{ctx.cgroup_root, cg_path}, ctx.log));
    }
    bool cgroup_made = false;
    sys::CleanupStack undo;
    Created out;
    const bool new_cgroup_ns =
        lx.find_namespace(NamespaceType::cgroup) && lx.find_namespace(NamespaceType::cgroup)->path.empty();
    // Self join: the limits are set before the clone, init is created inside the cgroup2 part
    // (clone3 CLONE_INTO_CGROUP) and moves itself into the v1 hierarchies ("0" into `tasks`):
    // no migration takes the kernel's threadgroup lock, which costs an RCU grace period.
    // Not with a new user namespace: its root may not write the host's cgroup files.
    // Nor from a bridge: init starts in the joined user namespace.
    // Nor when the cgroup is a systemd scope, which starts with its first process.
    const bool self_join = !new_cgroup_ns && !new_user_ns && !bridge && !mgr->needs_process_to_apply();
    // With nothing to clone into (pure v1), the cgroup need not exist before the clone: the
    // parent makes it and sets its limits while init unshares and mounts (the two run on two
    // CPUs), and init joins at CGROUP_READY, before anything that needs the cgroup.
    const bool defer_cgroup = self_join && mgr->clone_into_dir().empty();
    // 2. The state dir: mkdir is the atomic "this id is ours" step. `run` with a deferred
    // cgroup makes it after the clone, on the parent's side of the parallel part: until then
    // init has only unshared and mounted in its own namespaces, and is killed on EEXIST.
    const bool late_state_dir = start_over_sync && defer_cgroup;
    auto make_state_dir = [&]() -> sys::Result<void> {
        int rc = ::mkdir(dir.c_str(), 0711);
        if (rc < 0 && errno == ENOENT) {  // the first container under this root
            // Root-only, as runc's /run/runc: the engine's runroot must let no user in.
            MD_TRY(sys::mkdir_all(ctx.root, 0700));
            rc = ::mkdir(dir.c_str(), 0711);
        }
        if (rc < 0) {
            if (errno == EEXIST) return sys::fail(sys::Error::exists("container with id \"" + opts.id + "\" already exists"));
            return sys::fail_errno("create state dir \"" + dir + "\"");
        }
        undo.push([&] { (void)sys::remove_all(dir); });
        out.lock = MD_TRY(sys::FileLock::acquire(dir));
        struct stat dst;
        if (::fstat(out.lock.fd(), &dst) == 0) {
            out.dir_dev = dst.st_dev;
            out.dir_ino = dst.st_ino;
        }
        return {};
    };
    if (!late_state_dir) MD_TRY(make_state_dir());

    const unsigned listen = listen_fds();
    unsigned preserve = opts.preserve_fds + listen;
    if (listen > 0) {
        spec.process->env.push_back("LISTEN_FDS=" + std::to_string(listen));
        spec.process->env.push_back("LISTEN_PID=1");
    }
    int min_fd = 3 + static_cast<int>(preserve);

    // 3. The exec fifo `start` writes into. Init holds it open read-write, so its read
    // blocks until a byte arrives and `start` can open it without blocking. `run` starts
    // init itself, over the sync socket it holds anyway: no fifo (nobody else may start it).
    sys::UniqueFd fifo_fd;
    if (!start_over_sync) {
        std::string fifo = sys::path_join(dir, "exec.fifo");
        if (::mkfifo(fifo.c_str(), 0600) < 0) return sys::fail_errno("mkfifo \"" + fifo + "\"");
        fifo_fd = MD_TRY(sys::open_file(fifo, O_RDWR));
        MD_TRY(sys::move_fd_above(fifo_fd, min_fd));
    }

    // 4. The cgroup: made here, or (pure v1, see `defer_cgroup`) by the parent while init
    // unshares its namespaces and mounts. Its undo step comes before init's, so that init is
    // killed first on the way back.
    undo.push([&] {
        if (!cgroup_made) return;
        if (auto r = mgr->destroy(); !r) ctx.log.warn("remove cgroup: " + r.error().message());
    });
    auto make_cgroup = [&]() -> sys::Result<void> {
        cgroup_made = MD_TRY_CTX(mgr->apply(), "create cgroup \"" + cg_path + "\"");
        return {};
    };
    cgroups::Resources res = lx.resources.value_or(cgroups::Resources{});
    if (!res.devices.empty()) {
        auto extra = default_device_rules();
        res.devices.insert(res.devices.end(), extra.begin(), extra.end());
    }

    // 5. fds init needs: console socket, namespaces to join, the sync socket.
    sys::UniqueFd console;
    int console_pair[2] = {-1, -1};
    if (!opts.console_socket.empty()) {
        console = MD_TRY(connect_console_socket(opts.console_socket));
    } else if (spec.process->terminal) {
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, console_pair) < 0) return sys::fail_errno("socketpair");
        console.reset(console_pair[1]);
    }
    sys::UniqueFd console_recv(console_pair[0]);
    MD_TRY(sys::move_fd_above(console, min_fd));

    std::vector<sys::UniqueFd> ns_fds;
    InitConfig icfg;
    int clone_flags = 0;
    int bridge_userns_fd = -1;
    for (const auto& ns : lx.namespaces) {
        if (ns.path.empty()) {
            if (ns.type != NamespaceType::cgroup) clone_flags |= namespace_clone_flag(ns.type);
            continue;
        }
        auto fd = MD_TRY_CTX(sys::open_file(ns.path, O_RDONLY), std::string("linux.namespaces ") + namespace_type_name(ns.type));
        MD_TRY(sys::move_fd_above(fd, min_fd));
        if (ns.type == NamespaceType::pid) {
            // setns(pid) only moves our future children: the init we clone lands in it.
            if (::setns(fd.get(), CLONE_NEWPID) < 0) return sys::fail_errno("join pid namespace \"" + ns.path + "\"");
        } else if (bridge && ns.type == NamespaceType::user) {
            bridge_userns_fd = fd.get();  // joined by the bridge, before init exists
        } else {
            icfg.join_ns.emplace_back(ns.type, fd.get());
        }
        ns_fds.push_back(std::move(fd));
    }
    // Id-mapped binds: built here, in the host's user namespace, where the ids are ours to
    // map and the source's superblock ours to id-map; init only attaches them.
    std::vector<sys::UniqueFd> idmap_trees;
    for (size_t i = 0; i < spec.mounts.size(); ++i) {
        const Mount& m = spec.mounts[i];
        if (!m.idmap) continue;
        if (icfg.idmap_fds.empty()) icfg.idmap_fds.assign(spec.mounts.size(), -1);
        auto tree = MD_TRY_CTX(open_idmapped_tree(m), "mounts[" + std::to_string(i) + "]");
        MD_TRY(sys::move_fd_above(tree, min_fd));
        icfg.idmap_fds[i] = tree.get();
        idmap_trees.push_back(std::move(tree));
    }
    int sp[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) return sys::fail_errno("socketpair");
    sys::UniqueFd parent_sock(sp[0]), child_sock(sp[1]);
    MD_TRY(sys::move_fd_above(child_sock, min_fd));
    auto stub = MD_TRY(sealed_stub());
    MD_TRY(sys::move_fd_above(stub, min_fd));

    icfg.spec = &spec;
    icfg.stub_fd = stub.get();
    icfg.sync_fd = child_sock.get();
    icfg.fifo_fd = fifo_fd.valid() ? fifo_fd.get() : -1;
    icfg.console_fd = console.get();
    icfg.new_user_ns = new_user_ns;
    icfg.joined_user_ns = user_ns && !user_ns->path.empty();
    icfg.new_cgroup_ns = new_cgroup_ns;
    icfg.no_pivot = opts.no_pivot;
    icfg.no_new_keyring = opts.no_new_keyring;
    icfg.early_continue = !new_cgroup_ns;
    icfg.self_join = self_join;
    icfg.cgroup = mgr.get();
    icfg.defer_cgroup = defer_cgroup;
    sys::UniqueFd cgroup_dir_fd;
    if (!icfg.defer_cgroup) MD_TRY(make_cgroup());
    if (icfg.self_join && !icfg.defer_cgroup) {
        MD_TRY_CTX(mgr->set(res), "linux.resources");
        if (std::string d = mgr->clone_into_dir(); !d.empty()) {
            auto fd = sys::open_file(d, O_PATH | O_DIRECTORY);
            if (fd) cgroup_dir_fd = std::move(*fd);
        }
    }
    // Without user namespaces, init makes its mount, network, ipc and uts namespaces itself:
    // the parent's clone returns at once instead of after the network namespace's set-up
    // (~0.6 ms here), and goes on with the cgroup meanwhile. With a user namespace, every
    // namespace is made by the clone, so that the new user namespace owns none of them.
    if (!lx.has_namespace(NamespaceType::user)) {
        constexpr int kUnshareable = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS;
        icfg.unshare_flags = clone_flags & kUnshareable;
        clone_flags &= ~kUnshareable;
    }
    icfg.start_over_sync = start_over_sync;
    if (const Namespace* net = lx.find_namespace(NamespaceType::network); net && net->path.empty())
        icfg.loopback_up = opts.loopback_up;
    // The v1 cgroup mount is built by the parent while init mounts the rest (sync.h).
    const Mount* cgroup_mount = nullptr;
    if (icfg.defer_cgroup)
        for (const auto& m : spec.mounts)
            if (m.type == "cgroup" || m.type == "cgroup2") {
                cgroup_mount = &m;
                break;
            }
    icfg.parent_hooks = !spec.hooks.prestart.empty() || !spec.hooks.create_runtime.empty();
    icfg.seccomp = seccomp ? &*seccomp : nullptr;
    icfg.preserve_fds = preserve;
    // Above every fd init keeps, so the dup2 onto 0-2 cannot clobber one of them.
    std::vector<sys::UniqueFd> stdio_fds;
    for (int i = 0; i < 3; ++i) {
        if (opts.stdio[i] < 0) continue;
        int fd = ::fcntl(opts.stdio[i], F_DUPFD_CLOEXEC, min_fd + 16);
        if (fd < 0) return sys::fail_errno("dup stdio");
        icfg.stdio[i] = fd;
        stdio_fds.emplace_back(fd);
    }
    icfg.cgroup_path = cg_path;
    icfg.cgroup_root = ctx.cgroup_root;
    icfg.id = opts.id;
    icfg.bundle = opts.bundle;
    // Above the fds the container keeps (preserve_fds), as the others init holds.
    sys::UniqueFd rootfs_mount;
    if (opts.rootfs_mount >= 0) {
        rootfs_mount.reset(::fcntl(opts.rootfs_mount, F_DUPFD_CLOEXEC, min_fd));
        if (!rootfs_mount.valid()) return sys::fail_errno("dup the rootfs mount");
        icfg.rootfs_mount = rootfs_mount.get();
    }

    // With a deferred cgroup, parent and init work at the same time: on different CPUs only
    // if the scheduler is told (this VM's packs a new child onto its parent's CPU, so the two
    // took turns). Init is moved to the other CPUs until it joins its cgroup.
    if (icfg.defer_cgroup && ::sched_getaffinity(0, sizeof icfg.affinity, &icfg.affinity) == 0 &&
        CPU_COUNT(&icfg.affinity) > 1)
        icfg.restore_affinity = true;

    // 6. clone: fork semantics (no new stack), the child runs init_main on its copy of memory.
    long pid = -1;
    if (bridge) {
        icfg.cloned_into_cgroup = false;
        pid = MD_TRY(clone_through_bridge(bridge_userns_fd, clone_flags, icfg));
    } else if (cgroup_dir_fd.valid()) {
        clone_args ca{};
        ca.flags = static_cast<uint64_t>(clone_flags) | CLONE_INTO_CGROUP;
        ca.exit_signal = SIGCHLD;
        ca.cgroup = static_cast<uint64_t>(cgroup_dir_fd.get());
        pid = ::syscall(SYS_clone3, &ca, sizeof ca);
        if (pid >= 0) icfg.cloned_into_cgroup = true;  // in the child too: its copy of icfg
    }
    if (pid < 0 && !bridge) {
        // No clone3 or no CLONE_INTO_CGROUP (old kernel, odd cgroup): init joins by pid.
        icfg.cloned_into_cgroup = false;
        pid = ::syscall(SYS_clone, static_cast<unsigned long>(clone_flags) | SIGCHLD, nullptr, nullptr, nullptr, 0);
    }
    if (pid < 0) return sys::fail_errno("clone init");
    if (pid == 0) init_main(icfg);
    if (icfg.restore_affinity) {
        cpu_set_t others = icfg.affinity;
        // getcpu, not sched_getcpu: that one reads the CPU the kernel writes into libc's rseq
        // area, which is another process's when we run on its memory (the engine's monitor,
        // see clone_monitor_and_exit): it said the other CPU, and init and we took turns.
        unsigned cpu = 0;
        if (::getcpu(&cpu, nullptr) == 0) CPU_CLR(cpu, &others);
        if (CPU_COUNT(&others) > 0) ::sched_setaffinity(static_cast<pid_t>(pid), sizeof others, &others);
    }
    child_sock.reset();
    stdio_fds.clear();
    rootfs_mount.reset();
    fifo_fd.reset();
    console.reset();
    ns_fds.clear();
    idmap_trees.clear();
    undo.push([&, pid] {
        ::kill(static_cast<pid_t>(pid), SIGKILL);
        (void)sys::wait_pid(static_cast<pid_t>(pid));
    });

    // 7. The parent's part: id maps, cgroup, then let init go on.
    ContainerState st;
    st.id = opts.id;
    st.pid = static_cast<pid_t>(pid);
    auto parent_setup = [&]() -> sys::Result<void> {
        if (new_user_ns) {
            MD_TRY_CTX(write_id_map(static_cast<pid_t>(pid), "uid_map", lx.uid_mappings), "linux.uidMappings");
            MD_TRY_CTX(write_id_map(static_cast<pid_t>(pid), "gid_map", lx.gid_mappings), "linux.gidMappings");
        }
        if (icfg.early_continue) MD_TRY(sync_send(parent_sock.get(), SyncType::continue_, pid));
        if (icfg.defer_cgroup) {
            if (late_state_dir) MD_TRY(make_state_dir());
            MD_TRY(make_cgroup());
            // The cgroup exists: CGROUP_TREE says so, with its v1 mount built detached if the
            // spec has one. Init needs that for its last mounts, and the limits and the join
            // only before READY: so the tree goes first, the limits after (sync.h).
            sys::UniqueFd tree;
            if (cgroup_mount) {
                RootfsOptions ro;
                ro.cgroup_path = cg_path;
                ro.cgroup_root = ctx.cgroup_root;
                if (auto t = build_cgroup_tree(*cgroup_mount, ro)) tree = std::move(*t);
                else ctx.log.debug("cgroup mount left to init: " + t.error().message());
            }
            MD_TRY(sync_send_fd(parent_sock.get(), SyncType::cgroup_tree, tree.get()));
            tree.reset();
            MD_TRY_CTX(mgr->set(res), "linux.resources");
            // The files init writes "0" into to join, opened here: init's path is the
            // longer one. (Any that will not open: init opens them all itself.)
            std::vector<sys::UniqueFd> join_fds;
            std::vector<int> raw;
            for (const auto& f : mgr->self_join_files()) {
                auto fd = sys::open_file(f, O_WRONLY);
                if (!fd) {
                    raw.clear();
                    break;
                }
                raw.push_back(fd->get());
                join_fds.push_back(std::move(*fd));
            }
            MD_TRY(sync_send_fds(parent_sock.get(), SyncType::cgroup_ready, raw));
        } else if (!icfg.self_join) {
            // Limits first, then join: on v1 the device rules are written as "deny all" then
            // the allows, and init, already making /dev nodes (early continue), must never be
            // inside the cgroup during that window. (cpuset, too, must be set before a task
            // joins on v1.)
            MD_TRY_CTX(mgr->set(res), "linux.resources");
            MD_TRY_CTX(mgr->add_process(static_cast<pid_t>(pid)), "join cgroup \"" + cg_path + "\"");
        }
        if (!icfg.defer_cgroup)
            MD_TRY(sync_send(parent_sock.get(), icfg.early_continue ? SyncType::cgroup_ready : SyncType::continue_, pid));
        // While init finishes its mounts: the record's start time.
        auto ps = sys::read_proc_stat(st.pid);
        if (ps) st.pid_start = ps->start_time;
        return {};
    };
    st.bundle = opts.bundle;
    st.rootfs = spec.root.path;
    st.created = sys::now_rfc3339();
    st.cgroup_path = cg_path;
    st.systemd_cgroup = systemd_cgroup;
    st.owner = "";
    st.no_pivot = opts.no_pivot;
    st.annotations = spec.annotations;
    auto init_error = [&](sys::Error e) -> sys::Error {
        if (e.code() == sys::ErrorCode::not_found) {
            int status = 0;
            if (::waitpid(static_cast<pid_t>(pid), &status, 0) == static_cast<pid_t>(pid))
                return sys::Error::bad_state("container init exited unexpectedly (status " +
                                             std::to_string(sys::exit_code_of(status)) + ")");
        }
        return e;
    };
    if (auto r = parent_setup(); !r) {
        // With early continue, init may have failed (and closed its end) while we joined the
        // cgroup: its ERROR message is queued, and says more than our EPIPE.
        if (r.error().err() == EPIPE || r.error().err() == ECONNRESET) {
            auto m = sync_recv(parent_sock.get());
            if (m && m->type == SyncType::error)
                return sys::fail(sys::Error(sys::ErrorCode::system, m->text, static_cast<int>(m->value)));
        }
        return sys::fail(std::move(r.error()));
    }
    // 8. Record the container: state.json once, with its config, while init finishes its
    // mounts. (Nobody can start it before READY; if anything fails from here on, the undo
    // steps remove the state dir with the rest.)
    st.poststart_hooks = !spec.hooks.poststart.empty();
    st.poststop_hooks = !spec.hooks.poststop.empty();
    std::string later_text;
    if (config_text.empty() && opts.config_text_later) later_text = MD_TRY(opts.config_text_later());
    MD_TRY(save_state(ctx, st, later_text.empty() ? config_text : later_text));
    if (opts.while_init_prepares) MD_TRY(opts.while_init_prepares(st));
    for (;;) {
        auto r = sync_recv_fds(parent_sock.get());
        if (!r) return sys::fail(init_error(std::move(r.error())));
        auto* m = &r->first;
        if (m->type == SyncType::error)
            return sys::fail(sys::Error(sys::ErrorCode::system, m->text, static_cast<int>(m->value)));
        if (m->type == SyncType::ready) break;
        if (m->type == SyncType::hooks) {
            std::string s = oci_state_json(st, Status::creating, false);
            MD_TRY(run_hooks(spec.hooks.prestart, "prestart", s));
            MD_TRY(run_hooks(spec.hooks.create_runtime, "createRuntime", s));
            MD_TRY(sync_send(parent_sock.get(), SyncType::hooks_done));
            continue;
        }
        if (m->type == SyncType::seccomp_fd && lx.seccomp) {
            if (r->second.empty()) return sys::fail_invalid("sync: seccomp listener fd missing");
            // The spec's "MUST generate an error" if the agent cannot be reached: the undo
            // steps then kill init and remove what create made.
            std::string s = container_process_state_json(st.pid, lx.seccomp->listener_metadata,
                                                         oci_state_json(st, Status::creating, false));
            MD_TRY(send_seccomp_listener(lx.seccomp->listener_path, s, r->second.front().get()));
            MD_TRY(sync_send(parent_sock.get(), SyncType::seccomp_done));
            continue;
        }
        return sys::fail_invalid("sync: unexpected message from init");
    }
    if (opts.console_master_out && console_recv.valid()) {
        // Foreground terminal: receive the pty master init sent over our socketpair.
        auto master = MD_TRY(receive_fd(console_recv.get()));
        *opts.console_master_out = master.release();
    }

    // 9. The pid file, once init is ready: a caller that reads it may start it.
    if (!opts.pid_file.empty()) {
        auto pf = MD_TRY(sys::absolute_path(opts.pid_file));
        MD_TRY_CTX(sys::write_file_atomic(pf, std::to_string(st.pid), 0644), "--pid-file");
    }
    undo.commit();
    out.state = std::move(st);
    out.poststart = std::move(spec.hooks.poststart);
    out.poststop = std::move(spec.hooks.poststop);
    if (start_over_sync) out.start_sock = std::move(parent_sock);
    out.cgroup = std::move(mgr);
    return out;
}

}  // namespace mydocker::runtime
