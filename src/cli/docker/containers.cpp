// Container commands: run create start stop kill rm ps logs exec inspect wait rename top
// pause unpause commit export container-prune, (the monitor and its watch stage live in engine/containers).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "cli/docker/cli.h"
#include "engine/containers/containers.h"
#include "engine/images/format.h"
#include "engine/logs/logs.h"
#include "runtime/container.h"
#include "sys/files.h"
#include "sys/proc.h"
#include "sys/signals.h"
#include "sys/json_text.h"

namespace mydocker::cli {

namespace ec = engine::containers;
using Json = nlohmann::ordered_json;

namespace {

// "3 minutes" since an RFC 3339 time, the way docker says it (the image CLI's helpers).
std::string since(const std::string& t) {
    auto secs = engine::images::parse_rfc3339(t);
    if (!secs) return "N/A";
    return engine::images::human_duration(static_cast<int64_t>(std::time(nullptr)) - *secs);
}

std::string status_text(const ec::Container& c) {
    const auto& s = c.state;
    if (s.status == "running") return "Up " + since(s.started_at);
    if (s.status == "paused") return "Up " + since(s.started_at) + " (Paused)";
    if (s.status == "exited") return "Exited (" + std::to_string(s.exit_code) + ") " + since(s.finished_at) + " ago";
    if (s.status == "created") return "Created";
    return s.status;
}

std::string quote_command(const ec::Container& c) {
    std::string cmd = c.path;
    for (const auto& a : c.args) cmd += " " + a;
    if (cmd.size() > 20) cmd = cmd.substr(0, 19) + "…";
    return "\"" + cmd + "\"";
}

// "0.0.0.0:8080->80/tcp, 127.0.0.1:53->53/udp": ps's PORTS.
std::string ports_text(const ec::Container& c) {
    std::string out;
    for (const auto& p : c.network.ports) {
        if (!out.empty()) out += ", ";
        out += (p.host_ip.empty() ? "0.0.0.0" : p.host_ip) + ":" + std::to_string(p.host_port) + "->" +
               std::to_string(p.container_port) + "/" + p.proto;
    }
    return out;
}

// Columns as wide as their widest cell plus three spaces, like docker's tabwriter.
void print_table(const std::vector<std::vector<std::string>>& rows) {
    auto width = [](const std::string& s) {
        size_t n = 0;
        for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;
        return n;
    };
    std::vector<size_t> w;
    for (const auto& r : rows)
        for (size_t i = 0; i < r.size(); ++i) {
            if (w.size() <= i) w.push_back(0);
            w[i] = std::max(w[i], width(r[i]));
        }
    for (const auto& r : rows) {
        std::string line;
        for (size_t i = 0; i < r.size(); ++i) line += i + 1 == r.size() ? r[i] : pad(r[i], w[i] + 3);
        println(line);
    }
}

void add_run_flags(CLI::App* cmd, ec::RunRequest& r, std::string& entrypoint, bool& has_entrypoint) {
    cmd->set_help_flag("--help", "print this help");  // -h is --hostname, as in docker
    // IMAGE [COMMAND [ARG...]]: parsing stops at the image, so the command's own flags
    // (sh -c ...) are never taken for ours. The callback splits remaining().
    cmd->prefix_command(true);
    cmd->footer("Usage: " + cmd->get_name() + " [OPTIONS] IMAGE [COMMAND] [ARG...]");
    cmd->add_flag("-i,--interactive", r.interactive, "keep stdin open");
    cmd->add_flag("-t,--tty", r.tty, "allocate a pseudo-TTY");
    cmd->add_option("--name", r.name, "name of the container");
    cmd->add_option("--pull", r.pull, "pull the image before running: missing (default), always, never");
    cmd->add_option("-e,--env", r.env, "set an environment variable")->allow_extra_args(false);
    cmd->add_option("--env-file", r.env_files, "read environment variables from a file")->allow_extra_args(false);
    cmd->add_option("-v,--volume", r.volumes, "bind mount a volume: HOST:CTR[:ro], NAME:CTR, CTR")->allow_extra_args(false);
    cmd->add_option("--tmpfs", r.tmpfs, "mount a tmpfs: PATH[:OPTIONS]")->allow_extra_args(false);
    cmd->add_option("-m,--memory", r.memory, "memory limit (e.g. 100m)");
    cmd->add_option("--memory-swap", r.memory_swap, "memory plus swap limit, -1 for unlimited swap");
    cmd->add_option("--cpus", r.cpus, "number of CPUs (e.g. 0.5)");
    cmd->add_option("-c,--cpu-shares", r.cpu_shares, "CPU shares (relative weight)");
    cmd->add_option("--cpuset-cpus", r.cpuset_cpus, "CPUs in which to allow execution (0-3, 0,1)");
    cmd->add_option("--pids-limit", r.pids_limit, "tune the container's pids limit (-1 unlimited)");
    cmd->add_option("-w,--workdir", r.workdir, "working directory inside the container");
    cmd->add_option("-u,--user", r.user, "user[:group] (name or id)");
    cmd->add_option("-h,--hostname", r.hostname, "container host name");
    cmd->add_option("--entrypoint", entrypoint, "overwrite the image's ENTRYPOINT")->each([&](const std::string&) { has_entrypoint = true; });
    cmd->add_flag("--read-only", r.read_only, "mount the container's root filesystem read-only");
    cmd->add_flag("--init", r.init, "run an init inside the container that forwards signals and reaps processes");
    cmd->add_flag("--privileged", r.privileged, "give extended privileges to this container");
    cmd->add_option("--cap-add", r.cap_add, "add Linux capabilities")->allow_extra_args(false);
    cmd->add_option("--cap-drop", r.cap_drop, "drop Linux capabilities")->allow_extra_args(false);
    cmd->add_option("--security-opt", r.security_opts, "security options: seccomp=unconfined, seccomp=PROFILE.json, no-new-privileges")
        ->allow_extra_args(false);
    cmd->add_option("--ulimit", r.ulimits, "ulimit options (nofile=1024:2048)")->allow_extra_args(false);
    cmd->add_option("-l,--label", r.labels, "set metadata on a container")->allow_extra_args(false);
    cmd->add_option("--network,--net", r.network, "network: bridge (default), none, host, container:NAME, or a network's name");
    cmd->add_option("--ip", r.ip, "IPv4 address on a user network (e.g. 172.30.100.104)");
    cmd->add_option("-p,--publish", r.publish, "publish a port: [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/tcp|/udp]")->allow_extra_args(false);
    cmd->add_flag("-P,--publish-all", r.publish_all, "publish every exposed port to a free host port");
    cmd->add_option("--expose", r.expose, "expose a port: PORT[/tcp|/udp]")->allow_extra_args(false);
    cmd->add_option("--dns", r.dns, "set a DNS server")->allow_extra_args(false);
    cmd->add_option("--add-host", r.add_hosts, "add a host-to-IP line to /etc/hosts (HOST:IP)")->allow_extra_args(false);
    cmd->add_option("--cgroup-parent", r.cgroup_parent, "parent cgroup of the container's cgroup");
    cmd->add_option("--cgroup-manager", r.cgroup_manager, "cgroupfs, or systemd: the container in a transient scope unit");
    cmd->add_option("--log-driver", r.log_driver, "logging driver: json-file (default) or none");
    cmd->add_option("--log-opt", r.log_opts, "log driver option: max-size=SIZE (10m), max-file=N")->allow_extra_args(false);
}

sys::Result<void> take_image_and_command(const std::vector<std::string>& rest, ec::RunRequest& req) {
    if (rest.empty()) return sys::fail_invalid("requires at least 1 argument: IMAGE [COMMAND] [ARG...]");
    if (!rest[0].empty() && rest[0][0] == '-') return sys::fail_invalid("unknown flag: " + rest[0]);
    req.image = rest[0];
    req.command.assign(rest.begin() + 1, rest.end());
    return {};
}

void print_exec_error(const sys::Error& e) { print_error(e.message()); }

}  // namespace

void register_containers(CLI::App& app, Globals& g) {
    // run / create
    struct RunArgs {
        ec::RunRequest req;
        std::string entrypoint;
        bool has_entrypoint = false;
        std::vector<std::string> rest;  // IMAGE [COMMAND [ARG...]]
    };
    if (g.wants("run")) {
        auto run_args = std::make_shared<RunArgs>();
        auto* run = app.add_subcommand("run", "create and run a new container from an image");
        add_run_flags(run, run_args->req, run_args->entrypoint, run_args->has_entrypoint);
        run->add_flag("-d,--detach", run_args->req.detach, "run in the background and print the container id");
        run->add_flag("--rm", run_args->req.rm, "remove the container when it exits");
        run->callback([&g, run, run_args] {
            run_args->rest = run->remaining();
            g.action = [&g, run_args](engine::Context& ctx) -> sys::Result<int> {
                auto& req = run_args->req;
                MD_TRY(take_image_and_command(run_args->rest, req));
                if (run_args->has_entrypoint) req.entrypoint = run_args->entrypoint;
                if (req.detach && req.rm) {
                    // docker allows -d --rm: the monitor removes it at exit.
                }
                if (req.tty && !req.detach && !::isatty(0))
                    return sys::fail_invalid("the input device is not a TTY: drop -t, or run from a terminal");
                if (req.detach) {
                    std::fflush(stdout);
                    auto e = ec::run_detached_and_exit(ctx, req, STDOUT_FILENO, std::move(g.netns_ahead));
                    print_exec_error(e);
                    return ec::run_exit_code(e);
                }
                std::fflush(stdout);
                auto code = ec::run_foreground(ctx, req, std::move(g.netns_ahead));
                if (!code) {
                    print_exec_error(code.error());
                    return ec::run_exit_code(code.error());
                }
                return *code;
            };
        });
    }

    if (g.wants("create")) {
        auto create_args = std::make_shared<RunArgs>();
        auto* create = app.add_subcommand("create", "create a new container (start it with `start`)");
        add_run_flags(create, create_args->req, create_args->entrypoint, create_args->has_entrypoint);
        create->add_flag("--rm", create_args->req.rm, "remove the container when it exits");
        create->callback([&g, create, create_args] {
            create_args->rest = create->remaining();
            g.action = [create_args](engine::Context& ctx) -> sys::Result<int> {
                MD_TRY(take_image_and_command(create_args->rest, create_args->req));
                if (create_args->has_entrypoint) create_args->req.entrypoint = create_args->entrypoint;
                auto c = MD_TRY(ec::create(ctx, create_args->req));
                println(c.id);
                return 0;
            };
        });
    }

    // Commands taking CONTAINER...: each one's failure is printed, the exit code is 1 if any failed.
    auto each = [&g](CLI::App* cmd, std::shared_ptr<std::vector<std::string>> refs,
                     std::function<sys::Result<void>(engine::Context&, const std::string&)> fn, bool echo) {
        cmd->add_option("CONTAINER", *refs, "container name or id")->required();
        cmd->callback([&g, refs, fn, echo] {
            g.action = [refs, fn, echo](engine::Context& ctx) -> sys::Result<int> {
                int rc = 0;
                for (const auto& r : *refs) {
                    if (auto res = fn(ctx, r); !res) {
                        print_error(res.error().message());
                        rc = 1;
                    } else if (echo) {
                        println(r);
                    }
                }
                return rc;
            };
        });
    };

    if (g.wants("start")) {
        each(app.add_subcommand("start", "start one or more stopped containers"), std::make_shared<std::vector<std::string>>(),
             [](engine::Context& ctx, const std::string& r) { return ec::start(ctx, r); }, true);
    }

    if (g.wants("stop")) {
        auto stop_timeout = std::make_shared<int>(10);
        auto* stop = app.add_subcommand("stop", "stop running containers (SIGTERM, then SIGKILL after -t seconds)");
        stop->add_option("-t,--time", *stop_timeout, "seconds to wait before killing it");
        each(stop, std::make_shared<std::vector<std::string>>(),
             [stop_timeout](engine::Context& ctx, const std::string& r) { return ec::stop(ctx, r, *stop_timeout); }, true);
    }

    if (g.wants("restart")) {
        auto restart_timeout = std::make_shared<int>(10);
        auto* restart = app.add_subcommand("restart", "restart containers");
        restart->add_option("-t,--time", *restart_timeout, "seconds to wait before killing it");
        each(restart, std::make_shared<std::vector<std::string>>(),
             [restart_timeout](engine::Context& ctx, const std::string& r) -> sys::Result<void> {
                 MD_TRY(ec::stop(ctx, r, *restart_timeout));
                 return ec::start(ctx, r);
             }, true);
    }

    if (g.wants("kill")) {
        auto kill_signal = std::make_shared<std::string>("KILL");
        auto* kill = app.add_subcommand("kill", "kill running containers");
        kill->add_option("-s,--signal", *kill_signal, "signal to send (name or number)");
        each(kill, std::make_shared<std::vector<std::string>>(),
             [kill_signal](engine::Context& ctx, const std::string& r) -> sys::Result<void> {
                 auto sig = sys::parse_signal(*kill_signal);
                 if (!sig) return sys::fail_invalid("-s, --signal: invalid signal \"" + *kill_signal + "\"");
                 return ec::kill(ctx, r, *sig);
             }, true);
    }

    if (g.wants("rm")) {
        auto rm_force = std::make_shared<bool>(false), rm_vols = std::make_shared<bool>(false);
        auto* rm = app.add_subcommand("rm", "remove one or more containers");
        rm->add_flag("-f,--force", *rm_force, "kill and remove a running container");
        rm->add_flag("-v,--volumes", *rm_vols, "remove the container's anonymous volumes");
        each(rm, std::make_shared<std::vector<std::string>>(),
             [rm_force, rm_vols](engine::Context& ctx, const std::string& r) { return ec::remove(ctx, r, *rm_force, *rm_vols); }, true);
    }

    if (g.wants("pause") || g.wants("unpause")) {
        each(app.add_subcommand("pause", "pause all processes within containers"), std::make_shared<std::vector<std::string>>(),
             [](engine::Context& ctx, const std::string& r) { return ec::pause(ctx, r); }, true);
        each(app.add_subcommand("unpause", "unpause all processes within containers"), std::make_shared<std::vector<std::string>>(),
             [](engine::Context& ctx, const std::string& r) { return ec::unpause(ctx, r); }, true);
    }

    if (g.wants("wait")) {
        // wait: prints each exit code.
        auto wait_refs = std::make_shared<std::vector<std::string>>();
        auto* wait = app.add_subcommand("wait", "block until containers stop, then print their exit codes");
        wait->add_option("CONTAINER", *wait_refs)->required();
        wait->callback([&g, wait_refs] {
            g.action = [wait_refs](engine::Context& ctx) -> sys::Result<int> {
                for (const auto& r : *wait_refs) println(std::to_string(MD_TRY(ec::wait(ctx, r))));
                return 0;
            };
        });
    }

    if (g.wants("ps")) {
        // ps
        struct PsArgs {
            bool all = false, quiet = false, no_trunc = false;
            std::string format = "table";
            std::vector<std::string> filters;
        };
        auto ps_args = std::make_shared<PsArgs>();
        auto* ps = app.add_subcommand("ps", "list containers");
        ps->add_flag("-a,--all", ps_args->all, "show all containers (default: running ones)");
        ps->add_flag("-q,--quiet", ps_args->quiet, "only display ids");
        ps->add_flag("--no-trunc", ps_args->no_trunc, "do not truncate output");
        ps->add_option("--format", ps_args->format, "table or json")->check(CLI::IsMember({"table", "json"}));
        ps->add_option("-f,--filter", ps_args->filters, "filter: name=NAME, status=STATUS, id=ID")->allow_extra_args(false);
        ps->callback([&g, ps_args] {
            g.action = [ps_args](engine::Context& ctx) -> sys::Result<int> {
                auto all = MD_TRY(ec::list(ctx));
                std::vector<ec::Container> shown;
                for (const auto& c : all) {
                    bool ok = ps_args->all || c.state.status == "running" || c.state.status == "paused";
                    for (const auto& f : ps_args->filters) {
                        size_t eq = f.find('=');
                        if (eq == std::string::npos) return sys::fail_invalid("--filter: expected KEY=VALUE, got \"" + f + "\"");
                        std::string k = f.substr(0, eq), v = f.substr(eq + 1);
                        if (k == "name") ok = ok && c.name.find(v) != std::string::npos;
                        else if (k == "status") ok = (c.state.status == v);
                        else if (k == "id") ok = ok && c.id.rfind(v, 0) == 0;
                        else if (k == "label") {
                            size_t e2 = v.find('=');
                            auto it = c.config.labels.find(v.substr(0, e2));
                            ok = ok && it != c.config.labels.end() && (e2 == std::string::npos || it->second == v.substr(e2 + 1));
                        } else return sys::fail_invalid("--filter: unknown filter \"" + k + "\" (name, status, id, label)");
                    }
                    if (ok) shown.push_back(c);
                }
                if (ps_args->quiet) {
                    for (const auto& c : shown) println(ps_args->no_trunc ? c.id : c.id.substr(0, 12));
                    return 0;
                }
                if (ps_args->format == "json") {
                    for (const auto& c : shown) {
                        std::string cmd = c.path;
                        for (const auto& a : c.args) cmd += " " + a;
                        Json j = {{"ID", ps_args->no_trunc ? c.id : c.id.substr(0, 12)}, {"Names", c.name}, {"Image", c.config.image},
                                  {"Command", "\"" + cmd + "\""}, {"CreatedAt", c.created}, {"State", c.state.status},
                                  {"Status", status_text(c)}, {"Ports", ports_text(c)}, {"Labels", c.config.labels}};
                        println(sys::json_text(j));
                    }
                    return 0;
                }
                std::vector<std::vector<std::string>> rows = {{"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"}};
                for (const auto& c : shown)
                    rows.push_back({ps_args->no_trunc ? c.id : c.id.substr(0, 12), c.config.image, quote_command(c),
                                    since(c.created) + " ago", status_text(c), ports_text(c), c.name});
                print_table(rows);
                return 0;
            };
        });
    }

    if (g.wants("logs")) {
        // logs
        struct LogsArgs {
            std::string ref, since, until, tail = "all";
            bool follow = false, timestamps = false;
        };
        auto logs_args = std::make_shared<LogsArgs>();
        auto* logs = app.add_subcommand("logs", "fetch the logs of a container");
        logs->add_option("CONTAINER", logs_args->ref)->required();
        logs->add_flag("-f,--follow", logs_args->follow, "follow log output");
        logs->add_flag("-t,--timestamps", logs_args->timestamps, "show timestamps");
        logs->add_option("-n,--tail", logs_args->tail, "number of lines from the end (default all)");
        logs->add_option("--since", logs_args->since, "since a time (RFC 3339, Unix seconds, or 10m)");
        logs->add_option("--until", logs_args->until, "until a time");
        logs->callback([&g, logs_args] {
            g.action = [logs_args](engine::Context& ctx) -> sys::Result<int> {
                auto c = MD_TRY(ec::inspect(ctx, logs_args->ref));
                // --log-driver none keeps no file (LogPath ""), as docker's message says.
                if (c.log_path.empty())
                    return sys::fail_invalid("configured logging driver does not support reading");
                engine::logs::ReadOptions o;
                o.follow = logs_args->follow;
                o.timestamps = logs_args->timestamps;
                auto now = std::chrono::system_clock::now();
                if (logs_args->tail != "all") {
                    char* end = nullptr;
                    long n = std::strtol(logs_args->tail.c_str(), &end, 10);
                    if (logs_args->tail.empty() || *end || n < 0) return sys::fail_invalid("--tail: \"" + logs_args->tail + "\" is not a number");
                    o.tail = static_cast<size_t>(n);
                }
                if (!logs_args->since.empty()) o.since = MD_TRY_CTX(engine::logs::parse_time(logs_args->since, now), "--since");
                if (!logs_args->until.empty()) o.until = MD_TRY_CTX(engine::logs::parse_time(logs_args->until, now), "--until");
                std::string id = c.id;
                auto running = [&ctx, id] {
                    auto cur = ec::inspect(ctx, id);
                    return cur && (cur->state.status == "running" || cur->state.status == "paused");
                };
                MD_TRY(engine::logs::read(c.log_path, o, 1, 2, running));
                return 0;
            };
        });
    }

    if (g.wants("exec")) {
        // exec
        struct ExecArgs {
            std::string ref;
            ec::ExecRequest req;
        };
        auto exec_args = std::make_shared<ExecArgs>();
        auto* exec = app.add_subcommand("exec", "run a command in a running container");
        exec->prefix_command(true);  // CONTAINER COMMAND [ARG...]: the command's flags are its own
        exec->footer("Usage: exec [OPTIONS] CONTAINER COMMAND [ARG...]");
        exec->add_flag("-i,--interactive", exec_args->req.interactive, "keep stdin open");
        exec->add_flag("-t,--tty", exec_args->req.tty, "allocate a pseudo-TTY");
        exec->add_flag("-d,--detach", exec_args->req.detach, "run the command in the background");
        exec->add_option("-e,--env", exec_args->req.env, "set an environment variable")->allow_extra_args(false);
        exec->add_option("-w,--workdir", exec_args->req.workdir, "working directory inside the container");
        exec->add_option("-u,--user", exec_args->req.user, "uid[:gid]");
        exec->add_flag("--privileged", exec_args->req.privileged, "give extended capabilities to the command");
        exec->callback([&g, exec, exec_args] {
            auto rest = exec->remaining();
            if (rest.size() >= 1) exec_args->ref = rest[0];
            if (rest.size() >= 2) exec_args->req.command.assign(rest.begin() + 1, rest.end());
            g.action = [exec_args](engine::Context& ctx) -> sys::Result<int> {
                if (exec_args->ref.empty() || exec_args->req.command.empty())
                    return sys::fail_invalid("exec requires at least 2 arguments: CONTAINER COMMAND [ARG...]");
                if (exec_args->ref[0] == '-') return sys::fail_invalid("unknown flag: " + exec_args->ref);
                if (exec_args->req.tty && !::isatty(0)) return sys::fail_invalid("the input device is not a TTY: drop -t");
                std::fflush(stdout);
                auto code = ec::exec(ctx, exec_args->ref, exec_args->req);
                if (!code) {
                    print_exec_error(code.error());
                    return ec::run_exit_code(code.error()) == 125 ? 1 : ec::run_exit_code(code.error());
                }
                return *code;
            };
        });
    }

    if (g.wants("inspect")) {
        // inspect
        auto inspect_refs = std::make_shared<std::vector<std::string>>();
        auto inspect_format = std::make_shared<std::string>();
        auto* inspect = app.add_subcommand("inspect", "low-level information on containers or images (JSON)");
        inspect->add_option("CONTAINER", *inspect_refs)->required();
        inspect->add_option("-f,--format", *inspect_format, "print one field: {{.State.Status}}, .State.Status or /State/Status");
        inspect->callback([&g, inspect_refs, inspect_format] {
            g.action = [inspect_refs, inspect_format](engine::Context& ctx) -> sys::Result<int> {
                // Like docker: a container first, else an image of that name or id.
                auto find = [&](const std::string& r) -> sys::Result<Json> {
                    auto c = ec::inspect(ctx, r);
                    if (c) return Json::parse(ec::to_json(*c, false));
                    if (c.error().code() != sys::ErrorCode::not_found) return sys::fail(std::move(c.error()));
                    auto img = image_inspect_json(ctx, r);
                    if (img || img.error().code() != sys::ErrorCode::not_found) return img;
                    return sys::fail(sys::Error::not_found("no such object: " + r));
                };
                return print_inspect(*inspect_refs, *inspect_format, find,
                                     [](const Json& j) -> sys::Result<Json> { return j; });
            };
        });
    }

    if (g.wants("top")) {
        // top
        auto top_ref = std::make_shared<std::string>();
        auto* top = app.add_subcommand("top", "display the running processes of a container");
        top->add_option("CONTAINER", *top_ref)->required();
        top->callback([&g, top_ref] {
            g.action = [top_ref](engine::Context& ctx) -> sys::Result<int> {
                auto pids = MD_TRY(ec::top(ctx, *top_ref));
                std::vector<std::vector<std::string>> rows = {{"PID", "CMD"}};
                for (pid_t p : pids) {
                    auto cmd = sys::read_file("/proc/" + std::to_string(p) + "/cmdline");
                    std::string s = cmd ? *cmd : "";
                    for (auto& ch : s)
                        if (ch == '\0') ch = ' ';
                    while (!s.empty() && s.back() == ' ') s.pop_back();
                    rows.push_back({std::to_string(p), s});
                }
                print_table(rows);
                return 0;
            };
        });
    }

    if (g.wants("stats")) {
        // stats --no-stream
        auto stats_refs = std::make_shared<std::vector<std::string>>();
        auto stats_no_stream = std::make_shared<bool>(false);
        auto* stats = app.add_subcommand("stats", "resource usage of containers (--no-stream: once)");
        stats->add_option("CONTAINER", *stats_refs);
        stats->add_flag("--no-stream", *stats_no_stream, "print one sample and exit (the only mode)");
        stats->callback([&g, stats_refs, stats_no_stream] {  // (the captures keep the flags' storage alive)
            g.action = [stats_refs](engine::Context& ctx) -> sys::Result<int> {
                std::vector<std::string> refs = *stats_refs;
                if (refs.empty())
                    for (const auto& c : MD_TRY(ec::list(ctx)))
                        if (c.state.status == "running") refs.push_back(c.id);
                std::vector<std::vector<std::string>> rows = {{"CONTAINER ID", "NAME", "CPU TIME", "MEM USAGE / LIMIT", "PIDS"}};
                for (const auto& r : refs) {
                    auto c = MD_TRY(ec::inspect(ctx, r));
                    auto st = MD_TRY(runtime::stats(ctx.runtime(), c.id));
                    auto mib = [](uint64_t b) {
                        char buf[32];
                        std::snprintf(buf, sizeof buf, "%.1fMiB", static_cast<double>(b) / 1048576.0);
                        return std::string(buf);
                    };
                    char cpu[32];
                    std::snprintf(cpu, sizeof cpu, "%.2fs", static_cast<double>(st.cpu_usage_ns) / 1e9);
                    std::string limit = st.memory_limit == 0 || st.memory_limit > (1ULL << 60) ? "unlimited" : mib(st.memory_limit);
                    rows.push_back({c.id.substr(0, 12), c.name, cpu, mib(st.memory_usage) + " / " + limit, std::to_string(st.pids_current)});
                }
                print_table(rows);
                return 0;
            };
        });
    }

    if (g.wants("rename")) {
        // rename
        auto rename_args = std::make_shared<std::pair<std::string, std::string>>();
        auto* rename = app.add_subcommand("rename", "rename a container");
        rename->add_option("CONTAINER", rename_args->first)->required();
        rename->add_option("NEW_NAME", rename_args->second)->required();
        rename->callback([&g, rename_args] {
            g.action = [rename_args](engine::Context& ctx) -> sys::Result<int> {
                MD_TRY(ec::rename(ctx, rename_args->first, rename_args->second));
                return 0;
            };
        });
    }

    if (g.wants("commit")) {
        // commit
        struct CommitArgs {
            std::string ref, name, author, message;
        };
        auto commit_args = std::make_shared<CommitArgs>();
        auto* commit = app.add_subcommand("commit", "create a new image from a container's changes");
        commit->add_option("CONTAINER", commit_args->ref)->required();
        commit->add_option("REPOSITORY[:TAG]", commit_args->name);
        commit->add_option("-a,--author", commit_args->author, "author");
        commit->add_option("-m,--message", commit_args->message, "commit message");
        commit->callback([&g, commit_args] {
            g.action = [commit_args](engine::Context& ctx) -> sys::Result<int> {
                std::optional<std::string> name;
                if (!commit_args->name.empty()) name = commit_args->name;
                auto id = MD_TRY(ec::commit(ctx, commit_args->ref, name, commit_args->author, commit_args->message));
                println("sha256:" + id);
                return 0;
            };
        });
    }

    if (g.wants("export")) {
        // export
        auto export_args = std::make_shared<std::pair<std::string, std::string>>();
        auto* exp = app.add_subcommand("export", "export a container's filesystem as a tar archive");
        exp->add_option("CONTAINER", export_args->first)->required();
        exp->add_option("-o,--output", export_args->second, "write to a file instead of stdout");
        exp->callback([&g, export_args] {
            g.action = [export_args](engine::Context& ctx) -> sys::Result<int> {
                if (export_args->second.empty()) {
                    if (::isatty(1)) return sys::fail_invalid("cowardly refusing to write a tar to a terminal: use -o or redirect stdout");
                    MD_TRY(ec::export_fs(ctx, export_args->first, 1));
                    return 0;
                }
                std::string tmp = export_args->second + ".tmp";
                auto fd = MD_TRY_CTX(sys::open_file(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644), "-o");
                if (auto r = ec::export_fs(ctx, export_args->first, fd.get()); !r) {
                    ::unlink(tmp.c_str());
                    return sys::fail(std::move(r.error()));
                }
                if (::rename(tmp.c_str(), export_args->second.c_str()) < 0) return sys::fail_errno("rename to \"" + export_args->second + "\"");
                return 0;
            };
        });
    }

    if (g.wants("container")) {
        // container prune / container ls
        auto* container = app.add_subcommand("container", "manage containers");
        auto* prune = container->add_subcommand("prune", "remove all stopped containers");
        auto prune_force = std::make_shared<bool>(false);
        prune->add_flag("-f,--force", *prune_force, "do not prompt for confirmation");
        prune->callback([&g, prune_force] {  // (the capture keeps the flag's storage alive)
            g.action = [](engine::Context& ctx) -> sys::Result<int> {
                auto ids = MD_TRY(ec::prune(ctx));
                println("Deleted Containers:");
                for (const auto& id : ids) println(id);
                return 0;
            };
        });
    }
}

}  // namespace mydocker::cli
