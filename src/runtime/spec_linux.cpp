// The "linux" object of config.json: namespaces, id mappings, devices, resources, sysctl,
// seccomp, propagation and the masked / read-only path lists.
#include <sys/mount.h>

#include <cctype>
#include <string_view>

#include "runtime/seccomp.h"
#include "runtime/spec.h"
#include "runtime/spec_json.h"

namespace mydocker::runtime::spec_detail {

namespace {

constexpr NamespaceType kNamespaceTypes[] = {
    NamespaceType::pid, NamespaceType::network, NamespaceType::mount,  NamespaceType::ipc,
    NamespaceType::uts, NamespaceType::user,    NamespaceType::cgroup, NamespaceType::time,
};

sys::Result<std::vector<Namespace>> parse_namespaces(const Json& j, std::string_view path) {
    MD_TRY(expect_array(j, path));
    std::vector<Namespace> out;
    for (size_t i = 0; i < j.size(); ++i) {
        auto item = index_path(path, i);
        const Json& o = j[i];
        MD_TRY(expect_object(o, item));
        const Json* type = MD_TRY(require(o, item, "type"));
        auto name = MD_TRY(to_string(*type, key_path(item, "type")));
        Namespace ns;
        bool known = false;
        for (auto t : kNamespaceTypes) {
            if (name == namespace_type_name(t)) {
                ns.type = t;
                known = true;
            }
        }
        if (!known)
            return sys::fail(
                invalid_at(key_path(item, "type"), "unknown namespace \"" + name + "\""));
        for (const auto& prev : out)
            if (prev.type == ns.type)
                return sys::fail(
                    invalid_at(key_path(item, "type"), "duplicate namespace \"" + name + "\""));
        MD_TRY(read(o, item, "path", ns.path));
        // setns(2) on a relative path would depend on the runtime's cwd.
        if (!ns.path.empty() && !is_absolute(ns.path))
            return sys::fail(invalid_at(key_path(item, "path"), "must be an absolute path"));
        out.push_back(std::move(ns));
    }
    return out;
}

sys::Result<std::vector<Device>> parse_devices(const Json& j, std::string_view path) {
    MD_TRY(expect_array(j, path));
    std::vector<Device> out;
    for (size_t i = 0; i < j.size(); ++i) {
        auto item = index_path(path, i);
        const Json& o = j[i];
        MD_TRY(expect_object(o, item));
        Device d;
        const Json* p = MD_TRY(require(o, item, "path"));
        d.path = MD_TRY(to_string(*p, key_path(item, "path")));
        if (!is_absolute(d.path))
            return sys::fail(invalid_at(key_path(item, "path"), "must be an absolute path"));
        const Json* t = MD_TRY(require(o, item, "type"));
        auto type = MD_TRY(to_string(*t, key_path(item, "type")));
        if (type != "c" && type != "b" && type != "u" && type != "p")
            return sys::fail(
                invalid_at(key_path(item, "type"), "must be \"c\", \"b\", \"u\" or \"p\""));
        d.type = type[0];
        // A FIFO has no device number; mknod(2) needs one for everything else.
        if (d.type != 'p') {
            d.major = MD_TRY(require_int<int64_t>(o, item, "major", 0));
            d.minor = MD_TRY(require_int<int64_t>(o, item, "minor", 0));
        }
        MD_TRY(read_int(o, item, "fileMode", d.file_mode));
        MD_TRY(read_int(o, item, "uid", d.uid));
        MD_TRY(read_int(o, item, "gid", d.gid));
        out.push_back(std::move(d));
    }
    return out;
}

// Which namespace isolates a sysctl, or nullopt when it is global to the host. Writing a
// global one from a container would change the host (runc refuses them the same way).
std::optional<NamespaceType> sysctl_namespace(std::string_view key) {
    constexpr std::string_view ipc_keys[] = {
        "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
        "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
    };
    for (auto k : ipc_keys)
        if (key == k) return NamespaceType::ipc;
    if (key.starts_with("fs.mqueue.")) return NamespaceType::ipc;
    if (key.starts_with("net.")) return NamespaceType::network;
    if (key == "kernel.hostname" || key == "kernel.domainname") return NamespaceType::uts;
    return std::nullopt;
}

sys::Result<void> check_sysctl(const Linux& l, std::string_view path) {
    for (const auto& [raw_key, value] : l.sysctl) {
        // /proc/sys paths ("net/ipv4/ip_forward") name the same knob as the dotted form.
        std::string key = raw_key;
        for (char& c : key)
            if (c == '/') c = '.';
        auto ns = sysctl_namespace(key);
        if (!ns) return sys::fail(invalid_at(path, "\"" + raw_key + "\" is not namespaced"));
        // Joined by path counts as private, as for hostname (see spec_parse.cpp).
        if (!l.has_namespace(*ns))
            return sys::fail(invalid_at(path, "\"" + raw_key + "\" needs a private " +
                                                  namespace_type_name(*ns) + " namespace"));
    }
    return {};
}

// validate_seccomp() names fields relative to the seccomp object ("defaultAction: ...",
// "syscalls[2].action: ..."): extend such a path to the full one so every message reads
// like ours; anything else gets an ordinary "path: " prefix.
sys::Result<void> prefix_field_error(sys::Result<void> r, std::string_view path) {
    if (r) return r;
    const sys::Error& e = r.error();
    const std::string& msg = e.context();
    auto colon = msg.find(": ");
    bool field = colon != std::string::npos && colon > 0 &&
                 std::isalpha(static_cast<unsigned char>(msg[0])) &&
                 msg.find_first_not_of(
                     "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.[]") >= colon;
    if (field) return sys::fail(sys::Error(e.code(), std::string(path) + "." + msg, e.err()));
    return sys::fail(sys::Error(r.error()).wrap(path));
}

sys::Result<SeccompArg> parse_seccomp_arg(const Json& j, std::string_view path) {
    MD_TRY(expect_object(j, path));
    SeccompArg a;
    a.index = MD_TRY(require_int<unsigned>(j, path, "index", 0, 5));  // syscalls take 6 args
    a.value = MD_TRY(require_int<uint64_t>(j, path, "value"));
    MD_TRY(read_int(j, path, "valueTwo", a.value_two));
    const Json* op = MD_TRY(require(j, path, "op"));
    a.op = MD_TRY(to_string(*op, key_path(path, "op")));
    return a;
}

sys::Result<SeccompSyscall> parse_seccomp_syscall(const Json& j, std::string_view path) {
    MD_TRY(expect_object(j, path));
    SeccompSyscall sc;
    const Json* names = MD_TRY(require(j, path, "names"));
    sc.names = MD_TRY(to_string_list(*names, key_path(path, "names")));
    if (sc.names.empty())
        return sys::fail(invalid_at(key_path(path, "names"), "must not be empty"));
    const Json* action = MD_TRY(require(j, path, "action"));
    sc.action = MD_TRY(to_string(*action, key_path(path, "action")));
    MD_TRY(read_int(j, path, "errnoRet", sc.errno_ret));
    if (const Json* v = member(j, "args")) {
        auto args_path = key_path(path, "args");
        MD_TRY(expect_array(*v, args_path));
        for (size_t i = 0; i < v->size(); ++i)
            sc.args.push_back(MD_TRY(parse_seccomp_arg((*v)[i], index_path(args_path, i))));
    }
    return sc;
}

sys::Result<Seccomp> parse_seccomp(const Json& j, std::string_view path) {
    MD_TRY(expect_object(j, path));
    Seccomp s;
    const Json* action = MD_TRY(require(j, path, "defaultAction"));
    s.default_action = MD_TRY(to_string(*action, key_path(path, "defaultAction")));
    MD_TRY(read_int(j, path, "defaultErrnoRet", s.default_errno_ret));
    MD_TRY(read(j, path, "architectures", s.architectures));
    MD_TRY(read(j, path, "flags", s.flags));
    MD_TRY(read(j, path, "listenerPath", s.listener_path));
    MD_TRY(read(j, path, "listenerMetadata", s.listener_metadata));
    if (const Json* v = member(j, "syscalls")) {
        auto list_path = key_path(path, "syscalls");
        MD_TRY(expect_array(*v, list_path));
        for (size_t i = 0; i < v->size(); ++i)
            s.syscalls.push_back(MD_TRY(parse_seccomp_syscall((*v)[i], index_path(list_path, i))));
    }
    // Action, operator, architecture and flag names are libseccomp's business.
    MD_TRY(prefix_field_error(validate_seccomp(s), path));
    return s;
}

sys::Result<unsigned long> propagation_flags(const std::string& name, std::string_view path) {
    constexpr std::pair<std::string_view, unsigned long> table[] = {
        {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
        {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
        {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
        {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
    };
    for (const auto& [n, flags] : table)
        if (n == name) return flags;
    return sys::fail(invalid_at(path, "unknown propagation \"" + name + "\""));
}

sys::Result<std::vector<std::string>> read_absolute_paths(const Json& obj, std::string_view parent,
                                                          std::string_view key) {
    std::vector<std::string> out;
    MD_TRY(read(obj, parent, key, out));
    for (size_t i = 0; i < out.size(); ++i)
        if (!is_absolute(out[i]))
            return sys::fail(
                invalid_at(index_path(key_path(parent, key), i), "must be an absolute path"));
    return out;
}

}  // namespace

sys::Result<std::vector<IdMapping>> parse_id_mappings(const Json& j, std::string_view path) {
    MD_TRY(expect_array(j, path));
    std::vector<IdMapping> out;
    for (size_t i = 0; i < j.size(); ++i) {
        auto item = index_path(path, i);
        MD_TRY(expect_object(j[i], item));
        IdMapping m;
        m.container_id = MD_TRY(require_int<uint32_t>(j[i], item, "containerID"));
        m.host_id = MD_TRY(require_int<uint32_t>(j[i], item, "hostID"));
        // uid_map refuses a zero-length range; say so before clone().
        m.size = MD_TRY(require_int<uint32_t>(j[i], item, "size", 1));
        // The kernel refuses a range past 2^32 - 1 or overlapping another one (on either
        // side) with a bare EINVAL at write time; name the entry instead.
        constexpr uint64_t kIds = uint64_t{1} << 32;
        if (uint64_t{m.container_id} + m.size > kIds || uint64_t{m.host_id} + m.size > kIds)
            return sys::fail(invalid_at(key_path(item, "size"), "the range goes past id 4294967295"));
        auto overlap = [](uint32_t a, uint32_t b, uint32_t n, uint32_t m2) {
            return uint64_t{a} < uint64_t{b} + m2 && uint64_t{b} < uint64_t{a} + n;
        };
        for (size_t k = 0; k < out.size(); ++k) {
            const IdMapping& o = out[k];
            if (overlap(m.container_id, o.container_id, m.size, o.size))
                return sys::fail(invalid_at(key_path(item, "containerID"),
                                            "overlaps " + index_path(path, k)));
            if (overlap(m.host_id, o.host_id, m.size, o.size))
                return sys::fail(invalid_at(key_path(item, "hostID"), "overlaps " + index_path(path, k)));
        }
        out.push_back(m);
    }
    return out;
}


sys::Result<Linux> parse_linux_at(const Json& j, std::string_view path) {
    MD_TRY(expect_object(j, path));
    Linux l;
    if (const Json* v = member(j, "namespaces"))
        l.namespaces = MD_TRY(parse_namespaces(*v, key_path(path, "namespaces")));
    if (const Json* v = member(j, "uidMappings"))
        l.uid_mappings = MD_TRY(parse_id_mappings(*v, key_path(path, "uidMappings")));
    if (const Json* v = member(j, "gidMappings"))
        l.gid_mappings = MD_TRY(parse_id_mappings(*v, key_path(path, "gidMappings")));

    // A new user namespace without mappings leaves every id unmapped (nobody, no caps on
    // files); mappings without one would be silently ignored. A joined namespace already
    // has its maps, so mappings are optional there.
    const Namespace* user = l.find_namespace(NamespaceType::user);
    if (user && user->path.empty()) {
        if (l.uid_mappings.empty())
            return sys::fail(
                invalid_at(key_path(path, "uidMappings"), "required with a new user namespace"));
        if (l.gid_mappings.empty())
            return sys::fail(
                invalid_at(key_path(path, "gidMappings"), "required with a new user namespace"));
    } else if (!user) {
        if (!l.uid_mappings.empty())
            return sys::fail(
                invalid_at(key_path(path, "uidMappings"), "given without a user namespace"));
        if (!l.gid_mappings.empty())
            return sys::fail(
                invalid_at(key_path(path, "gidMappings"), "given without a user namespace"));
    }

    if (const Json* v = member(j, "devices"))
        l.devices = MD_TRY(parse_devices(*v, key_path(path, "devices")));
    MD_TRY(read(j, path, "cgroupsPath", l.cgroups_path));
    if (const Json* v = member(j, "resources"))
        l.resources = MD_TRY(parse_resources_at(*v, key_path(path, "resources")));
    MD_TRY(read(j, path, "sysctl", l.sysctl));
    MD_TRY(check_sysctl(l, key_path(path, "sysctl")));
    if (const Json* v = member(j, "seccomp"))
        l.seccomp = MD_TRY(parse_seccomp(*v, key_path(path, "seccomp")));
    MD_TRY(read(j, path, "rootfsPropagation", l.rootfs_propagation));
    if (!l.rootfs_propagation.empty())
        l.rootfs_propagation_flags =
            MD_TRY(propagation_flags(l.rootfs_propagation, key_path(path, "rootfsPropagation")));
    l.masked_paths = MD_TRY(read_absolute_paths(j, path, "maskedPaths"));
    l.readonly_paths = MD_TRY(read_absolute_paths(j, path, "readonlyPaths"));
    MD_TRY(read(j, path, "mountLabel", l.mount_label));
    return l;
}

}  // namespace mydocker::runtime::spec_detail
