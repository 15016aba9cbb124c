// mounts[]: split each mount's options into mount(2) flags, propagation and the data string,
// so the init stage only has to issue syscalls.
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/statfs.h>

#include <string_view>

#include "runtime/spec_json.h"
#include "sys/files.h"

namespace mydocker::runtime::spec_detail {

namespace {

enum class OptionKind {
    set,          // OR the flags in
    clear,        // take the flags out, and remember they were asked off (remount keeps them off)
    propagation,  // MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE, applied after the mount
    ignored,      // recognised, nothing to do at mount time
    idmap,        // "idmap" / "ridmap": an id-mapped bind (flags 1: recursive)
    unsupported,  // recognised but not implemented: refusing beats silently weakening a mount
};

struct MountOption {
    std::string_view name;
    OptionKind kind;
    unsigned long flags;
};

using K = OptionKind;

// Every option name that is not here goes to mount(2)'s data string (mode=, size=, gid=...).
constexpr MountOption kMountOptions[] = {
    {"defaults", K::set, 0},
    {"ro", K::set, MS_RDONLY},
    {"rw", K::clear, MS_RDONLY},
    {"nosuid", K::set, MS_NOSUID},
    {"suid", K::clear, MS_NOSUID},
    {"nodev", K::set, MS_NODEV},
    {"dev", K::clear, MS_NODEV},
    {"noexec", K::set, MS_NOEXEC},
    {"exec", K::clear, MS_NOEXEC},
    {"sync", K::set, MS_SYNCHRONOUS},
    {"async", K::clear, MS_SYNCHRONOUS},
    {"dirsync", K::set, MS_DIRSYNC},
    {"remount", K::set, MS_REMOUNT},
    {"mand", K::set, MS_MANDLOCK},
    {"nomand", K::clear, MS_MANDLOCK},
    {"noatime", K::set, MS_NOATIME},
    {"atime", K::clear, MS_NOATIME},
    {"nodiratime", K::set, MS_NODIRATIME},
    {"diratime", K::clear, MS_NODIRATIME},
    {"relatime", K::set, MS_RELATIME},
    {"norelatime", K::clear, MS_RELATIME},
    {"strictatime", K::set, MS_STRICTATIME},
    {"nostrictatime", K::clear, MS_STRICTATIME},
    {"nosymfollow", K::set, MS_NOSYMFOLLOW},
    {"symfollow", K::clear, MS_NOSYMFOLLOW},
    {"lazytime", K::set, MS_LAZYTIME},
    {"nolazytime", K::clear, MS_LAZYTIME},
    {"iversion", K::set, MS_I_VERSION},
    {"noiversion", K::clear, MS_I_VERSION},
    {"silent", K::set, MS_SILENT},
    {"loud", K::clear, MS_SILENT},
    {"bind", K::set, MS_BIND},
    {"rbind", K::set, MS_BIND | MS_REC},
    {"shared", K::propagation, MS_SHARED},
    {"rshared", K::propagation, MS_SHARED | MS_REC},
    {"slave", K::propagation, MS_SLAVE},
    {"rslave", K::propagation, MS_SLAVE | MS_REC},
    {"private", K::propagation, MS_PRIVATE},
    {"rprivate", K::propagation, MS_PRIVATE | MS_REC},
    {"unbindable", K::propagation, MS_UNBINDABLE},
    {"runbindable", K::propagation, MS_UNBINDABLE | MS_REC},
    // crun's "copy the image's directory content into the new tmpfs": harmless to skip.
    {"tmpcopyup", K::ignored, 0},
    // Id-mapped binds (mount_setattr(MOUNT_ATTR_IDMAP)); the maps come from the mount's
    // uidMappings / gidMappings.
    {"idmap", K::idmap, 0},
    {"ridmap", K::idmap, 1},
    // Recursive attributes (runtime-spec 1.1) need mount_setattr(AT_RECURSIVE). Passing them
    // as data would fail at mount time with a vague EINVAL, and "rro" is a security option.
    {"rro", K::unsupported, 0},
    {"rrw", K::unsupported, 0},
    {"rnosuid", K::unsupported, 0},
    {"rsuid", K::unsupported, 0},
    {"rnodev", K::unsupported, 0},
    {"rdev", K::unsupported, 0},
    {"rnoexec", K::unsupported, 0},
    {"rexec", K::unsupported, 0},
    {"rnodiratime", K::unsupported, 0},
    {"rdiratime", K::unsupported, 0},
    {"rrelatime", K::unsupported, 0},
    {"rnorelatime", K::unsupported, 0},
    {"rnoatime", K::unsupported, 0},
    {"ratime", K::unsupported, 0},
    {"rstrictatime", K::unsupported, 0},
    {"rnostrictatime", K::unsupported, 0},
    {"rnosymfollow", K::unsupported, 0},
    {"rsymfollow", K::unsupported, 0},
};

const MountOption* find_option(std::string_view name) {
    for (const auto& o : kMountOptions)
        if (o.name == name) return &o;
    return nullptr;
}

sys::Result<void> derive_flags(Mount& m, std::string_view options_path) {
    for (size_t i = 0; i < m.options.size(); ++i) {
        const std::string& opt = m.options[i];
        auto path = index_path(options_path, i);
        if (opt.empty()) return sys::fail(invalid_at(path, "must not be empty"));
        const MountOption* known = find_option(opt);
        if (!known) {
            if (!m.data.empty()) m.data += ',';
            m.data += opt;
            continue;
        }
        switch (known->kind) {
            case K::set:
                m.flags |= known->flags;
                m.clear_flags &= ~known->flags;
                break;
            case K::clear:
                m.flags &= ~known->flags;
                m.clear_flags |= known->flags;
                break;
            case K::propagation:
                // mount(2) takes one propagation type per call; the last one given wins.
                m.propagation_flags = known->flags;
                break;
            case K::ignored:
                break;
            case K::idmap:
                m.idmap = true;
                m.idmap_recursive = known->flags != 0;
                break;
            case K::unsupported:
                return sys::fail(invalid_at(path, "\"" + opt + "\" is not supported"));
        }
    }
    if (m.type == "bind") m.flags |= MS_BIND;
    m.bind = (m.flags & MS_BIND) != 0;
    m.recursive = m.bind && (m.flags & MS_REC) != 0;
    return {};
}

/// /proc itself takes procfs only (a mount of type proc, or a bind of a procfs); inside it,
/// proc_destination_allowed decides.
sys::Result<void> check_proc_destination(const Mount& m, std::string_view path) {
    if (m.destination == "/proc") {
        struct statfs sf;
        bool is_proc = m.type == "proc" ||
                       (m.bind && ::statfs(m.source.c_str(), &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC);
        if (!is_proc) return sys::fail(invalid_at(key_path(path, "destination"), "\"/proc\" takes only a procfs mount"));
        return {};
    }
    if (m.destination.starts_with("/proc/") && !proc_destination_allowed(m.destination))
        return sys::fail(invalid_at(key_path(path, "destination"), "\"" + m.destination +
                                                                       "\" is inside /proc, where only the files "
                                                                       "lxcfs emulates may be mounted"));
    return {};
}

sys::Result<Mount> parse_mount(const Json& j, std::string_view path, const std::string& bundle) {
    MD_TRY(expect_object(j, path));
    Mount m;
    const Json* dest = MD_TRY(require(j, path, "destination"));
    m.destination = MD_TRY(to_string(*dest, key_path(path, "destination")));
    if (!is_absolute(m.destination))
        return sys::fail(invalid_at(key_path(path, "destination"), "must be an absolute path"));
    m.destination = clean_path(m.destination);
    MD_TRY(read(j, path, "type", m.type));
    MD_TRY(read(j, path, "source", m.source));
    MD_TRY(read(j, path, "options", m.options));
    if (const Json* v = member(j, "uidMappings"))
        m.uid_mappings = MD_TRY(parse_id_mappings(*v, key_path(path, "uidMappings")));
    if (const Json* v = member(j, "gidMappings"))
        m.gid_mappings = MD_TRY(parse_id_mappings(*v, key_path(path, "gidMappings")));
    MD_TRY(derive_flags(m, key_path(path, "options")));
    // Id-mapped mounts (runtime-spec 1.1): mappings make the mount id-mapped, "idmap" or
    // "ridmap" say how. Half a mapping would show the other ids unmapped: both are required.
    const bool mapped = !m.uid_mappings.empty() || !m.gid_mappings.empty();
    if (mapped || m.idmap) {
        const std::string at = key_path(path, mapped ? "uidMappings" : "options");
        if (!m.bind) return sys::fail(invalid_at(at, "only a bind mount can be id-mapped"));
        if (m.uid_mappings.empty())
            return sys::fail(invalid_at(key_path(path, "uidMappings"), "required for an id-mapped mount"));
        if (m.gid_mappings.empty())
            return sys::fail(invalid_at(key_path(path, "gidMappings"), "required for an id-mapped mount"));
        m.idmap = true;
    }
    if (m.bind) {
        if (m.source.empty())
            return sys::fail(invalid_at(key_path(path, "source"), "is required for a bind mount"));
        // runtime-spec: a relative bind source is relative to the bundle directory.
        if (!is_absolute(m.source)) {
            if (!is_absolute(bundle))
                return sys::fail(invalid_at(key_path(path, "source"),
                                            "relative source needs an absolute bundle path"));
            m.source = clean_path(sys::path_join(bundle, m.source));
        }
    }
    MD_TRY(check_proc_destination(m, path));
    return m;
}

}  // namespace

const std::vector<std::string>& mount_option_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const auto& o : kMountOptions)
            if (o.kind != K::unsupported) out.emplace_back(o.name);
        return out;
    }();
    return names;
}

sys::Result<std::vector<Mount>> parse_mounts_at(const Json& j, std::string_view path,
                                                const std::string& bundle) {
    MD_TRY(expect_array(j, path));
    std::vector<Mount> out;
    out.reserve(j.size());
    for (size_t i = 0; i < j.size(); ++i)
        out.push_back(MD_TRY(parse_mount(j[i], index_path(path, i), bundle)));
    return out;
}

}  // namespace mydocker::runtime::spec_detail

namespace mydocker::runtime {

bool proc_destination_allowed(std::string_view destination) {
    static constexpr std::string_view kAllowed[] = {
        "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo",  "/proc/stat",    "/proc/swaps",
        "/proc/uptime",  "/proc/loadavg",   "/proc/slabinfo", "/proc/net/dev", "/proc/sys/kernel/ns_last_pid"};
    for (auto a : kAllowed)
        if (destination == a) return true;
    return false;
}

}  // namespace mydocker::runtime
