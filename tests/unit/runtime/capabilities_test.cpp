// Capability names, and the two init-stage steps applied for real in a forked child
// (the changes are irreversible, so the test process itself must keep its capabilities).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>

#include "child_process.h"
#include "runtime/capabilities.h"

namespace mydocker::runtime {
namespace {

using testing::ChildResult;
using testing::run_in_child;

// The hex mask of a "CapXxx:" line of /proc/self/status.
uint64_t status_mask(const std::string& key) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(key + ":", 0) == 0)
            return std::stoull(line.substr(key.size() + 1), nullptr, 16);
    return ~uint64_t{0};
}

std::string check_mask(const std::string& key, uint64_t want) {
    uint64_t got = status_mask(key);
    if (got == want) return "";
    std::ostringstream out;
    out << key << ": got " << std::hex << got << ", want " << want << "\n";
    return out.str();
}

uint64_t bits(std::initializer_list<int> caps) {
    uint64_t m = 0;
    for (int c : caps) m |= uint64_t{1} << c;
    return m;
}

TEST(CapabilityNames, AcceptPrefixAndAnyCase) {
    for (const char* name : {"CAP_CHOWN", "chown", "CHOWN", "cap_chown", "Cap_Chown"}) {
        auto r = capability_from_name(name);
        ASSERT_TRUE(r.has_value()) << name;
        EXPECT_EQ(*r, 0) << name;
    }
    EXPECT_EQ(capability_from_name("CAP_CHECKPOINT_RESTORE").value(), 40);
    EXPECT_EQ(capability_from_name("sys_admin").value(), 21);
    EXPECT_EQ(capability_from_name("CAP_AUDIT_WRITE").value(), 29);
}

TEST(CapabilityNames, RejectUnknown) {
    for (const char* name : {"CAP_FOO", "", "CAP_", "CAP_CAP_CHOWN", "CHOWN ", "0"}) {
        auto r = capability_from_name(name);
        ASSERT_FALSE(r.has_value()) << name;
        EXPECT_EQ(r.error().code(), sys::ErrorCode::invalid_argument);
        EXPECT_EQ(r.error().message(), std::string("unknown capability \"") + name + "\"");
    }
}

TEST(CapabilityNames, RoundTrip) {
    for (int cap = 0; cap <= 40; ++cap) {
        const std::string name = capability_name(cap);
        ASSERT_EQ(name.rfind("CAP_", 0), 0u) << name;
        EXPECT_EQ(capability_from_name(name).value(), cap) << name;
    }
    EXPECT_EQ(capability_name(41), "CAP_41");
}

TEST(CapabilityNames, LastCapabilityMatchesKernel) {
    std::ifstream in("/proc/sys/kernel/cap_last_cap");
    int want = -1;
    in >> want;
    ASSERT_GE(want, 0);
    EXPECT_EQ(last_capability(), std::min(want, 63));
}

TEST(DefaultCapabilities, AreDockersFourteen) {
    const auto& caps = default_capabilities();
    EXPECT_EQ(caps.size(), 14u);
    std::set<int> numbers;
    for (const auto& name : caps) {
        auto r = capability_from_name(name);
        ASSERT_TRUE(r.has_value()) << name;
        EXPECT_EQ(capability_name(*r), name);  // canonical "CAP_*" spelling
        numbers.insert(*r);
    }
    EXPECT_EQ(numbers.size(), 14u);
    EXPECT_TRUE(numbers.count(capability_from_name("AUDIT_WRITE").value()));
    EXPECT_FALSE(numbers.count(capability_from_name("SYS_ADMIN").value()));
    EXPECT_FALSE(numbers.count(capability_from_name("NET_ADMIN").value()));
}

TEST(UnsupportedCapabilities, NoneForNamesThisKernelKnows) {
    Capabilities caps;
    caps.bounding = default_capabilities();
    caps.effective = {"CAP_CHOWN", "chown"};
    EXPECT_TRUE(unsupported_capabilities(caps).empty());
}

TEST(ApplyCapabilities, UnknownNameFailsBeforeAnySyscall) {
    // Safe in the test process: the name is checked before the first prctl/capset.
    Capabilities caps;
    caps.bounding = {"CAP_FOO"};
    auto r = drop_bounding_set(caps);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().message(), "bounding: unknown capability \"CAP_FOO\"");

    caps = {};
    caps.effective = {"CAP_CHOWN", "CAP_BAR"};
    auto r2 = apply_capability_sets(caps);
    ASSERT_FALSE(r2.has_value());
    EXPECT_EQ(r2.error().message(), "effective: unknown capability \"CAP_BAR\"");
}

TEST(ApplyCapabilities, SetsAllFiveSetsInAChild) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    auto res = run_in_child([] {
        Capabilities caps;
        caps.bounding = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
        caps.effective = {"CAP_CHOWN", "kill"};
        caps.permitted = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
        caps.inheritable = {"CAP_NET_BIND_SERVICE"};
        caps.ambient = {"CAP_NET_BIND_SERVICE"};
        if (auto r = drop_bounding_set(caps); !r) return "drop: " + r.error().message();
        if (auto r = apply_capability_sets(caps); !r) return "apply: " + r.error().message();
        return check_mask("CapBnd", bits({0, 5, 10})) + check_mask("CapEff", bits({0, 5})) +
               check_mask("CapPrm", bits({0, 5, 10})) + check_mask("CapInh", bits({10})) +
               check_mask("CapAmb", bits({10}));
    });
    EXPECT_TRUE(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0) << res.message;
}

TEST(ApplyCapabilities, NoInheritableUnlessListed) {
    // CVE-2022-29162: a spec without inheritable capabilities must leave CapInh empty.
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    auto res = run_in_child([] {
        Capabilities caps;
        caps.bounding = default_capabilities();
        caps.effective = default_capabilities();
        caps.permitted = default_capabilities();
        if (auto r = drop_bounding_set(caps); !r) return "drop: " + r.error().message();
        if (auto r = apply_capability_sets(caps); !r) return "apply: " + r.error().message();
        return check_mask("CapInh", 0) + check_mask("CapAmb", 0);
    });
    EXPECT_TRUE(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0) << res.message;
}

TEST(ApplyCapabilities, ErrorsNameTheCapability) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    struct Case {
        Capabilities caps;
        std::string want;
    };
    Case cases[2];
    // Effective but not permitted.
    cases[0].caps.bounding = {"CAP_KILL"};
    cases[0].caps.effective = {"CAP_KILL"};
    cases[0].want = "effective capability \"CAP_KILL\" is not in the permitted set";
    // Inheritable outside the bounding set.
    cases[1].caps.bounding = {"CAP_CHOWN"};
    cases[1].caps.permitted = {"CAP_CHOWN"};
    cases[1].caps.inheritable = {"CAP_NET_RAW"};
    cases[1].want = "inheritable capability \"CAP_NET_RAW\" is not in the bounding set";
    for (const auto& c : cases) {
        auto res = run_in_child([&c]() -> std::string {
            if (auto r = drop_bounding_set(c.caps); !r) return "drop: " + r.error().message();
            auto r = apply_capability_sets(c.caps);
            if (r) return "apply succeeded";
            if (r.error().err() != EPERM) return "errno: " + r.error().message();
            if (r.error().message().find(c.want) == std::string::npos) return r.error().message();
            return "";
        });
        EXPECT_TRUE(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0)
            << c.want << " -> " << res.message;
    }
}

TEST(ApplyCapabilities, AmbientOutsideInheritableIsSkipped) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    // runc's default spec: ambient caps with no inheritable set. runc warns; we skip them.
    auto res = run_in_child([]() -> std::string {
        Capabilities caps;
        caps.bounding = caps.permitted = caps.effective = {"CAP_KILL", "CAP_NET_ADMIN"};
        caps.ambient = {"CAP_KILL"};
        if (auto r = drop_bounding_set(caps); !r) return r.error().message();
        if (auto r = apply_capability_sets(caps); !r) return r.error().message();
        return "";
    });
    EXPECT_TRUE(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0) << res.message;
}

}  // namespace
}  // namespace mydocker::runtime
