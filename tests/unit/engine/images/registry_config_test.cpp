// The daemon configuration's registry keys (registry_config.h): insecure-registries as hosts
// and CIDRs, registry-mirrors as URLs, what docker accepts and refuses, errors naming the file
// and the key and value, unknown keys ignored, a missing file, MYDOCKER_DAEMON_CONFIG.
#include "engine/images/registry_config.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdlib>

#include "images_testing.h"
#include "sys/files.h"

namespace mydocker::engine::images {
namespace {

const std::string kPath = "/etc/test/daemon.json";

/// The message of the error parsing `text` gives (the test fails when it parses).
std::string parse_error(const std::string& text) {
    auto r = parse_registry_config(text, kPath);
    if (r) return "parsed";
    EXPECT_EQ(r.error().code(), sys::ErrorCode::invalid_argument) << r.error().message();
    return r.error().message();
}

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

TEST(RegistryConfig, ParsesDockersKeysAndIgnoresOthers) {
    auto cfg = parse_registry_config(R"({
        "debug": true, "log-driver": "json-file", "storage-opts": ["a=b"],
        "insecure-registries": ["myreg.example:5000", "10.0.0.0/8", "fd00::/8", "http://plain.example",
                                "[fd00::1]:5000", "reg-1.local"],
        "registry-mirrors": ["https://mirror.example/", "http://10.1.2.3:5000", "https://m.example:8443/some/path/"]
    })",
                                     kPath);
    ASSERT_TRUE(cfg) << cfg.error().message();
    EXPECT_EQ(cfg->path, kPath);
    EXPECT_EQ(cfg->insecure_hosts, (std::vector<std::string>{"myreg.example:5000", "plain.example",
                                                             "[fd00::1]:5000", "reg-1.local"}));
    ASSERT_EQ(cfg->insecure_cidrs.size(), 2u);
    EXPECT_EQ(cfg->insecure_cidrs[0].text, "10.0.0.0/8");
    EXPECT_EQ(cfg->insecure_cidrs[0].prefix, 8);
    ASSERT_EQ(cfg->mirrors.size(), 3u);
    EXPECT_EQ(cfg->mirrors[0].url(), "https://mirror.example");
    EXPECT_EQ(cfg->mirrors[1].scheme, "http");
    EXPECT_EQ(cfg->mirrors[1].host, "10.1.2.3:5000");
    EXPECT_EQ(cfg->mirrors[1].path, "");
    EXPECT_EQ(cfg->mirrors[2].host, "m.example:8443");
    EXPECT_EQ(cfg->mirrors[2].path, "/some/path");
}

TEST(RegistryConfig, EmptyObjectFileAndNullsAreDefaults) {
    for (const char* text :
         {"{}", "", "  \n", R"({"insecure-registries": null, "registry-mirrors": []})"}) {
        auto cfg = parse_registry_config(text, kPath);
        ASSERT_TRUE(cfg) << text << ": " << cfg.error().message();
        EXPECT_TRUE(cfg->insecure_hosts.empty());
        EXPECT_TRUE(cfg->insecure_cidrs.empty());
        EXPECT_TRUE(cfg->mirrors.empty());
    }
}

TEST(RegistryConfig, MalformedJsonNamesTheFile) {
    for (const char* text :
         {"{", "{\"insecure-registries\": [\"a\",]}", "not json", "{} trailing"}) {
        std::string msg = parse_error(text);
        EXPECT_TRUE(contains(msg, "\"" + kPath + "\"")) << msg;
        EXPECT_TRUE(contains(msg, "malformed JSON")) << msg;
        EXPECT_FALSE(contains(msg, "[json.exception")) << msg;
    }
    EXPECT_TRUE(contains(parse_error("[1, 2]"), "not a JSON object"));
}

TEST(RegistryConfig, WrongTypesNameTheKey) {
    std::string msg = parse_error(R"({"insecure-registries": "10.0.0.0/8"})");
    EXPECT_TRUE(contains(msg, kPath)) << msg;
    EXPECT_TRUE(contains(msg, "\"insecure-registries\" must be a list of strings")) << msg;
    msg = parse_error(R"({"registry-mirrors": ["https://m.example", 5]})");
    EXPECT_TRUE(contains(msg, "\"registry-mirrors\": 5 is not a string")) << msg;
}

TEST(RegistryConfig, RefusesBadInsecureEntriesNamingThem) {
    for (const char* bad : {"10.0.0.0/33", "10.0.0/8", "not a host", "host:99999",
                            "host:", "ftp://x.example", "-bad.example", "a..b", "reg_1.local",
                            "[fd00::1", "[zz::1]:5000", "10.0.0.0/x", "host/path", ""}) {
        std::string msg = parse_error(std::string(R"({"insecure-registries": [")") + bad + "\"]}");
        EXPECT_TRUE(contains(msg, kPath)) << msg;
        EXPECT_TRUE(contains(msg, std::string("\"insecure-registries\": \"") + bad + "\"")) << msg;
    }
}

TEST(RegistryConfig, RefusesBadMirrorsNamingThem) {
    struct Case {
        const char* url;
        const char* why;
    };
    for (const Case& c : {Case{"mirror.example", "is not a URL"},
                          Case{"ftp://mirror.example", "unsupported scheme \"ftp\""},
                          Case{"https://mirror.example/?x=1", "query or fragment"},
                          Case{"https://mirror.example#f", "query or fragment"},
                          Case{"https://", "is not a valid host"},
                          Case{"http://bad host:5000", "is not a valid host"}}) {
        std::string msg = parse_error(std::string(R"({"registry-mirrors": [")") + c.url + "\"]}");
        EXPECT_TRUE(contains(msg, kPath)) << msg;
        EXPECT_TRUE(contains(msg, std::string("\"registry-mirrors\": \"") + c.url + "\"")) << msg;
        EXPECT_TRUE(contains(msg, c.why)) << msg;
    }
    // The password is not repeated in the message.
    std::string msg =
        parse_error(R"({"registry-mirrors": ["https://user:secret@mirror.example"]})");
    EXPECT_TRUE(contains(msg, "user or password is not allowed")) << msg;
    EXPECT_FALSE(contains(msg, "secret")) << msg;
}

TEST(RegistryConfig, InsecureByExactNameOrCidr) {
    auto cfg = parse_registry_config(
        R"({"insecure-registries": ["myreg.example:5000", "10.20.0.0/16", "192.168.1.77/24", "fd00::/8"]})",
        kPath);
    ASSERT_TRUE(cfg) << cfg.error().message();
    // By name, exactly as written: another port is another registry (docker's IndexConfigs).
    EXPECT_TRUE(cfg->insecure("myreg.example:5000", {}));
    EXPECT_FALSE(cfg->insecure("myreg.example", {}));
    EXPECT_FALSE(cfg->insecure("myreg.example:5001", {}));
    // By address, whatever the port; host bits of a CIDR are cleared (192.168.1.0/24).
    EXPECT_TRUE(cfg->insecure("10.20.3.4:5000"));
    EXPECT_TRUE(cfg->insecure("10.20.255.255"));
    EXPECT_FALSE(cfg->insecure("10.21.0.1:5000"));
    EXPECT_TRUE(cfg->insecure("192.168.1.5:443"));
    EXPECT_FALSE(cfg->insecure("192.168.2.5:443"));
    EXPECT_TRUE(cfg->insecure("[fd12::1]:5000"));
    EXPECT_FALSE(cfg->insecure("[fe80::1]:5000"));
    // A name's resolved addresses count.
    EXPECT_TRUE(cfg->insecure("reg.internal:5000", {"10.20.9.9"}));
    EXPECT_FALSE(cfg->insecure("reg.internal:5000", {"10.30.9.9", "not-an-ip"}));
    // Loopback is not implied by the configuration itself.
    EXPECT_FALSE(cfg->insecure("127.0.0.1:5000"));
}

TEST(RegistryConfig, CidrContainsChecksFamilyAndPrefix) {
    auto cfg =
        parse_registry_config(R"({"insecure-registries": ["0.0.0.0/0", "10.1.2.3/32"]})", kPath);
    ASSERT_TRUE(cfg) << cfg.error().message();
    unsigned char v4[4], v6[16];
    ASSERT_EQ(::inet_pton(AF_INET, "203.0.113.9", v4), 1);
    ASSERT_EQ(::inet_pton(AF_INET6, "2001:db8::1", v6), 1);
    EXPECT_TRUE(cfg->insecure_cidrs[0].contains(AF_INET, v4));
    EXPECT_FALSE(cfg->insecure_cidrs[0].contains(AF_INET6, v6));
    EXPECT_FALSE(cfg->insecure_cidrs[1].contains(AF_INET, v4));
    ASSERT_EQ(::inet_pton(AF_INET, "10.1.2.3", v4), 1);
    EXPECT_TRUE(cfg->insecure_cidrs[1].contains(AF_INET, v4));
}

TEST(RegistryConfig, LoadsTheFileOrDefaultsWhenMissing) {
    testing::TempDir dir;
    ASSERT_FALSE(dir.path().empty());
    auto missing = load_registry_config(dir / "none.json");
    ASSERT_TRUE(missing) << missing.error().message();
    EXPECT_TRUE(missing->path.empty());
    EXPECT_TRUE(missing->mirrors.empty());

    const std::string file = dir / "daemon.json";
    ASSERT_TRUE(sys::write_file(file, R"({"registry-mirrors": ["http://127.0.0.1:5000"]})"));
    auto cfg = load_registry_config(file);
    ASSERT_TRUE(cfg) << cfg.error().message();
    EXPECT_EQ(cfg->path, file);
    ASSERT_EQ(cfg->mirrors.size(), 1u);
    EXPECT_EQ(cfg->mirrors[0].url(), "http://127.0.0.1:5000");

    ASSERT_TRUE(sys::write_file(file, "{oops"));
    auto bad = load_registry_config(file);
    ASSERT_FALSE(bad);
    EXPECT_TRUE(contains(bad.error().message(), "\"" + file + "\"")) << bad.error().message();

    // A directory where the file should be: an error naming it, not the defaults.
    auto dir_err = load_registry_config(dir.path());
    ASSERT_FALSE(dir_err);
    EXPECT_TRUE(contains(dir_err.error().message(), dir.path())) << dir_err.error().message();
}

TEST(RegistryConfig, PathFromTheEnvironment) {
    const char* old = std::getenv("MYDOCKER_DAEMON_CONFIG");
    std::string saved = old ? old : "";
    ::unsetenv("MYDOCKER_DAEMON_CONFIG");
    EXPECT_EQ(daemon_config_path(), "/etc/mydocker/daemon.json");
    ::setenv("MYDOCKER_DAEMON_CONFIG", "", 1);
    EXPECT_EQ(daemon_config_path(), "/etc/mydocker/daemon.json");
    ::setenv("MYDOCKER_DAEMON_CONFIG", "/tmp/x/daemon.json", 1);
    EXPECT_EQ(daemon_config_path(), "/tmp/x/daemon.json");
    if (old)
        ::setenv("MYDOCKER_DAEMON_CONFIG", saved.c_str(), 1);
    else
        ::unsetenv("MYDOCKER_DAEMON_CONFIG");
}

}  // namespace
}  // namespace mydocker::engine::images
