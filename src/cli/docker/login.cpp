// login, logout: registry credentials (engine/images/login.h).
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>

#include "cli/docker/cli.h"
#include "engine/images/login.h"

namespace mydocker::cli {

namespace ei = engine::images;

namespace {

struct LoginArgs {
    std::string server, username, password;
    bool password_stdin = false;
};

/// One line from the terminal on stdin after `prompt`, echoed or not.
sys::Result<std::string> prompt_line(const std::string& prompt, bool echo) {
    std::fputs(prompt.c_str(), stderr);
    std::fflush(stderr);
    termios old{};
    bool restore = false;
    if (!echo && ::tcgetattr(0, &old) == 0) {
        termios quiet = old;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        restore = ::tcsetattr(0, TCSANOW, &quiet) == 0;
    }
    std::string line;
    bool got = static_cast<bool>(std::getline(std::cin, line));
    if (restore) {
        ::tcsetattr(0, TCSANOW, &old);
        std::fputc('\n', stderr);
    }
    if (!got) return sys::fail_invalid("login: no input");
    if (line.ends_with('\r')) line.pop_back();
    return line;
}

sys::Result<int> run_login(const LoginArgs& a) {
    ei::Credentials creds{a.username, a.password, ""};
    if (!a.password.empty() && a.password_stdin)
        return sys::fail_invalid("--password and --password-stdin are mutually exclusive");
    if (a.password_stdin) {
        if (a.username.empty())
            return sys::fail_invalid("must provide --username with --password-stdin");
        creds.password.assign(std::istreambuf_iterator<char>(std::cin),
                              std::istreambuf_iterator<char>());
        // As docker: the line's end is not part of the password.
        while (creds.password.ends_with('\n') || creds.password.ends_with('\r'))
            creds.password.pop_back();
        if (creds.password.empty())
            return sys::fail_invalid("--password-stdin: no password on stdin");
    } else if (!a.password.empty()) {
        std::fputs("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n",
                   stderr);
    }
    if (creds.username.empty() || creds.password.empty()) {
        if (!::isatty(0))
            return sys::fail_invalid(
                "login: cannot prompt for a username and password: stdin is not a terminal (use -u "
                "USER with "
                "--password-stdin)");
        if (creds.username.empty()) creds.username = MD_TRY(prompt_line("Username: ", true));
        if (creds.password.empty()) creds.password = MD_TRY(prompt_line("Password: ", false));
    }
    auto files = MD_TRY(ei::default_credential_files());
    auto r = ei::login(a.server, creds, files);
    if (!r) {
        // docker login exits 1 when the registry refuses (not the engine's 125).
        print_error(r.error().message());
        return 1;
    }
    std::fprintf(
        stderr,
        "WARNING! Your password will be stored unencrypted in %s.\n"
        "Configure a credential helper to remove this warning. See\n"
        "https://docs.docker.com/engine/reference/commandline/login/#credential-stores\n\n",
        r->file.c_str());
    println("Login Succeeded");
    return 0;
}

sys::Result<int> run_logout(const std::string& server) {
    auto files = MD_TRY(ei::default_credential_files());
    auto r = MD_TRY(ei::logout(server, files));
    if (!r.removed) {
        println("Not logged in to " + r.key);
        if (!r.foreign.empty())
            std::fprintf(
                stderr,
                "(credentials for it are in \"%s\", which mydocker reads but does not change)\n",
                r.foreign.c_str());
        return 0;
    }
    println("Removing login credentials for " + r.key);
    return 0;
}

}  // namespace

void register_login(CLI::App& app, Globals& g) {
    if (g.wants("login")) {
        auto args = std::make_shared<LoginArgs>();
        auto* login = app.add_subcommand(
            "login", "log in to a registry (Docker Hub when no SERVER is named)");
        login->add_option("-u,--username", args->username, "username");
        login->add_option("-p,--password", args->password,
                          "password (insecure: see --password-stdin)");
        login->add_flag("--password-stdin", args->password_stdin, "read the password from stdin");
        login->add_option("SERVER", args->server, "registry host[:port]");
        login->callback(
            [&g, args] { g.action = [args](engine::Context&) { return run_login(*args); }; });
    }
    if (g.wants("logout")) {
        auto server = std::make_shared<std::string>();
        auto* logout = app.add_subcommand(
            "logout", "remove the saved credentials of a registry (default Docker Hub)");
        logout->add_option("SERVER", *server, "registry host[:port]");
        logout->callback([&g, server] {
            g.action = [server](engine::Context&) { return run_logout(*server); };
        });
    }
}

}  // namespace mydocker::cli
