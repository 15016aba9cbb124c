#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/oci/cli.h"
#include "sys/files.h"

using namespace mydocker;

namespace {

sys::Result<std::unique_ptr<sys::Logger>> make_logger(const cli::Globals& g) {
    sys::LogFormat fmt = g.log_format == "json" ? sys::LogFormat::json : sys::LogFormat::text;
    sys::LogLevel level = g.debug ? sys::LogLevel::debug : sys::LogLevel::warn;
    if (g.log_level == "debug") level = sys::LogLevel::debug;
    else if (g.log_level == "info") level = sys::LogLevel::info;
    else if (g.log_level == "error") level = sys::LogLevel::error;
    sys::UniqueFd fd;
    if (!g.log_file.empty()) fd = MD_TRY_CTX(sys::open_file(g.log_file, O_WRONLY | O_CREAT | O_APPEND, 0644), "--log");
    return std::make_unique<sys::Logger>(std::move(fd), fmt, level);
}

// Registering every subcommand's options costs more than parsing them (~0.2 ms of CLI11 set-up
// per call, a run's worth of syscalls). The command line names its subcommand after the
// global options: register that one's group alone. Help, errors and anything unexpected get
// the whole command set.
using Register = void (*)(CLI::App&, cli::Globals&);

std::vector<Register> registrations_for(int argc, char** argv) {
    const std::vector<Register> all = {cli::register_lifecycle, cli::register_info, cli::register_exec,
                                       cli::register_resources};
    static const std::pair<const char*, Register> groups[] = {
        {"create", cli::register_lifecycle}, {"start", cli::register_lifecycle}, {"run", cli::register_lifecycle},
        {"delete", cli::register_lifecycle}, {"kill", cli::register_lifecycle},  {"state", cli::register_info},
        {"list", cli::register_info},        {"ps", cli::register_info},         {"spec", cli::register_info},
        {"features", cli::register_info},    {"exec", cli::register_exec},       {"update", cli::register_resources},
        {"pause", cli::register_resources},  {"resume", cli::register_resources},
    };
    static const char* const with_value[] = {"--root", "--log", "--log-format", "--log-level", "--rootless", "--criu"};
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a.empty() || a == "-h" || a == "--help" || a == "--help-all") return all;
        if (a[0] != '-') {
            for (auto& [name, reg] : groups)
                if (a == name) return {reg};
            return all;
        }
        for (const char* o : with_value)
            if (a == o) ++i;  // "--root DIR": DIR is no subcommand ("--root=DIR" is one word)
    }
    return all;
}

}  // namespace

int main(int argc, char** argv) {
    // Writing state to a hook that closed its stdin must not kill us (the container gets
    // default dispositions back in init).
    ::signal(SIGPIPE, SIG_IGN);
    cli::Globals g;
    CLI::App app{"mydocker-runc: an OCI container runtime with runc's command line", "mydocker-runc"};
    app.require_subcommand(0, 1);
    // Not set_version_flag: CLI11 ends that with an exception, and the first throw in a static
    // binary sorts every unwind table (~3 ms). Printing and exiting here costs nothing.
    app.add_flag_callback("-v,--version", [] {
        std::fputs("mydocker-runc version " MYDOCKER_VERSION "\nspec: 1.2.0\n", stdout);
        std::exit(0);
    }, "print the version");
    app.add_option("--root", g.root, "root directory for storage of container state")->capture_default_str();
    app.add_option("--log", g.log_file, "log file (default: stderr)");
    app.add_option("--log-format", g.log_format, "log format: text or json")->check(CLI::IsMember({"text", "json"}));
    app.add_option("--log-level", g.log_level, "log level: debug, info, warn, error");
    app.add_flag("--debug", g.debug, "enable debug logging");
    app.add_flag("--systemd-cgroup", g.systemd_cgroup, "put containers in systemd transient units (cgroupsPath \"slice:prefix:name\")");
    app.add_option("--rootless", g.rootless, "accepted for runc compatibility");
    app.add_option("--criu", g.criu, "accepted for runc compatibility (checkpoint is not supported)");
    for (Register reg : registrations_for(argc, argv)) reg(app, g);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help
        // runc's exit codes: 3 for an unknown command ("No help topic"), 1 for the rest.
        const bool unknown_command = dynamic_cast<const CLI::ExtrasError*>(&e) && app.get_subcommands().empty();
        std::fprintf(stderr, "mydocker-runc: %s\nRun 'mydocker-runc --help' for usage.\n", e.what());
        return unknown_command ? 3 : 1;
    }
    if (!g.action) {
        std::fputs(app.help().c_str(), stdout);
        return 0;
    }
    auto logger = make_logger(g);
    if (!logger) {
        std::fprintf(stderr, "mydocker-runc: %s\n", logger.error().message().c_str());
        return 1;
    }
    g.logger = std::move(*logger);
    runtime::Context ctx{*g.logger, g.root};
    ctx.systemd_cgroup = g.systemd_cgroup;
    auto rc = g.action(ctx);
    if (!rc) {
        std::string msg = rc.error().message();
        if (g.logger->format() == sys::LogFormat::json || !g.log_file.empty()) g.logger->error(msg);
        std::fprintf(stderr, "mydocker-runc: %s\n", msg.c_str());
        return 1;
    }
    // Out through _Exit: the command set, the spec and the logger need no destructors, and
    // running them (and the atexit handlers) is ~1% of a `run`. stdio is flushed first.
    std::fflush(nullptr);
    std::_Exit(*rc);
}
