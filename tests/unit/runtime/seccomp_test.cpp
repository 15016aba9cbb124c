// seccomp: profile validation, and filters compiled in the parent and loaded for real in a
// forked child (a loaded filter can never be removed), as the runtime does across clone().
#include <fcntl.h>
#include <gtest/gtest.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>

#include "child_process.h"
#include "runtime/seccomp.h"
#include "sys/files.h"

namespace mydocker::runtime {
namespace {

using testing::ChildResult;
using testing::run_in_child;

bool exited_ok(const ChildResult& r) {
    return WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0;
}

// Loads `filter` in the child; no_new_privs first so the test does not depend on root.
std::string load_in_child(const SeccompFilter& filter) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return "PR_SET_NO_NEW_PRIVS failed";
    auto fd = filter.load();
    if (!fd) return "load: " + fd.error().message();
    return "";
}

// "" when `rc` is -1 with `want` errno, else a description.
std::string expect_errno(const char* what, long rc, int want) {
    const int err = errno;
    if (rc == -1 && err == want) return "";
    return std::string(what) + ": rc " + std::to_string(rc) + ", errno " + std::to_string(err) +
           ", want errno " + std::to_string(want) + "\n";
}

std::string expect_ok(const char* what, long rc) {
    const int err = errno;
    if (rc != -1) return "";
    return std::string(what) + ": failed with " + std::strerror(err) + "\n";
}

const sys::Logger quiet_log;

Seccomp allow_all() {
    Seccomp s;
    s.default_action = "SCMP_ACT_ALLOW";
    return s;
}

SeccompSyscall rule(std::vector<std::string> names, std::string action,
                    std::optional<uint32_t> errno_ret = std::nullopt,
                    std::vector<SeccompArg> args = {}) {
    SeccompSyscall sc;
    sc.names = std::move(names);
    sc.action = std::move(action);
    sc.errno_ret = errno_ret;
    sc.args = std::move(args);
    return sc;
}

std::string invalid_message(const Seccomp& s) {
    auto r = validate_seccomp(s);
    if (r) return "(valid)";
    EXPECT_EQ(r.error().code(), sys::ErrorCode::invalid_argument);
    // compile_seccomp validates first and must report the same error.
    auto c = compile_seccomp(s, quiet_log);
    EXPECT_FALSE(c.has_value());
    if (!c) {
        EXPECT_EQ(c.error().message(), r.error().message());
    }
    return r.error().message();
}

// personality(0xffffffff) only queries the persona, so the tests use it as a harmless
// syscall whose argument they control.
constexpr unsigned long persona_query = 0xffffffffUL;

TEST(SeccompValidate, NamesTheBadField) {
    Seccomp s = allow_all();
    s.syscalls = {rule({"read"}, "SCMP_ACT_ERRNO"), rule({"write"}, "SCMP_ACT_LOG"),
                  rule({"mkdir"}, "SCMP_ACT_FOO")};
    EXPECT_EQ(invalid_message(s), "syscalls[2].action: unknown action \"SCMP_ACT_FOO\"");

    s = allow_all();
    s.default_action = "SCMP_ACT_NOPE";
    EXPECT_EQ(invalid_message(s), "defaultAction: unknown action \"SCMP_ACT_NOPE\"");

    s = allow_all();
    s.default_action = "";
    EXPECT_EQ(invalid_message(s), "defaultAction: required");

    s = allow_all();
    s.syscalls = {rule({"personality"}, "SCMP_ACT_ERRNO", {}, {{0, 8, 0, "SCMP_CMP_FOO"}})};
    EXPECT_EQ(invalid_message(s), "syscalls[0].args[0].op: unknown operator \"SCMP_CMP_FOO\"");

    s = allow_all();
    s.syscalls = {rule({"personality"}, "SCMP_ACT_ERRNO", {}, {{6, 8, 0, "SCMP_CMP_EQ"}})};
    EXPECT_EQ(invalid_message(s), "syscalls[0].args[0].index: 6 is out of range (0-5)");

    s = allow_all();
    s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_FOO"};
    EXPECT_EQ(invalid_message(s), "architectures[1]: unknown architecture \"SCMP_ARCH_FOO\"");

    s = allow_all();
    s.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_FOO"};
    EXPECT_EQ(invalid_message(s), "flags[1]: unknown flag \"SECCOMP_FILTER_FLAG_FOO\"");

    s = allow_all();
    s.syscalls = {rule({}, "SCMP_ACT_ERRNO")};
    EXPECT_EQ(invalid_message(s), "syscalls[0].names: must not be empty");
}

TEST(SeccompValidate, ErrnoRetOnlyWithErrnoOrTrace) {
    Seccomp s = allow_all();
    s.syscalls = {rule({"mkdir"}, "SCMP_ACT_KILL", 1)};
    EXPECT_EQ(invalid_message(s),
              "syscalls[0].errnoRet: only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");

    s = allow_all();
    s.default_errno_ret = 1;
    EXPECT_EQ(invalid_message(s),
              "defaultErrnoRet: only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");

    s = allow_all();
    s.syscalls = {rule({"mkdir"}, "SCMP_ACT_ERRNO", 70000)};
    EXPECT_EQ(invalid_message(s),
              "syscalls[0].errnoRet: 70000 does not fit the 16-bit return value");

    s = allow_all();
    s.syscalls = {rule({"mkdir"}, "SCMP_ACT_TRACE", 5), rule({"rmdir"}, "SCMP_ACT_ERRNO", 5)};
    EXPECT_TRUE(validate_seccomp(s).has_value());
}

TEST(SeccompValidate, NotifyRules) {
    Seccomp s = allow_all();
    s.default_action = "SCMP_ACT_NOTIFY";
    EXPECT_EQ(invalid_message(s), "defaultAction: SCMP_ACT_NOTIFY cannot be the default action");

    s = allow_all();
    s.syscalls = {rule({"mkdir"}, "SCMP_ACT_NOTIFY")};
    EXPECT_EQ(invalid_message(s), "listenerPath: required when SCMP_ACT_NOTIFY is used");

    s.listener_path = "run/agent.sock";
    EXPECT_EQ(invalid_message(s), "listenerPath: \"run/agent.sock\" must be an absolute path");

    s.listener_path = "/run/agent.sock";
    EXPECT_TRUE(validate_seccomp(s).has_value());

    // Without a notify rule the path is ignored, as the spec says.
    s.syscalls = {rule({"mkdir"}, "SCMP_ACT_ERRNO")};
    s.listener_path = "relative.sock";
    EXPECT_TRUE(validate_seccomp(s).has_value());

    s.listener_path = "/run/agent.sock";
    s.syscalls = {rule({"read", "write"}, "SCMP_ACT_NOTIFY")};
    EXPECT_EQ(invalid_message(s), "syscalls[0]: SCMP_ACT_NOTIFY cannot be used for \"write\"");
}

TEST(SeccompValidate, AcceptsEveryKnownName) {
    Seccomp s = allow_all();
    s.architectures = {"SCMP_ARCH_X86",      "SCMP_ARCH_X86_64",      "SCMP_ARCH_X32",
                       "SCMP_ARCH_ARM",      "SCMP_ARCH_AARCH64",     "SCMP_ARCH_MIPS",
                       "SCMP_ARCH_MIPS64",   "SCMP_ARCH_MIPS64N32",   "SCMP_ARCH_MIPSEL",
                       "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
                       "SCMP_ARCH_PPC64",    "SCMP_ARCH_PPC64LE",     "SCMP_ARCH_S390",
                       "SCMP_ARCH_S390X",    "SCMP_ARCH_RISCV64"};
    s.flags = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
               "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
    for (const char* action :
         {"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
          "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG"})
        s.syscalls.push_back(rule({"mkdir"}, action));
    for (const char* op : {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ",
                           "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"})
        s.syscalls.push_back(rule({"personality"}, "SCMP_ACT_ERRNO", {}, {{0, 1, 1, op}}));
    auto r = validate_seccomp(s);
    EXPECT_TRUE(r.has_value()) << r.error().message();
}

TEST(SeccompCompile, ArchitecturesFlagsAndRedundantRules) {
    Seccomp s = allow_all();
    // The native one is in the filter already: adding it again is not an error.
    s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
    s.flags = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
               "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
    // A rule with the default action is dropped (libseccomp would refuse it).
    s.syscalls = {rule({"read"}, "SCMP_ACT_ALLOW"), rule({"mkdir"}, "SCMP_ACT_ERRNO")};
    auto f = compile_seccomp(s, quiet_log);
    ASSERT_TRUE(f.has_value()) << f.error().message();
    EXPECT_FALSE(f->uses_notify());

    // Same for ERRNO: EPERM without errnoRet equals a default ERRNO(EPERM).
    s = allow_all();
    s.default_action = "SCMP_ACT_ERRNO";
    s.syscalls = {rule({"mkdir"}, "SCMP_ACT_ERRNO"), rule({"mkdir"}, "SCMP_ACT_ERRNO", EPERM)};
    auto g = compile_seccomp(s, quiet_log);
    EXPECT_TRUE(g.has_value()) << g.error().message();
}

TEST(SeccompCompile, WaitKillableNeedsNewLibseccomp) {
    Seccomp s = allow_all();
    s.flags = {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
    auto f = compile_seccomp(s, quiet_log);
    if (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR < 6) {
        ASSERT_FALSE(f.has_value());
        EXPECT_NE(
            f.error().message().find(
                "flags[0]: \"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\" needs libseccomp >= 2.6"),
            std::string::npos)
            << f.error().message();
    }
}

TEST(SeccompCompile, UnknownSyscallIsSkippedWithADebugLine) {
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
    sys::UniqueFd read_end(fds[0]);
    sys::Logger log(sys::UniqueFd(fds[1]), sys::LogFormat::text, sys::LogLevel::debug);

    Seccomp s = allow_all();
    s.syscalls = {rule({"no_such_syscall_xyz", "mkdir"}, "SCMP_ACT_ERRNO")};
    auto f = compile_seccomp(s, log);
    ASSERT_TRUE(f.has_value()) << f.error().message();

    char buf[4096];
    ssize_t n = read(read_end.get(), buf, sizeof buf);
    ASSERT_GT(n, 0);
    EXPECT_NE(std::string(buf, static_cast<size_t>(n)).find("no_such_syscall_xyz"),
              std::string::npos);
}

TEST(SeccompLoad, EmptyFilterIsAnError) {
    SeccompFilter f;
    auto r = f.load();
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), sys::ErrorCode::bad_state);
}

TEST(SeccompLoad, ErrnoRuleDeniesMkdir) {
    Seccomp s = allow_all();
    s.syscalls = {rule({"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO", ENOSYS),
                  rule({"not_a_syscall"}, "SCMP_ACT_KILL")};
    auto f = compile_seccomp(s, quiet_log);  // in the parent, as before clone()
    ASSERT_TRUE(f.has_value()) << f.error().message();
    const std::string dir = "/tmp/mydocker-seccomp-test-" + std::to_string(getpid());
    auto res = run_in_child([&]() -> std::string {
        if (auto e = load_in_child(*f); !e.empty()) return e;
        int rc = mkdir(dir.c_str(), 0700);
        if (rc == 0) rmdir(dir.c_str());
        return expect_errno("mkdir", rc, ENOSYS) +
               expect_errno("mkdirat", mkdirat(AT_FDCWD, dir.c_str(), 0700), ENOSYS) +
               expect_ok("getpid", syscall(SYS_getpid));
    });
    EXPECT_TRUE(exited_ok(res)) << res.message;
}

// A program from the cache is the one libseccomp generated, and is found only for the same
// profile: a different rule, or a cache file of another key under the same name, misses.
TEST(SeccompLoad, CachedProgramIsReusedForTheSameProfileOnly) {
    const std::string cache = ::testing::TempDir() + "/seccomp-cache-" + std::to_string(getpid());
    Seccomp s = allow_all();
    s.syscalls = {rule({"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO", ENOSYS)};
    auto first = compile_seccomp(s, quiet_log, cache);
    ASSERT_TRUE(first.has_value()) << first.error().message();
    auto files = sys::list_dir(cache);
    ASSERT_TRUE(files.has_value());
    ASSERT_EQ(files->size(), 1u);
    const std::string file = cache + "/" + files->front();
    auto text = sys::read_file(file);
    ASSERT_TRUE(text.has_value());

    // A miss that compiles again writes a second file; a hit writes nothing.
    auto again = compile_seccomp(s, quiet_log, cache);
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(sys::list_dir(cache)->size(), 1u);
    const std::string dir = "/tmp/mydocker-seccomp-test-" + std::to_string(getpid());
    auto res = run_in_child([&]() -> std::string {
        if (auto e = load_in_child(*again); !e.empty()) return e;
        return expect_errno("mkdir", mkdir(dir.c_str(), 0700), ENOSYS) + expect_ok("getpid", syscall(SYS_getpid));
    });
    EXPECT_TRUE(exited_ok(res)) << res.message;

    s.syscalls[0].errno_ret = EACCES;
    ASSERT_TRUE(compile_seccomp(s, quiet_log, cache).has_value());
    EXPECT_EQ(sys::list_dir(cache)->size(), 2u);

    // The file of the first profile, holding another key: not used, compiled afresh.
    std::string forged = *text;
    forged[forged.find("mkdirat")] = 'X';
    ASSERT_TRUE(sys::write_file(file, forged, 0600).has_value());
    s.syscalls[0].errno_ret = ENOSYS;
    auto rebuilt = compile_seccomp(s, quiet_log, cache);
    ASSERT_TRUE(rebuilt.has_value());
    EXPECT_EQ(*sys::read_file(file), *text);
    (void)sys::remove_all(cache);
}

TEST(SeccompLoad, ArgumentConditions) {
    Seccomp s = allow_all();
    s.syscalls = {
        rule({"personality"}, "SCMP_ACT_ERRNO", EACCES, {{0, persona_query, 0, "SCMP_CMP_EQ"}})};
    auto f = compile_seccomp(s, quiet_log);
    ASSERT_TRUE(f.has_value()) << f.error().message();
    const int current = personality(persona_query);
    auto res = run_in_child([&]() -> std::string {
        if (auto e = load_in_child(*f); !e.empty()) return e;
        return expect_errno("personality(query)", personality(persona_query), EACCES) +
               expect_ok("personality(current)", personality(static_cast<unsigned long>(current)));
    });
    EXPECT_TRUE(exited_ok(res)) << res.message;
}

TEST(SeccompLoad, MaskedEqualUsesValueAsMaskAndValueTwoAsDatum) {
    Seccomp s = allow_all();
    // (arg & 0xff000000) == 0x0f000000
    s.syscalls = {rule({"personality"}, "SCMP_ACT_ERRNO", EACCES,
                       {{0, 0xff000000, 0x0f000000, "SCMP_CMP_MASKED_EQ"}})};
    auto f = compile_seccomp(s, quiet_log);
    ASSERT_TRUE(f.has_value()) << f.error().message();
    const int current = personality(persona_query);
    auto res = run_in_child([&]() -> std::string {
        if (auto e = load_in_child(*f); !e.empty()) return e;
        return expect_errno("personality(0x0f000000)", personality(0x0f000000), EACCES) +
               expect_ok("personality(current)", personality(static_cast<unsigned long>(current)));
    });
    EXPECT_TRUE(exited_ok(res)) << res.message;
}

TEST(SeccompLoad, ArgumentsOnTheSameIndexAreAlternatives) {
    // libseccomp cannot AND two comparisons of one argument: each becomes its own rule.
    Seccomp s = allow_all();
    s.syscalls = {rule({"personality"}, "SCMP_ACT_ERRNO", EACCES,
                       {{0, persona_query, 0, "SCMP_CMP_EQ"}, {0, 0x0f000000, 0, "SCMP_CMP_EQ"}})};
    auto f = compile_seccomp(s, quiet_log);
    ASSERT_TRUE(f.has_value()) << f.error().message();
    const int current = personality(persona_query);
    auto res = run_in_child([&]() -> std::string {
        if (auto e = load_in_child(*f); !e.empty()) return e;
        return expect_errno("personality(query)", personality(persona_query), EACCES) +
               expect_errno("personality(0x0f000000)", personality(0x0f000000), EACCES) +
               expect_ok("personality(current)", personality(static_cast<unsigned long>(current)));
    });
    EXPECT_TRUE(exited_ok(res)) << res.message;
}

TEST(SeccompLoad, DefaultErrnoWithAnAllowList) {
    Seccomp s = allow_all();
    s.default_action = "SCMP_ACT_ERRNO";
    s.default_errno_ret = ENOSYS;
    // Just what the child needs after load: report over the pipe and exit.
    s.syscalls = {rule({"write", "exit", "exit_group", "getpid"}, "SCMP_ACT_ALLOW")};
    auto f = compile_seccomp(s, quiet_log);
    ASSERT_TRUE(f.has_value()) << f.error().message();
    auto res = run_in_child([&]() -> std::string {
        if (auto e = load_in_child(*f); !e.empty()) return e;
        return expect_errno("getppid", syscall(SYS_getppid), ENOSYS) +
               expect_ok("getpid", syscall(SYS_getpid));
    });
    EXPECT_TRUE(exited_ok(res)) << res.message;
}

TEST(SeccompLoad, KillProcessEndsTheChildWithSigsys) {
    Seccomp s = allow_all();
    s.syscalls = {rule({"getppid"}, "SCMP_ACT_KILL_PROCESS")};
    auto f = compile_seccomp(s, quiet_log);
    ASSERT_TRUE(f.has_value()) << f.error().message();
    auto res = run_in_child([&]() -> std::string {
        if (auto e = load_in_child(*f); !e.empty()) return e;
        syscall(SYS_getppid);
        return "survived getppid";
    });
    EXPECT_TRUE(WIFSIGNALED(res.status) && WTERMSIG(res.status) == SIGSYS) << res.message;
}

TEST(SeccompLoad, ManyRulesUseTheBinaryTree) {
    // Over 32 rules switches libseccomp to its binary-tree layout; behaviour must not change.
    Seccomp s = allow_all();
    SeccompSyscall deny = rule({"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO", ENOSYS);
    for (const char* name : {"acct",
                             "add_key",
                             "bpf",
                             "clock_adjtime",
                             "clock_settime",
                             "create_module",
                             "delete_module",
                             "finit_module",
                             "get_kernel_syms",
                             "get_mempolicy",
                             "init_module",
                             "ioperm",
                             "iopl",
                             "kcmp",
                             "kexec_file_load",
                             "kexec_load",
                             "keyctl",
                             "lookup_dcookie",
                             "mbind",
                             "mount",
                             "move_pages",
                             "nfsservctl",
                             "open_by_handle_at",
                             "perf_event_open",
                             "pivot_root",
                             "process_vm_readv",
                             "process_vm_writev",
                             "query_module",
                             "quotactl",
                             "reboot",
                             "request_key",
                             "set_mempolicy",
                             "setns",
                             "settimeofday",
                             "swapon",
                             "swapoff",
                             "sysfs",
                             "umount2",
                             "unshare",
                             "uselib"})
        deny.names.push_back(name);
    s.syscalls = {deny};
    auto f = compile_seccomp(s, quiet_log);
    ASSERT_TRUE(f.has_value()) << f.error().message();
    auto res = run_in_child([&]() -> std::string {
        if (auto e = load_in_child(*f); !e.empty()) return e;
        return expect_errno("mkdir", mkdir("/tmp/mydocker-seccomp-never", 0700), ENOSYS) +
               expect_errno("unshare", unshare(0), ENOSYS) +
               expect_ok("getpid", syscall(SYS_getpid));
    });
    EXPECT_TRUE(exited_ok(res)) << res.message;
}

TEST(SeccompLoad, NotifyReturnsTheListenerFd) {
    if (seccomp_api_get() < 5) GTEST_SKIP() << "no seccomp user notification here";
    Seccomp s = allow_all();
    s.listener_path = "/run/agent.sock";
    s.syscalls = {rule({"acct"}, "SCMP_ACT_NOTIFY")};  // never called by the child
    auto f = compile_seccomp(s, quiet_log);
    ASSERT_TRUE(f.has_value()) << f.error().message();
    EXPECT_TRUE(f->uses_notify());
    auto res = run_in_child([&]() -> std::string {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return "PR_SET_NO_NEW_PRIVS failed";
        auto fd = f->load();
        if (!fd) return "load: " + fd.error().message();
        if (*fd < 0) return "no listener fd";
        const int flags = fcntl(*fd, F_GETFD);
        if (flags < 0 || !(flags & FD_CLOEXEC)) return "listener fd is not close-on-exec";
        return "";
    });
    EXPECT_TRUE(exited_ok(res)) << res.message;

    // A notify rule whose only syscall is unknown never reaches the filter.
    s.syscalls = {rule({"no_such_syscall_xyz"}, "SCMP_ACT_NOTIFY")};
    auto g = compile_seccomp(s, quiet_log);
    ASSERT_TRUE(g.has_value()) << g.error().message();
    EXPECT_FALSE(g->uses_notify());
}

TEST(SeccompNotify, ContainerProcessState) {
    const std::string state =
        R"({"ociVersion":"1.2.0","id":"c1","status":"creating","pid":42,"bundle":"/b"})";
    EXPECT_EQ(container_process_state_json(42, "meta=1", state),
              R"({"ociVersion":"1.2.0","fds":["seccompFd"],"pid":42,"metadata":"meta=1",)"
              R"("state":{"ociVersion":"1.2.0","id":"c1","status":"creating","pid":42,"bundle":"/b"}})");
}

TEST(SeccompNotify, UnreachableAgentIsAnErrorNamingTheField) {
    auto r = send_seccomp_listener("/nonexistent/mydocker-agent.sock", "{}", 0);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().err(), ENOENT);
    EXPECT_NE(r.error().message().find("linux.seccomp.listenerPath"), std::string::npos)
        << r.error().message();
}

}  // namespace
}  // namespace mydocker::runtime
