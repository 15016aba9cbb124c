// create / start / run / monitor / stop / kill / rm / wait: a container's life in the engine.
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <cstdio>
#include <cstring>
#include <functional>
#include <thread>

#include "engine/containers/bundle.h"
#include "engine/containers/containers.h"
#include "engine/containers/monitor_process.h"
#include "engine/containers/supervise.h"
#include "engine/images/progress.h"
#include "engine/images/pull.h"
#include "engine/images/store.h"
#include "engine/logs/logs.h"
#include "engine/networks/networks.h"
#include "engine/volumes/volumes.h"
#include "runtime/container.h"
#include "runtime/foreground.h"
#include "runtime/lifecycle.h"
#include "runtime/netns.h"
#include "runtime/rootfs.h"
#include "runtime/spec.h"
#include "sys/cleanup.h"
#include "sys/clock.h"
#include "sys/files.h"
#include "sys/memory.h"
#include "sys/proc.h"
#include "sys/raw_syscall.h"
#include "sys/signals.h"
#include "sys/json_text.h"

namespace mydocker::engine::containers {

namespace {

struct Launched {
    pid_t pid = 0;
    int pty_master = -1;
};

// How the container's stdio is wired for one start.
struct LaunchIo {
    int stdio[3] = {-1, -1, -1};
    bool want_pty_master = false;
    int netns = -1;  // a network namespace made ahead (runtime::PendingNetns), lo up; or -1
    // Or the one being made on a thread of ours (`run -d`), taken once the bundle is written.
    runtime::PendingNetns* netns_later = nullptr;
    // The record is not on disk yet (run): it is first written while init prepares, as
    // "running", since a start that fails removes it anyway.
    bool first_save = false;
};

bool runtime_has(const Context& ctx, const std::string& id) {
    return sys::path_exists(sys::path_join(ctx.runtime_dir(), id));
}

// Does network mode `mode` give the container a namespace of its own (none, bridge, a network)?
bool own_netns(std::string_view mode) {
    return mode != "host" && !mode.starts_with("container:");
}

bool uses_networks(const Container& c) {
    return c.host.network_mode != "none" && own_netns(c.host.network_mode);
}

// The namespace `pending` made for a container on `network`. If it could not be made, init makes one,
// as without this step (and fails the same way, with the runtime's error).
sys::UniqueFd take_netns(const Context& ctx, const std::string& network, runtime::PendingNetns& pending) {
    if (!own_netns(network)) return {};
    auto ns = pending.take();
    if (ns) return std::move(*ns);
    ctx.log.debug("network namespace made ahead: " + ns.error().message() + ": left to init");
    return {};
}

// The container (init `pid`, not started yet; its network namespace `netns_fd`, or -1 to
// find it through the pid) onto its networks, or just lo up for --network none; -P publishes
// every exposed port.
sys::Result<void> connect_networks(const Context& ctx, Container& c, pid_t pid, uint64_t pid_start, int netns_fd,
                                   sys::CleanupStack& undo) {
    networks::Store nets(ctx);
    if (!uses_networks(c)) return {};  // lo: init set it up (CreateOptions::loopback_up)
    networks::AttachRequest req;
    req.container = c.id;
    req.name = c.name;
    req.hostname = c.config.hostname;
    req.pid = pid;
    req.pid_start = pid_start;
    req.netns_fd = netns_fd;
    for (const auto& e : c.network.endpoints) req.endpoints.push_back({.network = e.network, .requested_ip = e.requested_ip});
    req.ports = c.host.port_bindings;
    if (c.host.publish_all) {
        for (const auto& p : c.config.exposed_ports) {
            auto b = MD_TRY(networks::parse_exposed(p));
            bool bound = std::any_of(req.ports.begin(), req.ports.end(), [&](const networks::PortBinding& x) {
                return x.container_port == b.container_port && x.proto == b.proto;
            });
            if (!bound) req.ports.push_back(b);
        }
    }
    auto got = MD_TRY(nets.attach(req));
    // (The init still runs here, so its namespace is alive: the veths are deleted by us.)
    undo.push([&ctx, id = c.id, eps = got.endpoints] { networks::Store(ctx).detach(id, eps, true); });
    c.network.endpoints = got.endpoints;
    c.network.ports = got.ports;
    return {};
}

// `--network container:X`: X's id, or empty.
std::string joined_id(const Container& c) {
    const auto& m = c.host.network_mode;
    return m.rfind("container:", 0) == 0 ? m.substr(10) : std::string();
}

// Does a running container still share c's network namespace (--network container:c)? Then
// c's veths outlive c's own processes, and must be deleted by us when c stops.
bool has_live_joiners(const Context& ctx, const Container& c) {
    std::string dir = sys::path_join(Store(ctx).container_dir(c.id), "joiners");
    auto entries = sys::list_dir(dir);
    if (!entries) return false;
    for (const auto& id : *entries) {
        auto y = Store(ctx).load(id);
        if (y && y->state.pid > 0 && sys::process_alive(y->state.pid, y->state.pid_start)) return true;
    }
    return false;
}

// Y stopped: it no longer holds X's namespace.
void leave_joined(const Context& ctx, const Container& c) {
    std::string x = joined_id(c);
    if (x.empty()) return;
    ::unlink(sys::path_join(sys::path_join(Store(ctx).container_dir(x), "joiners"), c.id).c_str());
}

// What a stopped container keeps of its networks: which ones, and the address asked for.
void forget_network_state(Container& c) {
    for (auto& e : c.network.endpoints) e = networks::Endpoint{.network = e.network, .requested_ip = e.requested_ip};
    c.network.ports.clear();
}

// Bring up a created/exited container: overlay, volumes, config.json, runtime create+start.
// `known` is the container's image when the caller resolved it already (run), else null.
// On error everything this call set up is undone; the record is left as it was.
sys::Result<Launched> launch(const Context& ctx, Container& c, const LaunchIo& lio, const images::Image* known) {
    sys::CleanupStack undo;
    Paths p = paths_of(ctx, c.id);
    images::Image resolved;
    if (!known) resolved = MD_TRY(images::Store(ctx).resolve(c.image_id));
    const images::Image& image = known ? *known : resolved;
    if (runtime_has(ctx, c.id)) {
        // A leftover of a crashed monitor: the runtime state of a container that is not running.
        (void)runtime::remove(ctx.runtime(), c.id, true);
    }
    // The overlay, as a detached mount that init attaches in the container's own mount
    // namespace: the host's mount table does not grow with every running container (each
    // init copies that table, and walks its copy again to detach the old root). On a kernel
    // that cannot, mounted in place.
    sys::UniqueFd rootfs_mount = MD_TRY(open_rootfs(ctx, c, image));
    if (!rootfs_mount.valid()) MD_TRY(mount_rootfs(ctx, c, image));
    undo.push([&] { (void)unmount_rootfs(ctx, c.id); });
    const std::string rootfs_now = rootfs_mount.valid() ? runtime::fd_path(rootfs_mount.get()) : p.rootfs;
    MD_TRY(prepare_mounts(ctx, c));
    auto net = MD_TRY(prepare_network(ctx, c));
    const bool new_netns = own_netns(c.host.network_mode);
    int netns = lio.netns;
    sys::UniqueFd taken;  // init joins it, connect_networks uses it
    if (lio.netns_later && lio.netns_later->started()) {
        taken = take_netns(ctx, c.host.network_mode, *lio.netns_later);
        netns = taken.get();
    }
    if (new_netns && netns >= 0) net.netns_path = runtime::netns_fd_path(netns);
    auto doc = MD_TRY(build_config(ctx, c, net, rootfs_now));
    auto spec = MD_TRY(runtime::parse_spec_doc(doc, p.bundle));
    runtime::CreateOptions co;
    // The bundle's config.json, and the state's copy, once init is cloned: its text is of no
    // use before (the runtime has the spec), and the parent has time to spare then.
    co.config_text_later = [&doc, &p]() -> sys::Result<std::string> {
        std::string text = sys::json_text(doc, 2);
        MD_TRY(sys::write_file_atomic(p.config, text, 0600));
        return text;
    };
    co.id = c.id;
    co.bundle = p.bundle;
    int master = -1;
    if (lio.want_pty_master) co.console_master_out = &master;
    // A new network namespace: lo up by init, unless made ahead with lo up (bridge networks
    // add eth0 next, in attach).
    co.loopback_up = new_netns && net.netns_path.empty();
    co.rootfs_mount = rootfs_mount.get();
    for (int i = 0; i < 3; ++i) co.stdio[i] = lio.stdio[i];
    auto rctx = ctx.runtime();
    rctx.systemd_cgroup = c.host.cgroup_manager == "systemd";
    auto mark_running = [&c](pid_t pid, uint64_t pid_start) {
        c.state.status = "running";
        c.state.pid = pid;
        c.state.pid_start = pid_start;
        c.state.started_at = sys::now_rfc3339();
        c.state.finished_at = "0001-01-01T00:00:00Z";
        c.state.exit_code = 0;
        c.state.oom_killed = false;
        c.state.error.clear();
    };
    // While init mounts: its networks, when there are none or their namespace is in hand
    // (made ahead; else init makes it, and only READY says it has), then the record of a `run`.
    const bool netns_in_hand = !uses_networks(c) || (netns >= 0 && !net.netns_path.empty());
    bool connected = false, saved = false;
    co.while_init_prepares = [&](const runtime::ContainerState& st) -> sys::Result<void> {
        if (!netns_in_hand) return {};
        MD_TRY(connect_networks(ctx, c, st.pid, st.pid_start, netns, undo));
        connected = true;
        if (lio.first_save) {
            mark_running(st.pid, st.pid_start);
            MD_TRY(Store(ctx).save(c));
            saved = true;
        }
        return {};
    };
    // The runtime's in-memory path, as its `run`: init waits for START on its sync socket (no
    // exec.fifo), and start needs nothing read back from the state dir. Nobody but us may
    // start it: the record stays locked until it runs.
    auto created = MD_TRY(runtime::create_container(rctx, co, std::move(spec), std::string(), true));
    sys::UniqueFd master_fd(master);
    undo.push([&] {
        // Init is our child and PID 1 of its pid namespace: the namespace goes with it.
        ::kill(created.state.pid, SIGKILL);
        (void)sys::wait_pid(created.state.pid);
        (void)runtime::remove_created(rctx, created);
    });
    pid_t pid = created.state.pid;
    uint64_t pid_start = created.state.pid_start;
    if (!connected) MD_TRY(connect_networks(ctx, c, pid, pid_start, -1, undo));
    MD_TRY(runtime::start_created(rctx, created));
    if (!saved) {
        mark_running(pid, pid_start);
        MD_TRY(Store(ctx).save(c));
    }
    undo.commit();
    return Launched{pid, master_fd.release()};
}

void remove_everything(const Context& ctx, const Container& c, bool volumes);
void delete_record(const Context& ctx, const Container& c, bool volumes);

// After the process exited: OOM flag, runtime state and cgroup, overlay; record "exited".
void finish(const Context& ctx, const std::string& id, int wait_status) {
    Store store(ctx);
    auto lock = store.lock(id);
    auto c = store.load(id);
    if (!c) return;
    auto rctx = ctx.runtime();
    if (auto oom = runtime::remove_exited(rctx, id)) c->state.oom_killed = *oom > 0;
    else if (oom.error().code() == sys::ErrorCode::not_found)
        (void)runtime::remove(rctx, id, true);  // a state dir without state.json, if any
    else
        ctx.log.warn("delete runtime state of " + id + ": " + oom.error().message());
    if (auto r = unmount_rootfs(ctx, id); !r) ctx.log.warn(r.error().message());
    if (uses_networks(*c)) networks::Store(ctx).detach(id, c->network.endpoints, has_live_joiners(ctx, *c));
    leave_joined(ctx, *c);
    forget_network_state(*c);
    c->state.status = "exited";
    c->state.exit_code = wait_status < 0 ? 255 : sys::exit_code_of(wait_status);
    c->state.pid = 0;
    c->state.pid_start = 0;
    c->state.monitor_pid = 0;
    c->state.finished_at = sys::now_rfc3339();
    if (c->host.auto_remove) {
        delete_record(ctx, *c, true);  // runtime state and overlay are gone already
        return;
    }
    (void)store.save(*c);
}

void remove_everything(const Context& ctx, const Container& c, bool volumes) {
    (void)runtime::remove(ctx.runtime(), c.id, true);
    (void)unmount_rootfs(ctx, c.id);
    if (uses_networks(c)) networks::Store(ctx).detach(c.id, c.network.endpoints, has_live_joiners(ctx, c));
    leave_joined(ctx, c);
    delete_record(ctx, c, volumes);
}

// The container's files, name and (with `volumes`) anonymous volumes; its runtime state and
// overlay must be gone.
void delete_record(const Context& ctx, const Container& c, bool volumes) {
    Store store(ctx);
    if (volumes) {
        volumes::Store vols(ctx);
        for (const auto& m : c.mounts) {
            // Anonymous volumes (64-hex names made for this container) go with it.
            if (m.type == "volume" && m.name.size() == 64) (void)vols.remove(m.name, true, {});
        }
    }
    store.release_name(c.name, c.id);
    if (auto r = sys::remove_all(store.container_dir(c.id)); !r) ctx.log.warn(r.error().message());
}

// Is the container's process still there? (The record may be stale if a monitor died.)
bool alive(const Container& c) { return c.state.pid > 0 && sys::process_alive(c.state.pid, c.state.pid_start); }

void reconcile(const Context& ctx, Container& c) {
    if ((c.state.status == "running" || c.state.status == "paused") && !alive(c)) {
        bool monitor = c.state.monitor_pid > 0 && ::kill(c.state.monitor_pid, 0) == 0;
        if (monitor) return;  // it is recording the exit right now
        finish(ctx, c.id, -1);
        if (auto fresh = Store(ctx).load(c.id)) c = *fresh;
        else c.state.status = "exited";
    } else if (c.state.status == "running" && runtime_has(ctx, c.id)) {
        auto st = runtime::state_json(ctx.runtime(), c.id);
        if (st && st->find("\"paused\"") != std::string::npos) c.state.status = "paused";
    }
}

sys::Result<Container> load_ref(const Context& ctx, const std::string& ref) {
    Store store(ctx);
    auto id = MD_TRY(store.find(ref));
    auto c = MD_TRY(store.load(id));
    reconcile(ctx, c);
    return c;
}

}  // namespace

int run_exit_code(const sys::Error& e) {
    std::string m = e.message();
    if (m.find("exec: \"") != std::string::npos || m.find("exec \"") != std::string::npos) {
        if (e.err() == EACCES || m.find("ermission denied") != std::string::npos) return 126;
        return 127;
    }
    return 125;
}

namespace {
sys::Result<Container> create_from(const Context& ctx, const RunRequest& req, const images::Image& image, bool save);
int monitor_main(const Context& ctx, std::string id, int ready_fd, int netns_fd, const images::Image* image, Container* known,
                 runtime::PendingNetns* netns_later = nullptr);
int monitor_run(const Context& ctx, const RunRequest& req, const MonitorFds& fds);
}  // namespace

namespace {

/// One line of pull progress on stderr, as docker run prints it.
void print_progress(const std::string& line) { (void)sys::write_all(STDERR_FILENO, line + "\n"); }

/// The image of `req`, pulled first when --pull says so: always, or when it is missing.
sys::Result<images::Image> resolve_image(const Context& ctx, const RunRequest& req) {
    if (req.pull != "missing" && req.pull != "always" && req.pull != "never")
        return sys::fail_invalid("--pull: \"" + req.pull + "\" is not missing, always or never");
    images::Store store(ctx);
    if (req.pull != "always") {
        auto image = store.resolve(req.image);
        // Not in the store (the embedded busybox always is: it is built on first use).
        if (image || req.pull == "never" || image.error().code() != sys::ErrorCode::not_found) return image;
        print_progress("Unable to find image '" + req.image + "' locally");
    }
    images::PullOptions o;
    // As `pull` draws it, on stderr (stdout is the container's).
    auto shown = std::make_shared<images::ProgressRenderer>(
        ::isatty(STDERR_FILENO) == 1, [](std::string_view d) { (void)sys::write_all(STDERR_FILENO, d); });
    o.progress = [shown](const std::string& line) { shown->message(line); };
    o.layer_progress = [shown](const std::string& id, const std::string& status, int64_t cur, int64_t total) {
        shown->layer(id, status, cur, total);
    };
    MD_TRY(images::pull(ctx, req.image, o));
    return store.resolve(req.image);
}

}  // namespace

sys::Result<Container> create(const Context& ctx, const RunRequest& req) {
    auto image = MD_TRY(resolve_image(ctx, req));
    return create_from(ctx, req, image, true);
}

namespace {

// create() with the image resolved by the caller, who uses it again to start the container.
// Without `save`, the record is first written by the start that follows at once (`run`): its
// name is reserved and its dir made, but until it runs `ps -a` does not list it, and a start
// that fails removes both. (One file fewer to write and replace per run.)
sys::Result<Container> create_from(const Context& ctx, const RunRequest& req, const images::Image& image, bool save) {
    auto c = MD_TRY(prepare(req, image));
    if (uses_networks(c) && !networks::predefined(c.host.network_mode))
        MD_TRY_CTX(networks::Store(ctx).get(c.host.network_mode), "--network");
    if (auto ref = joined_id(c); !ref.empty())  // recorded by id, as docker does
        c.host.network_mode = "container:" + MD_TRY_CTX(Store(ctx).find(ref), "--network " + c.host.network_mode);
    Store store(ctx);
    sys::CleanupStack undo;
    if (c.name.empty()) {
        for (int i = 0;; ++i) {
            c.name = random_name();
            if (i > 5) c.name += "_" + c.id.substr(0, 6);
            auto rn = store.reserve_name(c.name, c.id);
            if (rn) break;
            if (rn.error().code() != sys::ErrorCode::already_exists || i > 10) return sys::fail(std::move(rn.error()));
        }
    } else {
        MD_TRY(store.reserve_name(c.name, c.id));
    }
    undo.push([&] { store.release_name(c.name, c.id); });
    Paths p = paths_of(ctx, c.id);
    MD_TRY(store.make_dir(c.id));
    undo.push([&] { (void)sys::remove_all(p.dir); });
    MD_TRY(prepare_mounts(ctx, c));
    c.created = sys::now_rfc3339();
    // docker's LogPath is empty for a driver that keeps no file.
    if (c.host.log_config.keeps_file()) c.log_path = p.log;
    if (save) MD_TRY(store.save(c));
    undo.commit();
    return c;
}

}  // namespace

sys::Result<int> run_foreground(const Context& ctx, const RunRequest& req, runtime::PendingNetns ahead) {
    runtime::PendingNetns pending;  // as in run_detached
    if (own_netns(req.network)) pending = ahead.started() ? std::move(ahead) : runtime::PendingNetns::start();
    auto image = MD_TRY(resolve_image(ctx, req));
    auto c = MD_TRY(create_from(ctx, req, image, false));
    sys::CleanupStack undo;
    undo.push([&] { remove_everything(ctx, c, true); });
    auto lock = MD_TRY(Store(ctx).lock(c.id));
    sigset_t old;
    runtime::block_forwarded_signals(&old);
    auto log = MD_TRY(open_log(c));
    sys::UniqueFd netns = take_netns(ctx, req.network, pending);
    LaunchIo lio;
    lio.netns = netns.get();
    lio.first_save = true;  // create_from did not save it
    sys::UniqueFd out_r, err_r, in_w, null_in;
    if (c.config.tty) {
        lio.want_pty_master = true;
    } else {
        int po[2], pe[2];
        if (::pipe2(po, O_CLOEXEC) < 0 || ::pipe2(pe, O_CLOEXEC) < 0) return sys::fail_errno("pipe");
        out_r.reset(po[0]);
        sys::UniqueFd out_w(po[1]);
        err_r.reset(pe[0]);
        sys::UniqueFd err_w(pe[1]);
        sys::UniqueFd in_r;
        if (c.config.open_stdin) {
            int pi[2];
            if (::pipe2(pi, O_CLOEXEC) < 0) return sys::fail_errno("pipe");
            in_r.reset(pi[0]);
            in_w.reset(pi[1]);
        } else {
            in_r = MD_TRY(sys::open_file("/dev/null", O_RDONLY));
        }
        lio.stdio[0] = in_r.get();
        lio.stdio[1] = out_w.get();
        lio.stdio[2] = err_w.get();
        auto l = launch(ctx, c, lio, &image);
        if (!l) return sys::fail(std::move(l.error()));
        lock = sys::FileLock();  // others may stop / inspect it now
        undo.commit();
        out_w.reset();
        err_w.reset();
        in_r.reset();
        SuperviseIo io;
        io.out = out_r.get();
        io.err = err_r.get();
        io.in = in_w.release();
        io.src_in = c.config.open_stdin ? 0 : -1;
        io.tee_out = 1;
        io.tee_err = 2;
        io.forward_signals = true;
        auto status = supervise(l->pid, io, &log);
        finish(ctx, c.id, status ? *status : -1);
        if (!status) return sys::fail(std::move(status.error()));
        return sys::exit_code_of(*status);
    }
    // -t: the runtime makes the pty; the foreground helper copies it in raw mode.
    auto l = launch(ctx, c, lio, &image);
    if (!l) return sys::fail(std::move(l.error()));
    lock = sys::FileLock();
    undo.commit();
    sys::UniqueFd master(l->pty_master);
    // The pty's output goes to the log too (docker logs of a -t container show it).
    auto code = runtime::wait_foreground(l->pid, master.get(), [&log](std::string_view chunk) {
        (void)log.write(logs::Stream::stdout_, chunk);
    });
    (void)log.flush();
    int status = code ? ((*code >= 128) ? (*code - 128) : (*code << 8)) : -1;
    finish(ctx, c.id, status);
    return code;
}

namespace {

// `run -d` in the monitor: the image, the record, then the start. Everything of a run that
// fails goes before the caller hears of it (it exits, and a test looks for leftovers).
int monitor_run(const Context& ctx, const RunRequest& req, const MonitorFds& fds) {
    const int ready_fd = fds.ready;
    sys::UniqueFd netns(fds.netns);
    // The container's namespace, made while we do the rest (runtime::PendingNetns): by our
    // caller, who sends it over netns_sock, or else on a thread of ours; unless the caller had
    // one made ahead. (launch takes it before it clones init.)
    runtime::PendingNetns pending;
    if (fds.netns_sock >= 0) pending = runtime::PendingNetns::receive(sys::UniqueFd(fds.netns_sock));
    else if (!netns.valid() && own_netns(req.network)) pending = runtime::PendingNetns::start();
    auto image = resolve_image(ctx, req);
    if (!image) {
        report_error(ready_fd, image.error());
        return 1;
    }
    auto c = create_from(ctx, req, *image, false);
    if (!c) {
        report_error(ready_fd, c.error());
        return 1;
    }
    return monitor_main(ctx, c->id, ready_fd, netns.release(), &*image, &*c, &pending);
}

// `known`: the record of a `run -d` in memory, not yet saved (a start that fails removes the
// container); else (start of a stopped container) it is loaded under the lock.
// (`id` by value: it may be `known`'s own, which is moved from.)
int monitor_main(const Context& ctx, std::string id, int ready_fd, int netns_fd, const images::Image* image, Container* known,
                 runtime::PendingNetns* netns_later) {
    ::fcntl(ready_fd, F_SETFD, FD_CLOEXEC);
    sys::UniqueFd netns(netns_fd);  // init joins it during the launch; closed after
    Store store(ctx);
    std::optional<Container> c;
    auto fail = [&](const sys::Error& e) {
        if (known) {
            Container& rec = c ? *c : *known;
            if (auto fresh = store.load(id)) rec = std::move(*fresh);
            remove_everything(ctx, rec, true);
        }
        report_error(ready_fd, e);
        ready_fd = -1;
    };
    auto lock = store.lock(id);
    if (!lock) {
        fail(lock.error());
        return 1;
    }
    if (known) {
        c = std::move(*known);
    } else {
        auto loaded = store.load(id);
        if (!loaded) {
            fail(loaded.error());
            return 1;
        }
        c = std::move(*loaded);
    }
    // Ignore the terminal signals a session leader may get; the container gets SIGTERM from
    // `stop`, not us.
    ::signal(SIGHUP, SIG_IGN);
    sigset_t old;
    runtime::block_forwarded_signals(&old);
    auto log = open_log(*c);
    if (!log) {
        fail(log.error());
        return 1;
    }
    LaunchIo lio;
    lio.netns = netns.get();
    lio.netns_later = netns_later;
    lio.first_save = known != nullptr;  // run -d: the record was never saved
    sys::UniqueFd out_r, out_w, err_r, err_w, in_r, in_w;
    if (c->config.tty) {
        lio.want_pty_master = true;
    } else {
        int po[2], pe[2];
        if (::pipe2(po, O_CLOEXEC) < 0 || ::pipe2(pe, O_CLOEXEC) < 0) {
            fail(sys::Error::from_errno(errno, "pipe"));
            return 1;
        }
        out_r.reset(po[0]);
        out_w.reset(po[1]);
        err_r.reset(pe[0]);
        err_w.reset(pe[1]);
        int pi[2];
        if (c->config.open_stdin && ::pipe2(pi, O_CLOEXEC) == 0) {
            in_r.reset(pi[0]);
            in_w.reset(pi[1]);  // held open: `-di` keeps the container's stdin open
        } else {
            in_r.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        }
        lio.stdio[0] = in_r.get();
        lio.stdio[1] = out_w.get();
        lio.stdio[2] = err_w.get();
    }
    c->state.monitor_pid = ::getpid();
    bool tty = c->config.tty;
    auto l = launch(ctx, *c, lio, image);
    if (!l) {
        fail(l.error());
        return 1;
    }
    lock = sys::FileLock();
    // Our caller reads up to "ok" and exits; we watch for that on a copy of the pipe.
    sys::UniqueFd caller(::fcntl(ready_fd, F_DUPFD_CLOEXEC, 3));
    // First: the caller is waiting, the rest is our own tidying.
    (void)sys::write_all(ready_fd, "ok " + id + "\n");
    ::close(ready_fd);
    netns.reset();
    c.reset();  // nothing of the record is needed until the exit: its memory goes back
    out_w.reset();
    err_w.reset();
    in_r.reset();
    sys::UniqueFd master(l->pty_master);
    int out = tty ? master.get() : out_r.get();
    int err = err_r.get();
    // The monitor lives as long as the container, in place: what the start touched (free heap,
    // the CLI's code, a deep stack) goes back, once our caller has gone (its exit, with the
    // container's exec, is what the user waits for: not a CPU busy with our tidying). (No
    // re-exec into a smaller image: that cost an exec and a libc start-up per container, more
    // than the ~0.1 MiB it saved.)
    int status = -1;
    {
        SuperviseIo io;
        if (caller.valid()) {
            io.caller = caller.release();
            io.when_caller_gone = [] { sys::shed_memory(); };
        } else {
            sys::shed_memory();  // no copy of the pipe to watch: now, then
        }
        io.out = out;
        io.err = err;
        auto st = supervise(l->pid, io, log ? &*log : nullptr);
        if (st) status = *st;
    }
    log = sys::fail_invalid("closed");
    master.reset();
    out_r.reset();
    err_r.reset();
    finish(ctx, id, status);
    return 0;
}

}  // namespace

sys::Error run_detached_and_exit(const Context& ctx, const RunRequest& req, int out_fd, runtime::PendingNetns ahead) {
    // The monitor is started first and does the whole run: the image, the record, the
    // overlay, the start. (Forked later, from a process that had done that work, it paid
    // again for the pages the work touched: copy-on-write faults on the heap, refaults of the
    // code.) It runs on our memory (clone_monitor_and_exit), so nothing of ours may run beside
    // it: a namespace the caller started making ahead is taken first; else we make it while
    // the monitor works (or, forked, the monitor on a thread of its own).
    sys::UniqueFd netns;
    if (ahead.started()) netns = take_netns(ctx, req.network, ahead);
    const MonitorBody body = [&req](const Context& mctx, const MonitorFds& fds) { return monitor_run(mctx, req, fds); };
    if (!sys::kHaveRawSyscall) {
        auto id = fork_monitor(ctx, netns.get(), body);
        if (!id) return std::move(id.error());
        (void)sys::write_all(out_fd, *id + "\n");
        std::fflush(nullptr);
        std::_Exit(0);
    }
    const bool make_netns = !netns.valid() && own_netns(req.network);
    return clone_monitor_and_exit(ctx, netns.get(), make_netns, body, out_fd);
}

sys::Result<void> start(const Context& ctx, const std::string& ref) {
    auto c = MD_TRY(load_ref(ctx, ref));
    if (c.state.status == "running" || c.state.status == "paused") return {};  // docker: no-op
    MD_TRY(fork_monitor(ctx, -1, [&c](const Context& mctx, const MonitorFds& fds) {
        return monitor_main(mctx, c.id, fds.ready, fds.netns, nullptr, nullptr);
    }));
    return {};
}

sys::Result<void> kill(const Context& ctx, const std::string& ref, int sig) {
    auto c = MD_TRY(load_ref(ctx, ref));
    if (c.state.status != "running" && c.state.status != "paused")
        return sys::fail(sys::Error::bad_state("cannot kill container " + ref + ": container " + c.id + " is not running"));
    return runtime::kill(ctx.runtime(), c.id, sig, false);
}

sys::Result<int> wait(const Context& ctx, const std::string& ref) {
    Store store(ctx);
    auto id = MD_TRY(store.find(ref));
    for (;;) {
        auto c = MD_TRY(load_ref(ctx, id));
        if (c.state.status != "running" && c.state.status != "paused") return c.state.exit_code;
        // The process is not our child: poll its pidfd, bounded per round.
        auto pidfd = sys::pidfd_open(c.state.pid);
        if (pidfd) (void)sys::pidfd_wait_exit(pidfd->get(), 200);
        else std::this_thread::sleep_for(std::chrono::milliseconds(20));
        // Then give the monitor a moment to record the exit.
        for (int i = 0; i < 250; ++i) {
            auto again = store.load(id);
            if (!again) return sys::fail(std::move(again.error()));
            if (again->state.status != "running" && again->state.status != "paused") return again->state.exit_code;
            if (alive(*again)) break;
            bool monitor = again->state.monitor_pid > 0 && ::kill(again->state.monitor_pid, 0) == 0;
            if (!monitor) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
}

sys::Result<void> stop(const Context& ctx, const std::string& ref, int timeout) {
    auto c = MD_TRY(load_ref(ctx, ref));
    if (c.state.status != "running" && c.state.status != "paused") return {};
    auto rctx = ctx.runtime();
    if (c.state.status == "paused") (void)runtime::resume(rctx, c.id);
    int sig = SIGTERM;
    if (!c.config.stop_signal.empty()) {
        if (auto s = sys::parse_signal(c.config.stop_signal)) sig = *s;
    }
    auto pidfd = sys::pidfd_open(c.state.pid);
    (void)runtime::kill(rctx, c.id, sig, false);
    bool gone = pidfd ? sys::pidfd_wait_exit(pidfd->get(), timeout * 1000) : false;
    if (!gone) (void)runtime::kill(rctx, c.id, SIGKILL, false);
    MD_TRY(wait(ctx, c.id));
    return {};
}

sys::Result<void> remove(const Context& ctx, const std::string& ref, bool force, bool volumes) {
    auto c = MD_TRY(load_ref(ctx, ref));
    if (c.state.status == "running" || c.state.status == "paused") {
        if (!force)
            return sys::fail(sys::Error::bad_state("cannot remove container \"" + c.name + "\": container is " + c.state.status +
                                                   ": stop the container before removing or use -f"));
        auto rctx = ctx.runtime();
        if (c.state.status == "paused") (void)runtime::resume(rctx, c.id);
        (void)runtime::kill(rctx, c.id, SIGKILL, true);
        MD_TRY(wait(ctx, c.id));
        auto again = Store(ctx).load(c.id);
        if (!again) return {};  // --rm removed it
        c = *again;
    }
    auto lock = MD_TRY(Store(ctx).lock(c.id));
    remove_everything(ctx, c, volumes);
    return {};
}

sys::Result<void> pause(const Context& ctx, const std::string& ref) {
    auto c = MD_TRY(load_ref(ctx, ref));
    if (c.state.status != "running") return sys::fail(sys::Error::bad_state("container " + ref + " is not running"));
    return runtime::pause(ctx.runtime(), c.id);
}

sys::Result<void> unpause(const Context& ctx, const std::string& ref) {
    auto c = MD_TRY(load_ref(ctx, ref));
    if (c.state.status != "paused") return sys::fail(sys::Error::bad_state("container " + ref + " is not paused"));
    return runtime::resume(ctx.runtime(), c.id);
}

sys::Result<void> rename(const Context& ctx, const std::string& ref, const std::string& new_name) {
    if (!valid_name(new_name)) return sys::fail_invalid("invalid container name \"" + new_name + "\": names must match [a-zA-Z0-9][a-zA-Z0-9_.-]+");
    Store store(ctx);
    auto id = MD_TRY(store.find(ref));
    auto lock = MD_TRY(store.lock(id));
    auto c = MD_TRY(store.load(id));
    MD_TRY(store.reserve_name(new_name, id));
    std::string old = c.name;
    c.name = new_name;
    if (auto r = store.save(c); !r) {
        store.release_name(new_name, id);
        return r;
    }
    store.release_name(old, id);
    // Peers on its networks know it by the new name (a stopped one has no leases to rename).
    if (uses_networks(c))
        if (auto r = networks::Store(ctx).rename(c.id, new_name); !r)
            ctx.log.warn("rename " + c.id.substr(0, 12) + " in its networks: " + r.error().message());
    return {};
}

sys::Result<Container> inspect(const Context& ctx, const std::string& ref) { return load_ref(ctx, ref); }

sys::Result<std::vector<Container>> list(const Context& ctx) {
    auto all = MD_TRY(Store(ctx).list());
    for (auto& c : all) reconcile(ctx, c);
    return all;
}

sys::Result<std::vector<pid_t>> top(const Context& ctx, const std::string& ref) {
    auto c = MD_TRY(load_ref(ctx, ref));
    if (c.state.status != "running" && c.state.status != "paused")
        return sys::fail(sys::Error::bad_state("container " + ref + " is not running"));
    return runtime::pids(ctx.runtime(), c.id);
}

sys::Result<std::vector<std::string>> prune(const Context& ctx) {
    std::vector<std::string> removed;
    for (const auto& c : MD_TRY(list(ctx))) {
        if (c.state.status == "running" || c.state.status == "paused") continue;
        if (remove(ctx, c.id, false, false)) removed.push_back(c.id);
    }
    return removed;
}

sys::Result<void> connect(const Context& ctx, const std::string& net_ref, const std::string& ref, const std::string& ip) {
    auto n = MD_TRY(networks::Store(ctx).get(net_ref));
    Store store(ctx);
    auto id = MD_TRY(store.find(ref));
    auto lock = MD_TRY(store.lock(id));
    auto c = MD_TRY(store.load(id));
    reconcile(ctx, c);
    if (n.driver != "bridge") return sys::fail_invalid("network " + n.name + " (driver " + n.driver + ") cannot be connected to");
    if (!uses_networks(c))
        return sys::fail(sys::Error::bad_state("container " + c.name + " uses the network mode " + c.host.network_mode +
                                               ": it cannot be connected to other networks"));
    for (const auto& e : c.network.endpoints)
        if (e.network == n.name)
            return sys::fail(sys::Error::exists("endpoint with name " + c.name + " already exists in network " + n.name));
    if (!ip.empty()) {
        if (n.name == "bridge") return sys::fail_invalid("--ip: user specified IP address is supported on user defined networks only");
        MD_TRY_CTX(networks::parse_ipv4(ip), "--ip");
    }
    networks::Endpoint want{.network = n.name, .requested_ip = ip};
    if (c.state.status == "running" || c.state.status == "paused") {
        networks::AttachRequest req;
        req.container = c.id;
        req.name = c.name;
        req.hostname = c.config.hostname;
        req.pid = c.state.pid;
        req.pid_start = c.state.pid_start;
        req.endpoints = {want};
        req.default_route = false;
        auto got = MD_TRY(networks::Store(ctx).attach(req));
        want = got.endpoints.at(0);
    }
    c.network.endpoints.push_back(want);
    return store.save(c);
}

sys::Result<void> disconnect(const Context& ctx, const std::string& net_ref, const std::string& ref) {
    networks::Store nets(ctx);
    auto n = MD_TRY(nets.get(net_ref));
    Store store(ctx);
    auto id = MD_TRY(store.find(ref));
    auto lock = MD_TRY(store.lock(id));
    auto c = MD_TRY(store.load(id));
    reconcile(ctx, c);
    auto it = std::find_if(c.network.endpoints.begin(), c.network.endpoints.end(),
                           [&](const networks::Endpoint& e) { return e.network == n.name; });
    if (it == c.network.endpoints.end())
        return sys::fail(sys::Error::not_found("container " + c.name + " is not connected to network " + n.name));
    if ((c.state.status == "running" || c.state.status == "paused") && !it->host_veth.empty())
        MD_TRY(nets.detach_one(c.id, *it));
    c.network.endpoints.erase(it);
    return store.save(c);
}

sys::Result<std::set<std::string>> images_in_use(const Context& ctx) {
    std::set<std::string> ids;
    for (const auto& c : MD_TRY(Store(ctx).list())) ids.insert(c.image_id);
    return ids;
}

sys::Result<std::set<std::string>> volumes_in_use(const Context& ctx) {
    std::set<std::string> names;
    for (const auto& c : MD_TRY(Store(ctx).list()))
        for (const auto& m : c.mounts)
            if (m.type == "volume" && !m.name.empty()) names.insert(m.name);
    return names;
}

}  // namespace mydocker::engine::containers
