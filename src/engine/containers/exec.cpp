// exec, commit, export: operations on an existing container's process or filesystem.
#include <unistd.h>

#include "engine/containers/bundle.h"
#include "engine/containers/containers.h"
#include "engine/images/store.h"
#include "runtime/container.h"

namespace mydocker::engine::containers {

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
        // Names are resolved as at run, in the container's own /etc (its rootfs is mounted).
        auto [uid, gid] = MD_TRY(resolve_user(paths_of(ctx, c.id).rootfs, user));
        o.user = std::to_string(uid) + ":" + std::to_string(gid);
    }
    o.tty = req.tty;
    o.detach = req.detach;
    if (req.privileged) o.cap_add = {"ALL"};
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
    if (!running) {
        images::Store images(ctx);
        auto image = MD_TRY(images.resolve(c.image_id));
        MD_TRY(mount_rootfs(ctx, c, image));
    }
    auto r = images::export_tree(p.rootfs, out_fd);
    if (!running) (void)unmount_rootfs(ctx, c.id);
    return r;
}

}  // namespace mydocker::engine::containers
