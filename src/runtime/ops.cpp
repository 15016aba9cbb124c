// start, state, kill, delete, list, ps, pause, resume, update.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroups/systemd/manager.h"
#include "runtime/container.h"
#include "runtime/hooks.h"
#include "runtime/lifecycle.h"
#include "runtime/sync.h"
#include "sys/files.h"
#include "sys/proc.h"

namespace mydocker::runtime {

namespace {

sys::Result<std::unique_ptr<cgroups::Manager>> manager_of(const Context& ctx, const ContainerState& st) {
    // A unit's cgroup: delete stops the unit (systemd removes the cgroup with it).
    if (!st.systemd_cgroup.empty())
        return cgroups::systemd::make_systemd_manager(st.systemd_cgroup, ctx.cgroup_root, true, ctx.log);
    return cgroups::make_manager(cgroups::Config{ctx.cgroup_root, st.cgroup_path}, ctx.log);
}

/// Hooks of the container's recorded config, parsed only when it has any of `kind`.
sys::Result<std::vector<Hook>> recorded_hooks(const Context& ctx, const ContainerState& st, const char* kind) {
    if (st.config_in_state && !(std::string(kind) == "poststart" ? st.poststart_hooks : st.poststop_hooks))
        return std::vector<Hook>{};
    auto text = load_config(ctx, st.id);
    if (!text) return std::vector<Hook>{};
    if (text->find(std::string("\"") + kind + "\"") == std::string::npos) return std::vector<Hook>{};
    auto spec = MD_TRY(parse_spec(*text, st.bundle));
    return std::string(kind) == "poststart" ? spec.hooks.poststart : spec.hooks.poststop;
}

sys::Result<void> signal_init(const ContainerState& st, int sig) {
    auto pidfd = sys::pidfd_open(st.pid);
    if (!pidfd) return sys::fail(sys::Error::bad_state("container not running"));
    // The pidfd pins the process: check it is still our init before signalling it.
    if (!sys::process_alive(st.pid, st.pid_start)) return sys::fail(sys::Error::bad_state("container not running"));
    return sys::pidfd_signal(pidfd->get(), sig);
}

sys::Result<void> signal_all(const Context& ctx, const ContainerState& st, int sig) {
    auto mgr = MD_TRY(manager_of(ctx, st));
    // Freeze so no process forks a new one between listing and signalling.
    bool was_frozen = false;
    if (auto fs = mgr->freezer_state(); fs && *fs == cgroups::FreezerState::frozen) was_frozen = true;
    (void)mgr->freeze(cgroups::FreezerState::frozen);
    auto pids = mgr->pids();
    if (pids)
        for (pid_t p : *pids) ::kill(p, sig);
    if (!was_frozen || sig == SIGKILL) (void)mgr->freeze(cgroups::FreezerState::thawed);
    if (!pids) return sys::fail(std::move(pids.error()));
    return {};
}

/// The state dir holds what create wrote: unlink those by name, rmdir, and walk it only if
/// something else is there.
sys::Result<void> remove_state_dir(const std::string& dir) {
    for (const char* f : {"state.json", "config.json", "exec.fifo"})
        ::unlinkat(AT_FDCWD, sys::path_join(dir, f).c_str(), 0);
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return {};
    return sys::remove_all(dir);
}

}  // namespace

sys::Result<void> destroy(const Context& ctx, const ContainerState& st, const std::vector<Hook>* poststop,
                          cgroups::Manager* known) {
    std::unique_ptr<cgroups::Manager> own;
    if (!known) own = MD_TRY(manager_of(ctx, st));
    cgroups::Manager* mgr = known ? known : own.get();
    auto pidfd = sys::pidfd_open(st.pid);
    if (sys::process_alive(st.pid, st.pid_start)) (void)signal_all(ctx, st, SIGKILL);
    else if (auto p = mgr->pids(); p && !p->empty()) (void)signal_all(ctx, st, SIGKILL);
    if (pidfd && sys::process_alive(st.pid, st.pid_start) && !sys::pidfd_wait_exit(pidfd->get(), 10000))
        return sys::fail(sys::Error::bad_state("container init " + std::to_string(st.pid) + " did not exit after SIGKILL"));
    auto hooks = poststop ? sys::Result<std::vector<Hook>>(*poststop) : recorded_hooks(ctx, st, "poststop");
    if (hooks && !hooks->empty()) {
        if (auto r = run_hooks(*hooks, "poststop", oci_state_json(st, Status::stopped, false)); !r)
            ctx.log.warn(r.error().message());
    }
    if (auto r = mgr->destroy(); !r) return sys::fail(std::move(r.error()).wrap("remove cgroup \"" + st.cgroup_path + "\""));
    return remove_state_dir(state_dir(ctx, st.id));
}

void wait_for_exec(pid_t pid, uint64_t pid_start) {
    struct stat self;
    if (::stat("/proc/self/exe", &self) < 0) return;
    std::string exe = "/proc/" + std::to_string(pid) + "/exe";
    for (int i = 0; i < 10000; ++i) {
        struct stat st;
        if (::stat(exe.c_str(), &st) < 0 || st.st_ino != self.st_ino || st.st_dev != self.st_dev) return;
        if (!sys::process_alive(pid, pid_start)) return;
        ::usleep(1000);
    }
}

sys::Result<void> start(const Context& ctx, const std::string& id) {
    auto st = MD_TRY(load_state(ctx, id));
    auto lock = MD_TRY(lock_container(ctx, id));
    Status s = current_status(ctx, st);
    if (s == Status::stopped) return sys::fail(sys::Error::bad_state("cannot start a container that has stopped"));
    if (s != Status::created) return sys::fail(sys::Error::bad_state("cannot start an already " + std::string(status_name(s)) + " container"));
    std::string fifo = sys::path_join(state_dir(ctx, id), "exec.fifo");
    auto fd = sys::open_file(fifo, O_WRONLY | O_NONBLOCK);
    if (!fd) {
        if (fd.error().err() == ENXIO) return sys::fail(sys::Error::bad_state("cannot start container \"" + id + "\": init is not waiting"));
        return sys::fail(std::move(fd.error()));
    }
    MD_TRY_CTX(sys::write_all(fd->get(), "0"), "start container \"" + id + "\"");
    fd->reset();
    ::unlink(fifo.c_str());
    if (auto hooks = recorded_hooks(ctx, st, "poststart"); hooks && !hooks->empty()) {
        // poststart runs after the user process is executed (and after startContainer, which
        // init runs once it has the byte): wait, bounded, until init's image is no longer ours.
        wait_for_exec(st.pid, st.pid_start);
        // runtime-spec: a failed poststart hook is a warning; the lifecycle goes on.
        if (auto r = run_hooks(*hooks, "poststart", oci_state_json(st, Status::running, false)); !r)
            ctx.log.warn(r.error().message());
    }
    return {};
}

sys::Result<void> start_created(const Context& ctx, Created& c) {
    if (c.start_sock.valid()) {
        auto r = sync_send(c.start_sock.get(), SyncType::start);
        c.start_sock.reset();
        if (!r) return sys::fail(sys::Error::bad_state("cannot start container \"" + c.state.id + "\": init is not waiting"));
    } else {
        MD_TRY(start(ctx, c.state.id));
        c.lock = {};
        return {};
    }
    if (!c.poststart.empty()) {
        wait_for_exec(c.state.pid, c.state.pid_start);
        if (auto r = run_hooks(c.poststart, "poststart", oci_state_json(c.state, Status::running, false)); !r)
            ctx.log.warn(r.error().message());
    }
    c.lock = {};
    return {};
}

sys::Result<void> remove_created(const Context& ctx, const Created& c) {
    // Another process may have deleted it meanwhile (and a new container taken the id):
    // only the state dir we made is ours to remove.
    auto lock = lock_container(ctx, c.state.id);
    if (!lock) return lock.error().code() == sys::ErrorCode::not_found ? sys::Result<void>{} : sys::fail(std::move(lock.error()));
    struct stat st;
    if (::fstat(lock->fd(), &st) < 0 || st.st_dev != c.dir_dev || st.st_ino != c.dir_ino) return {};
    return destroy(ctx, c.state, &c.poststop, c.cgroup.get());
}

sys::Result<std::string> state_json(const Context& ctx, const std::string& id) {
    auto st = MD_TRY(load_state(ctx, id));
    return oci_state_json(st, current_status(ctx, st), true);
}

sys::Result<void> kill(const Context& ctx, const std::string& id, int sig, bool all) {
    auto st = MD_TRY(load_state(ctx, id));
    Status s = current_status(ctx, st);
    if (!can_kill(s) && !all) return sys::fail(sys::Error::bad_state("container not running"));
    if (all) return signal_all(ctx, st, sig);
    return signal_init(st, sig);
}

sys::Result<void> remove(const Context& ctx, const std::string& id, bool force) {
    MD_TRY(validate_id(id));
    auto st = load_state(ctx, id);
    if (!st) {
        if (st.error().code() != sys::ErrorCode::not_found) return sys::fail(std::move(st.error()));
        // A create that died before writing state.json leaves a bare directory: clear it.
        std::string dir = state_dir(ctx, id);
        bool existed = sys::path_exists(dir);
        (void)sys::remove_all(dir);
        if (force || existed) return {};
        return sys::fail(std::move(st.error()));
    }
    auto lock = MD_TRY(lock_container(ctx, id));
    Status s = current_status(ctx, *st);
    if ((s == Status::running || s == Status::paused) && !force)
        return sys::fail(sys::Error::bad_state("cannot delete container " + id + " that is not stopped: " + status_name(s)));
    return destroy(ctx, *st, nullptr);
}

sys::Result<uint64_t> remove_exited(const Context& ctx, const std::string& id) {
    MD_TRY(validate_id(id));
    auto st = MD_TRY(load_state(ctx, id));
    auto lock = MD_TRY(lock_container(ctx, id));
    auto mgr = MD_TRY(manager_of(ctx, st));
    uint64_t oom = mgr->oom_kills().value_or(0);
    MD_TRY(destroy(ctx, st, nullptr, mgr.get()));
    return oom;
}

sys::Result<std::vector<ListEntry>> list(const Context& ctx) {
    std::vector<ListEntry> out;
    for (const auto& id : MD_TRY(list_ids(ctx))) {
        auto st = load_state(ctx, id);
        if (!st) continue;  // being created or deleted right now
        Status s = current_status(ctx, *st);
        out.push_back({std::move(*st), s});
    }
    return out;
}

sys::Result<std::vector<pid_t>> pids(const Context& ctx, const std::string& id) {
    auto st = MD_TRY(load_state(ctx, id));
    auto mgr = MD_TRY(manager_of(ctx, st));
    return mgr->pids();
}

sys::Result<cgroups::Stats> stats(const Context& ctx, const std::string& id) {
    auto st = MD_TRY(load_state(ctx, id));
    auto mgr = MD_TRY(manager_of(ctx, st));
    return mgr->stats();
}

sys::Result<void> pause(const Context& ctx, const std::string& id) {
    auto st = MD_TRY(load_state(ctx, id));
    auto lock = MD_TRY(lock_container(ctx, id));
    Status s = current_status(ctx, st);
    if (s != Status::running) return sys::fail(sys::Error::bad_state("container not running"));
    auto mgr = MD_TRY(manager_of(ctx, st));
    return mgr->freeze(cgroups::FreezerState::frozen);
}

sys::Result<void> resume(const Context& ctx, const std::string& id) {
    auto st = MD_TRY(load_state(ctx, id));
    auto lock = MD_TRY(lock_container(ctx, id));
    Status s = current_status(ctx, st);
    if (s != Status::paused) return sys::fail(sys::Error::bad_state("container not paused"));
    auto mgr = MD_TRY(manager_of(ctx, st));
    return mgr->freeze(cgroups::FreezerState::thawed);
}

sys::Result<void> update(const Context& ctx, const std::string& id, const cgroups::Resources& r) {
    auto st = MD_TRY(load_state(ctx, id));
    auto lock = MD_TRY(lock_container(ctx, id));
    if (current_status(ctx, st) == Status::stopped) return sys::fail(sys::Error::bad_state("container not running"));
    auto mgr = MD_TRY(manager_of(ctx, st));
    return mgr->set(r);
}

}  // namespace mydocker::runtime
