// Docker's seccomp profile format: parsing, and resolving a profile for one container the way
// docker's daemon does before it hands the OCI config to runc.
#include "engine/images/config.h"
#include "engine/containers/seccomp_profile.h"

#include <sys/utsname.h>

#include <algorithm>
#include <charconv>
#include <limits>

#include "runtime/seccomp.h"

namespace mydocker::engine::containers {

using Json = nlohmann::json;

namespace {

sys::Error bad_field(const std::string& path, const std::string& why) {
    return sys::Error::invalid(path + ": " + why);
}

std::string at_key(const std::string& path, const char* key) {
    return path.empty() ? key : path + "." + key;
}
std::string at_index(const std::string& path, size_t i) {
    return path + "[" + std::to_string(i) + "]";
}

const Json* member(const Json& j, const char* key) {
    auto it = j.find(key);
    return it == j.end() || it->is_null() ? nullptr : &*it;
}

sys::Result<std::string> get_string(const Json& j, const char* key, const std::string& path) {
    const Json* v = member(j, key);
    if (!v) return std::string();
    if (!v->is_string()) return sys::fail(bad_field(at_key(path, key), "must be a string"));
    return v->get<std::string>();
}

sys::Result<std::vector<std::string>> get_strings(const Json& j, const char* key,
                                                  const std::string& path) {
    std::vector<std::string> out;
    const Json* v = member(j, key);
    if (!v) return out;
    if (!v->is_array())
        return sys::fail(bad_field(at_key(path, key), "must be an array of strings"));
    for (size_t i = 0; i < v->size(); ++i) {
        if (!(*v)[i].is_string())
            return sys::fail(bad_field(at_index(at_key(path, key), i), "must be a string"));
        out.push_back((*v)[i].get<std::string>());
    }
    return out;
}

// Unsigned JSON integers only: a negative or fractional value is a mistake in the profile.
template <typename T>
sys::Result<std::optional<T>> get_uint(const Json& j, const char* key, const std::string& path) {
    const Json* v = member(j, key);
    if (!v) return std::optional<T>();
    if (!v->is_number_unsigned() || v->get<uint64_t>() > std::numeric_limits<T>::max())
        return sys::fail(bad_field(at_key(path, key), "must be a non-negative integer"));
    return std::optional<T>(static_cast<T>(v->get<uint64_t>()));
}

sys::Result<void> expect_object(const Json& j, const std::string& path) {
    if (!j.is_object()) return sys::fail(bad_field(path, "must be an object"));
    return {};
}

sys::Result<ProfileFilter> parse_filter(const Json& j, const std::string& path) {
    MD_TRY(expect_object(j, path));
    ProfileFilter f;
    f.caps = MD_TRY(get_strings(j, "caps", path));
    f.arches = MD_TRY(get_strings(j, "arches", path));
    std::string k = MD_TRY(get_string(j, "minKernel", path));
    if (!k.empty()) {
        f.min_kernel = parse_kernel_version(k);
        if (!f.min_kernel)
            return sys::fail(bad_field(at_key(path, "minKernel"),
                                       "\"" + k + "\" is not a kernel version like 4.8"));
    }
    return f;
}

sys::Result<runtime::SeccompArg> parse_arg(const Json& j, const std::string& path) {
    MD_TRY(expect_object(j, path));
    runtime::SeccompArg a;
    a.index = MD_TRY(get_uint<unsigned>(j, "index", path)).value_or(0);
    a.value = MD_TRY(get_uint<uint64_t>(j, "value", path)).value_or(0);
    a.value_two = MD_TRY(get_uint<uint64_t>(j, "valueTwo", path)).value_or(0);
    a.op = MD_TRY(get_string(j, "op", path));
    if (a.op.empty()) return sys::fail(bad_field(at_key(path, "op"), "required"));
    return a;
}

sys::Result<ProfileRule> parse_rule(const Json& j, const std::string& path) {
    MD_TRY(expect_object(j, path));
    ProfileRule r;
    std::string name = MD_TRY(get_string(j, "name", path));
    r.rule.names = MD_TRY(get_strings(j, "names", path));
    // Docker's older profiles give one "name" per rule; both at once is ambiguous.
    if (!name.empty() && !r.rule.names.empty())
        return sys::fail(bad_field(path, "\"name\" and \"names\" are both given: use one of them"));
    if (!name.empty()) r.rule.names = {name};
    if (r.rule.names.empty()) return sys::fail(bad_field(at_key(path, "names"), "required"));
    r.rule.action = MD_TRY(get_string(j, "action", path));
    if (r.rule.action.empty()) return sys::fail(bad_field(at_key(path, "action"), "required"));
    r.rule.errno_ret = MD_TRY(get_uint<uint32_t>(j, "errnoRet", path));
    if (const Json* args = member(j, "args")) {
        if (!args->is_array())
            return sys::fail(bad_field(at_key(path, "args"), "must be an array"));
        for (size_t i = 0; i < args->size(); ++i)
            r.rule.args.push_back(MD_TRY(parse_arg((*args)[i], at_index(at_key(path, "args"), i))));
    }
    if (const Json* inc = member(j, "includes"))
        r.includes = MD_TRY(parse_filter(*inc, at_key(path, "includes")));
    if (const Json* exc = member(j, "excludes"))
        r.excludes = MD_TRY(parse_filter(*exc, at_key(path, "excludes")));
    return r;
}

sys::Result<void> parse_arch_map(const Json& j, SeccompProfile& p) {
    if (!j.is_array()) return sys::fail(bad_field("archMap", "must be an array"));
    for (size_t i = 0; i < j.size(); ++i) {
        std::string path = at_index("archMap", i);
        MD_TRY(expect_object(j[i], path));
        ProfileArch a;
        a.arch = MD_TRY(get_string(j[i], "architecture", path));
        if (a.arch.empty()) return sys::fail(bad_field(at_key(path, "architecture"), "required"));
        a.sub_arches = MD_TRY(get_strings(j[i], "subArchitectures", path));
        p.arch_map.push_back(std::move(a));
    }
    return {};
}

// Every name the runtime would refuse, found now: the runtime's own check on the whole
// profile (each rule at its own index, every architecture of the map).
sys::Result<void> validate_names(const SeccompProfile& p) {
    runtime::Seccomp all;
    all.default_action = p.default_action;
    all.default_errno_ret = p.default_errno_ret;
    all.architectures = p.architectures;
    for (const auto& a : p.arch_map) {
        all.architectures.push_back(a.arch);
        all.architectures.insert(all.architectures.end(), a.sub_arches.begin(), a.sub_arches.end());
    }
    all.flags = p.flags;
    all.listener_path = p.listener_path;
    for (const auto& r : p.syscalls) all.syscalls.push_back(r.rule);
    return runtime::validate_seccomp(all);
}

sys::Result<SeccompProfile> parse_profile_json(const Json& j) {
    MD_TRY(expect_object(j, "profile"));
    SeccompProfile p;
    p.default_action = MD_TRY(get_string(j, "defaultAction", ""));
    if (p.default_action.empty()) return sys::fail(bad_field("defaultAction", "required"));
    p.default_errno_ret = MD_TRY(get_uint<uint32_t>(j, "defaultErrnoRet", ""));
    p.architectures = MD_TRY(get_strings(j, "architectures", ""));
    if (const Json* m = member(j, "archMap")) MD_TRY(parse_arch_map(*m, p));
    if (!p.architectures.empty() && !p.arch_map.empty())
        return sys::fail(sys::Error::invalid(
            "\"architectures\" and \"archMap\" are both given: use one of them"));
    p.flags = MD_TRY(get_strings(j, "flags", ""));
    p.listener_path = MD_TRY(get_string(j, "listenerPath", ""));
    p.listener_metadata = MD_TRY(get_string(j, "listenerMetadata", ""));
    if (const Json* s = member(j, "syscalls")) {
        if (!s->is_array()) return sys::fail(bad_field("syscalls", "must be an array"));
        for (size_t i = 0; i < s->size(); ++i)
            p.syscalls.push_back(MD_TRY(parse_rule((*s)[i], at_index("syscalls", i))));
    }
    MD_TRY(validate_names(p));
    return p;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

// Docker's rule: excluded when the arch is listed, when any listed capability is held, or
// when the kernel is at least minKernel; included only when the arch is listed, every listed
// capability is held, and the kernel is at least minKernel.
bool applies(const ProfileRule& r, const SeccompTarget& t) {
    const ProfileFilter& ex = r.excludes;
    if (contains(ex.arches, t.arch)) return false;
    if (std::any_of(ex.caps.begin(), ex.caps.end(),
                    [&](const std::string& c) { return contains(t.caps, c); }))
        return false;
    if (ex.min_kernel && t.kernel >= *ex.min_kernel) return false;
    const ProfileFilter& in = r.includes;
    if (!in.arches.empty() && !contains(in.arches, t.arch)) return false;
    if (!std::all_of(in.caps.begin(), in.caps.end(),
                     [&](const std::string& c) { return contains(t.caps, c); }))
        return false;
    if (in.min_kernel && t.kernel < *in.min_kernel) return false;
    return true;
}

// libseccomp's name of the architecture docker calls `arch`.
const char* native_scmp_arch(const std::string& arch) {
    static const std::pair<const char*, const char*> table[] = {
        {"amd64", "SCMP_ARCH_X86_64"},       {"386", "SCMP_ARCH_X86"},
        {"arm64", "SCMP_ARCH_AARCH64"},      {"arm", "SCMP_ARCH_ARM"},
        {"ppc64le", "SCMP_ARCH_PPC64LE"},    {"ppc64", "SCMP_ARCH_PPC64"},
        {"s390x", "SCMP_ARCH_S390X"},        {"riscv64", "SCMP_ARCH_RISCV64"},
        {"mips64", "SCMP_ARCH_MIPS64"},      {"mips64le", "SCMP_ARCH_MIPSEL64"},
        {"loong64", "SCMP_ARCH_LOONGARCH64"}};
    for (auto [go, scmp] : table)
        if (arch == go) return scmp;
    return "";
}


}  // namespace

std::optional<KernelVersion> parse_kernel_version(std::string_view s) {
    KernelVersion v;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v.major);
    if (ec != std::errc() || p == s.data() + s.size() || *p != '.') return std::nullopt;
    const char* end = s.data() + s.size();
    auto [q, ec2] = std::from_chars(p + 1, end, v.minor);
    if (ec2 != std::errc()) return std::nullopt;
    // "4.8" exactly, or a release string going on with ".patch" or "-flavour".
    if (q != end && *q != '.' && *q != '-' && *q != '+') return std::nullopt;
    return v;
}

sys::Result<SeccompProfile> parse_seccomp_profile(std::string_view text) {
    Json j;
    try {
        j = Json::parse(text);
    } catch (const std::exception& e) {
        return sys::fail(sys::Error::invalid(std::string("not valid JSON: ") + e.what()));
    }
    return parse_profile_json(j);
}

SeccompTarget host_seccomp_target(std::vector<std::string> caps) {
    SeccompTarget t;
    t.caps = std::move(caps);
    t.arch = images::host_architecture();
    struct utsname u;
    if (::uname(&u) == 0)
        if (auto v = parse_kernel_version(u.release)) t.kernel = *v;
    return t;
}

runtime::Seccomp resolve_seccomp_profile(const SeccompProfile& p, const SeccompTarget& t) {
    runtime::Seccomp s;
    s.default_action = p.default_action;
    s.default_errno_ret = p.default_errno_ret;
    s.architectures = p.architectures;
    const std::string native = native_scmp_arch(t.arch);
    for (const auto& a : p.arch_map) {
        if (a.arch != native) continue;
        s.architectures = {a.arch};
        s.architectures.insert(s.architectures.end(), a.sub_arches.begin(), a.sub_arches.end());
    }
    s.flags = p.flags;
    s.listener_path = p.listener_path;
    s.listener_metadata = p.listener_metadata;
    for (const auto& r : p.syscalls)
        if (applies(r, t)) s.syscalls.push_back(r.rule);
    return s;
}

Json seccomp_to_json(const runtime::Seccomp& s) {
    Json j = {{"defaultAction", s.default_action}};
    if (s.default_errno_ret) j["defaultErrnoRet"] = *s.default_errno_ret;
    if (!s.architectures.empty()) j["architectures"] = s.architectures;
    if (!s.flags.empty()) j["flags"] = s.flags;
    if (!s.listener_path.empty()) j["listenerPath"] = s.listener_path;
    if (!s.listener_metadata.empty()) j["listenerMetadata"] = s.listener_metadata;
    Json calls = Json::array();
    for (const auto& sc : s.syscalls) {
        Json c = {{"names", sc.names}, {"action", sc.action}};
        if (sc.errno_ret) c["errnoRet"] = *sc.errno_ret;
        if (!sc.args.empty()) {
            Json args = Json::array();
            for (const auto& a : sc.args)
                args.push_back({{"index", a.index},
                                {"value", a.value},
                                {"valueTwo", a.value_two},
                                {"op", a.op}});
            c["args"] = std::move(args);
        }
        calls.push_back(std::move(c));
    }
    j["syscalls"] = std::move(calls);
    return j;
}

}  // namespace mydocker::engine::containers
