// One case per validation rule: a JSON Patch (RFC 6902) breaks one field of an otherwise
// valid config, and the error must be exactly "<json path>: <what is wrong>".
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "runtime/spec.h"

namespace mydocker::runtime {
namespace {

using nlohmann::json;

const char* kBase = R"({
  "ociVersion": "1.0.2",
  "root": {"path": "rootfs"},
  "process": {
    "args": ["sh"], "cwd": "/", "env": ["PATH=/bin"], "user": {"uid": 0, "gid": 0},
    "consoleSize": {"height": 1, "width": 1},
    "capabilities": {"bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_SETGID"]},
    "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 1024}]
  },
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs"}
  ],
  "hooks": {"prestart": [{"path": "/bin/true"}], "poststop": [{"path": "/bin/true", "timeout": 3}]},
  "annotations": {"a": "b"},
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "mount"}],
    "devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}],
    "resources": {
      "devices": [{"allow": false, "access": "rwm"}],
      "memory": {"limit": 1048576},
      "cpu": {"shares": 1024, "cpus": "0"},
      "pids": {"limit": 10},
      "blockIO": {"weight": 500, "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 100}]},
      "hugepageLimits": [{"pageSize": "2MB", "limit": 0}],
      "unified": {"memory.high": "max"}
    },
    "sysctl": {"net.ipv4.ip_forward": "1"},
    "seccomp": {"defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO",
                              "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}]},
    "maskedPaths": ["/proc/kcore"],
    "readonlyPaths": ["/proc/sys"]
  }
})";

TEST(SpecErrors, BaseConfigIsValid) {
    auto r = parse_spec(kBase, "/b");
    ASSERT_TRUE(r) << r.error().message();
}

struct ErrorCase {
    const char* name;
    const char* patch;  // RFC 6902 operations applied to kBase
    const char* message;
};

// gtest would otherwise print the parameter as raw bytes.
void PrintTo(const ErrorCase& c, std::ostream* os) {
    *os << c.name;
}

class SpecError : public testing::TestWithParam<ErrorCase> {};

TEST_P(SpecError, NamesTheJsonPath) {
    const ErrorCase& c = GetParam();
    json cfg = json::parse(kBase).patch(json::parse(c.patch));
    auto r = parse_spec(cfg.dump(), "/b");
    ASSERT_FALSE(r) << "accepted: " << c.patch;
    EXPECT_EQ(r.error().code(), sys::ErrorCode::invalid_argument);
    EXPECT_EQ(r.error().message(), c.message);
}

#define REPLACE(path, value) R"([{"op": "replace", "path": ")" path R"(", "value": )" value "}]"
#define ADD(path, value) R"([{"op": "add", "path": ")" path R"(", "value": )" value "}]"
#define REMOVE(path) R"([{"op": "remove", "path": ")" path R"("}])"

const ErrorCase kErrorCases[] = {
    // Top level.
    {"MissingVersion", REMOVE("/ociVersion"), "ociVersion: is required"},
    {"VersionNotString", REPLACE("/ociVersion", "1"), "ociVersion: must be a string"},
    {"VersionMajor2", REPLACE("/ociVersion", "\"2.0.0\""),
     "ociVersion: unsupported version \"2.0.0\" (want 1.x)"},
    {"MissingRoot", REMOVE("/root"), "root: is required"},
    {"RootNotObject", REPLACE("/root", "\"rootfs\""), "root: must be an object"},
    {"MissingRootPath", REMOVE("/root/path"), "root.path: is required"},
    {"EmptyRootPath", REPLACE("/root/path", "\"\""), "root.path: must not be empty"},
    {"RootReadonlyNotBool", ADD("/root/readonly", "\"yes\""), "root.readonly: must be a boolean"},
    {"HostnameWithoutUts", ADD("/hostname", "\"h\""),
     "hostname: unable to set hostname without a private UTS namespace"},
    {"DomainnameWithoutUts", ADD("/domainname", "\"d\""),
     "domainname: unable to set domainname without a private UTS namespace"},
    {"HostnameNotString", ADD("/hostname", "7"), "hostname: must be a string"},
    {"AnnotationNotString", ADD("/annotations/n", "1"), "annotations[\"n\"]: must be a string"},

    // process.
    {"ProcessNotObject", REPLACE("/process", "[]"), "process: must be an object"},
    {"EmptyArgs", REPLACE("/process/args", "[]"), "process.args: must not be empty"},
    {"MissingArgs", REMOVE("/process/args"), "process.args: is required"},
    {"ArgNotString", REPLACE("/process/args", "[\"sh\", 1]"), "process.args[1]: must be a string"},
    {"RelativeCwd", REPLACE("/process/cwd", "\"tmp\""), "process.cwd: must be an absolute path"},
    {"EmptyCwd", REPLACE("/process/cwd", "\"\""), "process.cwd: must be an absolute path"},
    {"EnvWithoutEquals", REPLACE("/process/env", "[\"A=1\", \"FOO\"]"),
     "process.env[1]: \"FOO\" must have the form NAME=VALUE"},
    {"EnvEmptyName", REPLACE("/process/env", "[\"=x\"]"),
     "process.env[0]: \"=x\" must have the form NAME=VALUE"},
    {"TerminalNotBool", ADD("/process/terminal", "1"), "process.terminal: must be a boolean"},
    {"NegativeUid", REPLACE("/process/user/uid", "-1"), "process.user.uid: must be >= 0"},
    {"HugeUid", REPLACE("/process/user/uid", "4294967296"),
     "process.user.uid: must be <= 4294967295"},
    {"GidString", REPLACE("/process/user/gid", "\"0\""), "process.user.gid: must be an integer"},
    {"GidFloat", REPLACE("/process/user/gid", "1.5"), "process.user.gid: must be an integer"},
    {"UmaskTooBig", ADD("/process/user/umask", "512"), "process.user.umask: must be <= 511"},
    {"NegativeAdditionalGid", ADD("/process/user/additionalGids", "[1, -2]"),
     "process.user.additionalGids[1]: must be >= 0"},
    {"ConsoleSizeMissingWidth", REMOVE("/process/consoleSize/width"),
     "process.consoleSize.width: is required"},
    {"ConsoleSizeNegative", REPLACE("/process/consoleSize/height", "-3"),
     "process.consoleSize.height: must be >= 0"},
    {"UnknownCapability", REPLACE("/process/capabilities/bounding/3", "\"CAP_FOO\""),
     "process.capabilities.bounding[3]: unknown capability \"CAP_FOO\""},
    {"CapabilitySetNotArray", ADD("/process/capabilities/ambient", "\"CAP_KILL\""),
     "process.capabilities.ambient: must be an array"},
    {"UnknownRlimit", REPLACE("/process/rlimits/0/type", "\"RLIMIT_FOO\""),
     "process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\""},
    {"RlimitSoftAboveHard", REPLACE("/process/rlimits/0/soft", "2048"),
     "process.rlimits[0]: soft limit 2048 is greater than hard limit 1024"},
    {"DuplicateRlimit",
     ADD("/process/rlimits/-", R"({"type": "RLIMIT_NOFILE", "soft": 1, "hard": 1})"),
     "process.rlimits[1].type: duplicate rlimit \"RLIMIT_NOFILE\""},
    {"RlimitMissingHard", REMOVE("/process/rlimits/0/hard"),
     "process.rlimits[0].hard: is required"},
    {"RlimitNegativeSoft", REPLACE("/process/rlimits/0/soft", "-1"),
     "process.rlimits[0].soft: must be >= 0"},
    {"OomScoreAdjTooHigh", ADD("/process/oomScoreAdj", "1001"),
     "process.oomScoreAdj: must be between -1000 and 1000"},
    {"OomScoreAdjTooLow", ADD("/process/oomScoreAdj", "-1001"),
     "process.oomScoreAdj: must be between -1000 and 1000"},
    {"NoNewPrivilegesNotBool", ADD("/process/noNewPrivileges", "1"),
     "process.noNewPrivileges: must be a boolean"},
    {"ApparmorNotString", ADD("/process/apparmorProfile", "false"),
     "process.apparmorProfile: must be a string"},

    // mounts.
    {"MountsNotArray", REPLACE("/mounts", "{}"), "mounts: must be an array"},
    {"RelativeMountDestination", REPLACE("/mounts/2/destination", "\"sys\""),
     "mounts[2].destination: must be an absolute path"},
    {"MissingMountDestination", REMOVE("/mounts/0/destination"),
     "mounts[0].destination: is required"},
    {"MountOptionsNotArray", REPLACE("/mounts/1/options", "\"nosuid\""),
     "mounts[1].options: must be an array"},
    {"MountOptionNotString", REPLACE("/mounts/1/options", "[\"nosuid\", 5]"),
     "mounts[1].options[1]: must be a string"},
    {"EmptyMountOption", REPLACE("/mounts/1/options", "[\"nosuid\", \"\"]"),
     "mounts[1].options[1]: must not be empty"},
    {"IdmapOptionNotBind", REPLACE("/mounts/1/options", "[\"nosuid\", \"idmap\"]"),
     "mounts[1].options: only a bind mount can be id-mapped"},
    {"RidmapWithoutMappings",
     ADD("/mounts/-", R"({"destination": "/x", "source": "/tmp", "options": ["rbind", "ridmap"]})"),
     "mounts[3].uidMappings: required for an id-mapped mount"},
    {"IdMappedMountWithoutGidMappings",
     ADD("/mounts/-", R"({"destination": "/x", "source": "/tmp", "options": ["bind"],
                          "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]})"),
     "mounts[3].gidMappings: required for an id-mapped mount"},
    {"IdMappingZeroSize",
     ADD("/mounts/-", R"({"destination": "/x", "source": "/tmp", "options": ["bind"],
                          "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 0}]})"),
     "mounts[3].uidMappings[0].size: must be >= 1"},
    {"IdMappingOverlap",
     ADD("/mounts/-", R"({"destination": "/x", "source": "/tmp", "options": ["bind"],
                          "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 10},
                                          {"containerID": 5, "hostID": 2000, "size": 1}]})"),
     "mounts[3].uidMappings[1].containerID: overlaps mounts[3].uidMappings[0]"},
    {"IdMappingPastMaxId",
     ADD("/mounts/-", R"({"destination": "/x", "source": "/tmp", "options": ["bind"],
                          "gidMappings": [{"containerID": 0, "hostID": 4294967295, "size": 2}]})"),
     "mounts[3].gidMappings[0].size: the range goes past id 4294967295"},
    {"RecursiveReadOnlyOption", REPLACE("/mounts/1/options", "[\"rro\"]"),
     "mounts[1].options[0]: \"rro\" is not supported"},
    {"IdMappedMountNotBind",
     ADD("/mounts/0/uidMappings", R"([{"containerID": 0, "hostID": 1, "size": 1}])"),
     "mounts[0].uidMappings: only a bind mount can be id-mapped"},
    {"BindWithoutSource",
     ADD("/mounts/-", R"({"destination": "/x", "type": "bind", "options": ["rbind"]})"),
     "mounts[3].source: is required for a bind mount"},

    // hooks.
    {"HooksNotObject", REPLACE("/hooks", "[]"), "hooks: must be an object"},
    {"RelativeHookPath", REPLACE("/hooks/prestart/0/path", "\"true\""),
     "hooks.prestart[0].path: must be an absolute path"},
    {"MissingHookPath", REMOVE("/hooks/prestart/0/path"), "hooks.prestart[0].path: is required"},
    {"ZeroHookTimeout", REPLACE("/hooks/poststop/0/timeout", "0"),
     "hooks.poststop[0].timeout: must be >= 1"},
    {"HookEnvWithoutEquals", ADD("/hooks/poststop/0/env", "[\"X\"]"),
     "hooks.poststop[0].env[0]: \"X\" must have the form NAME=VALUE"},
    {"HookListNotArray", ADD("/hooks/createRuntime", "{}"),
     "hooks.createRuntime: must be an array"},

    // linux: namespaces and id mappings.
    {"LinuxNotObject", REPLACE("/linux", "[]"), "linux: must be an object"},
    {"UnknownNamespace", REPLACE("/linux/namespaces/1/type", "\"foo\""),
     "linux.namespaces[1].type: unknown namespace \"foo\""},
    {"DuplicateNamespace", REPLACE("/linux/namespaces/1/type", "\"pid\""),
     "linux.namespaces[1].type: duplicate namespace \"pid\""},
    {"MissingNamespaceType", REPLACE("/linux/namespaces/0", "{}"),
     "linux.namespaces[0].type: is required"},
    {"RelativeNamespacePath", ADD("/linux/namespaces/0/path", "\"proc/1/ns/pid\""),
     "linux.namespaces[0].path: must be an absolute path"},
    {"UserNamespaceWithoutMappings", ADD("/linux/namespaces/-", R"({"type": "user"})"),
     "linux.uidMappings: required with a new user namespace"},
    {"UserNamespaceWithoutGidMappings",
     R"([{"op": "add", "path": "/linux/namespaces/-", "value": {"type": "user"}},
         {"op": "add", "path": "/linux/uidMappings", "value": [{"containerID": 0, "hostID": 1000, "size": 1}]}])",
     "linux.gidMappings: required with a new user namespace"},
    {"MappingsWithoutUserNamespace",
     ADD("/linux/uidMappings", R"([{"containerID": 0, "hostID": 1000, "size": 1}])"),
     "linux.uidMappings: given without a user namespace"},
    {"GidMappingsWithoutUserNamespace",
     ADD("/linux/gidMappings", R"([{"containerID": 0, "hostID": 1000, "size": 1}])"),
     "linux.gidMappings: given without a user namespace"},
    {"ZeroSizeMapping",
     ADD("/linux/uidMappings", R"([{"containerID": 0, "hostID": 1000, "size": 0}])"),
     "linux.uidMappings[0].size: must be >= 1"},
    {"MappingMissingHostId", ADD("/linux/uidMappings", R"([{"containerID": 0, "size": 1}])"),
     "linux.uidMappings[0].hostID: is required"},

    // linux.devices.
    {"RelativeDevicePath", REPLACE("/linux/devices/0/path", "\"dev/fuse\""),
     "linux.devices[0].path: must be an absolute path"},
    {"UnknownDeviceType", REPLACE("/linux/devices/0/type", "\"x\""),
     "linux.devices[0].type: must be \"c\", \"b\", \"u\" or \"p\""},
    {"DeviceWithoutMajor", REMOVE("/linux/devices/0/major"), "linux.devices[0].major: is required"},
    {"NegativeDeviceMinor", REPLACE("/linux/devices/0/minor", "-1"),
     "linux.devices[0].minor: must be >= 0"},
    {"DeviceFileModeString", ADD("/linux/devices/0/fileMode", "\"0666\""),
     "linux.devices[0].fileMode: must be an integer"},

    // linux.resources.
    {"ResourcesNotObject", REPLACE("/linux/resources", "1"), "linux.resources: must be an object"},
    {"MemoryLimitString", REPLACE("/linux/resources/memory/limit", "\"1g\""),
     "linux.resources.memory.limit: must be an integer"},
    {"MemoryLimitFloat", REPLACE("/linux/resources/memory/limit", "1.5"),
     "linux.resources.memory.limit: must be an integer"},
    {"MemoryLimitBelowMinusOne", REPLACE("/linux/resources/memory/limit", "-2"),
     "linux.resources.memory.limit: must be >= -1"},
    {"MemorySwapTooBig", ADD("/linux/resources/memory/swap", "9223372036854775808"),
     "linux.resources.memory.swap: must be between -1 and 9223372036854775807"},
    {"SwappinessAbove100", ADD("/linux/resources/memory/swappiness", "101"),
     "linux.resources.memory.swappiness: must be <= 100"},
    {"DisableOomKillerNotBool", ADD("/linux/resources/memory/disableOOMKiller", "\"true\""),
     "linux.resources.memory.disableOOMKiller: must be a boolean"},
    {"NegativeCpuShares", REPLACE("/linux/resources/cpu/shares", "-1"),
     "linux.resources.cpu.shares: must be >= 0"},
    {"CpuQuotaString", ADD("/linux/resources/cpu/quota", "\"max\""),
     "linux.resources.cpu.quota: must be an integer"},
    {"BadCpuList", REPLACE("/linux/resources/cpu/cpus", "\"0-\""),
     "linux.resources.cpu.cpus: invalid cpu list \"0-\""},
    {"ReversedCpuRange", REPLACE("/linux/resources/cpu/cpus", "\"3-1\""),
     "linux.resources.cpu.cpus: invalid cpu list \"3-1\""},
    {"BadMemList", ADD("/linux/resources/cpu/mems", "\"a\""),
     "linux.resources.cpu.mems: invalid memory node list \"a\""},
    {"PidsWithoutLimit", REPLACE("/linux/resources/pids", "{}"),
     "linux.resources.pids.limit: is required"},
    {"DeviceRuleWithoutAllow", REPLACE("/linux/resources/devices/0", R"({"access": "rwm"})"),
     "linux.resources.devices[0].allow: is required"},
    {"DeviceRuleBadAccess", REPLACE("/linux/resources/devices/0/access", "\"rwx\""),
     "linux.resources.devices[0].access: must be a non-empty subset of \"rwm\""},
    {"DeviceRuleEmptyAccess", REPLACE("/linux/resources/devices/0/access", "\"\""),
     "linux.resources.devices[0].access: must be a non-empty subset of \"rwm\""},
    {"DeviceRuleBadType", ADD("/linux/resources/devices/0/type", "\"u\""),
     "linux.resources.devices[0].type: must be \"a\", \"b\" or \"c\""},
    {"DeviceRuleBadMajor", ADD("/linux/resources/devices/0/major", "-5"),
     "linux.resources.devices[0].major: must be >= -1"},
    {"BlkioWeightTooLow", REPLACE("/linux/resources/blockIO/weight", "5"),
     "linux.resources.blockIO.weight: must be between 10 and 1000"},
    {"BlkioLeafWeightTooHigh", ADD("/linux/resources/blockIO/leafWeight", "1001"),
     "linux.resources.blockIO.leafWeight: must be between 10 and 1000"},
    {"ThrottleWithoutRate", REMOVE("/linux/resources/blockIO/throttleReadBpsDevice/0/rate"),
     "linux.resources.blockIO.throttleReadBpsDevice[0].rate: is required"},
    {"WeightDeviceBadWeight",
     ADD("/linux/resources/blockIO/weightDevice", R"([{"major": 8, "minor": 0, "weight": 1}])"),
     "linux.resources.blockIO.weightDevice[0].weight: must be between 10 and 1000"},
    {"HugepageWithoutPageSize", REMOVE("/linux/resources/hugepageLimits/0/pageSize"),
     "linux.resources.hugepageLimits[0].pageSize: is required"},
    {"HugepageNegativeLimit", REPLACE("/linux/resources/hugepageLimits/0/limit", "-1"),
     "linux.resources.hugepageLimits[0].limit: must be >= 0"},
    {"UnifiedValueNotString", REPLACE("/linux/resources/unified/memory.high", "1"),
     "linux.resources.unified[\"memory.high\"]: must be a string"},

    // linux.sysctl.
    {"SysctlNotNamespaced", ADD("/linux/sysctl/vm.swappiness", "\"10\""),
     "linux.sysctl: \"vm.swappiness\" is not namespaced"},
    {"SysctlWithoutIpcNamespace", R"([{"op": "remove", "path": "/linux/namespaces/2"},
                                      {"op": "add", "path": "/linux/sysctl/kernel.shmmax", "value": "1"}])",
     "linux.sysctl: \"kernel.shmmax\" needs a private ipc namespace"},
    {"SysctlWithoutNetNamespace", REMOVE("/linux/namespaces/1"),
     "linux.sysctl: \"net.ipv4.ip_forward\" needs a private network namespace"},
    {"SysctlValueNotString", REPLACE("/linux/sysctl/net.ipv4.ip_forward", "1"),
     "linux.sysctl[\"net.ipv4.ip_forward\"]: must be a string"},

    // linux.seccomp.
    {"SeccompWithoutDefaultAction", REMOVE("/linux/seccomp/defaultAction"),
     "linux.seccomp.defaultAction: is required"},
    {"SeccompEmptyNames", REPLACE("/linux/seccomp/syscalls/0/names", "[]"),
     "linux.seccomp.syscalls[0].names: must not be empty"},
    {"SeccompMissingNames", REMOVE("/linux/seccomp/syscalls/0/names"),
     "linux.seccomp.syscalls[0].names: is required"},
    {"SeccompMissingAction", REMOVE("/linux/seccomp/syscalls/0/action"),
     "linux.seccomp.syscalls[0].action: is required"},
    {"SeccompErrnoRetNegative", ADD("/linux/seccomp/syscalls/0/errnoRet", "-1"),
     "linux.seccomp.syscalls[0].errnoRet: must be >= 0"},
    {"SeccompArgIndexTooBig", REPLACE("/linux/seccomp/syscalls/0/args/0/index", "6"),
     "linux.seccomp.syscalls[0].args[0].index: must be <= 5"},
    {"SeccompArgWithoutOp", REMOVE("/linux/seccomp/syscalls/0/args/0/op"),
     "linux.seccomp.syscalls[0].args[0].op: is required"},
    {"SeccompArgWithoutValue", REMOVE("/linux/seccomp/syscalls/0/args/0/value"),
     "linux.seccomp.syscalls[0].args[0].value: is required"},
    {"SeccompArchitecturesNotArray", ADD("/linux/seccomp/architectures", "\"SCMP_ARCH_X86_64\""),
     "linux.seccomp.architectures: must be an array"},

    // linux: the rest.
    {"UnknownRootfsPropagation", ADD("/linux/rootfsPropagation", "\"bogus\""),
     "linux.rootfsPropagation: unknown propagation \"bogus\""},
    {"RelativeMaskedPath", REPLACE("/linux/maskedPaths/0", "\"proc/kcore\""),
     "linux.maskedPaths[0]: must be an absolute path"},
    {"RelativeReadonlyPath", ADD("/linux/readonlyPaths/-", "\"sys\""),
     "linux.readonlyPaths[1]: must be an absolute path"},
    {"CgroupsPathNotString", ADD("/linux/cgroupsPath", "[]"),
     "linux.cgroupsPath: must be a string"},
};

INSTANTIATE_TEST_SUITE_P(Cases, SpecError, testing::ValuesIn(kErrorCases),
                         [](const testing::TestParamInfo<ErrorCase>& info) {
                             return info.param.name;
                         });

}  // namespace
}  // namespace mydocker::runtime
