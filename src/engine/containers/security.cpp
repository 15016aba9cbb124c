// --security-opt and --privileged: what docker's daemon adds to the OCI config for them.
#include "engine/containers/security.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include "engine/containers/seccomp_profile.h"
#include "runtime/capabilities.h"
#include "sys/files.h"
#include "sys/json_text.h"

namespace mydocker::engine::containers {

using Json = nlohmann::json;

namespace {

sys::Error opt_error(const std::string& opt, const std::string& why) {
    return sys::Error::invalid("invalid argument \"" + opt +
                               "\" for \"--security-opt\" flag: " + why);
}

// KEY=VALUE, or docker's older KEY:VALUE. A bare "no-new-privileges" means true.
std::pair<std::string, std::string> split_opt(const std::string& opt) {
    size_t at = opt.find('=');
    if (at == std::string::npos) at = opt.find(':');
    if (at == std::string::npos) return {opt, ""};
    return {opt.substr(0, at), opt.substr(at + 1)};
}

// Go's strconv.ParseBool, which docker uses for no-new-privileges=VALUE.
std::optional<bool> parse_bool(const std::string& v) {
    static const std::set<std::string> yes = {"1", "t", "T", "true", "TRUE", "True"};
    static const std::set<std::string> no = {"0", "f", "F", "false", "FALSE", "False"};
    if (yes.count(v)) return true;
    if (no.count(v)) return false;
    return std::nullopt;
}

// "seccomp=FILE": the file's profile, checked and compacted (docker keeps it so).
sys::Result<std::string> read_profile(const std::string& opt, const std::string& file) {
    auto text = sys::read_file(file);
    if (!text)
        return sys::fail(
            opt_error(opt, "cannot read the seccomp profile: " + text.error().message()));
    auto profile = parse_seccomp_profile(*text);
    if (!profile)
        return sys::fail(
            opt_error(opt, "seccomp profile \"" + file + "\": " + profile.error().message()));
    return sys::json_text(Json::parse(*text));
}

}  // namespace

sys::Result<std::vector<std::string>> normalize_security_opts(
    const std::vector<std::string>& given) {
    std::vector<std::string> out;
    for (const auto& opt : given) {
        auto [key, value] = split_opt(opt);
        if (key == "seccomp" && !value.empty() && value != "unconfined" && value != "builtin") {
            out.push_back("seccomp=" + MD_TRY(read_profile(opt, value)));
            continue;
        }
        out.push_back(opt);
    }
    MD_TRY(parse_security_opts(out));
    return out;
}

sys::Result<Security> parse_security_opts(const std::vector<std::string>& opts) {
    Security s;
    for (const auto& opt : opts) {
        auto [key, value] = split_opt(opt);
        if (opt == "no-new-privileges") {
            s.no_new_privileges = true;
        } else if (key == "no-new-privileges") {
            auto b = parse_bool(value);
            if (!b)
                return sys::fail(
                    opt_error(opt, "expected no-new-privileges, no-new-privileges=true or =false"));
            s.no_new_privileges = *b;
        } else if (key == "seccomp") {
            if (value.empty())
                return sys::fail(
                    opt_error(opt, "expected seccomp=unconfined or seccomp=PROFILE.json"));
            s.seccomp = value == "unconfined" ? Security::Seccomp::unconfined
                        : value == "builtin"  ? Security::Seccomp::builtin
                                              : Security::Seccomp::custom;
            s.profile = s.seccomp == Security::Seccomp::custom ? value : "";
        } else if (opt == "apparmor=unconfined" || opt == "label=disable" ||
                   opt == "label:disable") {
            // Asks for less than we apply anyway: mydocker sets no LSM labels or profiles.
        } else if (key == "apparmor" || key == "label") {
            return sys::fail(
                opt_error(opt, "AppArmor and SELinux labels are not supported (only " + key +
                                   (key == "apparmor" ? "=unconfined" : "=disable") + ")"));
        } else {
            return sys::fail(opt_error(opt,
                                       "expected seccomp=unconfined, seccomp=PROFILE.json or "
                                       "no-new-privileges[=true|false]"));
        }
    }
    return s;
}

std::vector<std::string> held_capabilities() {
    // A VM or an outer container may not grant all of them.
    uint64_t held = ~0ULL;
    if (auto status = sys::read_file("/proc/self/status")) {
        size_t at = status->find("CapPrm:");
        if (at != std::string::npos) held = std::strtoull(status->c_str() + at + 7, nullptr, 16);
    }
    std::vector<std::string> caps;
    for (int i = 0; i <= runtime::last_capability(); ++i)
        if (held & (1ULL << i)) caps.push_back(runtime::capability_name(i));
    return caps;
}

namespace {

// Directories and nodes docker's HostDevices leaves out: each container has its own pts,
// shm and mqueue, /dev/fd is a link to its /proc; console and ptmx are made by the runtime
// (ptmx as a link into the container's own devpts).
bool skipped(const std::string& name, bool dir) {
    static const std::set<std::string> dirs = {"pts",  "shm",         "fd",   "mqueue",
                                               ".lxc", ".lxd-mounts", ".udev"};
    return dir ? dirs.count(name) > 0 : name == "console" || name == "ptmx";
}

void walk_devices(int dirfd, const std::string& path, Json& out, int depth) {
    DIR* d = ::fdopendir(dirfd);
    if (!d) {
        ::close(dirfd);
        return;
    }
    while (struct dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        struct stat st;
        if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
        std::string full = path + "/" + name;
        if (S_ISDIR(st.st_mode)) {
            if (skipped(name, true) || depth > 8) continue;
            int sub =
                ::openat(::dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0) walk_devices(sub, full, out, depth + 1);
            continue;
        }
        if ((!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) || skipped(name, false)) continue;
        out.push_back({{"path", full},
                       {"type", S_ISBLK(st.st_mode) ? "b" : "c"},
                       {"major", major(st.st_rdev)},
                       {"minor", minor(st.st_rdev)},
                       {"fileMode", st.st_mode & 07777},
                       {"uid", st.st_uid},
                       {"gid", st.st_gid}});
    }
    ::closedir(d);
}

// --privileged, as docker's: nothing hidden or read-only, every device.
void make_privileged(Json& spec) {
    Json& linux = spec["linux"];
    linux.erase("maskedPaths");
    linux.erase("readonlyPaths");
    linux["resources"]["devices"] = Json::array({{{"allow", true}, {"access", "rwm"}}});
    linux["devices"] = host_devices();
    for (Json& m : spec["mounts"]) {
        if (m["destination"] != "/sys" && m["type"] != "cgroup") continue;
        Json opts = Json::array();
        for (const auto& o : m["options"])
            if (o != "ro") opts.push_back(o);
        opts.push_back("rw");
        m["options"] = opts;
    }
    spec["process"].erase("apparmorProfile");
}

}  // namespace

Json host_devices(const std::string& dev) {
    Json out = Json::array();
    int fd = ::open(dev.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) walk_devices(fd, dev, out, 0);
    return out;
}

sys::Result<void> apply_security(Json& spec, const HostConfig& host,
                                 const std::vector<std::string>& caps) {
    Security sec = MD_TRY(parse_security_opts(host.security_opt));
    // docker leaves no_new_privs off unless asked: setuid programs of the image work.
    spec["process"]["noNewPrivileges"] = sec.no_new_privileges;
    // docker applies no seccomp filter to a privileged container, whatever the options say.
    if (host.privileged) {
        make_privileged(spec);
        return {};
    }
    if (sec.seccomp == Security::Seccomp::unconfined) return {};
    SeccompProfile custom;
    if (sec.seccomp == Security::Seccomp::custom)
        custom = MD_TRY_CTX(parse_seccomp_profile(sec.profile), "--security-opt seccomp");
    const SeccompProfile& profile =
        sec.seccomp == Security::Seccomp::custom ? custom : default_seccomp_profile();
    spec["linux"]["seccomp"] =
        seccomp_to_json(resolve_seccomp_profile(profile, host_seccomp_target(caps)));
    return {};
}

}  // namespace mydocker::engine::containers
