// config.json and process.json: the top level, process, root, hooks and annotations.
// The "linux" object is in spec_linux.cpp, mounts in spec_mounts.cpp, resources in
// spec_resources.cpp. Everything is validated before the caller performs any side effect.
#include <sys/resource.h>

#include <set>
#include <string_view>

#include "runtime/capabilities.h"
#include "runtime/spec.h"
#include "runtime/spec_json.h"
#include "sys/files.h"

namespace mydocker::runtime {

using spec_detail::Json;

namespace {

using namespace spec_detail;

struct RlimitName {
    std::string_view name;
    int resource;
};

// The POSIX and Linux limits setrlimit(2) knows; the spec names them as the C macros.
constexpr RlimitName kRlimits[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

const RlimitName* find_rlimit(std::string_view name) {
    for (const auto& r : kRlimits)
        if (r.name == name) return &r;
    return nullptr;
}

// "NAME=VALUE" with a non-empty NAME: execve(2) would accept anything, but an entry
// without '=' is invisible to getenv() and almost always a templating mistake.
sys::Result<void> check_env(const std::vector<std::string>& env, std::string_view path) {
    for (size_t i = 0; i < env.size(); ++i) {
        auto eq = env[i].find('=');
        if (eq == std::string::npos || eq == 0)
            return sys::fail(invalid_at(index_path(path, i),
                                        "\"" + env[i] + "\" must have the form NAME=VALUE"));
    }
    return {};
}

sys::Result<User> parse_user(const Json& j, std::string_view path) {
    MD_TRY(expect_object(j, path));
    User u;
    MD_TRY(read_int(j, path, "uid", u.uid));
    MD_TRY(read_int(j, path, "gid", u.gid));
    MD_TRY(read_int<uint32_t>(j, path, "umask", u.umask, 0, 0777));
    if (const Json* v = member(j, "additionalGids")) {
        auto gids_path = key_path(path, "additionalGids");
        MD_TRY(expect_array(*v, gids_path));
        for (size_t i = 0; i < v->size(); ++i)
            u.additional_gids.push_back(
                MD_TRY(to_int<uint32_t>((*v)[i], index_path(gids_path, i))));
    }
    MD_TRY(read(j, path, "username", u.username));
    return u;
}

sys::Result<ConsoleSize> parse_console_size(const Json& j, std::string_view path) {
    MD_TRY(expect_object(j, path));
    ConsoleSize c;
    c.height = MD_TRY(require_int<uint32_t>(j, path, "height"));
    c.width = MD_TRY(require_int<uint32_t>(j, path, "width"));
    return c;
}

sys::Result<Capabilities> parse_capabilities(const Json& j, std::string_view path) {
    MD_TRY(expect_object(j, path));
    Capabilities caps;
    const std::pair<const char*, std::vector<std::string>*> sets[] = {
        {"bounding", &caps.bounding},       {"effective", &caps.effective},
        {"inheritable", &caps.inheritable}, {"permitted", &caps.permitted},
        {"ambient", &caps.ambient},
    };
    for (const auto& [key, list] : sets) {
        MD_TRY(read(j, path, key, *list));
        for (size_t i = 0; i < list->size(); ++i) {
            if (!capability_from_name((*list)[i]))
                return sys::fail(invalid_at(index_path(key_path(path, key), i),
                                            "unknown capability \"" + (*list)[i] + "\""));
        }
    }
    return caps;
}

sys::Result<std::vector<Rlimit>> parse_rlimits(const Json& j, std::string_view path) {
    MD_TRY(expect_array(j, path));
    std::vector<Rlimit> out;
    std::set<int> seen;
    for (size_t i = 0; i < j.size(); ++i) {
        auto item = index_path(path, i);
        const Json& o = j[i];
        MD_TRY(expect_object(o, item));
        Rlimit r;
        const Json* type = MD_TRY(require(o, item, "type"));
        r.type = MD_TRY(to_string(*type, key_path(item, "type")));
        const RlimitName* known = find_rlimit(r.type);
        if (!known)
            return sys::fail(
                invalid_at(key_path(item, "type"), "unknown rlimit \"" + r.type + "\""));
        r.resource = known->resource;
        // setrlimit(2) applies them in order, so a duplicate silently overrides the first.
        if (!seen.insert(r.resource).second)
            return sys::fail(
                invalid_at(key_path(item, "type"), "duplicate rlimit \"" + r.type + "\""));
        r.soft = MD_TRY(require_int<uint64_t>(o, item, "soft"));
        r.hard = MD_TRY(require_int<uint64_t>(o, item, "hard"));
        // setrlimit(2) would fail with a bare EINVAL in the container's init.
        if (r.soft > r.hard)
            return sys::fail(invalid_at(item, "soft limit " + std::to_string(r.soft) +
                                                  " is greater than hard limit " +
                                                  std::to_string(r.hard)));
        out.push_back(std::move(r));
    }
    return out;
}

// `path` is "process" in config.json and "" for a bare process.json (exec -p).
sys::Result<Process> parse_process_at(const Json& j, std::string_view path) {
    MD_TRY(expect_object(j, path));
    Process p;
    MD_TRY(read(j, path, "terminal", p.terminal));
    if (const Json* v = member(j, "consoleSize"))
        p.console_size = MD_TRY(parse_console_size(*v, key_path(path, "consoleSize")));
    if (const Json* v = member(j, "user")) p.user = MD_TRY(parse_user(*v, key_path(path, "user")));

    const Json* args = MD_TRY(require(j, path, "args"));
    p.args = MD_TRY(to_string_list(*args, key_path(path, "args")));
    if (p.args.empty()) return sys::fail(invalid_at(key_path(path, "args"), "must not be empty"));

    MD_TRY(read(j, path, "env", p.env));
    MD_TRY(check_env(p.env, key_path(path, "env")));
    // The spec makes cwd required; "/" when absent matches what users of exec -p expect.
    MD_TRY(read(j, path, "cwd", p.cwd));
    if (!is_absolute(p.cwd))
        return sys::fail(invalid_at(key_path(path, "cwd"), "must be an absolute path"));

    if (const Json* v = member(j, "capabilities"))
        p.capabilities = MD_TRY(parse_capabilities(*v, key_path(path, "capabilities")));
    if (const Json* v = member(j, "rlimits"))
        p.rlimits = MD_TRY(parse_rlimits(*v, key_path(path, "rlimits")));
    MD_TRY(read(j, path, "noNewPrivileges", p.no_new_privileges));
    // The range /proc/PID/oom_score_adj accepts.
    MD_TRY(read_int<int>(j, path, "oomScoreAdj", p.oom_score_adj, -1000, 1000));
    MD_TRY(read(j, path, "apparmorProfile", p.apparmor_profile));
    MD_TRY(read(j, path, "selinuxLabel", p.selinux_label));
    return p;
}

sys::Result<Root> parse_root(const Json& doc, const std::string& bundle) {
    const Json* j = MD_TRY(require(doc, "", "root"));
    MD_TRY(expect_object(*j, "root"));
    Root r;
    const Json* path = MD_TRY(require(*j, "root", "path"));
    r.path = MD_TRY(to_string(*path, "root.path"));
    if (r.path.empty()) return sys::fail(invalid_at("root.path", "must not be empty"));
    // runtime-spec: a relative root is relative to the bundle directory.
    if (!is_absolute(r.path)) {
        if (!is_absolute(bundle))
            return sys::fail(invalid_at(
                "root.path", "relative path \"" + r.path + "\" needs an absolute bundle path"));
        r.path = sys::path_join(bundle, r.path);
    }
    r.path = clean_path(r.path);
    MD_TRY(read(*j, "root", "readonly", r.readonly));
    return r;
}

sys::Result<std::vector<Hook>> parse_hook_list(const Json& j, std::string_view path) {
    MD_TRY(expect_array(j, path));
    std::vector<Hook> out;
    for (size_t i = 0; i < j.size(); ++i) {
        auto item = index_path(path, i);
        const Json& o = j[i];
        MD_TRY(expect_object(o, item));
        Hook h;
        const Json* hp = MD_TRY(require(o, item, "path"));
        h.path = MD_TRY(to_string(*hp, key_path(item, "path")));
        // Hooks run in the runtime namespace: a relative path would depend on our cwd.
        if (!is_absolute(h.path))
            return sys::fail(invalid_at(key_path(item, "path"), "must be an absolute path"));
        MD_TRY(read(o, item, "args", h.args));
        MD_TRY(read(o, item, "env", h.env));
        MD_TRY(check_env(h.env, key_path(item, "env")));
        MD_TRY(read_int<int>(o, item, "timeout", h.timeout, 1));
        out.push_back(std::move(h));
    }
    return out;
}

sys::Result<Hooks> parse_hooks(const Json& j, std::string_view path) {
    MD_TRY(expect_object(j, path));
    Hooks h;
    const std::pair<const char*, std::vector<Hook>*> kinds[] = {
        {"prestart", &h.prestart},
        {"createRuntime", &h.create_runtime},
        {"createContainer", &h.create_container},
        {"startContainer", &h.start_container},
        {"poststart", &h.poststart},
        {"poststop", &h.poststop},
    };
    for (const auto& [key, list] : kinds)
        if (const Json* v = member(j, key))
            *list = MD_TRY(parse_hook_list(*v, key_path(path, key)));
    return h;
}

// Setting the hostname of a shared UTS namespace would rename the host. Joining another
// container's namespace by path counts as private: containerd's pod containers do exactly
// that and still carry the pod's hostname.
sys::Result<void> check_uts_fields(const Spec& s) {
    bool private_uts = s.linux && s.linux->has_namespace(NamespaceType::uts);
    if (!s.hostname.empty() && !private_uts)
        return sys::fail(
            invalid_at("hostname", "unable to set hostname without a private UTS namespace"));
    if (!s.domainname.empty() && !private_uts)
        return sys::fail(
            invalid_at("domainname", "unable to set domainname without a private UTS namespace"));
    return {};
}

}  // namespace

sys::Result<Spec> parse_spec(const std::string& json_text, const std::string& bundle) {
    return parse_spec_doc(MD_TRY(parse_document(json_text, "config.json")), bundle);
}

sys::Result<Spec> parse_spec_doc(const Json& doc, const std::string& bundle) {
    if (!doc.is_object()) return sys::fail_invalid("config.json: must be a JSON object");

    Spec s;
    const Json* version = MD_TRY(require(doc, "", "ociVersion"));
    s.oci_version = MD_TRY(to_string(*version, "ociVersion"));
    // Same major version = compatible (runtime-spec follows semver); 1.0 through 1.2 parse alike.
    if (!s.oci_version.starts_with("1."))
        return sys::fail(
            invalid_at("ociVersion", "unsupported version \"" + s.oci_version + "\" (want 1.x)"));
    s.root = MD_TRY(parse_root(doc, bundle));
    // Optional here: `create` requires it, `runc spec`-style tooling may omit it.
    if (const Json* v = member(doc, "process")) s.process = MD_TRY(parse_process_at(*v, "process"));
    MD_TRY(read(doc, "", "hostname", s.hostname));
    MD_TRY(read(doc, "", "domainname", s.domainname));
    if (const Json* v = member(doc, "mounts"))
        s.mounts = MD_TRY(parse_mounts_at(*v, "mounts", bundle));
    if (const Json* v = member(doc, "hooks")) s.hooks = MD_TRY(parse_hooks(*v, "hooks"));
    MD_TRY(read(doc, "", "annotations", s.annotations));
    if (const Json* v = member(doc, "linux")) s.linux = MD_TRY(parse_linux_at(*v, "linux"));
    MD_TRY(check_uts_fields(s));
    return s;
}

sys::Result<Process> parse_process(const std::string& json_text) {
    auto doc = MD_TRY(parse_document(json_text, "process.json"));
    if (!doc.is_object()) return sys::fail_invalid("process.json: must be a JSON object");
    return parse_process_at(doc, "");
}

}  // namespace mydocker::runtime
