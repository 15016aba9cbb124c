// --security-opt values as the record keeps them, and the host devices --privileged gets.
#include <gtest/gtest.h>

#include <fstream>

#include "engine/containers/security.h"

using namespace mydocker::engine::containers;

TEST(SecurityOpts, Values) {
    auto none = parse_security_opts({});
    ASSERT_TRUE(none);
    EXPECT_FALSE(none->no_new_privileges);
    EXPECT_EQ(none->seccomp, Security::Seccomp::builtin);
    for (const char* on : {"no-new-privileges", "no-new-privileges=true", "no-new-privileges:true",
                           "no-new-privileges=1"}) {
        auto s = parse_security_opts({on});
        ASSERT_TRUE(s) << on;
        EXPECT_TRUE(s->no_new_privileges) << on;
    }
    auto off = parse_security_opts({"no-new-privileges", "no-new-privileges=false"});
    ASSERT_TRUE(off);
    EXPECT_FALSE(off->no_new_privileges);
    auto unconfined = parse_security_opts({"seccomp=unconfined"});
    ASSERT_TRUE(unconfined);
    EXPECT_EQ(unconfined->seccomp, Security::Seccomp::unconfined);
    for (const char* bad : {"no-new-privileges=maybe", "seccomp", "seccomp=", "bogus",
                            "apparmor=docker-default", "label=type:x"}) {
        auto s = parse_security_opts({bad});
        ASSERT_FALSE(s) << bad;
        EXPECT_NE(s.error().message().find("--security-opt"), std::string::npos)
            << s.error().message();
        EXPECT_NE(s.error().message().find(bad), std::string::npos) << s.error().message();
    }
    EXPECT_TRUE(parse_security_opts({"apparmor=unconfined", "label=disable"}));
}

TEST(SecurityOpts, ProfileFileIsInlined) {
    std::string dir = ::testing::TempDir();
    std::string file = dir + "/profile.json";
    std::ofstream(file) << "{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\",\n  \"syscalls\": []\n}\n";
    auto opts = normalize_security_opts({"seccomp=" + file, "no-new-privileges"});
    ASSERT_TRUE(opts) << opts.error().message();
    ASSERT_EQ(opts->size(), 2u);
    EXPECT_EQ((*opts)[0], R"(seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[]})");
    auto s = parse_security_opts(*opts);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->seccomp, Security::Seccomp::custom);
    EXPECT_TRUE(s->no_new_privileges);

    auto missing = normalize_security_opts({"seccomp=" + dir + "/no-such.json"});
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message().find("no-such.json"), std::string::npos);
    std::ofstream(dir + "/bad.json")
        << R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["x"], "action": "NOPE"}]})";
    auto bad = normalize_security_opts({"seccomp=" + dir + "/bad.json"});
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message().find("syscalls[0].action"), std::string::npos)
        << bad.error().message();
}

TEST(HostDevices, NodesWithoutPtsAndConsole) {
    auto devs = host_devices("/dev");
    bool null_seen = false;
    for (const auto& d : devs) {
        std::string path = d["path"];
        EXPECT_EQ(path.rfind("/dev/pts/", 0), std::string::npos) << path;
        EXPECT_NE(path, "/dev/console");
        EXPECT_NE(path, "/dev/ptmx");
        if (path == "/dev/null") {
            null_seen = true;
            EXPECT_EQ(d["type"], "c");
            EXPECT_EQ(d["major"], 1);
            EXPECT_EQ(d["minor"], 3);
        }
    }
    EXPECT_TRUE(null_seen);
}
