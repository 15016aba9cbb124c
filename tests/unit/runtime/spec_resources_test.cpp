// parse_resources / resources_to_json: the `update -r` file format and the state file's
// copy of linux.resources must survive a round trip unchanged.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "runtime/spec.h"

namespace mydocker::runtime {
namespace {

using nlohmann::json;

cgroups::Resources full_resources() {
    cgroups::Resources r;
    r.devices = {{false, 'a', -1, -1, "rwm"}, {true, 'c', 1, 3, "rw"}, {true, 'b', 8, -1, "m"}};
    cgroups::MemoryResources mem;
    mem.limit = -1;
    mem.reservation = 1 << 20;
    mem.swap = 2 << 20;
    mem.kernel = 0;
    mem.kernel_tcp = 4096;
    mem.swappiness = 60;
    mem.disable_oom_killer = true;
    mem.use_hierarchy = false;
    mem.check_before_update = true;
    r.memory = mem;
    cgroups::CpuResources cpu;
    cpu.shares = 2048;
    cpu.quota = -1;
    cpu.burst = 1000;
    cpu.period = 100000;
    cpu.realtime_runtime = 950000;
    cpu.realtime_period = 1000000;
    cpu.cpus = "0-3,6";
    cpu.mems = "0";
    cpu.idle = 1;
    r.cpu = cpu;
    r.pids = cgroups::PidsResources{-1};
    cgroups::BlockIoResources bio;
    bio.weight = 10;
    bio.leaf_weight = 1000;
    bio.weight_device = {{8, 0, 300, std::nullopt}, {8, 16, std::nullopt, 200}};
    bio.throttle_read_bps_device = {{8, 0, 1048576}};
    bio.throttle_write_bps_device = {{8, 0, 2097152}};
    bio.throttle_read_iops_device = {{8, 0, 100}};
    bio.throttle_write_iops_device = {{8, 16, 200}};
    r.block_io = bio;
    r.hugepage_limits = {{"2MB", 1 << 21}, {"1GB", 0}};
    r.unified = {{"memory.high", "max"}, {"io.weight", "default 100"}};
    return r;
}

TEST(SpecResources, RoundTripKeepsEveryField) {
    const cgroups::Resources in = full_resources();
    std::string text = resources_to_json(in);
    auto parsed = parse_resources(text);
    ASSERT_TRUE(parsed) << parsed.error().message() << "\n" << text;
    const cgroups::Resources& out = *parsed;

    ASSERT_EQ(out.devices.size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(out.devices[i].allow, in.devices[i].allow) << i;
        EXPECT_EQ(out.devices[i].type, in.devices[i].type) << i;
        EXPECT_EQ(out.devices[i].major, in.devices[i].major) << i;
        EXPECT_EQ(out.devices[i].minor, in.devices[i].minor) << i;
        EXPECT_EQ(out.devices[i].access, in.devices[i].access) << i;
    }
    ASSERT_TRUE(out.memory);
    EXPECT_EQ(out.memory->limit, -1);
    EXPECT_EQ(out.memory->reservation, 1 << 20);
    EXPECT_EQ(out.memory->swap, 2 << 20);
    EXPECT_EQ(out.memory->kernel, 0);
    EXPECT_EQ(out.memory->kernel_tcp, 4096);
    EXPECT_EQ(out.memory->swappiness, 60u);
    EXPECT_EQ(out.memory->disable_oom_killer, true);
    EXPECT_EQ(out.memory->use_hierarchy, false);
    EXPECT_EQ(out.memory->check_before_update, true);
    ASSERT_TRUE(out.cpu);
    EXPECT_EQ(out.cpu->shares, 2048u);
    EXPECT_EQ(out.cpu->quota, -1);
    EXPECT_EQ(out.cpu->burst, 1000u);
    EXPECT_EQ(out.cpu->period, 100000u);
    EXPECT_EQ(out.cpu->realtime_runtime, 950000);
    EXPECT_EQ(out.cpu->realtime_period, 1000000u);
    EXPECT_EQ(out.cpu->cpus, "0-3,6");
    EXPECT_EQ(out.cpu->mems, "0");
    EXPECT_EQ(out.cpu->idle, 1);
    ASSERT_TRUE(out.pids);
    EXPECT_EQ(out.pids->limit, -1);
    ASSERT_TRUE(out.block_io);
    EXPECT_EQ(out.block_io->weight, 10);
    EXPECT_EQ(out.block_io->leaf_weight, 1000);
    ASSERT_EQ(out.block_io->weight_device.size(), 2u);
    EXPECT_EQ(out.block_io->weight_device[0].weight, 300);
    EXPECT_FALSE(out.block_io->weight_device[0].leaf_weight);
    EXPECT_EQ(out.block_io->weight_device[1].minor, 16);
    EXPECT_EQ(out.block_io->weight_device[1].leaf_weight, 200);
    ASSERT_EQ(out.block_io->throttle_read_bps_device.size(), 1u);
    EXPECT_EQ(out.block_io->throttle_read_bps_device[0].rate, 1048576u);
    EXPECT_EQ(out.block_io->throttle_write_bps_device.at(0).rate, 2097152u);
    EXPECT_EQ(out.block_io->throttle_read_iops_device.at(0).rate, 100u);
    EXPECT_EQ(out.block_io->throttle_write_iops_device.at(0).minor, 16);
    ASSERT_EQ(out.hugepage_limits.size(), 2u);
    EXPECT_EQ(out.hugepage_limits[0].page_size, "2MB");
    EXPECT_EQ(out.hugepage_limits[0].limit, 1u << 21);
    EXPECT_EQ(out.hugepage_limits[1].page_size, "1GB");
    EXPECT_EQ(out.unified, in.unified);

    // And the serialised form is stable.
    EXPECT_EQ(resources_to_json(out), text);
}

TEST(SpecResources, EmptyResourcesSerialiseToAnEmptyObject) {
    EXPECT_EQ(resources_to_json({}), "{}");
    auto r = parse_resources("{}");
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_FALSE(r->memory);
    EXPECT_FALSE(r->cpu);
    EXPECT_FALSE(r->pids);
    EXPECT_FALSE(r->block_io);
    EXPECT_TRUE(r->devices.empty());
}

TEST(SpecResources, OutputUsesSpecFieldNames) {
    auto j = json::parse(resources_to_json(full_resources()));
    EXPECT_EQ(j["memory"]["kernelTCP"], 4096);
    EXPECT_EQ(j["memory"]["disableOOMKiller"], true);
    EXPECT_EQ(j["cpu"]["realtimeRuntime"], 950000);
    EXPECT_EQ(j["blockIO"]["throttleReadIOPSDevice"][0]["rate"], 100);
    EXPECT_EQ(j["blockIO"]["weightDevice"][1]["leafWeight"], 200);
    EXPECT_EQ(j["hugepageLimits"][0]["pageSize"], "2MB");
    // A wildcard device number is written as an absent field, as the spec spells '*'.
    EXPECT_FALSE(j["devices"][0].contains("major"));
    EXPECT_EQ(j["devices"][2]["major"], 8);
    EXPECT_FALSE(j["devices"][2].contains("minor"));
}

TEST(SpecResources, NegativeMemoryLimitMeansUnlimited) {
    auto r = parse_resources(R"({"memory": {"limit": -1, "swap": -1, "reservation": 0}})");
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->memory->limit, -1);
    EXPECT_EQ(r->memory->swap, -1);
    EXPECT_EQ(r->memory->reservation, 0);
}

TEST(SpecResources, DeviceRuleDefaults) {
    auto r = parse_resources(
        R"({"devices": [{"allow": true}, {"allow": false, "type": "b", "major": -1, "minor": 5}]})");
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_EQ(r->devices.size(), 2u);
    EXPECT_EQ(r->devices[0].type, 'a');
    EXPECT_EQ(r->devices[0].major, -1);
    EXPECT_EQ(r->devices[0].minor, -1);
    EXPECT_EQ(r->devices[0].access, "rwm");
    EXPECT_EQ(r->devices[1].type, 'b');
    EXPECT_EQ(r->devices[1].minor, 5);
}

TEST(SpecResources, CpusetListSyntax) {
    for (const char* ok : {"0", "0-3", "0,2,4", "0-2,4,7-8", "10-10"}) {
        auto r = parse_resources(std::string(R"({"cpu": {"cpus": ")") + ok + "\"}}");
        EXPECT_TRUE(r) << ok << ": " << r.error().message();
    }
    for (const char* bad : {"-1", "0-", ",", "0,", "a", "1-0", "0 - 3", "0-3,,5"}) {
        auto r = parse_resources(std::string(R"({"cpu": {"cpus": ")") + bad + "\"}}");
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().message(), std::string("cpu.cpus: invalid cpu list \"") + bad + "\"");
    }
}

TEST(SpecResources, NetworkAndRdmaAreIgnored) {
    auto r = parse_resources(
        R"({"network": {"classID": 1, "priorities": [{"name": "eth0", "priority": 5}]},
                                 "rdma": {"mlx": {"hcaHandles": 1}}})");
    ASSERT_TRUE(r) << r.error().message();
}

// For `update -r FILE` the object is the whole document, so paths start at its members.
TEST(SpecResources, ErrorsNameTheMemberPath) {
    auto limit = parse_resources(R"({"memory": {"limit": "1g"}})");
    ASSERT_FALSE(limit);
    EXPECT_EQ(limit.error().message(), "memory.limit: must be an integer");

    auto pids = parse_resources(R"({"pids": {}})");
    ASSERT_FALSE(pids);
    EXPECT_EQ(pids.error().message(), "pids.limit: is required");

    auto dev = parse_resources(R"({"devices": [{"allow": true, "access": "x"}]})");
    ASSERT_FALSE(dev);
    EXPECT_EQ(dev.error().message(), "devices[0].access: must be a non-empty subset of \"rwm\"");
}

TEST(SpecResources, SyntaxAndShapeErrors) {
    auto syntax = parse_resources("{\"memory\": {\"limit\": }}");
    ASSERT_FALSE(syntax);
    EXPECT_TRUE(
        syntax.error().message().starts_with("resources: parse error at line 1, column 22: "))
        << syntax.error().message();

    auto shape = parse_resources("[]");
    ASSERT_FALSE(shape);
    EXPECT_EQ(shape.error().message(), "resources: must be a JSON object");
}

}  // namespace
}  // namespace mydocker::runtime
