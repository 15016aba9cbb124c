#include "engine/containers/record.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "sys/files.h"
#include "sys/random.h"
#include "sys/json_text.h"

namespace mydocker::engine::containers {

using Json = nlohmann::ordered_json;

namespace {

Json string_map(const std::map<std::string, std::string>& m) {
    Json j = Json::object();
    for (const auto& [k, v] : m) j[k] = v;
    return j;
}

template <typename T>
T get_or(const Json& j, const char* key, T def) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return def;
    return it->template get<T>();
}

std::map<std::string, std::string> get_map(const Json& j, const char* key) {
    std::map<std::string, std::string> m;
    auto it = j.find(key);
    if (it != j.end() && it->is_object())
        for (auto& [k, v] : it->items()) m[k] = v.get<std::string>();
    return m;
}

std::string port_key(const networks::PortBinding& b) { return std::to_string(b.container_port) + "/" + b.proto; }

// {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}: docker's PortBindings / Ports shape.
Json ports_json(const std::vector<networks::PortBinding>& ports, bool bound) {
    Json j = Json::object();
    for (const auto& b : ports) {
        std::string ip = b.host_ip;
        if (bound && ip.empty()) ip = "0.0.0.0";
        j[port_key(b)].push_back({{"HostIp", ip}, {"HostPort", b.host_port ? std::to_string(b.host_port) : ""}});
    }
    return j;
}

std::vector<networks::PortBinding> ports_from(const Json& j) {
    std::vector<networks::PortBinding> out;
    if (!j.is_object()) return out;
    for (const auto& [key, list] : j.items()) {
        auto base = networks::parse_exposed(key);
        if (!base || !list.is_array()) continue;
        for (const auto& e : list) {
            networks::PortBinding b = *base;
            b.host_ip = e.value("HostIp", "");
            if (b.host_ip == "0.0.0.0") b.host_ip.clear();
            std::string hp = e.value("HostPort", "");
            b.host_port = hp.empty() ? 0 : static_cast<uint16_t>(std::stoul(hp));
            out.push_back(b);
        }
    }
    return out;
}

}  // namespace

std::string to_json(const Container& c, bool pretty) {
    Json j;
    j["Id"] = c.id;
    j["Created"] = c.created;
    j["Path"] = c.path;
    j["Args"] = c.args;
    const State& s = c.state;
    j["State"] = {{"Status", s.status},
                  {"Running", s.status == "running" || s.status == "paused"},
                  {"Paused", s.status == "paused"},
                  {"Restarting", false},
                  {"OOMKilled", s.oom_killed},
                  {"Dead", s.status == "dead"},
                  {"Pid", s.pid},
                  {"ExitCode", s.exit_code},
                  {"Error", s.error},
                  {"StartedAt", s.started_at},
                  {"FinishedAt", s.finished_at},
                  {"PidStartTime", s.pid_start},
                  {"MonitorPid", s.monitor_pid}};
    j["Image"] = "sha256:" + c.image_id;
    j["Name"] = "/" + c.name;
    j["RestartCount"] = c.restart_count;
    j["LogPath"] = c.log_path;
    const HostConfig& h = c.host;
    Json tmpfs = string_map(h.tmpfs);
    j["HostConfig"] = {{"Binds", h.binds},
                       {"NetworkMode", h.network_mode},
                       {"AutoRemove", h.auto_remove},
                       {"Privileged", h.privileged},
                       {"CapAdd", h.cap_add},
                       {"CapDrop", h.cap_drop},
                       {"SecurityOpt", h.security_opt.empty() ? Json(nullptr) : Json(h.security_opt)},
                       {"ReadonlyRootfs", h.readonly_rootfs},
                       {"Init", h.init},
                       {"Tmpfs", tmpfs},
                       {"Ulimits", h.ulimits},
                       {"CgroupParent", h.cgroup_parent}, {"CgroupManager", h.cgroup_manager},
                       {"Memory", h.memory},
                       {"MemorySwap", h.memory_swap},
                       {"NanoCpus", h.nano_cpus},
                       {"CpuShares", h.cpu_shares},
                       {"CpusetCpus", h.cpuset_cpus},
                       {"PidsLimit", h.pids_limit},
                       {"PortBindings", ports_json(h.port_bindings, false)},
                       {"PublishAllPorts", h.publish_all},
                       {"Dns", h.dns},
                       {"ExtraHosts", h.extra_hosts},
                       {"LogConfig", {{"Type", h.log_config.type}, {"Config", string_map(h.log_config.config)}}}};
    Json mounts = Json::array();
    for (const auto& m : c.mounts) {
        Json mj = {{"Type", m.type}};
        if (!m.name.empty()) mj["Name"] = m.name;
        mj["Source"] = m.source;
        mj["Destination"] = m.destination;
        mj["RW"] = m.rw;
        if (!m.options.empty()) mj["Options"] = m.options;
        mounts.push_back(std::move(mj));
    }
    j["Mounts"] = std::move(mounts);
    const ContainerConfig& cf = c.config;
    j["Config"] = {{"Hostname", cf.hostname},
                   {"User", cf.user},
                   {"Tty", cf.tty},
                   {"OpenStdin", cf.open_stdin},
                   {"Env", cf.env},
                   {"Cmd", cf.cmd},
                   {"Entrypoint", cf.entrypoint},
                   {"WorkingDir", cf.working_dir},
                   {"Labels", string_map(cf.labels)},
                   {"Image", cf.image},
                   {"StopSignal", cf.stop_signal}};
    Json exposed = Json::object();
    for (const auto& p : cf.exposed_ports) exposed[p] = Json::object();
    j["Config"]["ExposedPorts"] = exposed;
    Json nets = Json::object();
    for (const auto& e : c.network.endpoints) {
        nets[e.network] = {{"IPAMConfig", e.requested_ip.empty() ? Json(nullptr) : Json{{"IPv4Address", e.requested_ip}}},
                           {"NetworkID", e.network_id},
                           {"Gateway", e.gateway},
                           {"IPAddress", e.ip},
                           {"IPPrefixLen", e.prefix},
                           {"MacAddress", e.mac},
                           {"InterfaceName", e.ifname},
                           {"HostVeth", e.host_veth}};
    }
    const networks::Endpoint* first = c.network.endpoints.empty() ? nullptr : &c.network.endpoints[0];
    j["NetworkSettings"] = {{"IPAddress", first ? first->ip : ""},
                            {"IPPrefixLen", first ? first->prefix : 0},
                            {"Gateway", first ? first->gateway : ""},
                            {"MacAddress", first ? first->mac : ""},
                            {"Ports", ports_json(c.network.ports, true)},
                            {"Networks", nets}};
    return pretty ? sys::json_text(j, 4) : sys::json_text(j);
}

sys::Result<Container> from_json(const std::string& text) {
    try {
        Json j = Json::parse(text);
        Container c;
        c.id = j.at("Id").get<std::string>();
        c.created = get_or<std::string>(j, "Created", "");
        c.path = get_or<std::string>(j, "Path", "");
        c.args = get_or<std::vector<std::string>>(j, "Args", {});
        std::string image = get_or<std::string>(j, "Image", "");
        c.image_id = image.rfind("sha256:", 0) == 0 ? image.substr(7) : image;
        std::string name = get_or<std::string>(j, "Name", "");
        c.name = !name.empty() && name[0] == '/' ? name.substr(1) : name;
        c.restart_count = get_or<int>(j, "RestartCount", 0);
        c.log_path = get_or<std::string>(j, "LogPath", "");
        const Json& s = j.at("State");
        c.state.status = get_or<std::string>(s, "Status", "created");
        c.state.pid = get_or<pid_t>(s, "Pid", 0);
        c.state.pid_start = get_or<uint64_t>(s, "PidStartTime", 0);
        c.state.monitor_pid = get_or<pid_t>(s, "MonitorPid", 0);
        c.state.exit_code = get_or<int>(s, "ExitCode", 0);
        c.state.oom_killed = get_or<bool>(s, "OOMKilled", false);
        c.state.started_at = get_or<std::string>(s, "StartedAt", c.state.started_at);
        c.state.finished_at = get_or<std::string>(s, "FinishedAt", c.state.finished_at);
        c.state.error = get_or<std::string>(s, "Error", "");
        const Json& h = j.at("HostConfig");
        c.host.binds = get_or<std::vector<std::string>>(h, "Binds", {});
        c.host.network_mode = get_or<std::string>(h, "NetworkMode", "bridge");
        c.host.auto_remove = get_or<bool>(h, "AutoRemove", false);
        c.host.privileged = get_or<bool>(h, "Privileged", false);
        c.host.cap_add = get_or<std::vector<std::string>>(h, "CapAdd", {});
        c.host.cap_drop = get_or<std::vector<std::string>>(h, "CapDrop", {});
        c.host.security_opt = get_or<std::vector<std::string>>(h, "SecurityOpt", {});
        c.host.readonly_rootfs = get_or<bool>(h, "ReadonlyRootfs", false);
        c.host.init = get_or<bool>(h, "Init", false);
        c.host.tmpfs = get_map(h, "Tmpfs");
        c.host.ulimits = get_or<std::vector<std::string>>(h, "Ulimits", {});
        c.host.cgroup_parent = get_or<std::string>(h, "CgroupParent", "mydocker");
        c.host.cgroup_manager = get_or<std::string>(h, "CgroupManager", "cgroupfs");
        c.host.memory = get_or<int64_t>(h, "Memory", 0);
        c.host.memory_swap = get_or<int64_t>(h, "MemorySwap", 0);
        c.host.nano_cpus = get_or<int64_t>(h, "NanoCpus", 0);
        c.host.cpu_shares = get_or<uint64_t>(h, "CpuShares", 0);
        c.host.cpuset_cpus = get_or<std::string>(h, "CpusetCpus", "");
        c.host.pids_limit = get_or<int64_t>(h, "PidsLimit", 0);
        c.host.port_bindings = ports_from(h.value("PortBindings", Json::object()));
        c.host.publish_all = get_or<bool>(h, "PublishAllPorts", false);
        c.host.dns = get_or<std::vector<std::string>>(h, "Dns", {});
        c.host.extra_hosts = get_or<std::vector<std::string>>(h, "ExtraHosts", {});
        // A record from before --log-driver: json-file without rotation, as it was written.
        if (auto lc = h.find("LogConfig"); lc != h.end() && lc->is_object()) {
            c.host.log_config.type = get_or<std::string>(*lc, "Type", "json-file");
            c.host.log_config.config = get_map(*lc, "Config");
        }
        for (const auto& mj : j.value("Mounts", Json::array())) {
            MountRecord m;
            m.type = get_or<std::string>(mj, "Type", "bind");
            m.name = get_or<std::string>(mj, "Name", "");
            m.source = get_or<std::string>(mj, "Source", "");
            m.destination = get_or<std::string>(mj, "Destination", "");
            m.rw = get_or<bool>(mj, "RW", true);
            m.options = get_or<std::string>(mj, "Options", "");
            c.mounts.push_back(std::move(m));
        }
        const Json& cf = j.at("Config");
        c.config.hostname = get_or<std::string>(cf, "Hostname", "");
        c.config.user = get_or<std::string>(cf, "User", "");
        c.config.tty = get_or<bool>(cf, "Tty", false);
        c.config.open_stdin = get_or<bool>(cf, "OpenStdin", false);
        c.config.env = get_or<std::vector<std::string>>(cf, "Env", {});
        c.config.cmd = get_or<std::vector<std::string>>(cf, "Cmd", {});
        c.config.entrypoint = get_or<std::vector<std::string>>(cf, "Entrypoint", {});
        c.config.working_dir = get_or<std::string>(cf, "WorkingDir", "");
        c.config.labels = get_map(cf, "Labels");
        c.config.image = get_or<std::string>(cf, "Image", "");
        c.config.stop_signal = get_or<std::string>(cf, "StopSignal", "");
        if (auto it = cf.find("ExposedPorts"); it != cf.end() && it->is_object())
            for (const auto& [k, v] : it->items()) c.config.exposed_ports.push_back(k);
        if (auto ns = j.find("NetworkSettings"); ns != j.end() && ns->is_object()) {
            c.network.ports = ports_from(ns->value("Ports", Json::object()));
            Json nets = ns->value("Networks", Json::object());
            for (const auto& [name, e] : nets.items()) {
                networks::Endpoint ep;
                ep.network = name;
                if (auto ipam = e.find("IPAMConfig"); ipam != e.end() && ipam->is_object())
                    ep.requested_ip = ipam->value("IPv4Address", "");
                ep.network_id = e.value("NetworkID", "");
                ep.gateway = e.value("Gateway", "");
                ep.ip = e.value("IPAddress", "");
                ep.prefix = e.value("IPPrefixLen", 0);
                ep.mac = e.value("MacAddress", "");
                ep.ifname = e.value("InterfaceName", "");
                ep.host_veth = e.value("HostVeth", "");
                c.network.endpoints.push_back(std::move(ep));
            }
        }
        return c;
    } catch (const std::exception& e) {
        return sys::fail_invalid(std::string("container record: ") + e.what());
    }
}

std::string new_id() { return sys::random_hex(64); }

std::string random_name() {
    static const char* const adjectives[] = {
        "admiring", "bold",    "brave",  "busy",   "calm",    "clever",  "eager",   "elated",
        "epic",     "festive", "gentle", "happy",  "hungry",  "jolly",   "keen",    "kind",
        "loving",   "lucid",   "modest", "nifty",  "peaceful", "quirky", "sharp",   "stoic",
        "sweet",    "tender",  "trusting", "upbeat", "vibrant", "wizardly", "youthful", "zealous"};
    static const char* const names[] = {
        "babbage", "curie",   "darwin", "einstein", "euler",   "fermat", "galileo", "gauss",
        "hopper",  "hypatia", "kepler", "lamport",  "lovelace", "mccarthy", "noether", "pascal",
        "ritchie", "shannon", "thompson", "torvalds", "turing", "wozniak", "wirth",  "knuth"};
    std::string n = adjectives[sys::random_below(std::size(adjectives))];
    n += '_';
    n += names[sys::random_below(std::size(names))];
    return n;
}

bool valid_name(const std::string& name) {
    if (name.size() < 2 || name.size() > 128) return false;
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
    if (!alnum(name[0])) return false;
    return std::all_of(name.begin() + 1, name.end(), [&](char c) { return alnum(c) || c == '_' || c == '.' || c == '-'; });
}

Store::Store(const Context& ctx) : ctx_(ctx), dir_(ctx.containers_dir()) {}

std::string Store::container_dir(const std::string& id) const { return sys::path_join(dir_, id); }

namespace {

// Staging dir ".new-XY" of the containers dir `dir`, XY the first two hex digits of an id
// (Store::make_by_rename).
std::string staging_dir(const std::string& dir, std::string_view xy) {
    return sys::path_join(dir, ".new-" + std::string(xy));
}

// The store's containers dir, made on first use. Marked as a "top of directory hierarchy"
// (FS_TOPDIR_FL, `chattr +T`) where the filesystem knows the flag (ext2/3/4): the allocator
// then spreads the dirs made in it (and so their files' inodes) over the disk's block groups
// instead of packing all of them into one. On an ext4 without a journal, as this VM's, every
// new inode is found only after a scan past each inode of its group deleted in the last
// minute or more: in one group, a start after `rm` of many containers paid for all of them.
// (The containers' own dirs are not made there directly: see Store::make_dir. Its staging
// dirs are made here, at once: each costs a pass over every block group, ~0.15 ms here, which
// a start should not pay; in a store made before, each is made at its first use.)
sys::Result<void> make_containers_dir(const std::string& dir) {
    if (sys::path_exists(dir)) return {};
    MD_TRY(sys::mkdir_all(dir, 0700));
    if (auto fd = sys::open_file(dir, O_RDONLY | O_DIRECTORY)) {
        int flags = 0;
        if (::ioctl(fd->get(), FS_IOC_GETFLAGS, &flags) == 0 && !(flags & FS_TOPDIR_FL)) {
            flags |= FS_TOPDIR_FL;
            (void)::ioctl(fd->get(), FS_IOC_SETFLAGS, &flags);  // a hint: not all filesystems have it
        }
    }
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 256; ++i) {
        const char xy[] = {hex[i >> 4], hex[i & 15]};
        (void)::mkdir(staging_dir(dir, {xy, 2}).c_str(), 0700);  // (else made at its first use)
    }
    return {};
}

}  // namespace

// A container's dir and its name's symlink are made in one of 256 staging dirs (".new-00" ...
// ".new-ff", by the id's first two digits), then renamed into place. For a dir made right in
// the FS_TOPDIR_FL dir, ext4's allocator compares every block group to find the emptiest
// (~0.4 ms over this VM's 2048, at every start), and a symlink's inode goes to its dir's group
// (in `names`, every container's would share one); the staging dirs were spread once, and
// what is made in one lands in that dir's group, the container's upper and work dirs and
// overlayfs' own probes (a tmpfile, a whiteout: made and freed at each mount) with it. 256
// groups share that churn: each new inode is found past few recently freed ones. (With 16,
// that scan was 0.3 ms of a start here, after a batch's `rm`.) (`list` and `find` read only
// 64-hex names: staging dirs are no containers.)
//
// `make(path)` makes the entry (0, or -1 with errno), as `entry` in the id's staging dir; it
// is then renamed to `to` (RENAME_NOREPLACE: EEXIST if `to` exists). On error nothing is left.
// The containers dir must exist (make_containers_dir).
sys::Result<void> Store::make_by_rename(const std::string& id, const std::string& entry,
                                        const std::function<int(const char*)>& make, const std::string& to) {
    if (id.empty()) return sys::fail_invalid("container id cannot be empty");
    std::string staging = staging_dir(dir_, std::string_view(id).substr(0, 2));
    std::string made = sys::path_join(staging, entry);
    if (make(made.c_str()) < 0) {
        if (errno == ENOENT) MD_TRY(sys::mkdir_all(staging, 0700));                 // the first use
        else if (errno == EEXIST) (void)::remove(made.c_str());                       // left by one that died
        else return sys::fail_errno("create \"" + made + "\"");
        if (make(made.c_str()) < 0) return sys::fail_errno("create \"" + made + "\"");
    }
    if (::renameat2(AT_FDCWD, made.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) < 0) {
        int err = errno;
        (void)::remove(made.c_str());
        return sys::fail(sys::Error::from_errno(err, "rename \"" + made + "\" to \"" + to + "\""));
    }
    return {};
}

sys::Result<void> Store::make_dir(const std::string& id) {
    MD_TRY(make_containers_dir(dir_));
    return make_by_rename(id, id, [](const char* p) { return ::mkdir(p, 0700); }, container_dir(id));
}

sys::Result<void> Store::reserve_name(const std::string& name, const std::string& id) {
    std::string names = sys::path_join(dir_, "names");
    MD_TRY(make_containers_dir(dir_));
    MD_TRY(sys::mkdir_all(names, 0700));
    std::string link = sys::path_join(names, name);
    auto r = make_by_rename(id, "name." + id, [&id](const char* p) { return ::symlink(id.c_str(), p); }, link);
    if (r) return {};
    if (r.error().err() != EEXIST) return sys::fail(std::move(r.error()).wrap("reserve name \"" + name + "\""));
    char buf[128];
    ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
    std::string owner = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "?";
    return sys::fail(sys::Error(sys::ErrorCode::already_exists,
                                "Conflict. The container name \"/" + name + "\" is already in use by container \"" +
                                    owner + "\". You have to remove (or rename) that container to be able to reuse that name."));
}

void Store::release_name(const std::string& name, const std::string& id) {
    std::string link = sys::path_join(sys::path_join(dir_, "names"), name);
    char buf[128];
    ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
    if (n > 0 && std::string(buf, static_cast<size_t>(n)) == id) ::unlink(link.c_str());
}

sys::Result<std::string> Store::find(const std::string& ref) {
    if (ref.empty()) return sys::fail_invalid("container name or id is empty");
    char buf[128];
    std::string link = sys::path_join(sys::path_join(dir_, "names"), ref[0] == '/' ? ref.substr(1) : ref);
    if (ref.find('/', 1) == std::string::npos) {
        ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
        if (n > 0) {
            std::string id(buf, static_cast<size_t>(n));
            if (sys::path_exists(sys::path_join(container_dir(id), "container.json"))) return id;
        }
    }
    bool hex = std::all_of(ref.begin(), ref.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
    if (hex) {
        auto entries = sys::list_dir(dir_);
        std::vector<std::string> hits;
        if (entries) {
            for (const auto& e : *entries)
                if (e.size() == 64 && e.compare(0, ref.size(), ref) == 0) hits.push_back(e);
        }
        if (hits.size() == 1 && sys::path_exists(sys::path_join(container_dir(hits[0]), "container.json"))) return hits[0];
        if (hits.size() > 1)
            return sys::fail_invalid("multiple containers match the prefix \"" + ref + "\": give more of the id");
    }
    return sys::fail(sys::Error::not_found("no such container: " + ref));
}

sys::Result<Container> Store::load(const std::string& id) {
    auto text = MD_TRY_CTX(sys::read_file(sys::path_join(container_dir(id), "container.json")), "container " + id);
    return from_json(text);
}

sys::Result<void> Store::save(const Container& c) {
    return sys::write_file_atomic(sys::path_join(container_dir(c.id), "container.json"), to_json(c, true), 0600);
}

sys::Result<sys::FileLock> Store::lock(const std::string& id) {
    return sys::FileLock::acquire_dir(container_dir(id));
}

sys::Result<std::vector<Container>> Store::list() {
    std::vector<Container> out;
    if (!sys::path_exists(dir_)) return out;
    auto entries = MD_TRY(sys::list_dir(dir_));
    for (const auto& e : entries) {
        if (e.size() != 64) continue;
        auto text = sys::read_file(sys::path_join(container_dir(e), "container.json"));
        if (!text) continue;  // being created or removed
        auto c = from_json(*text);
        if (!c) {
            ctx_.log.warn("skip container " + e + ": " + c.error().message());
            continue;
        }
        out.push_back(std::move(*c));
    }
    std::sort(out.begin(), out.end(), [](const Container& a, const Container& b) { return a.created > b.created; });
    return out;
}

}  // namespace mydocker::engine::containers
