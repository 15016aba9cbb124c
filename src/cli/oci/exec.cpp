// exec
#include <cstdio>

#include "cli/oci/cli.h"
#include "runtime/container.h"
#include "sys/files.h"

namespace mydocker::cli {

void register_exec(CLI::App& app, Globals& g) {
    struct ExecArgs {
        runtime::ExecOptions o;
        std::string process_file;
        bool tty = false;
        std::string user;
        std::vector<std::string> command;  // container-id then the command
        std::string ignored;
    };
    auto ea = std::make_shared<ExecArgs>();
    auto* exec = app.add_subcommand("exec", "run a new process inside a running container");
    exec->add_option("--console-socket", ea->o.console_socket, "unix socket to receive the pty master on");
    exec->add_option("--cwd", ea->o.cwd, "working directory inside the container");
    exec->add_option("-e,--env", ea->o.env, "set an environment variable (KEY=VALUE)")->allow_extra_args(false);
    exec->add_flag("-t,--tty", ea->tty, "allocate a pseudo-TTY");
    exec->add_option("-u,--user", ea->user, "uid[:gid]");
    exec->add_option("-g,--additional-gids", ea->o.additional_gids, "additional gids")->allow_extra_args(false);
    exec->add_option("-p,--process", ea->process_file, "process.json describing the process");
    exec->add_flag("-d,--detach", ea->o.detach, "detach from the process");
    exec->add_option("--pid-file", ea->o.pid_file, "file to write the process id to");
    exec->add_option("--process-label", ea->ignored, "accepted (SELinux is a non-goal)");
    exec->add_option("--apparmor", ea->ignored, "accepted (AppArmor is a non-goal)");
    exec->add_flag("--no-new-privs", ea->o.no_new_privs, "set no_new_privs for the process");
    exec->add_option("-c,--cap", ea->o.cap_add, "add a capability")->allow_extra_args(false);
    exec->add_option("--preserve-fds", ea->o.preserve_fds, "pass N extra fds (from 3) to the process");
    exec->add_option("--cgroup", ea->ignored, "accepted for runc compatibility");
    // Everything after the container id belongs to the command (`exec id sh -c "..."`).
    exec->prefix_command();
    exec->callback([&g, ea, exec] {
        ea->command = exec->remaining();
        g.action = [ea](runtime::Context& ctx) -> sys::Result<int> {
            auto& o = ea->o;
            if (ea->command.empty()) return sys::fail_invalid("exec: a container id is required");
            o.id = ea->command.front();
            o.args.assign(ea->command.begin() + 1, ea->command.end());
            if (!ea->process_file.empty()) {
                auto text = MD_TRY(sys::read_file(ea->process_file));
                o.process = MD_TRY_CTX(runtime::parse_process(text), "--process \"" + ea->process_file + "\"");
            } else if (o.args.empty()) {
                return sys::fail_invalid("exec: a command is required (or --process)");
            }
            if (ea->tty) o.tty = true;
            if (!ea->user.empty()) o.user = ea->user;
            return runtime::exec(ctx, o);
        };
    });
}

}  // namespace mydocker::cli
