// mounts[].options -> mount(2) flags, clear flags, propagation and data, as runc splits them.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/spec.h"

namespace mydocker::runtime {
namespace {

using nlohmann::json;

sys::Result<Mount> parse_one_mount(const json& mount) {
    json cfg = {
        {"ociVersion", "1.0.0"}, {"root", {{"path", "rootfs"}}}, {"mounts", json::array({mount})}};
    auto r = parse_spec(cfg.dump(), "/bundle");
    if (!r) return sys::fail(r.error());
    return r->mounts.at(0);
}

Mount tmpfs_with(std::vector<std::string> options) {
    auto r = parse_one_mount(
        {{"destination", "/m"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", options}});
    EXPECT_TRUE(r) << r.error().message();
    return r ? *r : Mount{};
}

struct OptionRow {
    const char* option;
    unsigned long flags;
    unsigned long clear;
    unsigned long propagation;
    const char* data;
};

const OptionRow kOptionRows[] = {
    {"defaults", 0, 0, 0, ""},
    {"ro", MS_RDONLY, 0, 0, ""},
    {"rw", 0, MS_RDONLY, 0, ""},
    {"nosuid", MS_NOSUID, 0, 0, ""},
    {"suid", 0, MS_NOSUID, 0, ""},
    {"nodev", MS_NODEV, 0, 0, ""},
    {"dev", 0, MS_NODEV, 0, ""},
    {"noexec", MS_NOEXEC, 0, 0, ""},
    {"exec", 0, MS_NOEXEC, 0, ""},
    {"sync", MS_SYNCHRONOUS, 0, 0, ""},
    {"async", 0, MS_SYNCHRONOUS, 0, ""},
    {"dirsync", MS_DIRSYNC, 0, 0, ""},
    {"remount", MS_REMOUNT, 0, 0, ""},
    {"mand", MS_MANDLOCK, 0, 0, ""},
    {"nomand", 0, MS_MANDLOCK, 0, ""},
    {"atime", 0, MS_NOATIME, 0, ""},
    {"noatime", MS_NOATIME, 0, 0, ""},
    {"diratime", 0, MS_NODIRATIME, 0, ""},
    {"nodiratime", MS_NODIRATIME, 0, 0, ""},
    {"relatime", MS_RELATIME, 0, 0, ""},
    {"norelatime", 0, MS_RELATIME, 0, ""},
    {"strictatime", MS_STRICTATIME, 0, 0, ""},
    {"nostrictatime", 0, MS_STRICTATIME, 0, ""},
    {"nosymfollow", MS_NOSYMFOLLOW, 0, 0, ""},
    {"bind", MS_BIND, 0, 0, ""},
    {"rbind", MS_BIND | MS_REC, 0, 0, ""},
    {"shared", 0, 0, MS_SHARED, ""},
    {"rshared", 0, 0, MS_SHARED | MS_REC, ""},
    {"slave", 0, 0, MS_SLAVE, ""},
    {"rslave", 0, 0, MS_SLAVE | MS_REC, ""},
    {"private", 0, 0, MS_PRIVATE, ""},
    {"rprivate", 0, 0, MS_PRIVATE | MS_REC, ""},
    {"unbindable", 0, 0, MS_UNBINDABLE, ""},
    {"runbindable", 0, 0, MS_UNBINDABLE | MS_REC, ""},
    {"tmpcopyup", 0, 0, 0, ""},
    {"mode=755", 0, 0, 0, "mode=755"},
    {"size=65536k", 0, 0, 0, "size=65536k"},
    {"newinstance", 0, 0, 0, "newinstance"},
    {"ptmxmode=0666", 0, 0, 0, "ptmxmode=0666"},
    {"gid=5", 0, 0, 0, "gid=5"},
};

void PrintTo(const OptionRow& row, std::ostream* os) {
    *os << row.option;
}

class SpecMountOption : public testing::TestWithParam<OptionRow> {};

TEST_P(SpecMountOption, SplitsLikeRunc) {
    const OptionRow& row = GetParam();
    Mount m = tmpfs_with({row.option});
    EXPECT_EQ(m.flags, row.flags) << row.option;
    EXPECT_EQ(m.clear_flags, row.clear) << row.option;
    EXPECT_EQ(m.propagation_flags, row.propagation) << row.option;
    EXPECT_EQ(m.data, row.data) << row.option;
    EXPECT_EQ(m.bind, (row.flags & MS_BIND) != 0) << row.option;
    EXPECT_EQ(m.recursive, (row.flags & MS_REC) != 0) << row.option;
}

INSTANTIATE_TEST_SUITE_P(Options, SpecMountOption, testing::ValuesIn(kOptionRows),
                         [](const testing::TestParamInfo<OptionRow>& info) {
                             std::string name;
                             for (char c : std::string(info.param.option))
                                 name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                             return name;
                         });

TEST(SpecMounts, LaterOptionWins) {
    Mount ro_then_rw = tmpfs_with({"ro", "rw"});
    EXPECT_EQ(ro_then_rw.flags, 0u);
    EXPECT_EQ(ro_then_rw.clear_flags, static_cast<unsigned long>(MS_RDONLY));

    Mount rw_then_ro = tmpfs_with({"rw", "ro"});
    EXPECT_EQ(rw_then_ro.flags, static_cast<unsigned long>(MS_RDONLY));
    EXPECT_EQ(rw_then_ro.clear_flags, 0u);

    Mount props = tmpfs_with({"shared", "rslave"});
    EXPECT_EQ(props.propagation_flags, static_cast<unsigned long>(MS_SLAVE | MS_REC));
}

TEST(SpecMounts, DataKeepsOrderAndIsCommaJoined) {
    Mount devpts =
        tmpfs_with({"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"});
    EXPECT_EQ(devpts.flags, static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC));
    EXPECT_EQ(devpts.data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
    EXPECT_EQ(devpts.options.size(), 6u);  // the original list is kept for state/round trips
}

TEST(SpecMounts, BindTypeWithoutOptionIsABind) {
    auto r = parse_one_mount(
        {{"destination", "/etc/hosts"}, {"type", "bind"}, {"source", "/etc/hosts"}});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_TRUE(r->bind);
    EXPECT_FALSE(r->recursive);
    EXPECT_EQ(r->flags, static_cast<unsigned long>(MS_BIND));
    EXPECT_EQ(r->source, "/etc/hosts");
}

TEST(SpecMounts, BindOptionWithoutTypeIsABind) {
    auto r = parse_one_mount(
        {{"destination", "/v"}, {"source", "/srv/v"}, {"options", {"rbind", "nosuid"}}});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_TRUE(r->bind);
    EXPECT_TRUE(r->recursive);
    EXPECT_TRUE(r->type.empty());
    EXPECT_EQ(r->flags, static_cast<unsigned long>(MS_BIND | MS_REC | MS_NOSUID));
}

TEST(SpecMounts, RelativeBindSourceIsBundleRelative) {
    auto r = parse_one_mount({{"destination", "/v"},
                              {"type", "none"},
                              {"source", "./data/../vol"},
                              {"options", {"bind"}}});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->source, "/bundle/vol");
}

TEST(SpecMounts, NonBindSourceIsKeptAsIs) {
    auto r =
        parse_one_mount({{"destination", "/dev/mqueue"}, {"type", "mqueue"}, {"source", "mqueue"}});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->source, "mqueue");
    EXPECT_FALSE(r->bind);
}

TEST(SpecMounts, DestinationIsCleaned) {
    auto r =
        parse_one_mount({{"destination", "/a//b/./c/"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->destination, "/a/b/c");
}

TEST(SpecMounts, RecursiveAttributesAreRefused) {
    for (const char* opt : {"rro", "rnosuid", "rnoexec", "rnodev", "ratime", "rnosymfollow"}) {
        auto r = parse_one_mount({{"destination", "/m"}, {"type", "tmpfs"}, {"options", {opt}}});
        ASSERT_FALSE(r) << opt;
        EXPECT_EQ(r.error().message(),
                  std::string("mounts[0].options[0]: \"") + opt + "\" is not supported");
    }
}

TEST(SpecMounts, EmptyMappingListsAreNotIdMapping) {
    auto r =
        parse_one_mount({{"destination", "/m"}, {"type", "tmpfs"}, {"uidMappings", json::array()}});
    ASSERT_TRUE(r) << r.error().message();
}

TEST(SpecMounts, IdMappedBind) {
    json maps = json::array({{{"containerID", 1000}, {"hostID", 0}, {"size", 1}},
                             {{"containerID", 0}, {"hostID", 100000}, {"size", 1000}}});
    auto r = parse_one_mount({{"destination", "/m"},
                              {"source", "/srv"},
                              {"options", {"rbind"}},
                              {"uidMappings", maps},
                              {"gidMappings", maps}});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_TRUE(r->idmap);
    EXPECT_FALSE(r->idmap_recursive);
    ASSERT_EQ(r->uid_mappings.size(), 2u);
    EXPECT_EQ(r->uid_mappings[1].host_id, 100000u);
    EXPECT_EQ(r->gid_mappings[0].container_id, 1000u);
    EXPECT_EQ(r->data, "");

    r = parse_one_mount({{"destination", "/m"},
                         {"source", "/srv"},
                         {"options", {"rbind", "ridmap"}},
                         {"uidMappings", maps},
                         {"gidMappings", maps}});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_TRUE(r->idmap_recursive);

    // Empty arrays are no mapping: a plain bind.
    r = parse_one_mount({{"destination", "/m"},
                         {"source", "/srv"},
                         {"options", {"bind"}},
                         {"uidMappings", json::array()},
                         {"gidMappings", json::array()}});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_FALSE(r->idmap);
}

}  // namespace
}  // namespace mydocker::runtime
