// mydocker: a docker-like CLI. Globals, then one subcommand; see cli.h.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "cli/docker/cli.h"
#include "engine/containers/containers.h"
#include "engine/store/perms.h"
#include "sys/files.h"
#include "sys/json_text.h"

using namespace mydocker;

namespace cli_main {

sys::Result<std::unique_ptr<sys::Logger>> make_logger(const cli::Globals& g) {
    sys::LogLevel level = sys::LogLevel::warn;
    if (g.debug || g.log_level == "debug") level = sys::LogLevel::debug;
    else if (g.log_level == "info") level = sys::LogLevel::info;
    else if (g.log_level == "error") level = sys::LogLevel::error;
    else if (!g.log_level.empty() && g.log_level != "warn")
        return sys::fail_invalid("--log-level: unknown level \"" + g.log_level + "\" (debug, info, warn, error)");
    return std::make_unique<sys::Logger>(sys::UniqueFd(::dup(2)), sys::LogFormat::text, level);
}

// The first word of the command line after the global options: the subcommand, if it is
// one, and then the only one registered (cli.h, Globals::only). Empty for help or nothing.
std::string subcommand_named(int argc, char** argv) {
    static const char* const with_value[] = {"--root", "--runroot", "--log-level", "--bip"};
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a.empty() || a == "-h" || a == "--help") return {};
        if (a[0] != '-') return std::string(a);
        for (const char* o : with_value)
            if (a == o) ++i;  // "--root DIR": DIR is no subcommand ("--root=DIR" is one word)
    }
    return {};
}

// Whether `run`'s arguments may leave the container its own network namespace: not when one
// of them may be --network / --net host or container:X (then the flags decide, later).
bool may_get_own_netns(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "host" || a.ends_with("=host") || a.starts_with("container:") ||
            a.find("=container:") != std::string_view::npos)
            return false;
    }
    return true;
}

// Does `run` look detached (-d, --detach, or -d among the short boolean flags: -itd)? Its
// monitor, forked at once, makes the namespace on a thread of its own: one here would not be
// copied by the fork. (A guess: a miss only costs the wait for this thread before the fork.)
bool looks_detached(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--detach" || a == "--detach=true") return true;
        if (a.size() > 1 && a[0] == '-' && a[1] != '-' && a.find('d') != std::string_view::npos &&
            a.find_first_not_of("-itdP") == std::string_view::npos)
            return true;
    }
    return false;
}

// A directory option: the flag's value, else the environment variable's, as an absolute
// path; empty when neither is set.
mydocker::sys::Result<std::string> dir_option(const std::string& flag, const char* env, const char* name) {
    std::string v = flag;
    if (v.empty())
        if (const char* e = std::getenv(env); e && *e) v = e;
    if (v.empty()) return v;
    auto abs = sys::absolute_path(v);
    if (!abs) return sys::fail_invalid(std::string(name) + ": " + abs.error().message());
    return *abs;
}

}  // namespace cli_main

void mydocker::cli::println(const std::string& s) {
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fputc('\n', stdout);
}

std::string mydocker::cli::pad(std::string s, size_t w) {
    size_t len = 0;
    for (unsigned char ch : s) len += (ch & 0xC0) != 0x80;
    if (len < w) s.append(w - len, ' ');
    return s;
}

void mydocker::cli::print_error(const std::string& msg) {
    std::fprintf(stderr, "mydocker: %s\n", msg.c_str());
}

mydocker::sys::Result<std::string> mydocker::cli::inspect_field(const nlohmann::ordered_json& doc,
                                                                const std::string& format) {
    std::string f = format;
    if (f.rfind("{{", 0) == 0 && f.size() > 4 && f.ends_with("}}")) f = f.substr(2, f.size() - 4);
    while (!f.empty() && f.front() == ' ') f.erase(0, 1);
    while (!f.empty() && f.back() == ' ') f.pop_back();
    if (!f.empty() && f[0] == '.')
        for (auto& ch : f)
            if (ch == '.') ch = '/';
    try {
        const auto& v = doc.at(nlohmann::ordered_json::json_pointer(f));
        return v.is_string() ? v.get<std::string>() : sys::json_text(v);
    } catch (const std::exception&) {
        return sys::fail_invalid("--format: no field \"" + format + "\"");
    }
}

int main(int argc, char** argv) {
    ::signal(SIGPIPE, SIG_IGN);
    cli::Globals g;
    g.only = cli_main::subcommand_named(argc, argv);
    // `run`: the container's network namespace, the kernel's longest step, is started on a
    // thread now, while CLI11 sets up and parses the flags (~0.2 ms); dropped unused if the
    // flags say --network host or container:X after all. (Not for -d: see looks_detached.)
    if (g.only == "run" && cli_main::may_get_own_netns(argc, argv) && !cli_main::looks_detached(argc, argv))
        g.netns_ahead = runtime::PendingNetns::start();
    CLI::App app{"mydocker: run containers from images, the docker way", "mydocker"};
    app.require_subcommand(0, 1);
    app.add_flag_callback("-v,--version", [] {
        std::fputs("mydocker version " MYDOCKER_VERSION "\n", stdout);
        std::exit(0);
    }, "print the version");
    app.add_option("--root", g.root, "state root (default $MYDOCKER_ROOT or /var/lib/mydocker)");
    app.add_option("--runroot", g.runroot,
                   "where running containers' state and bundles live (default $MYDOCKER_RUNROOT, "
                   "else ROOT/run with --root, else /run/mydocker)");
    app.add_option("--log-level", g.log_level, "log level: debug, info, warn, error");
    app.add_flag("-D,--debug", g.debug, "debug logging");
    app.add_option("--bip", g.bip, "the default bridge's address and prefix, e.g. 172.30.0.1/16 (used when it is first made)");
    auto register_all = [&] {
        cli::register_containers(app, g);
        cli::register_images(app, g);
        cli::register_login(app, g);
        cli::register_volumes(app, g);
        cli::register_networks(app, g);
    };
    register_all();
    if (!g.only.empty() && app.get_subcommands({}).empty()) {
        g.only.clear();  // not one of ours: CLI11 names the error against the whole set
        register_all();
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help
        // As docker words a usage error: the program's name first, then where to look.
        std::fprintf(stderr, "mydocker: %s\nSee 'mydocker --help'.\n", e.what());
        return cli::kEngineError;
    }
    if (!g.action) {
        std::fputs(app.help().c_str(), stdout);
        return 0;
    }
    auto logger = cli_main::make_logger(g);
    if (!logger) {
        cli::print_error(logger.error().message());
        return cli::kEngineError;
    }
    g.logger = std::move(*logger);
    engine::Context ctx{*g.logger};
    auto root = cli_main::dir_option(g.root, "MYDOCKER_ROOT", "--root");
    auto runroot = cli_main::dir_option(g.runroot, "MYDOCKER_RUNROOT", "--runroot");
    for (const auto* r : {&root, &runroot}) {
        if (!*r) {
            cli::print_error(r->error().message());
            return cli::kEngineError;
        }
    }
    if (!root->empty()) {
        // A private root (tests, a second engine) keeps its runtime state inside it too.
        ctx.root = *root;
        ctx.run_root = sys::path_join(*root, "run");
    }
    if (!runroot->empty()) ctx.run_root = *runroot;
    if (g.bip.empty()) {
        if (const char* env = std::getenv("MYDOCKER_BIP"); env && *env) g.bip = env;
    }
    ctx.default_bip = g.bip;
    char exe[4096];
    ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) ctx.exe.assign(exe, static_cast<size_t>(n));
    // Every command, so that a store made before it was root-only is tightened at once.
    if (auto secured = engine::store::secure(ctx); !secured) {
        cli::print_error(secured.error().message());
        return cli::kEngineError;
    }
    auto rc = g.action(ctx);
    std::fflush(stdout);
    if (!rc) {
        cli::print_error(rc.error().message());
        return cli::kEngineError;
    }
    // Out without the destructors: they only free memory, and after `run -d` / `start` forked a
    // monitor, each page they touch is first copied (copy-on-write) away from the monitor's.
    std::fflush(nullptr);
    std::_Exit(*rc);
}
