// default_spec_json (`mydocker-runc spec`) and features_json (`mydocker-runc features`).
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>

#include "runtime/capabilities.h"
#include "runtime/features.h"
#include "runtime/spec.h"

namespace mydocker::runtime {
namespace {

using nlohmann::json;

const Mount* find_mount(const Spec& s, const std::string& dest) {
    for (const auto& m : s.mounts)
        if (m.destination == dest) return &m;
    return nullptr;
}

std::vector<NamespaceType> namespace_types(const Spec& s) {
    std::vector<NamespaceType> out;
    for (const auto& ns : s.linux->namespaces) out.push_back(ns.type);
    return out;
}

TEST(SpecDefault, RootfulParsesBack) {
    auto r = parse_spec(default_spec_json(false), "/bundle");
    ASSERT_TRUE(r) << r.error().message();
    const Spec& s = *r;
    EXPECT_EQ(s.oci_version, "1.2.0");
    EXPECT_EQ(s.root.path, "/bundle/rootfs");
    EXPECT_TRUE(s.root.readonly);
    EXPECT_EQ(s.hostname, "mydocker");

    ASSERT_TRUE(s.process);
    const Process& p = *s.process;
    EXPECT_TRUE(p.terminal);
    EXPECT_EQ(p.args, std::vector<std::string>{"sh"});
    EXPECT_EQ(p.env, (std::vector<std::string>{
                         "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                         "TERM=xterm"}));
    EXPECT_EQ(p.cwd, "/");
    EXPECT_EQ(p.user.uid, 0u);
    EXPECT_TRUE(p.no_new_privileges);
    ASSERT_TRUE(p.capabilities);
    const std::vector<std::string> caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
    EXPECT_EQ(p.capabilities->bounding, caps);
    EXPECT_EQ(p.capabilities->effective, caps);
    EXPECT_EQ(p.capabilities->permitted, caps);
    EXPECT_TRUE(p.capabilities->inheritable.empty());  // CVE-2022-29162
    ASSERT_EQ(p.rlimits.size(), 1u);
    EXPECT_EQ(p.rlimits[0].type, "RLIMIT_NOFILE");
    EXPECT_EQ(p.rlimits[0].soft, 1024u);
    EXPECT_EQ(p.rlimits[0].hard, 1024u);

    std::vector<std::string> dests;
    for (const auto& m : s.mounts) dests.push_back(m.destination);
    EXPECT_EQ(dests, (std::vector<std::string>{"/proc", "/dev", "/dev/pts", "/dev/shm",
                                               "/dev/mqueue", "/sys", "/sys/fs/cgroup"}));
    const Mount* dev = find_mount(s, "/dev");
    EXPECT_EQ(dev->flags, static_cast<unsigned long>(MS_NOSUID | MS_STRICTATIME));
    EXPECT_EQ(dev->data, "mode=755,size=65536k");
    EXPECT_EQ(find_mount(s, "/dev/pts")->data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
    EXPECT_EQ(find_mount(s, "/dev/shm")->data, "mode=1777,size=65536k");
    EXPECT_EQ(find_mount(s, "/sys")->type, "sysfs");
    EXPECT_EQ(find_mount(s, "/sys")->flags,
              static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY));
    EXPECT_EQ(
        find_mount(s, "/sys/fs/cgroup")->flags,
        static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY));

    ASSERT_TRUE(s.linux);
    EXPECT_EQ(namespace_types(s),
              (std::vector<NamespaceType>{NamespaceType::pid, NamespaceType::network,
                                          NamespaceType::ipc, NamespaceType::uts,
                                          NamespaceType::mount}));
    EXPECT_TRUE(s.linux->uid_mappings.empty());
    ASSERT_TRUE(s.linux->resources);
    ASSERT_EQ(s.linux->resources->devices.size(), 1u);
    EXPECT_FALSE(s.linux->resources->devices[0].allow);
    EXPECT_EQ(s.linux->resources->devices[0].access, "rwm");
    EXPECT_EQ(s.linux->masked_paths.size(), 10u);
    EXPECT_NE(std::find(s.linux->masked_paths.begin(), s.linux->masked_paths.end(), "/proc/kcore"),
              s.linux->masked_paths.end());
    EXPECT_EQ(s.linux->readonly_paths,
              (std::vector<std::string>{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                        "/proc/sysrq-trigger"}));
}

TEST(SpecDefault, RootlessParsesBack) {
    auto r = parse_spec(default_spec_json(true, 1000, 1001), "/home/u/bundle");
    ASSERT_TRUE(r) << r.error().message();
    const Spec& s = *r;
    ASSERT_TRUE(s.linux);
    auto types = namespace_types(s);
    EXPECT_EQ(std::count(types.begin(), types.end(), NamespaceType::network), 0);
    EXPECT_EQ(std::count(types.begin(), types.end(), NamespaceType::user), 1);
    EXPECT_TRUE(s.linux->find_namespace(NamespaceType::user)->path.empty());
    ASSERT_EQ(s.linux->uid_mappings.size(), 1u);
    EXPECT_EQ(s.linux->uid_mappings[0].container_id, 0u);
    EXPECT_EQ(s.linux->uid_mappings[0].host_id, 1000u);
    EXPECT_EQ(s.linux->uid_mappings[0].size, 1u);
    ASSERT_EQ(s.linux->gid_mappings.size(), 1u);
    EXPECT_EQ(s.linux->gid_mappings[0].host_id, 1001u);
    EXPECT_FALSE(s.linux->resources);

    const Mount* sys = find_mount(s, "/sys");
    ASSERT_NE(sys, nullptr);
    EXPECT_TRUE(sys->bind);
    EXPECT_TRUE(sys->recursive);
    EXPECT_EQ(sys->source, "/sys");
    EXPECT_EQ(sys->flags, static_cast<unsigned long>(MS_BIND | MS_REC | MS_NOSUID | MS_NOEXEC |
                                                     MS_NODEV | MS_RDONLY));
    EXPECT_EQ(find_mount(s, "/sys/fs/cgroup"), nullptr);
    EXPECT_EQ(find_mount(s, "/dev/pts")->data, "newinstance,ptmxmode=0666,mode=0620");
}

TEST(SpecDefault, IsPrettyPrinted) {
    std::string text = default_spec_json(false);
    EXPECT_NE(text.find("\n\t\"ociVersion\": \"1.2.0\""), std::string::npos) << text.substr(0, 80);
    EXPECT_EQ(text.back(), '}');  // the caller adds the final newline
    // Fields appear in the order `runc spec` writes them.
    EXPECT_LT(text.find("\"ociVersion\""), text.find("\"process\""));
    EXPECT_LT(text.find("\"process\""), text.find("\"root\""));
    EXPECT_LT(text.find("\"mounts\""), text.find("\"linux\""));
}

TEST(SpecDefault, DocumentIsTheFilesContent) {
    for (bool rootless : {false, true}) {
        EXPECT_EQ(default_spec_doc(rootless, 1000, 1001), json::parse(default_spec_json(rootless, 1000, 1001)))
            << "rootless=" << rootless;
    }
}

TEST(SpecFeatures, DocumentShape) {
    json f = json::parse(features_json());
    EXPECT_EQ(f["ociVersionMin"], "1.0.0");
    EXPECT_EQ(f["ociVersionMax"], "1.2.0");
    EXPECT_EQ(f["hooks"].size(), 6u);
    auto has = [](const json& list, const std::string& v) {
        return std::find(list.begin(), list.end(), v) != list.end();
    };
    for (const char* opt : {"ro", "rbind", "rprivate", "nosuid", "strictatime", "tmpcopyup"})
        EXPECT_TRUE(has(f["mountOptions"], opt)) << opt;
    EXPECT_TRUE(has(f["mountOptions"], "idmap"));
    EXPECT_TRUE(has(f["mountOptions"], "ridmap"));
    EXPECT_FALSE(has(f["mountOptions"], "rro"));

    const json& l = f["linux"];
    EXPECT_EQ(l["namespaces"].size(), 7u);
    EXPECT_FALSE(has(l["namespaces"], "time"));  // parsed, but create cannot make one
    EXPECT_EQ(l["capabilities"].size(), static_cast<size_t>(last_capability() + 1));
    EXPECT_EQ(l["capabilities"][0], "CAP_CHOWN");
    EXPECT_EQ(l["cgroup"]["v1"], true);
    EXPECT_EQ(l["cgroup"]["v2"], true);
    EXPECT_EQ(l["cgroup"]["systemd"], false);
    EXPECT_EQ(l["cgroup"]["systemdUser"], false);
    EXPECT_EQ(l["seccomp"]["enabled"], true);
    EXPECT_TRUE(has(l["seccomp"]["actions"], "SCMP_ACT_ERRNO"));
    EXPECT_TRUE(has(l["seccomp"]["operators"], "SCMP_CMP_MASKED_EQ"));
    EXPECT_TRUE(has(l["seccomp"]["archs"], "SCMP_ARCH_X86_64"));
    EXPECT_EQ(l["apparmor"]["enabled"], false);
    EXPECT_EQ(l["selinux"]["enabled"], false);
    EXPECT_EQ(l["intelRdt"]["enabled"], false);
    EXPECT_EQ(l["mountExtensions"]["idmap"]["enabled"], true);
    EXPECT_TRUE(f["annotations"]["io.github.mydocker.version"].is_string());
}

// Every option features advertises must be one the parser turns into flags, not data.
TEST(SpecFeatures, AdvertisedMountOptionsAreRecognised) {
    json f = json::parse(features_json());
    for (const auto& opt : f["mountOptions"]) {
        json m = {{"destination", "/m"}, {"type", "tmpfs"}, {"source", "/s"},
                  {"options", json::array({opt})}};
        // The id-map options are for binds, with the mount's mappings.
        if (opt == "idmap" || opt == "ridmap") {
            m["type"] = "bind";
            m["options"] = json::array({"bind", opt});
            m["uidMappings"] = m["gidMappings"] =
                json::array({{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}});
        }
        json cfg = {{"ociVersion", "1.0.0"}, {"root", {{"path", "r"}}}, {"mounts", json::array({m})}};
        auto r = parse_spec(cfg.dump(), "/b");
        ASSERT_TRUE(r) << opt << ": " << r.error().message();
        EXPECT_EQ(r->mounts[0].data, "") << opt;
    }
}

}  // namespace
}  // namespace mydocker::runtime
