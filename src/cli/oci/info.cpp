// state, list, ps, spec, features
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/oci/cli.h"
#include "runtime/container.h"
#include "runtime/features.h"
#include "sys/files.h"
#include "sys/json_text.h"

namespace mydocker::cli {

namespace {

std::string cmdline_of(pid_t pid) {
    auto text = sys::read_file("/proc/" + std::to_string(pid) + "/cmdline");
    if (!text) return "";
    for (auto& c : *text)
        if (c == '\0') c = ' ';
    while (!text->empty() && text->back() == ' ') text->pop_back();
    return *text;
}

}  // namespace

void register_info(CLI::App& app, Globals& g) {
    auto state_id = std::make_shared<std::string>();
    auto* state = app.add_subcommand("state", "print the container's OCI state as JSON");
    state->add_option("container-id", *state_id)->required();
    state->callback([&g, state_id] {
        g.action = [state_id](runtime::Context& ctx) -> sys::Result<int> {
            auto j = MD_TRY(runtime::state_json(ctx, *state_id));
            std::printf("%s\n", j.c_str());
            return 0;
        };
    });

    struct ListArgs {
        bool quiet = false;
        std::string format = "table";
    };
    auto la = std::make_shared<ListArgs>();
    auto* list = app.add_subcommand("list", "list containers");
    list->alias("ls");
    list->add_flag("-q,--quiet", la->quiet, "print only the ids");
    list->add_option("-f,--format", la->format, "table or json")->check(CLI::IsMember({"table", "json"}));
    list->callback([&g, la] {
        g.action = [la](runtime::Context& ctx) -> sys::Result<int> {
            auto entries = MD_TRY(runtime::list(ctx));
            if (la->quiet) {
                for (auto& e : entries) std::printf("%s\n", e.state.id.c_str());
                return 0;
            }
            if (la->format == "json") {
                auto arr = nlohmann::json::array();
                for (auto& e : entries)
                    arr.push_back(nlohmann::json::parse(runtime::oci_state_json(e.state, e.status, false)));
                std::printf("%s\n", sys::json_text(arr).c_str());
                return 0;
            }
            std::printf("%-20s %-8s %-10s %-40s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
            for (auto& e : entries) {
                int pid = e.status == runtime::Status::stopped ? 0 : e.state.pid;
                std::printf("%-20s %-8d %-10s %-40s %-32s %s\n", e.state.id.c_str(), pid,
                            runtime::status_name(e.status), e.state.bundle.c_str(), e.state.created.c_str(),
                            e.state.owner.empty() ? "root" : e.state.owner.c_str());
            }
            return 0;
        };
    });

    struct PsArgs {
        std::string id;
        std::string format = "table";
        std::vector<std::string> ps_args;
    };
    auto pa = std::make_shared<PsArgs>();
    auto* ps = app.add_subcommand("ps", "list the processes of a container");
    ps->add_option("-f,--format", pa->format, "table or json")->check(CLI::IsMember({"table", "json"}));
    ps->add_option("container-id", pa->id)->required();
    ps->add_option("ps-args", pa->ps_args, "accepted for runc compatibility");
    ps->callback([&g, pa] {
        g.action = [pa](runtime::Context& ctx) -> sys::Result<int> {
            auto pids = MD_TRY(runtime::pids(ctx, pa->id));
            if (pa->format == "json") {
                std::printf("%s\n", sys::json_text(nlohmann::json(pids)).c_str());
                return 0;
            }
            std::printf("%-8s %s\n", "PID", "CMD");
            for (pid_t p : pids) std::printf("%-8d %s\n", p, cmdline_of(p).c_str());
            return 0;
        };
    });

    struct SpecArgs {
        std::string bundle;
        bool rootless = false;
    };
    auto sa = std::make_shared<SpecArgs>();
    auto* spec = app.add_subcommand("spec", "write a default config.json into the bundle");
    spec->add_option("-b,--bundle", sa->bundle, "bundle directory (default: current directory)");
    spec->add_flag("--rootless", sa->rootless, "a spec for a rootless container");
    spec->callback([&g, sa] {
        g.action = [sa](runtime::Context&) -> sys::Result<int> {
            std::string path = sa->bundle.empty() ? "config.json" : sys::path_join(sa->bundle, "config.json");
            if (sys::path_exists(path))
                return sys::fail(sys::Error::exists("\"" + path + "\" exists: remove it first"));
            std::string text = runtime::default_spec_json(sa->rootless, ::getuid(), ::getgid());
            MD_TRY(sys::write_file(path, text + "\n", 0644));
            return 0;
        };
    });

    auto* features = app.add_subcommand("features", "print the runtime's features as JSON");
    features->callback([&g] {
        g.action = [](runtime::Context&) -> sys::Result<int> {
            std::printf("%s\n", runtime::features_json().c_str());
            return 0;
        };
    });
}

}  // namespace mydocker::cli
