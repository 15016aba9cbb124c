// parse_spec / parse_process / load_spec: a complete config lands field by field in the
// model, and the document-level rules (syntax errors, relative paths, nulls) hold.
#include <gtest/gtest.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include <nlohmann/json.hpp>
#include <string>

#include "runtime/spec.h"
#include "sys/files.h"

namespace mydocker::runtime {
namespace {

using nlohmann::json;

// Every field the model knows, with values distinct enough to catch a swapped assignment.
const char* kFullConfig = R"({
  "ociVersion": "1.2.0",
  "process": {
    "terminal": true,
    "consoleSize": {"height": 24, "width": 80},
    "user": {"uid": 1000, "gid": 1001, "umask": 18, "additionalGids": [5, 6], "username": "u"},
    "args": ["/bin/sh", "-c", "echo hi"],
    "env": ["PATH=/bin", "EMPTY="],
    "cwd": "/work",
    "capabilities": {
      "bounding": ["CAP_CHOWN", "CAP_KILL"],
      "effective": ["CAP_KILL"],
      "inheritable": ["CAP_NET_RAW"],
      "permitted": ["CAP_KILL", "CAP_SETUID"],
      "ambient": ["CAP_SYS_ADMIN"]
    },
    "rlimits": [
      {"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 4096},
      {"type": "RLIMIT_CORE", "soft": 0, "hard": 18446744073709551615}
    ],
    "noNewPrivileges": true,
    "oomScoreAdj": -500,
    "apparmorProfile": "docker-default",
    "selinuxLabel": "system_u:system_r:container_t:s0",
    "ioPriority": {"class": "IOPRIO_CLASS_IDLE"}
  },
  "root": {"path": "rootfs/", "readonly": true},
  "hostname": "box",
  "domainname": "example.org",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/data/", "type": "bind", "source": "vol", "options": ["rbind", "ro", "rprivate"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
     "options": ["nosuid", "nodev", "mode=1777", "size=65536k"]}
  ],
  "hooks": {
    "prestart": [{"path": "/bin/pre", "args": ["pre", "1"], "env": ["A=1"], "timeout": 5}],
    "createRuntime": [{"path": "/bin/cr"}],
    "createContainer": [{"path": "/bin/cc"}],
    "startContainer": [{"path": "/bin/sc"}],
    "poststart": [{"path": "/bin/ps"}],
    "poststop": [{"path": "/bin/pst"}, {"path": "/bin/pst2"}]
  },
  "annotations": {"org.example.key": "value", "b": ""},
  "linux": {
    "namespaces": [
      {"type": "pid"}, {"type": "network", "path": "/var/run/netns/x"}, {"type": "mount"},
      {"type": "ipc"}, {"type": "uts"}, {"type": "user"}, {"type": "cgroup"}, {"type": "time"}
    ],
    "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
    "gidMappings": [{"containerID": 0, "hostID": 200000, "size": 1000}, {"containerID": 1000, "hostID": 5, "size": 1}],
    "devices": [
      {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438, "uid": 0, "gid": 0},
      {"path": "/dev/fifo", "type": "p"}
    ],
    "cgroupsPath": "/mydocker/abc",
    "resources": {
      "devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw"}],
      "memory": {"limit": 536870912, "swap": -1},
      "cpu": {"shares": 512, "cpus": "0-1"},
      "pids": {"limit": 100},
      "network": {"classID": 1048577},
      "rdma": {"mlx5_1": {"hcaHandles": 3}}
    },
    "sysctl": {"net.ipv4.ip_forward": "1", "kernel.shmmax": "65536", "fs.mqueue.msg_max": "20"},
    "seccomp": {
      "defaultAction": "SCMP_ACT_ERRNO",
      "defaultErrnoRet": 1,
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
      "flags": ["SECCOMP_FILTER_FLAG_LOG"],
      "listenerPath": "/run/seccomp.sock",
      "listenerMetadata": "meta",
      "syscalls": [
        {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": 8, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]},
        {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
         "args": [{"index": 1, "value": 4095, "valueTwo": 448, "op": "SCMP_CMP_MASKED_EQ"}]}
      ]
    },
    "rootfsPropagation": "rslave",
    "maskedPaths": ["/proc/kcore", "/sys/firmware"],
    "readonlyPaths": ["/proc/sys"],
    "mountLabel": "system_u:object_r:container_file_t:s0",
    "intelRdt": {"closID": "x"}
  }
})";

TEST(SpecParse, FullConfigLandsInTheModel) {
    auto r = parse_spec(kFullConfig, "/bundles/b1");
    ASSERT_TRUE(r) << r.error().message();
    const Spec& s = *r;
    EXPECT_EQ(s.oci_version, "1.2.0");

    ASSERT_TRUE(s.process);
    const Process& p = *s.process;
    EXPECT_TRUE(p.terminal);
    ASSERT_TRUE(p.console_size);
    EXPECT_EQ(p.console_size->height, 24u);
    EXPECT_EQ(p.console_size->width, 80u);
    EXPECT_EQ(p.user.uid, 1000u);
    EXPECT_EQ(p.user.gid, 1001u);
    EXPECT_EQ(p.user.umask, 022u);
    EXPECT_EQ(p.user.additional_gids, (std::vector<uint32_t>{5, 6}));
    EXPECT_EQ(p.user.username, "u");
    EXPECT_EQ(p.args, (std::vector<std::string>{"/bin/sh", "-c", "echo hi"}));
    EXPECT_EQ(p.env, (std::vector<std::string>{"PATH=/bin", "EMPTY="}));
    EXPECT_EQ(p.cwd, "/work");
    ASSERT_TRUE(p.capabilities);
    EXPECT_EQ(p.capabilities->bounding, (std::vector<std::string>{"CAP_CHOWN", "CAP_KILL"}));
    EXPECT_EQ(p.capabilities->effective, (std::vector<std::string>{"CAP_KILL"}));
    EXPECT_EQ(p.capabilities->inheritable, (std::vector<std::string>{"CAP_NET_RAW"}));
    EXPECT_EQ(p.capabilities->permitted, (std::vector<std::string>{"CAP_KILL", "CAP_SETUID"}));
    EXPECT_EQ(p.capabilities->ambient, (std::vector<std::string>{"CAP_SYS_ADMIN"}));
    ASSERT_EQ(p.rlimits.size(), 2u);
    EXPECT_EQ(p.rlimits[0].type, "RLIMIT_NOFILE");
    EXPECT_EQ(p.rlimits[0].resource, RLIMIT_NOFILE);
    EXPECT_EQ(p.rlimits[0].soft, 1024u);
    EXPECT_EQ(p.rlimits[0].hard, 4096u);
    EXPECT_EQ(p.rlimits[1].resource, RLIMIT_CORE);
    EXPECT_EQ(p.rlimits[1].hard, UINT64_MAX);  // RLIM_INFINITY as Go runtimes write it
    EXPECT_TRUE(p.no_new_privileges);
    EXPECT_EQ(p.oom_score_adj, -500);
    EXPECT_EQ(p.apparmor_profile, "docker-default");
    EXPECT_EQ(p.selinux_label, "system_u:system_r:container_t:s0");

    EXPECT_EQ(s.root.path, "/bundles/b1/rootfs");
    EXPECT_TRUE(s.root.readonly);
    EXPECT_EQ(s.hostname, "box");
    EXPECT_EQ(s.domainname, "example.org");

    ASSERT_EQ(s.mounts.size(), 3u);
    EXPECT_EQ(s.mounts[0].destination, "/proc");
    EXPECT_EQ(s.mounts[0].type, "proc");
    EXPECT_EQ(s.mounts[0].source, "proc");  // not a bind: the source is a name, not a path
    EXPECT_FALSE(s.mounts[0].bind);
    EXPECT_EQ(s.mounts[0].flags, 0u);
    const Mount& bind = s.mounts[1];
    EXPECT_EQ(bind.destination, "/data");
    EXPECT_EQ(bind.source, "/bundles/b1/vol");
    EXPECT_TRUE(bind.bind);
    EXPECT_TRUE(bind.recursive);
    EXPECT_EQ(bind.flags, static_cast<unsigned long>(MS_BIND | MS_REC | MS_RDONLY));
    EXPECT_EQ(bind.propagation_flags, static_cast<unsigned long>(MS_PRIVATE | MS_REC));
    EXPECT_EQ(bind.options, (std::vector<std::string>{"rbind", "ro", "rprivate"}));
    EXPECT_EQ(s.mounts[2].flags, static_cast<unsigned long>(MS_NOSUID | MS_NODEV));
    EXPECT_EQ(s.mounts[2].data, "mode=1777,size=65536k");

    ASSERT_EQ(s.hooks.prestart.size(), 1u);
    EXPECT_EQ(s.hooks.prestart[0].path, "/bin/pre");
    EXPECT_EQ(s.hooks.prestart[0].args, (std::vector<std::string>{"pre", "1"}));
    EXPECT_EQ(s.hooks.prestart[0].env, (std::vector<std::string>{"A=1"}));
    EXPECT_EQ(s.hooks.prestart[0].timeout, 5);
    EXPECT_FALSE(s.hooks.create_runtime.at(0).timeout);
    EXPECT_EQ(s.hooks.create_runtime.at(0).path, "/bin/cr");
    EXPECT_EQ(s.hooks.create_container.at(0).path, "/bin/cc");
    EXPECT_EQ(s.hooks.start_container.at(0).path, "/bin/sc");
    EXPECT_EQ(s.hooks.poststart.at(0).path, "/bin/ps");
    ASSERT_EQ(s.hooks.poststop.size(), 2u);
    EXPECT_EQ(s.hooks.poststop[1].path, "/bin/pst2");

    EXPECT_EQ(s.annotations,
              (std::map<std::string, std::string>{{"org.example.key", "value"}, {"b", ""}}));

    ASSERT_TRUE(s.linux);
    const Linux& l = *s.linux;
    ASSERT_EQ(l.namespaces.size(), 8u);
    EXPECT_EQ(l.namespaces[1].type, NamespaceType::network);
    EXPECT_EQ(l.namespaces[1].path, "/var/run/netns/x");
    EXPECT_EQ(l.namespaces[7].type, NamespaceType::time);
    EXPECT_TRUE(l.namespaces[0].path.empty());
    ASSERT_EQ(l.uid_mappings.size(), 1u);
    EXPECT_EQ(l.uid_mappings[0].container_id, 0u);
    EXPECT_EQ(l.uid_mappings[0].host_id, 100000u);
    EXPECT_EQ(l.uid_mappings[0].size, 65536u);
    ASSERT_EQ(l.gid_mappings.size(), 2u);
    EXPECT_EQ(l.gid_mappings[1].container_id, 1000u);
    EXPECT_EQ(l.gid_mappings[1].host_id, 5u);
    EXPECT_EQ(l.gid_mappings[1].size, 1u);
    ASSERT_EQ(l.devices.size(), 2u);
    EXPECT_EQ(l.devices[0].path, "/dev/fuse");
    EXPECT_EQ(l.devices[0].type, 'c');
    EXPECT_EQ(l.devices[0].major, 10);
    EXPECT_EQ(l.devices[0].minor, 229);
    EXPECT_EQ(l.devices[0].file_mode, 0666u);
    EXPECT_EQ(l.devices[0].uid, 0u);
    EXPECT_EQ(l.devices[0].gid, 0u);
    EXPECT_EQ(l.devices[1].type, 'p');
    EXPECT_FALSE(l.devices[1].file_mode);
    EXPECT_EQ(l.cgroups_path, "/mydocker/abc");

    ASSERT_TRUE(l.resources);
    const auto& res = *l.resources;
    ASSERT_EQ(res.devices.size(), 2u);
    EXPECT_FALSE(res.devices[0].allow);
    EXPECT_EQ(res.devices[0].type, 'a');
    EXPECT_EQ(res.devices[0].major, -1);
    EXPECT_EQ(res.devices[0].minor, -1);
    EXPECT_EQ(res.devices[0].access, "rwm");
    EXPECT_TRUE(res.devices[1].allow);
    EXPECT_EQ(res.devices[1].type, 'c');
    EXPECT_EQ(res.devices[1].major, 10);
    EXPECT_EQ(res.devices[1].minor, 229);
    EXPECT_EQ(res.devices[1].access, "rw");
    ASSERT_TRUE(res.memory);
    EXPECT_EQ(res.memory->limit, 536870912);
    EXPECT_EQ(res.memory->swap, -1);
    EXPECT_FALSE(res.memory->reservation);
    ASSERT_TRUE(res.cpu);
    EXPECT_EQ(res.cpu->shares, 512u);
    EXPECT_EQ(res.cpu->cpus, "0-1");
    ASSERT_TRUE(res.pids);
    EXPECT_EQ(res.pids->limit, 100);
    EXPECT_FALSE(res.block_io);

    EXPECT_EQ(l.sysctl.size(), 3u);
    EXPECT_EQ(l.sysctl.at("net.ipv4.ip_forward"), "1");

    ASSERT_TRUE(l.seccomp);
    const Seccomp& sc = *l.seccomp;
    EXPECT_EQ(sc.default_action, "SCMP_ACT_ERRNO");
    EXPECT_EQ(sc.default_errno_ret, 1u);
    EXPECT_EQ(sc.architectures, (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}));
    EXPECT_EQ(sc.flags, (std::vector<std::string>{"SECCOMP_FILTER_FLAG_LOG"}));
    EXPECT_EQ(sc.listener_path, "/run/seccomp.sock");
    EXPECT_EQ(sc.listener_metadata, "meta");
    ASSERT_EQ(sc.syscalls.size(), 3u);
    EXPECT_EQ(sc.syscalls[0].names, (std::vector<std::string>{"read", "write"}));
    EXPECT_EQ(sc.syscalls[0].action, "SCMP_ACT_ALLOW");
    EXPECT_FALSE(sc.syscalls[0].errno_ret);
    EXPECT_EQ(sc.syscalls[2].errno_ret, 13u);
    ASSERT_EQ(sc.syscalls[2].args.size(), 1u);
    EXPECT_EQ(sc.syscalls[2].args[0].index, 1u);
    EXPECT_EQ(sc.syscalls[2].args[0].value, 4095u);
    EXPECT_EQ(sc.syscalls[2].args[0].value_two, 448u);
    EXPECT_EQ(sc.syscalls[2].args[0].op, "SCMP_CMP_MASKED_EQ");

    EXPECT_EQ(l.rootfs_propagation, "rslave");
    EXPECT_EQ(l.rootfs_propagation_flags, static_cast<unsigned long>(MS_SLAVE | MS_REC));
    EXPECT_EQ(l.masked_paths, (std::vector<std::string>{"/proc/kcore", "/sys/firmware"}));
    EXPECT_EQ(l.readonly_paths, (std::vector<std::string>{"/proc/sys"}));
    EXPECT_EQ(l.mount_label, "system_u:object_r:container_file_t:s0");
}

TEST(SpecParse, MinimalConfigNeedsNoProcessNorLinux) {
    auto r = parse_spec(R"({"ociVersion": "1.0.0", "root": {"path": "/abs/root"}})", "/b");
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_FALSE(r->process);
    EXPECT_FALSE(r->linux);
    EXPECT_EQ(r->root.path, "/abs/root");
    EXPECT_FALSE(r->root.readonly);
}

TEST(SpecParse, RootPathIsNormalised) {
    auto r = parse_spec(R"({"ociVersion": "1.1.0", "root": {"path": "./a/../rootfs//"}})", "/b/x/");
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->root.path, "/b/x/rootfs");
}

TEST(SpecParse, RelativeRootNeedsAnAbsoluteBundle) {
    auto r = parse_spec(R"({"ociVersion": "1.1.0", "root": {"path": "rootfs"}})", "bundle");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), sys::ErrorCode::invalid_argument);
    EXPECT_TRUE(r.error().message().starts_with("root.path: ")) << r.error().message();
}

TEST(SpecParse, NullMeansAbsentAndUnknownFieldsAreIgnored) {
    auto r = parse_spec(R"({"ociVersion": "1.0.2", "root": {"path": "r"}, "process": null,
                            "hooks": null, "mounts": null, "linux": {"seccomp": null, "resources": null},
                            "windows": {"layerFolders": []}, "vm": {}, "x-extension": [1, 2]})",
                        "/b");
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_FALSE(r->process);
    ASSERT_TRUE(r->linux);
    EXPECT_FALSE(r->linux->seccomp);
    EXPECT_FALSE(r->linux->resources);
}

TEST(SpecParse, ProcessDefaults) {
    auto r = parse_spec(
        R"({"ociVersion": "1.0.0", "root": {"path": "r"}, "process": {"args": ["x"]}})", "/b");
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_TRUE(r->process);
    EXPECT_EQ(r->process->cwd, "/");
    EXPECT_EQ(r->process->user.uid, 0u);
    EXPECT_FALSE(r->process->user.umask);
    EXPECT_FALSE(r->process->capabilities);
    EXPECT_FALSE(r->process->oom_score_adj);
    EXPECT_FALSE(r->process->terminal);
}

TEST(SpecParse, SyntaxErrorReportsLineAndColumn) {
    // The stray "x" is on line 3, column 16.
    const std::string text = "{\n  \"ociVersion\": \"1.0.0\",\n  \"root\": {\"p\" x}\n}\n";
    auto r = parse_spec(text, "/b");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), sys::ErrorCode::invalid_argument);
    EXPECT_TRUE(r.error().message().starts_with("config.json: parse error at line 3, column 16: "))
        << r.error().message();
    // Our description, not nlohmann's "[json.exception...]" framing.
    EXPECT_EQ(r.error().message().find("json.exception"), std::string::npos);
}

TEST(SpecParse, SyntaxErrorOnFirstLine) {
    auto r = parse_spec("{,}", "/b");
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().message().starts_with("config.json: parse error at line 1, column 2: "))
        << r.error().message();
}

TEST(SpecParse, TruncatedDocument) {
    auto r = parse_spec("{\"ociVersion\": \"1.0.0\",\n", "/b");
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().message().starts_with("config.json: parse error at line 2, column 1: "))
        << r.error().message();
}

TEST(SpecParse, EmptyDocument) {
    auto r = parse_spec("", "/b");
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().message().starts_with("config.json: parse error at line 1, column 1: "))
        << r.error().message();
}

TEST(SpecParse, TopLevelMustBeAnObject) {
    auto r = parse_spec("[1, 2]", "/b");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(), "config.json: must be a JSON object");
}

TEST(SpecParse, HostnameAllowedWithJoinedUtsNamespace) {
    auto r = parse_spec(R"({"ociVersion": "1.0.0", "root": {"path": "r"}, "hostname": "h",
                            "linux": {"namespaces": [{"type": "uts", "path": "/proc/42/ns/uts"}]}})",
                        "/b");
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->hostname, "h");
}

TEST(SpecParse, JoinedUserNamespaceNeedsNoMappings) {
    auto r = parse_spec(R"({"ociVersion": "1.0.0", "root": {"path": "r"},
                            "linux": {"namespaces": [{"type": "user", "path": "/proc/42/ns/user"}]}})",
                        "/b");
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_TRUE(r->linux->uid_mappings.empty());
}

TEST(SpecParse, RlimitNamesResolve) {
    const std::pair<const char*, int> names[] = {
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
    json rlimits = json::array();
    for (const auto& [name, _] : names)
        rlimits.push_back({{"type", name}, {"soft", 1}, {"hard", 2}});
    json cfg = {{"ociVersion", "1.0.0"},
                {"root", {{"path", "r"}}},
                {"process", {{"args", json::array({"sh"})}, {"rlimits", rlimits}}}};
    auto r = parse_spec(cfg.dump(), "/b");
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_EQ(r->process->rlimits.size(), std::size(names));
    for (size_t i = 0; i < std::size(names); ++i) {
        EXPECT_EQ(r->process->rlimits[i].type, names[i].first);
        EXPECT_EQ(r->process->rlimits[i].resource, names[i].second) << names[i].first;
    }
}

TEST(SpecParse, RlimitSoftEqualHardIsFine) {
    auto r = parse_spec(R"({"ociVersion": "1.0.0", "root": {"path": "r"}, "process": {"args": ["x"],
                            "rlimits": [{"type": "RLIMIT_NPROC", "soft": 7, "hard": 7}]}})",
                        "/b");
    ASSERT_TRUE(r) << r.error().message();
}

TEST(SpecParse, CapabilityValidationUsesTheCapabilityTable) {
    auto r = parse_spec(R"({"ociVersion": "1.0.0", "root": {"path": "r"}, "process": {"args": ["x"],
                            "capabilities": {"bounding": ["CAP_CHOWN", "CAP_BOGUS"]}}})",
                        "/b");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(),
              "process.capabilities.bounding[1]: unknown capability \"CAP_BOGUS\"");
}

// Sysctls in namespaces the container owns are fine, whether created or joined.
TEST(SpecParse, NamespacedSysctlsAreAccepted) {
    auto r = parse_spec(R"({"ociVersion": "1.0.0", "root": {"path": "r"}, "linux": {
                            "namespaces": [{"type": "network", "path": "/run/netns/n"}, {"type": "ipc"}, {"type": "uts"}],
                            "sysctl": {"net.core.somaxconn": "1024", "net/ipv4/ping_group_range": "0 0",
                                       "kernel.msgmax": "8192", "kernel.sem": "250 32000 32 128",
                                       "kernel.shm_rmid_forced": "1", "fs.mqueue.queues_max": "256",
                                       "kernel.domainname": "x", "kernel.hostname": "y"}}})",
                        "/b");
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->linux->sysctl.size(), 8u);
}

TEST(SpecParse, SysctlNeedsItsOwnNamespace) {
    struct Case {
        const char* key;
        const char* ns;
    };
    const Case cases[] = {
        {"kernel.msgmnb", "ipc"},           {"kernel.shmall", "ipc"},
        {"fs.mqueue.msg_max", "ipc"},       {"kernel.domainname", "uts"},
        {"net.ipv4.ip_forward", "network"},
    };
    for (const auto& c : cases) {
        json cfg = {
            {"ociVersion", "1.0.0"},
            {"root", {{"path", "r"}}},
            {"linux",
             {{"namespaces", json::array({{{"type", "pid"}}})}, {"sysctl", {{c.key, "1"}}}}}};
        auto r = parse_spec(cfg.dump(), "/b");
        ASSERT_FALSE(r) << c.key;
        EXPECT_EQ(r.error().message(), std::string("linux.sysctl: \"") + c.key +
                                           "\" needs a private " + c.ns + " namespace");
    }
}

TEST(SpecParse, HostWideSysctlsAreRefused) {
    for (const char* key : {"vm.swappiness", "kernel.pid_max", "fs.file-max", "kernel.shmmax2"}) {
        json cfg = {{"ociVersion", "1.0.0"},
                    {"root", {{"path", "r"}}},
                    {"linux",
                     {{"namespaces", json::array({{{"type", "ipc"}}, {{"type", "network"}}})},
                      {"sysctl", {{key, "1"}}}}}};
        auto r = parse_spec(cfg.dump(), "/b");
        ASSERT_FALSE(r) << key;
        EXPECT_EQ(r.error().message(),
                  std::string("linux.sysctl: \"") + key + "\" is not namespaced");
    }
}

// validate_seccomp (seccomp.cpp) judges the names and names fields relative to the seccomp
// object; the message must carry the full JSON path.
TEST(SpecParse, SeccompValidationErrorNamesTheFullPath) {
    auto r = parse_spec(R"({"ociVersion": "1.0.0", "root": {"path": "r"}, "linux": {
                            "seccomp": {"defaultAction": "SCMP_ACT_BOGUS"}}})",
                        "/b");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), sys::ErrorCode::invalid_argument);
    EXPECT_TRUE(r.error().message().starts_with("linux.seccomp.defaultAction: "))
        << r.error().message();
    EXPECT_NE(r.error().message().find("SCMP_ACT_BOGUS"), std::string::npos) << r.error().message();

    auto action = parse_spec(R"({"ociVersion": "1.0.0", "root": {"path": "r"}, "linux": {
                                 "seccomp": {"defaultAction": "SCMP_ACT_ALLOW",
                                             "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ALLOW"},
                                                          {"names": ["b"], "action": "SCMP_ACT_BOGUS"}]}}})",
                             "/b");
    ASSERT_FALSE(action);
    EXPECT_TRUE(action.error().message().starts_with("linux.seccomp.syscalls[1].action: "))
        << action.error().message();
}

TEST(SpecParseProcess, BareProcessObject) {
    auto r =
        parse_process(R"({"args": ["ls", "-l"], "env": ["A=b"], "cwd": "/tmp", "terminal": true,
                               "user": {"uid": 5, "gid": 6}, "capabilities": {"effective": ["CAP_KILL"]}})");
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->args, (std::vector<std::string>{"ls", "-l"}));
    EXPECT_EQ(r->cwd, "/tmp");
    EXPECT_EQ(r->user.uid, 5u);
    EXPECT_TRUE(r->terminal);
}

TEST(SpecParseProcess, CwdDefaultsToRoot) {
    auto r = parse_process(R"({"args": ["ls"]})");
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->cwd, "/");
}

TEST(SpecParseProcess, PathsHaveNoPrefix) {
    auto empty_args = parse_process(R"({"args": [], "cwd": "/"})");
    ASSERT_FALSE(empty_args);
    EXPECT_EQ(empty_args.error().message(), "args: must not be empty");

    auto missing_args = parse_process(R"({"cwd": "/"})");
    ASSERT_FALSE(missing_args);
    EXPECT_EQ(missing_args.error().message(), "args: is required");

    auto relative_cwd = parse_process(R"({"args": ["x"], "cwd": "tmp"})");
    ASSERT_FALSE(relative_cwd);
    EXPECT_EQ(relative_cwd.error().message(), "cwd: must be an absolute path");

    auto bad_rlimit = parse_process(
        R"({"args": ["x"], "rlimits": [{"type": "RLIMIT_FOO", "soft": 1, "hard": 1}]})");
    ASSERT_FALSE(bad_rlimit);
    EXPECT_EQ(bad_rlimit.error().message(), "rlimits[0].type: unknown rlimit \"RLIMIT_FOO\"");

    auto bad_uid = parse_process(R"({"args": ["x"], "user": {"uid": -1}})");
    ASSERT_FALSE(bad_uid);
    EXPECT_EQ(bad_uid.error().message(), "user.uid: must be >= 0");
}

TEST(SpecParseProcess, SyntaxErrorNamesProcessJson) {
    auto r = parse_process("{\"args\": [\"x\",]}");
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().message().starts_with("process.json: parse error at line 1, column 15: "))
        << r.error().message();

    auto not_object = parse_process("\"sh\"");
    ASSERT_FALSE(not_object);
    EXPECT_EQ(not_object.error().message(), "process.json: must be a JSON object");
}

TEST(SpecLoad, ReadsConfigJsonFromTheBundle) {
    char tmpl[] = "/tmp/spec_load_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    std::string bundle = tmpl;
    ASSERT_TRUE(sys::write_file(bundle + "/config.json",
                                R"({"ociVersion": "1.0.0", "root": {"path": "rootfs"}})"));
    auto r = load_spec(bundle);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->root.path, bundle + "/rootfs");
    ASSERT_TRUE(sys::remove_all(bundle));

    auto missing = load_spec(bundle);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().err(), ENOENT);
    EXPECT_NE(missing.error().message().find("config.json"), std::string::npos)
        << missing.error().message();
}

TEST(SpecNamespaces, NamesFlagsAndProcFiles) {
    struct Row {
        NamespaceType t;
        const char* name;
        int flag;
        const char* proc;
    };
    const Row rows[] = {
        {NamespaceType::pid, "pid", CLONE_NEWPID, "pid"},
        {NamespaceType::network, "network", CLONE_NEWNET, "net"},
        {NamespaceType::mount, "mount", CLONE_NEWNS, "mnt"},
        {NamespaceType::ipc, "ipc", CLONE_NEWIPC, "ipc"},
        {NamespaceType::uts, "uts", CLONE_NEWUTS, "uts"},
        {NamespaceType::user, "user", CLONE_NEWUSER, "user"},
        {NamespaceType::cgroup, "cgroup", CLONE_NEWCGROUP, "cgroup"},
        {NamespaceType::time, "time", 0x80, "time"},
    };
    for (const auto& r : rows) {
        EXPECT_STREQ(namespace_type_name(r.t), r.name);
        EXPECT_EQ(namespace_clone_flag(r.t), r.flag) << r.name;
        EXPECT_STREQ(namespace_proc_name(r.t), r.proc);
    }
}

TEST(SpecNamespaces, FindNamespace) {
    Linux l;
    l.namespaces = {{NamespaceType::pid, ""}, {NamespaceType::network, "/run/netns/a"}};
    EXPECT_TRUE(l.has_namespace(NamespaceType::pid));
    EXPECT_FALSE(l.has_namespace(NamespaceType::user));
    ASSERT_NE(l.find_namespace(NamespaceType::network), nullptr);
    EXPECT_EQ(l.find_namespace(NamespaceType::network)->path, "/run/netns/a");
    EXPECT_EQ(l.find_namespace(NamespaceType::mount), nullptr);
}

}  // namespace
}  // namespace mydocker::runtime
