// mydocker: the docker-like command line over the engine library. Each command file registers
// its subcommands; a handler parses, calls the engine, prints, and returns the exit code.
// Errors: the engine's Error goes to stderr as "mydocker: <message>" with exit code 125
// (Docker's "the engine failed"), unless a command sets another (run: 126, 127, the
// container's own code).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "engine/context.h"
#include "runtime/netns.h"
#include "sys/error.h"
#include "sys/log.h"
#include "sys/json_text.h"

namespace mydocker::cli {

/// Docker's exit code for an error of the engine itself.
inline constexpr int kEngineError = 125;

struct Globals {
    std::string root;      // --root, else $MYDOCKER_ROOT, else /var/lib/mydocker
    std::string runroot;   // --runroot, else $MYDOCKER_RUNROOT, else ROOT/run or /run/mydocker
    std::string log_level; // --log-level
    std::string bip;       // --bip, else $MYDOCKER_BIP: the default bridge's address at first use
    bool debug = false;
    std::unique_ptr<sys::Logger> logger;
    /// The subcommand named on the command line, or empty: then every one is registered.
    /// Registering all of them (run's flags above all) costs ~0.6 ms of CLI11 set-up, more
    /// than a `ps` takes; the register_* functions skip the ones not wanted.
    std::string only;
    bool wants(std::string_view name) const { return only.empty() || only == name; }
    /// Set by the chosen subcommand: runs after parsing, returns the exit code.
    std::function<sys::Result<int>(engine::Context&)> action;
    /// `run`'s network namespace, started before the flags are parsed (see main).
    runtime::PendingNetns netns_ahead;
};

/// Print `s` to stdout, followed by a newline.
void println(const std::string& s);
/// Print "mydocker: MSG" to stderr.
void print_error(const std::string& msg);
/// `s` padded with spaces to `w` characters (UTF-8 aware), for a table column.
std::string pad(std::string s, size_t w);
/// inspect's `-f`: one field of `doc`, named {{.State.Pid}}, .State.Pid or /State/Pid;
/// strings bare, anything else as JSON.
sys::Result<std::string> inspect_field(const nlohmann::ordered_json& doc, const std::string& format);
/// `inspect REF...`: `find(ref)` looks each one up (a miss is printed, skipped, and makes the
/// exit code 1, as docker's), `to_json(found)` makes its document; with `format`, one field
/// each, else all of them as one JSON array.
template <typename Find, typename ToJson>
sys::Result<int> print_inspect(const std::vector<std::string>& refs, const std::string& format, Find find,
                               ToJson to_json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    int rc = 0;
    for (const auto& r : refs) {
        auto found = find(r);
        if (!found) {
            print_error(found.error().message());
            rc = 1;
            continue;
        }
        nlohmann::ordered_json j = MD_TRY(to_json(*found));
        if (!format.empty()) {
            println(MD_TRY(inspect_field(j, format)));
            continue;
        }
        out.push_back(std::move(j));
    }
    if (format.empty()) println(sys::json_text(out, 4));
    return rc;
}

/// `image inspect`'s document for image `ref` (RepoTags, RepoDigests, Config, RootFS, ...).
sys::Result<nlohmann::ordered_json> image_inspect_json(engine::Context& ctx, const std::string& ref);

void register_containers(CLI::App& app, Globals& g);  // run create start stop kill rm ps ...
void register_images(CLI::App& app, Globals& g);      // images rmi tag import save load
void register_login(CLI::App& app, Globals& g);       // login logout
void register_volumes(CLI::App& app, Globals& g);     // volume create/ls/inspect/rm/prune
void register_networks(CLI::App& app, Globals& g);    // network create/ls/inspect/rm/prune/connect/disconnect, port

}  // namespace mydocker::cli
