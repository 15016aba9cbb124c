#include "engine/containers/bundle.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "engine/containers/options.h"
#include "engine/containers/security.h"
#include "engine/networks/networks.h"
#include "engine/volumes/volumes.h"
#include "runtime/capabilities.h"
#include "runtime/rootfs.h"
#include "sys/files.h"
#include "sys/mountinfo.h"
#include "sys/proc.h"
#include "sys/strings.h"

namespace mydocker::engine::containers {

using Json = nlohmann::json;

Paths paths_of(const Context& ctx, const std::string& id) {
    Paths p;
    p.dir = sys::path_join(ctx.containers_dir(), id);
    p.upper = sys::path_join(p.dir, "diff");
    p.work = sys::path_join(p.dir, "work");
    p.log = sys::path_join(p.dir, id + "-json.log");
    p.bundle = sys::path_join(ctx.bundles_dir(), id);
    p.rootfs = sys::path_join(p.bundle, "rootfs");
    p.config = sys::path_join(p.bundle, "config.json");
    return p;
}

namespace {

// One statx(2) (STATX_ATTR_MOUNT_ROOT, Linux 5.8); older kernels: a device change against
// the parent, else mountinfo (a bind mount of the same filesystem).
bool is_mountpoint(const std::string& path) {
    struct statx sx;
    if (::statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) < 0) return false;
    if (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) return (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
    struct stat a, b;
    if (::stat(path.c_str(), &a) < 0) return false;
    std::string parent = path + "/..";
    if (::stat(parent.c_str(), &b) < 0) return false;
    if (a.st_dev != b.st_dev) return true;
    auto mi = sys::read_mountinfo();
    if (!mi) return false;
    return std::any_of(mi->begin(), mi->end(), [&](const auto& m) { return m.mount_point == path; });
}

// A uid/gid for "-u user[:group]": numbers as they are, names from the rootfs' /etc/passwd
// and /etc/group, read through resolve_in_root so a symlinked /etc cannot point at the host's.
sys::Result<std::string> read_in_root(const std::string& rootfs, const std::string& path) {
    auto root = MD_TRY(sys::open_file(rootfs, O_PATH | O_DIRECTORY));
    auto f = runtime::resolve_in_root(root.get(), path, false);
    if (!f) return sys::fail(std::move(f.error()));
    auto fd = MD_TRY(sys::open_file(runtime::fd_path(f->get()), O_RDONLY));
    return sys::read_fd(fd.get());
}

bool to_u32(const std::string& s, uint32_t& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

struct IdEntry {
    std::string name;
    uint32_t id = 0, gid = 0;
};

std::vector<IdEntry> parse_db(const std::string& text) {
    std::vector<IdEntry> out;
    size_t i = 0;
    while (i < text.size()) {
        size_t j = text.find('\n', i);
        if (j == std::string::npos) j = text.size();
        std::string line = text.substr(i, j - i);
        i = j + 1;
        std::vector<std::string> f = sys::split(line, ':');
        if (f.size() < 3) continue;
        IdEntry e;
        e.name = f[0];
        if (!to_u32(f[2], e.id)) continue;
        if (f.size() > 3) to_u32(f[3], e.gid);
        out.push_back(e);
    }
    return out;
}

}  // namespace

sys::Result<std::pair<uint32_t, uint32_t>> resolve_user(const std::string& rootfs, const std::string& spec) {
    if (spec.empty()) return std::pair<uint32_t, uint32_t>{0, 0};
    std::string user = spec.substr(0, spec.find(':'));
    std::string group = spec.find(':') == std::string::npos ? "" : spec.substr(spec.find(':') + 1);
    uint32_t uid = 0, gid = 0;
    bool have_gid = false;
    {
        auto passwd = read_in_root(rootfs, "/etc/passwd");
        std::vector<IdEntry> users = passwd ? parse_db(*passwd) : std::vector<IdEntry>{};
        bool numeric = to_u32(user, uid);
        auto it = std::find_if(users.begin(), users.end(), [&](const IdEntry& e) { return numeric ? e.id == uid : e.name == user; });
        if (it != users.end()) {
            uid = it->id;
            gid = it->gid;
            have_gid = true;
        } else if (!numeric) {
            return sys::fail_invalid("-u, --user: unable to find user \"" + user + "\": no matching entries in the container's /etc/passwd");
        }
    }
    if (!group.empty()) {
        if (!to_u32(group, gid)) {
            auto gtext = read_in_root(rootfs, "/etc/group");
            std::vector<IdEntry> groups = gtext ? parse_db(*gtext) : std::vector<IdEntry>{};
            auto it = std::find_if(groups.begin(), groups.end(), [&](const IdEntry& e) { return e.name == group; });
            if (it == groups.end())
                return sys::fail_invalid("-u, --user: unable to find group \"" + group + "\": no matching entries in the container's /etc/group");
            gid = it->id;
        }
    } else if (!have_gid) {
        gid = 0;
    }
    return std::pair<uint32_t, uint32_t>{uid, gid};
}

namespace {

// The overlay's lower dirs, top first: the init layer (made once), then the image's layers.
// Makes the container's rootfs mount point and upper and work dirs too.
sys::Result<std::vector<std::string>> overlay_lowers(const Context& ctx, const Paths& p, const images::Image& image) {
    // The bundle (and the bundles' dir above it) root-only: the merged rootfs below holds the
    // image's setuid files and device nodes (engine/store/perms.h). The mount point itself is
    // the container's "/", hence 0755.
    MD_TRY(sys::mkdir_all(p.bundle, 0700));
    MD_TRY(sys::mkdir_all(p.rootfs, 0755));
    MD_TRY(sys::mkdir_all(p.upper, 0755));
    MD_TRY(sys::mkdir_all(p.work, 0700));
    if (image.layer_dirs.empty()) return sys::fail_invalid("image " + image.id.substr(0, 12) + " has no layers");
    // The init layer, as docker's: the mount points of the engine's /etc files, so that the
    // runtime finds them and creates nothing in the upper dir (commit leaves them out). It is
    // the same for every container: one read-only lower dir (<root>/init-layer), made once.
    std::string init = sys::path_join(ctx.root, "init-layer");
    if (!sys::path_exists(sys::path_join(init, "etc/hostname"))) {
        std::string tmp = init + ".tmp." + std::to_string(::getpid());
        MD_TRY(sys::mkdir_all(sys::path_join(tmp, "etc"), 0755));
        for (const char* f : {"hosts", "resolv.conf", "hostname"})
            MD_TRY(sys::write_file(sys::path_join(tmp, std::string("etc/") + f), "", 0644));
        // rename(2) publishes it whole; a racing twin that lost just goes.
        if (::rename(tmp.c_str(), init.c_str()) < 0) (void)sys::remove_all(tmp);
    }
    std::vector<std::string> lowers{init};
    lowers.insert(lowers.end(), image.layer_dirs.rbegin(), image.layer_dirs.rend());  // top layer first
    return lowers;
}

// A kernel without "lowerdir+" (Debian 12's 6.1): the overlay is mounted in place with its
// option string, cloned as a detached mount (open_tree) and unmounted at once, so that here
// too only the container's mount namespace holds it. Invalid when a step fails: the caller
// then mounts (or keeps) it in place.
sys::UniqueFd clone_of_mount_in_place(const Context& ctx, const Container& c, const images::Image& image) {
    Paths p = paths_of(ctx, c.id);
    if (!mount_rootfs(ctx, c, image)) return sys::UniqueFd();
    int t = ::open_tree(AT_FDCWD, p.rootfs.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (t < 0) {
        ctx.log.debug(std::string("open_tree of the overlay: ") + std::strerror(errno) + ": kept in place");
        return sys::UniqueFd();
    }
    sys::UniqueFd tree(t);
    if (::umount2(p.rootfs.c_str(), MNT_DETACH) < 0) {
        ctx.log.debug(std::string("unmount the overlay in place: ") + std::strerror(errno) + ": kept in place");
        return sys::UniqueFd();
    }
    return tree;
}

}  // namespace

sys::Result<sys::UniqueFd> open_rootfs(const Context& ctx, const Container& c, const images::Image& image) {
    Paths p = paths_of(ctx, c.id);
    auto lowers = MD_TRY(overlay_lowers(ctx, p, image));
    // A kernel without "lowerdir+" (before 6.8) logs "unrecognized mount option" for each
    // try: the first refusal is remembered for this boot and kernel (the run root is a tmpfs
    // by default; the marker holds the release in case it is not).
    struct utsname un {};
    ::uname(&un);
    const std::string marker = sys::path_join(ctx.run_root, "overlay-no-lowerdir-plus");
    if (auto seen = sys::read_file(marker); seen && *seen == un.release) return clone_of_mount_in_place(ctx, c, image);
    int fsfd = ::fsopen("overlay", FSOPEN_CLOEXEC);
    if (fsfd < 0) return clone_of_mount_in_place(ctx, c, image);
    sys::UniqueFd fs(fsfd);
    // One layer per "lowerdir+" (Linux 6.8): fsconfig takes strings of up to 256 bytes.
    bool ok = true;
    for (const auto& l : lowers) ok = ok && ::fsconfig(fs.get(), FSCONFIG_SET_STRING, "lowerdir+", l.c_str(), 0) == 0;
    ok = ok && ::fsconfig(fs.get(), FSCONFIG_SET_STRING, "upperdir", p.upper.c_str(), 0) == 0 &&
         ::fsconfig(fs.get(), FSCONFIG_SET_STRING, "workdir", p.work.c_str(), 0) == 0 &&
         ::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) == 0;
    int m = ok ? ::fsmount(fs.get(), FSMOUNT_CLOEXEC, 0) : -1;
    if (m < 0) {
        // EINVAL: "lowerdir+" refused (at fsconfig on 6.5-6.7, at CMD_CREATE before 6.5,
        // where overlay still parsed a legacy option string).
        const int err = errno;
        if (err == EINVAL) (void)sys::write_file_atomic(marker, un.release, 0644);
        ctx.log.debug(std::string("detached overlay: ") + std::strerror(err) + ": mounted in place and cloned instead");
        return clone_of_mount_in_place(ctx, c, image);
    }
    return sys::UniqueFd(m);
}

sys::Result<void> mount_rootfs(const Context& ctx, const Container& c, const images::Image& image) {
    Paths p = paths_of(ctx, c.id);
    if (is_mountpoint(p.rootfs)) return {};
    auto lowers = MD_TRY(overlay_lowers(ctx, p, image));
    std::string lower;
    for (const auto& l : lowers) lower += (lower.empty() ? "" : ":") + l;
    std::string data = "lowerdir=" + lower + ",upperdir=" + p.upper + ",workdir=" + p.work;
    if (data.size() >= 4096) return sys::fail_invalid("image has too many layers for one overlay mount");
    if (::mount("overlay", p.rootfs.c_str(), "overlay", 0, data.c_str()) < 0)
        return sys::fail_errno("mount overlay on \"" + p.rootfs + "\"");
    ctx.log.debug("mounted overlay on " + p.rootfs);
    return {};
}

sys::Result<void> unmount_rootfs(const Context& ctx, const std::string& id) {
    Paths p = paths_of(ctx, id);
    while (is_mountpoint(p.rootfs)) {
        if (::umount2(p.rootfs.c_str(), MNT_DETACH) < 0) {
            if (errno == EINVAL || errno == ENOENT) break;
            return sys::fail_errno("unmount \"" + p.rootfs + "\"");
        }
    }
    // The rest of the bundle goes too (remove_all never crosses a mount point).
    return sys::remove_all(p.bundle);
}

sys::Result<void> prepare_mounts(const Context& ctx, Container& c) {
    volumes::Store vols(ctx);
    for (auto& m : c.mounts) {
        // Resolved at create: a later start finds them in place.
        if (!m.source.empty() && sys::path_exists(m.source)) continue;
        if (m.type == "volume") {
            auto v = MD_TRY(m.name.empty() ? vols.create("") : vols.get_or_create(m.name));
            m.name = v.name;
            m.source = v.mountpoint;
        } else if (m.type == "bind") {
            if (!sys::path_exists(m.source)) MD_TRY_CTX(sys::mkdir_all(m.source, 0755), "-v " + m.source);
        }
    }
    return {};
}

sys::Result<NetworkJoin> prepare_network(const Context& ctx, const Container& c) {
    NetworkJoin j;
    const std::string& mode = c.host.network_mode;
    if (mode.rfind("container:", 0) == 0) {
        // Share X's namespace and its files: X must be running.
        std::string ref = mode.substr(10);
        Store store(ctx);
        auto id = MD_TRY_CTX(store.find(ref), "--network " + mode);
        auto other = MD_TRY(store.load(id));
        if (other.id == c.id) return sys::fail_invalid("--network " + mode + ": a container cannot join its own network");
        if ((other.state.status != "running" && other.state.status != "paused") ||
            !sys::process_alive(other.state.pid, other.state.pid_start))
            return sys::fail(sys::Error::bad_state("--network " + mode + ": cannot join the network of container " + ref +
                                                   ": it is not running"));
        j.files_dir = paths_of(ctx, other.id).bundle;
        j.netns_path = "/proc/" + std::to_string(other.state.pid) + "/ns/net";
        // X learns that we share its namespace: its veths must then be deleted when it stops.
        std::string joiners = sys::path_join(store.container_dir(other.id), "joiners");
        MD_TRY(sys::mkdir_all(joiners, 0700));
        MD_TRY(sys::write_file(sys::path_join(joiners, c.id), "", 0600));
        j.hostname = other.config.hostname;
        return j;
    }
    j.files_dir = paths_of(ctx, c.id).bundle;
    j.hostname = c.config.hostname;
    MD_TRY(networks::Store(ctx).write_files(c.id, c.config.hostname, c.host.extra_hosts, c.host.dns, mode));
    return j;
}

sys::Result<Json> build_config(const Context& ctx, const Container& c, const NetworkJoin& net,
                               const std::string& rootfs_now) {
    Paths p = paths_of(ctx, c.id);
    Json spec = runtime::default_spec_doc(false);
    Json& proc = spec["process"];
    proc["terminal"] = c.config.tty;
    std::vector<std::string> args{c.path};
    args.insert(args.end(), c.args.begin(), c.args.end());
    if (c.host.init) {
        // --init: our static reaper, bind-mounted read-only on the container's /dev (a tmpfs,
        // so nothing lands in the container's upper dir), runs as PID 1 with the command as child.
        std::string init = ctx.exe.substr(0, ctx.exe.rfind('/') + 1) + "mydocker-init";
        if (const char* env = std::getenv("MYDOCKER_INIT"); env && *env) init = env;
        if (::access(init.c_str(), X_OK) < 0) return sys::fail_errno("--init: \"" + init + "\"");
        spec["mounts"].push_back({{"destination", "/dev/init"}, {"type", "bind"}, {"source", init},
                                  {"options", {"bind", "ro", "nosuid", "nodev"}}});
        args.insert(args.begin(), "/dev/init");
    }
    proc["args"] = args;
    std::vector<std::string> env = c.config.env;
    env.push_back("HOSTNAME=" + net.hostname);
    if (c.config.tty) env.push_back("TERM=xterm");
    proc["env"] = env;
    auto [uid, gid] = MD_TRY(resolve_user(rootfs_now, c.config.user));
    proc["user"] = {{"uid", uid}, {"gid", gid}};
    std::string cwd = c.config.working_dir.empty() ? "/" : c.config.working_dir;
    if (cwd != "/") {
        // docker creates a missing working dir; created inside the rootfs, never through a link out.
        auto root = MD_TRY(sys::open_file(rootfs_now, O_PATH | O_DIRECTORY));
        MD_TRY_CTX(runtime::resolve_in_root(root.get(), cwd, true), "-w, --workdir \"" + cwd + "\"");
    }
    proc["cwd"] = cwd;

    // Capabilities: Docker's default set, then --cap-add / --cap-drop; --privileged: all.
    std::vector<std::string> caps;
    if (c.host.privileged || std::count(c.host.cap_add.begin(), c.host.cap_add.end(), "ALL")) {
        // Every capability we hold ourselves (as docker gives the daemon's).
        caps = held_capabilities();
    } else {
        caps = runtime::default_capabilities();
        for (const auto& a : c.host.cap_add)
            if (std::find(caps.begin(), caps.end(), a) == caps.end()) caps.push_back(a);
    }
    if (std::count(c.host.cap_drop.begin(), c.host.cap_drop.end(), "ALL")) caps.clear();
    for (const auto& d : c.host.cap_drop) caps.erase(std::remove(caps.begin(), caps.end(), d), caps.end());
    Json cj = caps;
    proc["capabilities"] = {{"bounding", cj}, {"effective", cj}, {"permitted", cj}};
    if (uid != 0) proc["capabilities"]["effective"] = Json::array();

    Json rl = Json::array();
    bool nofile = false;
    for (const auto& u : c.host.ulimits) {
        auto parsed = MD_TRY(parse_ulimit(u));
        nofile |= parsed.type == "RLIMIT_NOFILE";
        rl.push_back({{"type", parsed.type}, {"soft", parsed.soft}, {"hard", parsed.hard}});
    }
    if (!nofile) rl.push_back({{"type", "RLIMIT_NOFILE"}, {"soft", 1024}, {"hard", 1024}});
    proc["rlimits"] = rl;

    spec["root"] = {{"path", p.rootfs}, {"readonly", c.host.readonly_rootfs}};
    spec["hostname"] = net.hostname;

    Json& mounts = spec["mounts"];
    for (const auto& m : c.mounts) {
        if (m.type == "tmpfs") {
            std::vector<std::string> o = {"nosuid", "nodev", "noexec"};
            if (!m.options.empty())
                for (auto& opt : sys::split(m.options, ',')) o.push_back(std::move(opt));
            mounts.push_back({{"destination", m.destination}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", o}});
        } else {
            std::vector<std::string> o = {"rbind", m.rw ? "rw" : "ro", "rprivate"};
            mounts.push_back({{"destination", m.destination}, {"type", "bind"}, {"source", m.source}, {"options", o}});
        }
    }

    // The engine's /etc/hosts, resolv.conf and hostname over the image's (docker's way:
    // written per container, rewritten in place as peers come and go).
    for (const char* f : {"hosts", "resolv.conf", "hostname"}) {
        mounts.push_back({{"destination", std::string("/etc/") + f},
                          {"type", "bind"},
                          {"source", sys::path_join(net.files_dir, f)},
                          {"options", {"rbind", "rprivate"}}});
    }

    Json& linux = spec["linux"];
    if (c.host.cgroup_manager == "systemd") {
        // A scope "mydocker-<id>.scope" in the parent when it is a slice (as podman's
        // machine.slice), else in system.slice.
        const std::string& p = c.host.cgroup_parent;
        linux["cgroupsPath"] = (p.ends_with(".slice") ? p : std::string("system.slice")) + ":mydocker:" + c.id;
    } else {
        linux["cgroupsPath"] = "/" + c.host.cgroup_parent + "/" + c.id;
    }
    if (c.host.network_mode == "host" || !net.netns_path.empty()) {
        Json ns = Json::array();
        for (const auto& n : linux["namespaces"])
            if (n["type"] != "network") ns.push_back(n);
        if (!net.netns_path.empty()) ns.push_back({{"type", "network"}, {"path", net.netns_path}});
        linux["namespaces"] = ns;
    }
    Json res = Json::object();
    res["devices"] = Json::array({{{"allow", false}, {"access", "rwm"}}});
    if (c.host.memory > 0) {
        res["memory"]["limit"] = c.host.memory;
        if (c.host.memory_swap != 0) res["memory"]["swap"] = c.host.memory_swap;
    }
    if (c.host.nano_cpus > 0) {
        res["cpu"]["period"] = 100000;
        res["cpu"]["quota"] = c.host.nano_cpus / 10000;  // ns of CPU per 100 ms period
    }
    if (c.host.cpu_shares > 0) res["cpu"]["shares"] = c.host.cpu_shares;
    if (!c.host.cpuset_cpus.empty()) res["cpu"]["cpus"] = c.host.cpuset_cpus;
    if (c.host.pids_limit != 0) res["pids"]["limit"] = c.host.pids_limit;
    linux["resources"] = res;
    MD_TRY(apply_security(spec, c.host, caps));
    return spec;
}

}  // namespace mydocker::engine::containers
