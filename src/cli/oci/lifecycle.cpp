// create, start, run, delete, kill
#include <cstdio>

#include "cli/oci/cli.h"
#include "runtime/container.h"
#include "sys/signals.h"

namespace mydocker::cli {

namespace {
void add_create_flags(CLI::App* c, runtime::CreateOptions& o) {
    c->add_option("-b,--bundle", o.bundle, "path to the root of the bundle directory");
    c->add_option("--pid-file", o.pid_file, "file to write the init process id to");
    c->add_option("--console-socket", o.console_socket, "unix socket to receive the pty master on");
    c->add_flag("--no-pivot", o.no_pivot, "use MS_MOVE + chroot instead of pivot_root");
    c->add_option("--preserve-fds", o.preserve_fds, "pass N extra fds (from 3) to the container");
    c->add_flag("--no-new-keyring", o.no_new_keyring, "do not create a new session keyring for the container");
    c->add_option("container-id", o.id, "container id")->required();
}
}  // namespace

void register_lifecycle(CLI::App& app, Globals& g) {
    auto co = std::make_shared<runtime::CreateOptions>();
    auto* create = app.add_subcommand("create", "create a container");
    add_create_flags(create, *co);
    create->callback([&g, co] {
        g.action = [co](runtime::Context& ctx) -> sys::Result<int> {
            MD_TRY(runtime::create(ctx, *co));
            return 0;
        };
    });

    auto start_id = std::make_shared<std::string>();
    auto* start = app.add_subcommand("start", "start a created container");
    start->add_option("container-id", *start_id)->required();
    start->callback([&g, start_id] {
        g.action = [start_id](runtime::Context& ctx) -> sys::Result<int> {
            MD_TRY(runtime::start(ctx, *start_id));
            return 0;
        };
    });

    auto ro = std::make_shared<runtime::RunOptions>();
    auto* run = app.add_subcommand("run", "create and start a container; wait for it unless -d");
    add_create_flags(run, ro->create);
    run->add_flag("-d,--detach", ro->detach, "detach from the container's process");
    run->add_flag("--keep", ro->keep, "do not delete the container after it exits");
    run->callback([&g, ro] {
        g.action = [ro](runtime::Context& ctx) -> sys::Result<int> { return runtime::run(ctx, *ro); };
    });

    struct DeleteArgs {
        std::string id;
        bool force = false;
    };
    auto da = std::make_shared<DeleteArgs>();
    auto* del = app.add_subcommand("delete", "delete a container and everything it holds");
    del->add_flag("-f,--force", da->force, "kill the container first if it is running");
    del->add_option("container-id", da->id)->required();
    del->callback([&g, da] {
        g.action = [da](runtime::Context& ctx) -> sys::Result<int> {
            MD_TRY(runtime::remove(ctx, da->id, da->force));
            return 0;
        };
    });

    struct KillArgs {
        std::string id;
        std::string signal = "SIGTERM";
        bool all = false;
    };
    auto ka = std::make_shared<KillArgs>();
    auto* kill = app.add_subcommand("kill", "send a signal (default SIGTERM) to the container's init");
    kill->add_flag("-a,--all", ka->all, "send the signal to every process of the container");
    kill->add_option("container-id", ka->id)->required();
    kill->add_option("signal", ka->signal, "signal name or number");
    kill->callback([&g, ka] {
        g.action = [ka](runtime::Context& ctx) -> sys::Result<int> {
            int sig = MD_TRY(sys::parse_signal(ka->signal));
            MD_TRY(runtime::kill(ctx, ka->id, sig, ka->all));
            return 0;
        };
    });
}

}  // namespace mydocker::cli
