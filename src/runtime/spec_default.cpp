// The config.json `mydocker-runc spec` writes: the same starting point `runc spec` gives, so
// tutorials written for runc work unchanged with a busybox rootfs.
#include <nlohmann/json.hpp>

#include "runtime/spec.h"

namespace mydocker::runtime {

namespace {

// Built once as the document type the caller needs: ordered_json for the file people read
// (fields in the order they expect), json for the engine, which edits it and hands it to
// parse_spec_doc (no text in between).
template <class OJson>
OJson mount(const char* dest, const char* type, const char* source,
            std::vector<std::string> options = {}) {
    OJson m = {{"destination", dest}, {"type", type}, {"source", source}};
    if (!options.empty()) m["options"] = options;
    return m;
}

template <class OJson>
OJson mounts(bool rootless) {
    OJson out = OJson::array();
    out.push_back(mount<OJson>("/proc", "proc", "proc"));
    out.push_back(
        mount<OJson>("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}));
    std::vector<std::string> devpts = {"nosuid", "noexec", "newinstance", "ptmxmode=0666",
                                       "mode=0620"};
    // gid 5 ("tty") does not exist in a user namespace that maps only the caller.
    if (!rootless) devpts.push_back("gid=5");
    out.push_back(mount<OJson>("/dev/pts", "devpts", "devpts", devpts));
    out.push_back(mount<OJson>("/dev/shm", "tmpfs", "shm",
                        {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}));
    out.push_back(mount<OJson>("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}));
    if (rootless) {
        // Without its own network namespace the kernel refuses a fresh sysfs to an
        // unprivileged user; a read-only recursive bind of the host's is the usual answer.
        // No cgroup mount either: a rootless caller usually owns no delegated cgroup to show.
        out.push_back(mount<OJson>("/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"}));
    } else {
        out.push_back(mount<OJson>("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}));
        out.push_back(mount<OJson>("/sys/fs/cgroup", "cgroup", "cgroup",
                            {"nosuid", "noexec", "nodev", "relatime", "ro"}));
    }
    return out;
}

template <class OJson>
OJson linux_section(bool rootless, uint32_t uid, uint32_t gid) {
    OJson l = OJson::object();
    if (rootless) {
        l["uidMappings"] = OJson::array({{{"containerID", 0}, {"hostID", uid}, {"size", 1}}});
        l["gidMappings"] = OJson::array({{{"containerID", 0}, {"hostID", gid}, {"size", 1}}});
    } else {
        // Deny every device; the runtime still creates and allows the default /dev nodes.
        l["resources"] = {{"devices", OJson::array({{{"allow", false}, {"access", "rwm"}}})}};
    }
    OJson ns = OJson::array();
    // The namespaces of runc's `spec`, so bundles behave alike under both runtimes.
    // Rootless: no network namespace (an unprivileged user could not connect it anywhere).
    std::vector<const char*> types = {"pid", "network", "ipc", "uts", "mount"};
    for (const char* t : types) {
        if (rootless && std::string_view(t) == "network") continue;
        ns.push_back({{"type", t}});
    }
    if (rootless) ns.push_back({{"type", "user"}});
    l["namespaces"] = std::move(ns);
    l["maskedPaths"] = {"/proc/acpi",        "/proc/asound",        "/proc/kcore",
                        "/proc/keys",        "/proc/latency_stats", "/proc/timer_list",
                        "/proc/timer_stats", "/proc/sched_debug",   "/sys/firmware",
                        "/proc/scsi"};
    l["readonlyPaths"] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
    return l;
}

template <class OJson>
OJson default_spec(bool rootless, uint32_t uid, uint32_t gid) {
    // runc spec's deliberately tiny set: enough for a demo shell, far below Docker's default.
    const std::vector<std::string> caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
    OJson process = {
        {"terminal", true},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", OJson::array({"sh"})},
        {"env",
         {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
        {"cwd", "/"},
        // No inheritable set (CVE-2022-29162) and no ambient set: root in the container
        // needs neither.
        {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
        {"rlimits", OJson::array({{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}})},
        {"noNewPrivileges", true},
    };
    OJson spec = {
        {"ociVersion", "1.2.0"},
        {"process", std::move(process)},
        {"root", {{"path", "rootfs"}, {"readonly", true}}},
        {"hostname", "mydocker"},
        {"mounts", mounts<OJson>(rootless)},
        {"linux", linux_section<OJson>(rootless, uid, gid)},
    };
    return spec;
}

}  // namespace

std::string default_spec_json(bool rootless, uint32_t uid, uint32_t gid) {
    return default_spec<nlohmann::ordered_json>(rootless, uid, gid).dump(1, '\t');
}

nlohmann::json default_spec_doc(bool rootless, uint32_t uid, uint32_t gid) {
    return default_spec<nlohmann::json>(rootless, uid, gid);
}

}  // namespace mydocker::runtime
