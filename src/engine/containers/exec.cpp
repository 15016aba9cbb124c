// exec, commit, export: operations on an existing container's process or filesystem.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "engine/containers/bundle.h"
#include "engine/containers/containers.h"
#include "engine/containers/security.h"
#include "engine/images/store.h"
#include "runtime/container.h"
#include "runtime/rootfs.h"
#include "sys/files.h"
#include "sys/proc.h"
#include "sys/unix_socket.h"

namespace mydocker::engine::containers {

namespace {

// The mount at the root of process `pid`'s mount namespace (a running container's overlay),
// cloned alone, without what is mounted on it (/proc, /dev, volumes): a detached mount.
// open_tree(2) clones only mounts of the caller's namespace, so a child of ours enters
// `pid`'s to clone it and passes the fd back.
sys::Result<sys::UniqueFd> clone_root_mount(pid_t pid) {
    auto ns = MD_TRY(sys::open_file("/proc/" + std::to_string(pid) + "/ns/mnt", O_RDONLY));
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return sys::fail_errno("socketpair");
    sys::UniqueFd mine(sv[0]), theirs(sv[1]);
    pid_t child = ::fork();
    if (child < 0) return sys::fail_errno("fork");
    if (child == 0) {
        int err = 0, fd = -1;
        if (::setns(ns.get(), CLONE_NEWNS) < 0) err = errno;
        else if ((fd = ::open_tree(AT_FDCWD, "/", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)) < 0) err = errno;
        std::string msg = std::to_string(err);
        (void)sys::send_with_fds(theirs.get(), msg, fd >= 0 ? std::span<const int>(&fd, 1) : std::span<const int>());
        ::_exit(0);
    }
    theirs.reset();
    char buf[32];
    std::vector<sys::UniqueFd> fds;
    auto n = sys::recv_with_fds(mine.get(), buf, fds);
    (void)sys::wait_pid(child);
    if (!n) return sys::fail(std::move(n.error()));
    int err = *n ? std::atoi(std::string(buf, *n).c_str()) : EIO;
    if (fds.empty()) return sys::fail(sys::Error::from_errno(err ? err : EIO, "clone the container's root mount"));
    return std::move(fds.front());
}

}  // namespace

sys::Result<int> exec(const Context& ctx, const std::string& ref, const ExecRequest& req) {
    auto c = MD_TRY(inspect(ctx, ref));
    if (c.state.status == "paused") return sys::fail(sys::Error::bad_state("container " + ref + " is paused, unpause the container before exec"));
    if (c.state.status != "running") return sys::fail(sys::Error::bad_state("container " + ref + " is not running"));
    if (req.command.empty()) return sys::fail_invalid("exec: no command given");
    runtime::ExecOptions o;
    o.id = c.id;
    o.args = req.command;
    // The container's environment, then -e (a later KEY= wins).
    o.env = merge_env(c.config.env, resolve_env(req.env));
    o.env.push_back("HOSTNAME=" + c.config.hostname);
    if (req.tty) o.env.push_back("TERM=xterm");
    o.cwd = req.workdir.empty() ? (c.config.working_dir.empty() ? "/" : c.config.working_dir) : req.workdir;
    if (o.cwd[0] != '/') return sys::fail_invalid("-w, --workdir: \"" + o.cwd + "\" must be an absolute path");
    std::string user = req.user.empty() ? c.config.user : req.user;
    if (!user.empty()) {
        // Names are resolved as at run, in the container's own /etc: its root as its init sees
        // it (the overlay is mounted in the container's mount namespace only).
        auto [uid, gid] = MD_TRY(resolve_user("/proc/" + std::to_string(c.state.pid) + "/root", user));
        o.user = std::to_string(uid) + ":" + std::to_string(gid);
    }
    o.tty = req.tty;
    o.detach = req.detach;
    // docker's exec --privileged: every capability (the runtime takes names, not "ALL").
    if (req.privileged) o.cap_add = held_capabilities();
    return runtime::exec(ctx.runtime(), o);
}

sys::Result<std::string> commit(const Context& ctx, const std::string& ref, std::optional<std::string> name,
                                const std::string& author, const std::string& message) {
    auto c = MD_TRY(inspect(ctx, ref));
    Paths p = paths_of(ctx, c.id);
    images::CommitOptions o;
    o.upper_dir = p.upper;
    o.parent_id = c.image_id;
    o.config.env = c.config.env;
    o.config.cmd = c.config.cmd;
    o.config.entrypoint = c.config.entrypoint;
    o.config.working_dir = c.config.working_dir;
    o.config.user = c.config.user;
    o.config.labels = c.config.labels;
    o.config.stop_signal = c.config.stop_signal;
    o.name = std::move(name);
    o.author = author;
    o.comment = message;
    images::Store images(ctx);
    auto img = MD_TRY(images.commit(o));
    return img.id;
}

sys::Result<void> export_fs(const Context& ctx, const std::string& ref, int out_fd) {
    auto c = MD_TRY(inspect(ctx, ref));
    Paths p = paths_of(ctx, c.id);
    bool running = c.state.status == "running" || c.state.status == "paused";
    std::string dir = p.rootfs;
    sys::UniqueFd view;
    if (running) {
        view = MD_TRY_CTX(clone_root_mount(c.state.pid), "export " + c.id.substr(0, 12));
        dir = runtime::fd_path(view.get());
    } else {
        images::Store images(ctx);
        auto image = MD_TRY(images.resolve(c.image_id));
        MD_TRY(mount_rootfs(ctx, c, image));
    }
    auto r = images::export_tree(dir, out_fd);
    if (!running) (void)unmount_rootfs(ctx, c.id);
    return r;
}

}  // namespace mydocker::engine::containers
