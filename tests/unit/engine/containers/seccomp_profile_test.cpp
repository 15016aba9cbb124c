// The default seccomp profile and docker's profile format: which rules a container gets for
// its capabilities, architecture and kernel; parsing and its errors.
// One test loads the resolved default filter in a forked child and makes real syscalls.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "child_process.h"
#include "engine/containers/seccomp_profile.h"
#include "runtime/capabilities.h"
#include "runtime/seccomp.h"

using namespace mydocker;
using namespace mydocker::engine::containers;

namespace {

SeccompTarget target(std::vector<std::string> extra_caps = {}, std::string arch = "amd64",
                     KernelVersion k = {6, 1}) {
    SeccompTarget t;
    t.caps = runtime::default_capabilities();
    t.caps.insert(t.caps.end(), extra_caps.begin(), extra_caps.end());
    t.arch = std::move(arch);
    t.kernel = k;
    return t;
}

// The rules naming `name`.
std::vector<runtime::SeccompSyscall> rules_for(const runtime::Seccomp& s, const std::string& name) {
    std::vector<runtime::SeccompSyscall> out;
    for (const auto& r : s.syscalls)
        if (std::find(r.names.begin(), r.names.end(), name) != r.names.end()) out.push_back(r);
    return out;
}

// Allowed whatever the arguments: an SCMP_ACT_ALLOW rule without conditions.
bool allowed_outright(const runtime::Seccomp& s, const std::string& name) {
    for (const auto& r : rules_for(s, name))
        if (r.action == "SCMP_ACT_ALLOW" && r.args.empty()) return true;
    return false;
}

}  // namespace

TEST(DefaultSeccomp, AllowListWithEpermDefault) {
    auto s = resolve_seccomp_profile(default_seccomp_profile(), target());
    EXPECT_EQ(s.default_action, "SCMP_ACT_ERRNO");
    ASSERT_TRUE(s.default_errno_ret);
    EXPECT_EQ(*s.default_errno_ret, static_cast<uint32_t>(EPERM));
    EXPECT_EQ(s.architectures,
              (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
    for (const char* ok :
         {"read", "getpid", "execve", "arch_prctl", "chroot", "ptrace", "io_uring_setup"})
        EXPECT_TRUE(allowed_outright(s, ok)) << ok;
    for (const char* no :
         {"keyctl", "add_key", "request_key", "userfaultfd", "mount", "umount2", "unshare", "setns",
          "pivot_root", "reboot", "init_module", "acct", "kcmp", "bpf", "perf_event_open",
          "settimeofday", "clock_settime", "kexec_load", "open_by_handle_at"})
        EXPECT_TRUE(rules_for(s, no).empty()) << no;
    // personality: only the five harmless values, each a rule of its own (ORed).
    auto pers = rules_for(s, "personality");
    ASSERT_EQ(pers.size(), 5u);
    for (const auto& r : pers) {
        ASSERT_EQ(r.args.size(), 1u);
        EXPECT_EQ(r.args[0].op, "SCMP_CMP_EQ");
    }
}

TEST(DefaultSeccomp, CloneWithoutSysAdmin) {
    auto s = resolve_seccomp_profile(default_seccomp_profile(), target());
    auto clone = rules_for(s, "clone");
    ASSERT_EQ(clone.size(), 1u);
    ASSERT_EQ(clone[0].args.size(), 1u);
    EXPECT_EQ(clone[0].args[0].index, 0u);
    EXPECT_EQ(clone[0].args[0].op, "SCMP_CMP_MASKED_EQ");
    EXPECT_EQ(clone[0].args[0].value,
              static_cast<uint64_t>(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
                                    CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP));
    EXPECT_EQ(clone[0].args[0].value_two, 0u);
    auto clone3 = rules_for(s, "clone3");
    ASSERT_EQ(clone3.size(), 1u);
    EXPECT_EQ(clone3[0].action, "SCMP_ACT_ERRNO");
    EXPECT_EQ(clone3[0].errno_ret, std::optional<uint32_t>(ENOSYS));
    // s390 passes clone's flags second.
    auto s390 = resolve_seccomp_profile(default_seccomp_profile(), target({}, "s390x"));
    auto c390 = rules_for(s390, "clone");
    ASSERT_EQ(c390.size(), 1u);
    EXPECT_EQ(c390[0].args.at(0).index, 1u);
}

TEST(DefaultSeccomp, CapabilitiesUnlockRules) {
    auto admin = resolve_seccomp_profile(default_seccomp_profile(), target({"CAP_SYS_ADMIN"}));
    for (const char* n :
         {"mount", "umount2", "unshare", "setns", "clone", "clone3", "bpf", "sethostname"})
        EXPECT_TRUE(allowed_outright(admin, n)) << n;
    // The conditioned clone and clone3's ENOSYS are for containers without CAP_SYS_ADMIN.
    EXPECT_EQ(rules_for(admin, "clone").size(), 1u);
    EXPECT_EQ(rules_for(admin, "clone3").size(), 1u);
    EXPECT_TRUE(rules_for(admin, "keyctl").empty());
    EXPECT_TRUE(rules_for(admin, "userfaultfd").empty());

    struct Case {
        const char* cap;
        const char* syscall;
    } cases[] = {{"CAP_SYS_BOOT", "reboot"},
                 {"CAP_SYS_MODULE", "finit_module"},
                 {"CAP_SYS_PACCT", "acct"},
                 {"CAP_SYS_PTRACE", "kcmp"},
                 {"CAP_SYS_TIME", "clock_settime"},
                 {"CAP_BPF", "bpf"},
                 {"CAP_PERFMON", "perf_event_open"},
                 {"CAP_SYS_RAWIO", "ioperm"},
                 {"CAP_SYS_NICE", "mbind"},
                 {"CAP_DAC_READ_SEARCH", "open_by_handle_at"},
                 {"CAP_SYSLOG", "syslog"}};
    for (const auto& c : cases) {
        auto s = resolve_seccomp_profile(default_seccomp_profile(), target({c.cap}));
        EXPECT_TRUE(allowed_outright(s, c.syscall)) << c.cap;
    }
    // Without CAP_SYS_CHROOT (docker's default set has it) chroot goes too.
    auto t = target();
    t.caps.erase(std::remove(t.caps.begin(), t.caps.end(), "CAP_SYS_CHROOT"), t.caps.end());
    EXPECT_TRUE(rules_for(resolve_seccomp_profile(default_seccomp_profile(), t), "chroot").empty());
}

TEST(DefaultSeccomp, KernelAndArchFilters) {
    // Before 4.8 a tracer could steer a syscall past the filter: ptrace only with CAP_SYS_PTRACE.
    auto old = resolve_seccomp_profile(default_seccomp_profile(), target({}, "amd64", {4, 4}));
    EXPECT_FALSE(allowed_outright(old, "ptrace"));
    auto old_ptrace = resolve_seccomp_profile(default_seccomp_profile(),
                                              target({"CAP_SYS_PTRACE"}, "amd64", {4, 4}));
    EXPECT_TRUE(allowed_outright(old_ptrace, "ptrace"));
    auto arm = resolve_seccomp_profile(default_seccomp_profile(), target({}, "arm64"));
    EXPECT_EQ(arm.architectures, (std::vector<std::string>{"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"}));
    EXPECT_FALSE(allowed_outright(arm, "arch_prctl"));
    EXPECT_TRUE(allowed_outright(arm, "cacheflush"));
}

TEST(DefaultSeccomp, CompilesAndDeniesForReal) {
    auto s = resolve_seccomp_profile(default_seccomp_profile(),
                                     host_seccomp_target(runtime::default_capabilities()));
    sys::Logger log;
    auto filter = runtime::compile_seccomp(s, log);
    ASSERT_TRUE(filter) << filter.error().message();
    auto r = mydocker::testing::run_in_child([&]() -> std::string {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return "PR_SET_NO_NEW_PRIVS failed";
        if (auto fd = filter->load(); !fd) return "load: " + fd.error().message();
        auto expect = [](long rc, int want, const char* what) -> std::string {
            int err = rc < 0 ? errno : 0;
            return err == want ? "" : std::string(what) + ": errno " + std::to_string(err);
        };
        for (std::string m :
             {expect(syscall(SYS_getpid), 0, "getpid"),
              expect(syscall(SYS_unshare, CLONE_NEWNS), EPERM, "unshare"),
              expect(syscall(SYS_keyctl, 0, -3, 0), EPERM, "keyctl"),
              expect(syscall(SYS_clone3, nullptr, 0), ENOSYS, "clone3"),
              expect(syscall(SYS_personality, 0x0040000), EPERM, "personality(ADDR_NO_RANDOMIZE)"),
              expect(syscall(SYS_personality, 0xffffffff), 0, "personality(query)")})
            if (!m.empty()) return m;
        return "";
    });
    EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << r.message;
}

TEST(ProfileFormat, DockerFields) {
    auto p = parse_seccomp_profile(R"({
        "defaultAction": "SCMP_ACT_ALLOW",
        "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
        "syscalls": [
            {"name": "mkdir", "action": "SCMP_ACT_ERRNO", "errnoRet": 13, "comment": "ignored"},
            {"names": ["mount"], "action": "SCMP_ACT_ERRNO", "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
            {"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "includes": {"arches": ["arm64"], "minKernel": "5.10"}},
            {"names": ["personality"], "action": "SCMP_ACT_ERRNO",
             "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_NE"}]}
        ]})");
    ASSERT_TRUE(p) << p.error().message();
    auto s = resolve_seccomp_profile(*p, target());
    EXPECT_EQ(s.default_action, "SCMP_ACT_ALLOW");
    EXPECT_EQ(s.architectures, (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}));
    ASSERT_EQ(rules_for(s, "mkdir").size(), 1u);
    EXPECT_EQ(rules_for(s, "mkdir")[0].errno_ret, std::optional<uint32_t>(13));
    EXPECT_EQ(rules_for(s, "mount").size(), 1u);
    EXPECT_TRUE(rules_for(s, "chmod").empty());  // arm64 only
    EXPECT_EQ(rules_for(s, "personality").at(0).args.at(0).value, 8u);
    EXPECT_TRUE(rules_for(resolve_seccomp_profile(*p, target({"CAP_SYS_ADMIN"})), "mount").empty());
    EXPECT_EQ(rules_for(resolve_seccomp_profile(*p, target({}, "arm64", {5, 10})), "chmod").size(),
              1u);
    EXPECT_TRUE(
        rules_for(resolve_seccomp_profile(*p, target({}, "arm64", {5, 4})), "chmod").empty());
    // The JSON the runtime gets back parses as the OCI section.
    auto j = seccomp_to_json(s);
    EXPECT_EQ(j["syscalls"][0]["errnoRet"], 13);
}

TEST(ProfileFormat, ErrorsNameTheField) {
    struct Case {
        const char* text;
        const char* want;
    } cases[] = {
        {"not json", "not valid JSON"},
        {"{}", "defaultAction: required"},
        {R"({"defaultAction": "SCMP_ACT_NOPE"})", "defaultAction: unknown action"},
        {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["x"], "action": "BAD"}]})",
         "syscalls[0].action"},
        {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"name": "x", "names": ["y"], "action": "SCMP_ACT_ERRNO"}]})",
         "\"name\" and \"names\""},
        {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["x"], "action": "SCMP_ACT_ERRNO",
            "includes": {"minKernel": "four"}}]})",
         "syscalls[0].includes.minKernel"},
        {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["x"], "action": "SCMP_ACT_ERRNO",
            "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_WHAT"}]}]})",
         "syscalls[0].args[0].op"},
        {R"({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86"],
            "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]})",
         "\"architectures\" and \"archMap\""},
        {R"({"defaultAction": "SCMP_ACT_ALLOW", "archMap": [{"architecture": "SCMP_ARCH_VAX"}]})",
         "unknown architecture"},
    };
    for (const auto& c : cases) {
        auto p = parse_seccomp_profile(c.text);
        ASSERT_FALSE(p) << c.text;
        EXPECT_NE(p.error().message().find(c.want), std::string::npos)
            << c.text << " -> " << p.error().message();
    }
}

TEST(ProfileFormat, KernelVersions) {
    EXPECT_EQ(parse_kernel_version("4.8"), (KernelVersion{4, 8}));
    EXPECT_EQ(parse_kernel_version("6.18.44-fc-v1300"), (KernelVersion{6, 18}));
    EXPECT_EQ(parse_kernel_version("5.10-rc1"), (KernelVersion{5, 10}));
    EXPECT_FALSE(parse_kernel_version("4"));
    EXPECT_FALSE(parse_kernel_version("4.x"));
    EXPECT_TRUE((KernelVersion{4, 10}) > (KernelVersion{4, 8}));
}
