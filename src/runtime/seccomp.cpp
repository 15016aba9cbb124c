// seccomp: the spec's filter compiled with libseccomp in the parent, where a bad profile is
// found before anything is cloned; the init stage only calls load().
#include "runtime/seccomp.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

#include "sys/fd.h"
#include "sys/files.h"

namespace mydocker::runtime {

namespace {

// Linux system calls take at most six arguments; libseccomp numbers them 0-5.
constexpr unsigned max_syscall_args = 6;
// Above this many rules a binary tree of syscall numbers beats libseccomp's linear list
// (runc uses the same threshold; libseccomp <= 2.5.4 mishandles the tree with no rules).
constexpr size_t binary_tree_threshold = 32;

enum class ActionKind { kill_thread, kill_process, trap, errno_ret, trace, allow, log, notify };

struct ActionName {
    std::string_view name;
    ActionKind kind;
};

constexpr std::array<ActionName, 9> actions = {{
    {"SCMP_ACT_KILL", ActionKind::kill_thread},  // the historical name of KILL_THREAD
    {"SCMP_ACT_KILL_THREAD", ActionKind::kill_thread},
    {"SCMP_ACT_KILL_PROCESS", ActionKind::kill_process},
    {"SCMP_ACT_TRAP", ActionKind::trap},
    {"SCMP_ACT_ERRNO", ActionKind::errno_ret},
    {"SCMP_ACT_TRACE", ActionKind::trace},
    {"SCMP_ACT_ALLOW", ActionKind::allow},
    {"SCMP_ACT_LOG", ActionKind::log},
    {"SCMP_ACT_NOTIFY", ActionKind::notify},
}};

struct OpName {
    std::string_view name;
    scmp_compare op;
};

constexpr std::array<OpName, 7> operators = {{
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
}};

struct ArchName {
    std::string_view name;
    uint32_t arch;  // 0: a name the runtime-spec knows but this libseccomp does not
};

constexpr std::array<ArchName, 20> architectures = {{
    {"SCMP_ARCH_X86", SCMP_ARCH_X86},
    {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
    {"SCMP_ARCH_X32", SCMP_ARCH_X32},
    {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
    {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
    {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
    {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
    {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
    {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
    {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
    {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
    {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
    {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
    {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
    {"SCMP_ARCH_S390", SCMP_ARCH_S390},
    {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
    {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},
    {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
    {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
#ifdef SCMP_ARCH_LOONGARCH64
    {"SCMP_ARCH_LOONGARCH64", SCMP_ARCH_LOONGARCH64},
#else
    {"SCMP_ARCH_LOONGARCH64", 0},  // libseccomp 2.6
#endif
}};

#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6)
#define MD_HAVE_SCMP_WAITKILL 1
#endif

struct FlagName {
    std::string_view name;
    std::optional<scmp_filter_attr> attr;  // nullopt: known, but this libseccomp cannot set it
    unsigned long kernel_flag;             // what seccomp(2) is given for it
};

const std::array<FlagName, 4> filter_flags = {{
    {"SECCOMP_FILTER_FLAG_TSYNC", SCMP_FLTATR_CTL_TSYNC, SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SCMP_FLTATR_CTL_LOG, SECCOMP_FILTER_FLAG_LOG},
    // libseccomp names the "speculative store bypass" mitigation switch SSB.
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SCMP_FLTATR_CTL_SSB, SECCOMP_FILTER_FLAG_SPEC_ALLOW},
#ifdef MD_HAVE_SCMP_WAITKILL
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SCMP_FLTATR_CTL_WAITKILL,
     SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
#else
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", std::nullopt, 0},
#endif
}};

template <typename Table>
auto find_name(const Table& table, std::string_view name) -> const typename Table::value_type* {
    for (const auto& entry : table)
        if (entry.name == name) return &entry;
    return nullptr;
}

std::string quoted(std::string_view s) {
    return "\"" + std::string(s) + "\"";
}

// errnoRet fills the 16-bit data field of SECCOMP_RET_ERRNO / SECCOMP_RET_TRACE.
sys::Result<void> check_errno_ret(std::optional<uint32_t> ret, ActionKind kind,
                                  std::string_view field) {
    if (!ret) return {};
    // runtime-spec: "When the action doesn't support an errno, the runtime MUST print an
    // error and fail".
    if (kind != ActionKind::errno_ret && kind != ActionKind::trace)
        return sys::fail_invalid(std::string(field) +
                                 ": only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
    if (*ret > 0xffff)
        return sys::fail_invalid(std::string(field) + ": " + std::to_string(*ret) +
                                 " does not fit the 16-bit return value");
    return {};
}

// The action word for libseccomp. Without errnoRet both ERRNO and TRACE carry EPERM, as in
// runc (for TRACE the value is the message the tracer reads with PTRACE_GETEVENTMSG).
uint32_t action_value(ActionKind kind, std::optional<uint32_t> ret) {
    const uint32_t data = ret.value_or(EPERM);
    switch (kind) {
        case ActionKind::kill_thread:
            return SCMP_ACT_KILL_THREAD;
        case ActionKind::kill_process:
            return SCMP_ACT_KILL_PROCESS;
        case ActionKind::trap:
            return SCMP_ACT_TRAP;
        case ActionKind::errno_ret:
            return SCMP_ACT_ERRNO(data);
        case ActionKind::trace:
            return SCMP_ACT_TRACE(data);
        case ActionKind::allow:
            return SCMP_ACT_ALLOW;
        case ActionKind::log:
            return SCMP_ACT_LOG;
        case ActionKind::notify:
            return SCMP_ACT_NOTIFY;
    }
    return SCMP_ACT_KILL_PROCESS;
}

// True when some argument index appears twice: libseccomp ANDs the comparisons of one rule
// and refuses two on the same argument, so such a rule becomes one rule per comparison
// (an OR), which is what runc does and what existing profiles were written against.
bool has_repeated_index(const std::vector<SeccompArg>& args) {
    unsigned counts[max_syscall_args] = {};
    for (const auto& a : args)
        if (++counts[a.index] > 1) return true;
    return false;
}

scmp_arg_cmp to_arg_cmp(const SeccompArg& a) {
    // For SCMP_CMP_MASKED_EQ, value is the mask and valueTwo the datum: (arg & value) == valueTwo.
    return scmp_arg_cmp{a.index, find_name(operators, a.op)->op, a.value, a.value_two};
}

// The BPF program of `ctx`. libseccomp 2.5 exports it only to a file descriptor: a memfd.
sys::Result<std::vector<sock_filter>> generate_bpf(scmp_filter_ctx ctx) {
    int mfd = ::memfd_create("seccomp-bpf", MFD_CLOEXEC);
    if (mfd < 0) return sys::fail_errno("memfd_create for the seccomp program");
    sys::UniqueFd fd(mfd);
    if (int rc = seccomp_export_bpf(ctx, fd.get()); rc < 0)
        return sys::fail(sys::Error::from_errno(-rc, "generate the seccomp program"));
    if (::lseek(fd.get(), 0, SEEK_SET) < 0) return sys::fail_errno("seek the seccomp program");
    std::string bytes = MD_TRY(sys::read_fd(fd.get()));
    // The kernel takes at most BPF_MAXINSNS (4096) instructions per filter.
    if (bytes.empty() || bytes.size() % sizeof(sock_filter) != 0 ||
        bytes.size() / sizeof(sock_filter) > BPF_MAXINSNS)
        return sys::fail_invalid("seccomp: the filter needs " +
                                 std::to_string(bytes.size() / sizeof(sock_filter)) +
                                 " BPF instructions, more than the kernel's 4096");
    std::vector<sock_filter> prog(bytes.size() / sizeof(sock_filter));
    std::memcpy(prog.data(), bytes.data(), bytes.size());
    return prog;
}

}  // namespace

struct SeccompFilter::Impl {
    scmp_filter_ctx ctx = nullptr;
    bool notify = false;  // a SCMP_ACT_NOTIFY rule made it into the filter
    // The BPF program libseccomp generated from ctx, and the seccomp(2) flags to load it
    // with: made in the parent, so the init stage only makes the syscall.
    std::vector<sock_filter> program;
    unsigned long flags = 0;

    Impl() = default;
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    ~Impl() {
        if (ctx) seccomp_release(ctx);
    }
};

SeccompFilter::SeccompFilter() = default;
SeccompFilter::~SeccompFilter() = default;
SeccompFilter::SeccompFilter(SeccompFilter&&) noexcept = default;
SeccompFilter& SeccompFilter::operator=(SeccompFilter&&) noexcept = default;

bool SeccompFilter::uses_notify() const {
    return impl_ && impl_->notify;
}

sys::Result<int> SeccompFilter::load() const {
    // Runs in the init stage (after `start`, on the way to execve): one syscall, the program
    // was generated by compile_seccomp. (libseccomp's seccomp_load would generate it here: a
    // few ms for a profile of docker's size, during which the container is not yet its process.)
    if (!impl_ || impl_->program.empty())
        return sys::fail(sys::Error::bad_state("no seccomp filter compiled"));
    sock_fprog prog{static_cast<unsigned short>(impl_->program.size()),
                    const_cast<sock_filter*>(impl_->program.data())};
    long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, impl_->flags, &prog);
    if (rc < 0) return sys::fail(sys::Error::from_errno(errno, "load seccomp filter"));
    // With NEW_LISTENER the result is the listener fd (O_CLOEXEC). With TSYNC alone a positive
    // result is the id of a thread that could not be synchronized.
    if (impl_->notify) return static_cast<int>(rc);
    if (rc > 0)
        return sys::fail(sys::Error::from_errno(
            ESRCH,
            "load seccomp filter: thread " + std::to_string(rc) + " could not be synchronized"));
    return -1;
}

sys::Result<void> validate_seccomp(const Seccomp& s) {
    if (s.default_action.empty()) return sys::fail_invalid("defaultAction: required");
    const ActionName* def = find_name(actions, s.default_action);
    if (!def) return sys::fail_invalid("defaultAction: unknown action " + quoted(s.default_action));
    // A notifying default would stop the init stage on its first syscall after load, before
    // the listener fd can reach the agent that must answer it (runc refuses it too).
    if (def->kind == ActionKind::notify)
        return sys::fail_invalid("defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
    MD_TRY(check_errno_ret(s.default_errno_ret, def->kind, "defaultErrnoRet"));

    for (size_t i = 0; i < s.architectures.size(); ++i)
        if (!find_name(architectures, s.architectures[i]))
            return sys::fail_invalid("architectures[" + std::to_string(i) +
                                     "]: unknown architecture " + quoted(s.architectures[i]));
    for (size_t i = 0; i < s.flags.size(); ++i)
        if (!find_name(filter_flags, s.flags[i]))
            return sys::fail_invalid("flags[" + std::to_string(i) + "]: unknown flag " +
                                     quoted(s.flags[i]));

    bool notify = false;
    for (size_t i = 0; i < s.syscalls.size(); ++i) {
        const auto& sc = s.syscalls[i];
        const std::string field = "syscalls[" + std::to_string(i) + "]";
        if (sc.names.empty()) return sys::fail_invalid(field + ".names: must not be empty");
        for (size_t j = 0; j < sc.names.size(); ++j)
            if (sc.names[j].empty())
                return sys::fail_invalid(field + ".names[" + std::to_string(j) +
                                         "]: empty syscall name");
        const ActionName* act = find_name(actions, sc.action);
        if (!act) return sys::fail_invalid(field + ".action: unknown action " + quoted(sc.action));
        MD_TRY(check_errno_ret(sc.errno_ret, act->kind, field + ".errnoRet"));
        if (act->kind == ActionKind::notify) {
            notify = true;
            // After load the init stage hands the listener fd to the parent with write(2)
            // or sendmsg(2); notifying either would block it forever.
            for (const auto& name : sc.names)
                if (name == "write" || name == "sendmsg")
                    return sys::fail_invalid(field + ": SCMP_ACT_NOTIFY cannot be used for " +
                                             quoted(name));
        }
        for (size_t k = 0; k < sc.args.size(); ++k) {
            const auto& a = sc.args[k];
            const std::string afield = field + ".args[" + std::to_string(k) + "]";
            if (a.index >= max_syscall_args)
                return sys::fail_invalid(afield + ".index: " + std::to_string(a.index) +
                                         " is out of range (0-5)");
            if (!find_name(operators, a.op))
                return sys::fail_invalid(afield + ".op: unknown operator " + quoted(a.op));
        }
    }
    // The runtime sends the container state and the listener fd to this socket; without it
    // nobody could ever answer a notification and the container would hang.
    if (notify && s.listener_path.empty())
        return sys::fail_invalid("listenerPath: required when SCMP_ACT_NOTIFY is used");
    // The parent connects to it from wherever it runs (runc's and podman's cwd differ): a
    // relative path would name a different socket for each caller.
    if (notify && s.listener_path[0] != '/')
        return sys::fail_invalid("listenerPath: \"" + s.listener_path +
                                 "\" must be an absolute path");
    return {};
}

namespace {

// libseccomp's filter of the validated `s`, generated as a BPF program.
sys::Result<std::unique_ptr<SeccompFilter::Impl>> build_filter(const Seccomp& s,
                                                               const sys::Logger& log) {
    const ActionName* def = find_name(actions, s.default_action);
    const uint32_t def_action = action_value(def->kind, s.default_errno_ret);

    auto impl = std::make_unique<SeccompFilter::Impl>();
    scmp_filter_ctx ctx = impl->ctx = seccomp_init(def_action);
    // seccomp_init gives no errno; it fails for an action the kernel or library lacks.
    if (!ctx)
        return sys::fail_invalid("defaultAction: " + quoted(s.default_action) +
                                 " is not supported by this kernel or libseccomp");

    auto set_attr = [&](scmp_filter_attr attr, uint32_t value,
                        std::string what) -> sys::Result<void> {
        if (int rc = seccomp_attr_set(ctx, attr, value); rc < 0)
            return sys::fail(sys::Error::from_errno(-rc, std::move(what)));
        return {};
    };
    // The runtime sets no_new_privs itself, and only when process.noNewPrivileges asks.
    MD_TRY(set_attr(SCMP_FLTATR_CTL_NNP, 0, "seccomp: clear the no_new_privs attribute"));
    // Without this libseccomp reports the kernel's failures (a flag it lacks) as ECANCELED.
    MD_TRY(set_attr(SCMP_FLTATR_API_SYSRAWRC, 1, "seccomp: ask for raw return codes"));

    for (size_t i = 0; i < s.architectures.size(); ++i) {
        const ArchName* arch = find_name(architectures, s.architectures[i]);
        const std::string field = "architectures[" + std::to_string(i) + "]";
        if (arch->arch == 0)
            return sys::fail_invalid(field + ": " + quoted(arch->name) +
                                     " is not supported by this libseccomp");
        // The native architecture is in every new filter already.
        if (int rc = seccomp_arch_add(ctx, arch->arch); rc < 0 && rc != -EEXIST)
            return sys::fail(sys::Error::from_errno(-rc, field + ": add " + quoted(arch->name)));
    }

    for (size_t i = 0; i < s.flags.size(); ++i) {
        const FlagName* flag = find_name(filter_flags, s.flags[i]);
        const std::string field = "flags[" + std::to_string(i) + "]";
        if (!flag->attr)
            return sys::fail_invalid(
                field + ": " + quoted(flag->name) + " needs libseccomp >= 2.6 " + "(built with " +
                std::to_string(SCMP_VER_MAJOR) + "." + std::to_string(SCMP_VER_MINOR) + ")");
        MD_TRY(set_attr(*flag->attr, 1,
                        field + ": " + quoted(flag->name) + " is not supported by this kernel"));
        impl->flags |= flag->kernel_flag;
    }

    size_t rules = 0;
    for (size_t i = 0; i < s.syscalls.size(); ++i) {
        const auto& sc = s.syscalls[i];
        const std::string field = "syscalls[" + std::to_string(i) + "]";
        const ActionKind kind = find_name(actions, sc.action)->kind;
        const uint32_t action = action_value(kind, sc.errno_ret);
        // libseccomp refuses a rule that repeats the default action; it changes nothing.
        if (action == def_action) {
            if (log.enabled(sys::LogLevel::debug))
                log.debug("seccomp: " + field + " has the default action " + quoted(sc.action) +
                          ", skipped");
            continue;
        }
        std::array<scmp_arg_cmp, max_syscall_args> cmps{};
        const bool split = has_repeated_index(sc.args);
        if (!split)
            for (size_t k = 0; k < sc.args.size(); ++k) cmps[k] = to_arg_cmp(sc.args[k]);

        for (const auto& name : sc.names) {
            const int nr = seccomp_syscall_resolve_name(name.c_str());
            // Profiles list syscalls of newer kernels (and of other architectures that this
            // libseccomp does not know); like runc, such names are ignored.
            if (nr == __NR_SCMP_ERROR) {
                log.debug("seccomp: unknown syscall " + quoted(name) + " skipped");
                continue;
            }
            auto add = [&](unsigned count, const scmp_arg_cmp* arr) -> sys::Result<void> {
                // Not the _exact variant: libseccomp maps the rule onto every architecture of
                // the filter and leaves it out where the syscall does not exist.
                if (int rc = seccomp_rule_add_array(ctx, action, nr, count, arr); rc < 0)
                    return sys::fail(
                        sys::Error::from_errno(-rc, field + ": add rule for " + quoted(name)));
                ++rules;
                return {};
            };
            if (split) {
                for (const auto& a : sc.args) {
                    const scmp_arg_cmp one = to_arg_cmp(a);
                    MD_TRY(add(1, &one));
                }
            } else {
                MD_TRY(add(static_cast<unsigned>(sc.args.size()), cmps.data()));
            }
            if (kind == ActionKind::notify) impl->notify = true;
        }
    }

    if (rules > binary_tree_threshold) {
        if (int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2); rc < 0)
            log.debug("seccomp: binary tree optimization not available, using a linear filter");
    }
    // Notification needs the kernel's SECCOMP_FILTER_FLAG_NEW_LISTENER (API level 5); TSYNC
    // together with it needs SECCOMP_FILTER_FLAG_TSYNC_ESRCH (level 6).
    if (impl->notify) {
        const unsigned api = seccomp_api_get();
        if (api < 5)
            return sys::fail_invalid(
                "SCMP_ACT_NOTIFY is not supported by this kernel or "
                "libseccomp (API level " +
                std::to_string(api) + ", needs 5)");
        // As libseccomp asks for them: a listener, and with TSYNC an error rather than a
        // thread id when synchronizing fails (the result is the listener fd).
        impl->flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
        if (impl->flags & SECCOMP_FILTER_FLAG_TSYNC) impl->flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
    }
    impl->program = MD_TRY(generate_bpf(ctx));
    // The program is all that is loaded: the rules can go before the init is cloned.
    seccomp_release(ctx);
    impl->ctx = nullptr;
    return impl;
}

// The cache of generated programs (compile_seccomp's cache_dir). The key is the whole input
// of the generation: every field of the profile that reaches libseccomp, libseccomp's
// version, the kernel's API level (libseccomp picks actions and flags by it) and the native
// architecture. Each field is length-prefixed, so no two profiles share a key.
std::string cache_key(const Seccomp& s) {
    std::string k = "mydocker seccomp program 1\n";
    auto add = [&k](std::string_view v) {
        k += std::to_string(v.size());
        k += ':';
        k += v;
    };
    auto add_num = [&](std::optional<uint64_t> v) { add(v ? std::to_string(*v) : "-"); };
    add_num(SCMP_VER_MAJOR * 10000ULL + SCMP_VER_MINOR * 100ULL + SCMP_VER_MICRO);
    add_num(seccomp_api_get());
    add_num(seccomp_arch_native());
    add(s.default_action);
    add_num(s.default_errno_ret);
    add_num(s.architectures.size());
    for (const auto& a : s.architectures) add(a);
    add_num(s.flags.size());
    for (const auto& f : s.flags) add(f);
    add_num(s.syscalls.size());
    for (const auto& sc : s.syscalls) {
        add_num(sc.names.size());
        for (const auto& n : sc.names) add(n);
        add(sc.action);
        add_num(sc.errno_ret);
        add_num(sc.args.size());
        for (const auto& a : sc.args) {
            add_num(a.index);
            add_num(a.value);
            add_num(a.value_two);
            add(a.op);
        }
    }
    return k;
}

// FNV-1a: only names the file; the key inside is compared whole.
std::string cache_path(const std::string& dir, const std::string& key) {
    uint64_t h = 14695981039346656037ULL;
    for (unsigned char c : key) h = (h ^ c) * 1099511628211ULL;
    char name[32];
    std::snprintf(name, sizeof name, "%016llx.bpf", static_cast<unsigned long long>(h));
    return dir + "/" + name;
}

// A file is the key, a NUL, the seccomp(2) flags (8 bytes), the notify byte, the program.
std::unique_ptr<SeccompFilter::Impl> read_cached(const std::string& dir, const std::string& key) {
    auto text = sys::read_file(cache_path(dir, key));
    const size_t head = key.size() + 1 + sizeof(uint64_t) + 1;
    if (!text || text->size() <= head || text->compare(0, key.size(), key) != 0 ||
        (*text)[key.size()] != '\0')
        return nullptr;
    const size_t prog_bytes = text->size() - head;
    if (prog_bytes % sizeof(sock_filter) != 0 || prog_bytes / sizeof(sock_filter) > BPF_MAXINSNS)
        return nullptr;
    auto impl = std::make_unique<SeccompFilter::Impl>();
    uint64_t flags = 0;
    std::memcpy(&flags, text->data() + key.size() + 1, sizeof flags);
    impl->flags = flags;
    impl->notify = (*text)[head - 1] != 0;
    impl->program.resize(prog_bytes / sizeof(sock_filter));
    std::memcpy(impl->program.data(), text->data() + head, prog_bytes);
    return impl;
}

void write_cached(const std::string& dir, const std::string& key, const SeccompFilter::Impl& impl,
                  const sys::Logger& log) {
    std::string data = key;
    data += '\0';
    const uint64_t flags = impl.flags;
    data.append(reinterpret_cast<const char*>(&flags), sizeof flags);
    data += impl.notify ? '\1' : '\0';
    data.append(reinterpret_cast<const char*>(impl.program.data()),
                impl.program.size() * sizeof(sock_filter));
    auto r = sys::mkdir_all(dir, 0700);
    if (r) r = sys::write_file_atomic(cache_path(dir, key), data, 0600);
    if (!r) log.debug("seccomp: program not cached: " + r.error().message());
}

}  // namespace

sys::Result<SeccompFilter> compile_seccomp(const Seccomp& s, const sys::Logger& log,
                                           const std::string& cache_dir) {
    MD_TRY(validate_seccomp(s));
    SeccompFilter filter;
    const std::string key = cache_dir.empty() ? std::string() : cache_key(s);
    if (!key.empty()) filter.impl_ = read_cached(cache_dir, key);
    if (filter.impl_) return filter;
    filter.impl_ = MD_TRY(build_filter(s, log));
    if (!key.empty()) write_cached(cache_dir, key, *filter.impl_, log);
    return filter;
}

}  // namespace mydocker::runtime
