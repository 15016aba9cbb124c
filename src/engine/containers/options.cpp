#include "engine/containers/options.h"

#include <arpa/inet.h>
#include <sched.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>

#include <unistd.h>

#include "engine/containers/security.h"
#include "engine/logs/logs.h"
#include "engine/networks/files.h"
#include "runtime/capabilities.h"
#include "sys/files.h"
#include "sys/proc.h"
#include "sys/units.h"

namespace mydocker::engine::containers {

namespace {

bool is_abs(const std::string& p) { return !p.empty() && p[0] == '/'; }

sys::Error flag_error(const std::string& flag, const std::string& value, const std::string& why) {
    return sys::Error::invalid("invalid argument \"" + value + "\" for \"" + flag + "\" flag: " + why);
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    size_t i = 0;
    for (;;) {
        size_t j = s.find(sep, i);
        out.push_back(s.substr(i, j == std::string::npos ? std::string::npos : j - i));
        if (j == std::string::npos) break;
        i = j + 1;
    }
    return out;
}

bool valid_volume_name(const std::string& n) {
    if (n.size() < 2) return false;
    auto ok0 = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
    return ok0(n[0]) && std::all_of(n.begin() + 1, n.end(), [&](char c) { return ok0(c) || c == '_' || c == '.' || c == '-'; });
}

std::string env_key(const std::string& kv) { return kv.substr(0, kv.find('=')); }

}  // namespace

sys::Result<VolumeSpec> parse_volume(const std::string& spec) {
    auto bad = [&](const std::string& why) {
        return sys::fail(sys::Error::invalid("invalid volume specification \"" + spec + "\": " + why));
    };
    auto parts = split(spec, ':');
    VolumeSpec v;
    if (parts.size() == 1) {
        v.type = "volume";
        v.destination = parts[0];
    } else if (parts.size() == 2 || parts.size() == 3) {
        v.source = parts[0];
        v.destination = parts[1];
        if (parts.size() == 3) {
            for (const auto& o : split(parts[2], ',')) {
                if (o == "ro") v.rw = false;
                else if (o == "rw") v.rw = true;
                else if (o == "z" || o == "Z" || o == "rprivate" || o == "private" || o == "rslave" || o == "slave") continue;
                else return bad("unknown mode \"" + o + "\" (ro, rw)");
            }
        }
        if (v.source.empty()) return bad("empty source");
        if (is_abs(v.source)) v.type = "bind";
        else if (valid_volume_name(v.source)) v.type = "volume";
        else return bad("source \"" + v.source + "\" is neither an absolute host path nor a volume name");
    } else {
        return bad("expected HOST-DIR:CONTAINER-DIR[:ro], VOLUME:CONTAINER-DIR[:ro] or CONTAINER-DIR");
    }
    if (!is_abs(v.destination)) return bad("the container path \"" + v.destination + "\" must be absolute");
    if (v.destination == "/") return bad("cannot mount over the container's root");
    return v;
}

std::vector<std::string> resolve_env(const std::vector<std::string>& env) {
    std::vector<std::string> out;
    for (const auto& e : env) {
        if (e.find('=') != std::string::npos) out.push_back(e);
        else if (const char* v = std::getenv(e.c_str())) out.push_back(e + "=" + v);
    }
    return out;
}

sys::Result<std::vector<std::string>> parse_env_file(const std::string& text, const std::string& path) {
    std::vector<std::string> out;
    size_t lineno = 0;
    for (auto line : split(text, '\n')) {
        ++lineno;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        size_t b = line.find_first_not_of(" \t");
        if (b == std::string::npos || line[b] == '#') continue;
        line = line.substr(b);
        std::string key = env_key(line);
        if (key.empty() || key.find_first_of(" \t") != std::string::npos)
            return sys::fail_invalid("--env-file \"" + path + "\" line " + std::to_string(lineno) + ": bad variable name \"" + key + "\"");
        out.push_back(line);
    }
    return resolve_env(out);
}

std::vector<std::string> merge_env(const std::vector<std::string>& base, const std::vector<std::string>& over) {
    std::vector<std::string> out = base;
    for (const auto& e : over) {
        std::string k = env_key(e);
        auto it = std::find_if(out.begin(), out.end(), [&](const std::string& x) { return env_key(x) == k; });
        if (it != out.end()) *it = e;
        else out.push_back(e);
    }
    return out;
}

long available_cpus() {
    cpu_set_t set;
    if (::sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
    long n = ::sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

sys::Result<int64_t> parse_cpus(const std::string& s, long host_cpus) {
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(d) || d <= 0)
        return sys::fail(flag_error("--cpus", s, "must be a positive number of CPUs, like 0.5 or 2"));
    // docker's range: from 0.01 CPU (1 ms of each 100 ms period: the kernel's minimum quota)
    // up to the CPUs this host has (more could never be used).
    if (d < 0.01 || d > static_cast<double>(host_cpus)) {
        char range[96];
        std::snprintf(range, sizeof range, "the range of CPUs is from 0.01 to %ld.00, as there %s only %ld CPU%s available",
                      host_cpus, host_cpus == 1 ? "is" : "are", host_cpus, host_cpus == 1 ? "" : "s");
        return sys::fail(flag_error("--cpus", s, range));
    }
    return static_cast<int64_t>(std::llround(d * 1e9));
}

sys::Result<Ulimit> parse_ulimit(const std::string& s) {
    static const std::pair<const char*, const char*> names[] = {
        {"core", "RLIMIT_CORE"},     {"cpu", "RLIMIT_CPU"},         {"data", "RLIMIT_DATA"},
        {"fsize", "RLIMIT_FSIZE"},   {"locks", "RLIMIT_LOCKS"},     {"memlock", "RLIMIT_MEMLOCK"},
        {"msgqueue", "RLIMIT_MSGQUEUE"}, {"nice", "RLIMIT_NICE"},   {"nofile", "RLIMIT_NOFILE"},
        {"nproc", "RLIMIT_NPROC"},   {"rss", "RLIMIT_RSS"},         {"rtprio", "RLIMIT_RTPRIO"},
        {"rttime", "RLIMIT_RTTIME"}, {"sigpending", "RLIMIT_SIGPENDING"}, {"stack", "RLIMIT_STACK"}};
    size_t eq = s.find('=');
    if (eq == std::string::npos) return sys::fail(flag_error("--ulimit", s, "expected NAME=SOFT[:HARD]"));
    std::string name = s.substr(0, eq);
    Ulimit u;
    for (const auto& [n, r] : names)
        if (name == n) u.type = r;
    if (u.type.empty()) return sys::fail(flag_error("--ulimit", s, "unknown limit \"" + name + "\""));
    auto vals = split(s.substr(eq + 1), ':');
    if (vals.size() > 2) return sys::fail(flag_error("--ulimit", s, "expected NAME=SOFT[:HARD]"));
    auto num = [&](const std::string& v) -> sys::Result<uint64_t> {
        if (v == "-1" || v == "unlimited") return UINT64_MAX;
        uint64_t x = 0;
        auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
        if (v.empty() || ec != std::errc() || p != v.data() + v.size())
            return sys::fail(flag_error("--ulimit", s, "\"" + v + "\" is not a number"));
        return x;
    };
    u.soft = MD_TRY(num(vals[0]));
    u.hard = vals.size() == 2 ? MD_TRY(num(vals[1])) : u.soft;
    if (u.soft > u.hard) return sys::fail(flag_error("--ulimit", s, "soft limit above the hard limit"));
    return u;
}

sys::Result<std::string> normalize_cap(const std::string& s) {
    std::string up;
    for (char c : s) up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (up == "ALL") return up;
    if (up.rfind("CAP_", 0) != 0) up = "CAP_" + up;
    if (!runtime::capability_from_name(up)) return sys::fail_invalid("unknown capability \"" + s + "\"");
    return up;
}

namespace {

// --network, --ip, -p, -P, --expose, --dns, --add-host. Whether a named network exists is
// checked at create, where the store is at hand.
sys::Result<void> prepare_network(const RunRequest& req, const images::Image& image, Container& c) {
    HostConfig& h = c.host;
    const std::string& mode = req.network.empty() ? std::string("bridge") : req.network;
    bool container_mode = mode.rfind("container:", 0) == 0;
    if (container_mode && mode.size() == 10)
        return sys::fail(flag_error("--network", mode, "expected container:NAME or container:ID"));
    if (!container_mode && mode.find(':') != std::string::npos)
        return sys::fail(flag_error("--network", mode, "unknown network mode (bridge, none, host, container:NAME, or a network's name)"));
    h.network_mode = mode;
    bool own_net = mode != "none" && mode != "host" && !container_mode;
    if (!req.ip.empty()) {
        if (!own_net || mode == "bridge")
            return sys::fail(flag_error("--ip", req.ip, "user specified IP address is supported on user defined networks only"));
        if (!networks::parse_ipv4(req.ip)) return sys::fail(flag_error("--ip", req.ip, "not an IPv4 address"));
    }
    if (own_net) c.network.endpoints.push_back(networks::Endpoint{.network = mode, .requested_ip = req.ip});
    if (container_mode && !req.hostname.empty())
        return sys::fail(flag_error("-h, --hostname", req.hostname, "conflicting options: hostname and the network mode container:"));
    std::vector<std::string> exposed = image.config.exposed_ports;
    auto expose = [&](const networks::PortBinding& b) {
        std::string key = std::to_string(b.container_port) + "/" + b.proto;
        if (std::find(exposed.begin(), exposed.end(), key) == exposed.end()) exposed.push_back(key);
    };
    for (const auto& e : req.expose) expose(MD_TRY_CTX(networks::parse_exposed(e), "--expose"));
    for (const auto& p : req.publish) {
        auto b = MD_TRY(networks::parse_publish(p));
        expose(b);
        h.port_bindings.push_back(b);
    }
    h.publish_all = req.publish_all;
    if ((!req.publish.empty() || req.publish_all) && mode != "host" && !own_net)
        return sys::fail(flag_error("-p, --publish", req.publish.empty() ? "-P" : req.publish[0],
                                    "conflicting options: port publishing and the network mode " + mode));
    if (mode == "host") h.port_bindings.clear();  // docker: published ports are discarded on the host network
    for (const auto& d : req.dns) {
        unsigned char buf[16];
        if (::inet_pton(AF_INET, d.c_str(), buf) != 1 && ::inet_pton(AF_INET6, d.c_str(), buf) != 1)
            return sys::fail(flag_error("--dns", d, "not an IP address"));
        h.dns.push_back(d);
    }
    for (const auto& a : req.add_hosts) {
        (void)MD_TRY(networks::parse_add_host(a));
        h.extra_hosts.push_back(a);
    }
    c.config.exposed_ports = exposed;
    return {};
}

// --log-driver and --log-opt, checked as docker's daemon does at create: a bad one fails the
// command before anything is made.
sys::Result<void> prepare_log(const RunRequest& req, Container& c) {
    LogConfig& lc = c.host.log_config;
    if (req.log_driver != "json-file" && req.log_driver != "none")
        return sys::fail(flag_error("--log-driver", req.log_driver, "logging driver not supported (json-file, none)"));
    lc.type = req.log_driver;
    for (const auto& o : req.log_opts) {
        size_t eq = o.find('=');
        if (eq == std::string::npos || eq == 0) return sys::fail(flag_error("--log-opt", o, "expected KEY=VALUE"));
        lc.config[o.substr(0, eq)] = o.substr(eq + 1);  // a repeated key: the last one, as docker
    }
    if (lc.type == "none" && !lc.config.empty())
        return sys::fail(flag_error("--log-opt", req.log_opts[0], "invalid logging opts for driver none"));
    if (lc.type == "json-file") (void)MD_TRY(logs::parse_rotation(lc.config));
    return {};
}

}  // namespace

sys::Result<Container> prepare(const RunRequest& req, const images::Image& image) {
    Container c;
    c.id = new_id();
    c.name = req.name;
    if (!c.name.empty() && c.name[0] == '/') c.name = c.name.substr(1);
    if (!req.name.empty() && !valid_name(c.name))
        return sys::fail(flag_error("--name", req.name, "names must match [a-zA-Z0-9][a-zA-Z0-9_.-]+"));
    c.image_id = image.id;
    c.config.image = req.image;
    c.config.tty = req.tty;
    c.config.open_stdin = req.interactive;
    c.config.labels = image.config.labels;
    for (const auto& l : req.labels) {
        size_t eq = l.find('=');
        if (eq == 0 || l.empty()) return sys::fail(flag_error("--label", l, "a label needs a name (key=value)"));
        c.config.labels[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
    }

    // The process: entrypoint + cmd, as docker combines them.
    std::vector<std::string> entry = image.config.entrypoint;
    std::vector<std::string> cmd = image.config.cmd;
    if (req.entrypoint) {
        entry = req.entrypoint->empty() ? std::vector<std::string>{} : std::vector<std::string>{*req.entrypoint};
        cmd.clear();  // docker: --entrypoint resets the image's CMD
    }
    if (!req.command.empty()) cmd = req.command;
    std::vector<std::string> argv = entry;
    argv.insert(argv.end(), cmd.begin(), cmd.end());
    if (argv.empty() || argv[0].empty()) return sys::fail_invalid("no command specified: the image has no CMD or ENTRYPOINT, give one after the image name");
    c.config.entrypoint = entry;
    c.config.cmd = cmd;
    c.path = argv[0];
    c.args.assign(argv.begin() + 1, argv.end());

    // Environment: image, then --env-file, then -e.
    std::vector<std::string> env = image.config.env;
    for (const auto& f : req.env_files) {
        auto text = MD_TRY_CTX(sys::read_file(f), "--env-file");
        env = merge_env(env, MD_TRY(parse_env_file(text, f)));
    }
    for (const auto& e : req.env)
        if (e.empty() || e[0] == '=') return sys::fail(flag_error("-e, --env", e, "expected KEY=value"));
    env = merge_env(env, resolve_env(req.env));
    bool has_path = std::any_of(env.begin(), env.end(), [](const std::string& e) { return e.rfind("PATH=", 0) == 0; });
    if (!has_path) env.insert(env.begin(), "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    c.config.env = env;

    c.config.working_dir = req.workdir.empty() ? image.config.working_dir : req.workdir;
    if (!c.config.working_dir.empty() && !is_abs(c.config.working_dir))
        return sys::fail(flag_error("-w, --workdir", c.config.working_dir, "must be an absolute path"));
    c.config.user = req.user.empty() ? image.config.user : req.user;
    c.config.hostname = req.hostname.empty() ? c.id.substr(0, 12) : req.hostname;
    if (req.hostname.empty() && req.network == "host") {
        // docker: on the host's network the container is named as the host is.
        char host[256] = {};
        if (::gethostname(host, sizeof host - 1) == 0 && host[0]) c.config.hostname = host;
    }
    if (c.config.hostname.size() > 63) return sys::fail(flag_error("-h, --hostname", req.hostname, "longer than 63 characters"));
    c.config.stop_signal = image.config.stop_signal;

    // Resources.
    HostConfig& h = c.host;
    if (!req.memory.empty()) {
        auto m = sys::parse_bytes(req.memory);
        if (!m || *m <= 0) return sys::fail(flag_error("-m, --memory", req.memory, "invalid size (examples: 100m, 1g)"));
        if (*m < 6 * 1024 * 1024) return sys::fail(flag_error("-m, --memory", req.memory, "minimum memory limit allowed is 6MB"));
        h.memory = *m;
    }
    if (!req.memory_swap.empty()) {
        auto m = sys::parse_bytes(req.memory_swap);
        if (!m || (*m <= 0 && *m != -1)) return sys::fail(flag_error("--memory-swap", req.memory_swap, "invalid size (examples: 200m, -1)"));
        if (h.memory == 0) return sys::fail(flag_error("--memory-swap", req.memory_swap, "needs -m/--memory as well"));
        if (*m != -1 && *m < h.memory) return sys::fail(flag_error("--memory-swap", req.memory_swap, "must be at least the -m/--memory limit"));
        h.memory_swap = *m;
    }
    if (!req.cpus.empty()) h.nano_cpus = MD_TRY(parse_cpus(req.cpus, available_cpus()));
    if (req.cpu_shares < 0) return sys::fail(flag_error("-c, --cpu-shares", std::to_string(req.cpu_shares), "must not be negative"));
    if (req.cpu_shares > 0 && req.cpu_shares < 2) return sys::fail(flag_error("-c, --cpu-shares", std::to_string(req.cpu_shares), "minimum is 2"));
    h.cpu_shares = static_cast<uint64_t>(req.cpu_shares);
    if (!req.cpuset_cpus.empty()) {
        for (char ch : req.cpuset_cpus)
            if (!std::isdigit(static_cast<unsigned char>(ch)) && ch != ',' && ch != '-')
                return sys::fail(flag_error("--cpuset-cpus", req.cpuset_cpus, "expected a list like 0-2,4"));
        h.cpuset_cpus = req.cpuset_cpus;
    }
    if (req.pids_limit < -1) return sys::fail(flag_error("--pids-limit", std::to_string(req.pids_limit), "must be -1 (unlimited) or positive"));
    h.pids_limit = req.pids_limit;
    for (const auto& u : req.ulimits) {
        (void)MD_TRY(parse_ulimit(u));
        h.ulimits.push_back(u);
    }
    for (const auto& cap : req.cap_add) h.cap_add.push_back(MD_TRY_CTX(normalize_cap(cap), "--cap-add"));
    for (const auto& cap : req.cap_drop) h.cap_drop.push_back(MD_TRY_CTX(normalize_cap(cap), "--cap-drop"));
    h.security_opt = MD_TRY(normalize_security_opts(req.security_opts));
    h.privileged = req.privileged;
    h.readonly_rootfs = req.read_only;
    h.auto_remove = req.rm;
    h.init = req.init;
    MD_TRY(prepare_network(req, image, c));
    if (req.cgroup_parent.empty() || req.cgroup_parent.find("..") != std::string::npos)
        return sys::fail(flag_error("--cgroup-parent", req.cgroup_parent, "must be a cgroup path without \"..\""));
    h.cgroup_parent = req.cgroup_parent;
    if (req.cgroup_manager != "cgroupfs" && req.cgroup_manager != "systemd")
        return sys::fail(flag_error("--cgroup-manager", req.cgroup_manager, "must be \"cgroupfs\" or \"systemd\""));
    h.cgroup_manager = req.cgroup_manager;
    MD_TRY(prepare_log(req, c));

    // Mounts: -v (binds and volumes), --tmpfs; one destination once.
    std::set<std::string> dests;
    auto add_dest = [&](const std::string& d, const std::string& flag) -> sys::Result<void> {
        std::string clean = d;
        while (clean.size() > 1 && clean.back() == '/') clean.pop_back();
        if (!dests.insert(clean).second) return sys::fail_invalid(flag + ": duplicate mount point \"" + clean + "\"");
        return {};
    };
    for (const auto& v : req.volumes) {
        VolumeSpec vs = MD_TRY(parse_volume(v));
        MD_TRY(add_dest(vs.destination, "-v"));
        MountRecord m;
        m.type = vs.type;
        m.destination = vs.destination;
        m.rw = vs.rw;
        if (vs.type == "bind") m.source = vs.source;
        else m.name = vs.source;  // empty: anonymous, named at create
        c.mounts.push_back(std::move(m));
        h.binds.push_back(v);
    }
    for (const auto& t : req.tmpfs) {
        size_t colon = t.find(':');
        std::string dst = t.substr(0, colon);
        std::string opts = colon == std::string::npos ? "" : t.substr(colon + 1);
        if (!is_abs(dst)) return sys::fail(flag_error("--tmpfs", t, "the path must be absolute"));
        MD_TRY(add_dest(dst, "--tmpfs"));
        h.tmpfs[dst] = opts;
        MountRecord m;
        m.type = "tmpfs";
        m.destination = dst;
        m.options = opts;
        c.mounts.push_back(std::move(m));
    }
    for (const auto& vol : image.config.volumes) {
        if (dests.count(vol)) continue;  // the user mounted something there
        dests.insert(vol);
        MountRecord m;
        m.type = "volume";
        m.destination = vol;
        c.mounts.push_back(std::move(m));
    }
    return c;
}

}  // namespace mydocker::engine::containers
