// The v1 driver against a fake cgroupfs: which value lands in which file.
#include <gtest/gtest.h>

#include <algorithm>

#include "cgroup_testing.h"
#include "cgroups/manager.h"

namespace mydocker::cgroups {
namespace {

using testing::CapturedLog;
using testing::FakeCgroupfs;

class V1Fake : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_FALSE(fs_.root().empty());
        // Hierarchy roots, as a v1 host mounts them (no hugetlb: that one stays absent).
        for (const char* c : {"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio",
                              "pids", "systemd"})
            fs_.file(std::string(c) + "/cgroup.procs");
        fs_.file("cpuset/cpuset.cpus", "0-3\n");
        fs_.file("cpuset/cpuset.mems", "0\n");
        // The container's cgroup with the knobs set() writes.
        for (const char* k :
             {"memory.limit_in_bytes", "memory.soft_limit_in_bytes", "memory.memsw.limit_in_bytes",
              "memory.swappiness", "memory.oom_control", "memory.usage_in_bytes",
              "memory.kmem.tcp.limit_in_bytes", "cgroup.procs"})
            fs_.file(std::string("memory/ctr/") + k);
        for (const char* k :
             {"cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.cfs_burst_us",
              "cpu.rt_runtime_us", "cpu.rt_period_us", "cpu.idle", "cgroup.procs"})
            fs_.file(std::string("cpu/ctr/") + k);
        for (const char* k : {"cpuset.cpus", "cpuset.mems", "cgroup.procs"})
            fs_.file(std::string("cpuset/ctr/") + k);
        for (const char* k : {"pids.max", "pids.current", "cgroup.procs"})
            fs_.file(std::string("pids/ctr/") + k);
        for (const char* k : {"devices.allow", "devices.deny", "cgroup.procs"})
            fs_.file(std::string("devices/ctr/") + k);
        for (const char* k :
             {"blkio.weight", "blkio.leaf_weight", "blkio.weight_device",
              "blkio.throttle.read_bps_device", "blkio.throttle.write_iops_device", "cgroup.procs"})
            fs_.file(std::string("blkio/ctr/") + k);
        fs_.file("freezer/ctr/freezer.state", "THAWED\n");
        fs_.file("freezer/ctr/cgroup.procs");
        fs_.file("cpuacct/ctr/cgroup.procs");
        mgr_ = make_manager(Version::v1, {.root = fs_.root(), .path = "/ctr", .fake_fs = true}, log_.logger());
    }

    sys::Result<void> set(const Resources& r) { return mgr_->set(r); }

    FakeCgroupfs fs_;
    CapturedLog log_;
    std::unique_ptr<Manager> mgr_;
};

TEST_F(V1Fake, Memory) {
    Resources r;
    r.memory = MemoryResources{.limit = 104857600,
                               .reservation = 52428800,
                               .swap = 209715200,
                               .swappiness = 10,
                               .disable_oom_killer = true};
    ASSERT_TRUE(set(r)) << set(r).error().message();
    EXPECT_EQ(fs_.read("memory/ctr/memory.limit_in_bytes"), "104857600");
    EXPECT_EQ(fs_.read("memory/ctr/memory.memsw.limit_in_bytes"), "209715200");
    EXPECT_EQ(fs_.read("memory/ctr/memory.soft_limit_in_bytes"), "52428800");
    EXPECT_EQ(fs_.read("memory/ctr/memory.swappiness"), "10");
    EXPECT_EQ(fs_.read("memory/ctr/memory.oom_control"), "1");
}

TEST_F(V1Fake, MemoryKernelIgnoredWithWarning) {
    Resources r;
    r.memory = MemoryResources{.limit = 4096, .kernel = 1 << 20};
    ASSERT_TRUE(set(r));
    EXPECT_EQ(fs_.read("memory/ctr/memory.limit_in_bytes"), "4096");
    EXPECT_NE(log_.text().find("kernel is deprecated"), std::string::npos) << log_.text();
}

TEST_F(V1Fake, SwapWithoutAccountingIsSkippedWithWarning) {
    ASSERT_EQ(::unlink(fs_.path("memory/ctr/memory.memsw.limit_in_bytes").c_str()), 0);
    Resources r;
    r.memory = MemoryResources{.limit = 1000, .swap = 2000};
    auto res = set(r);
    ASSERT_TRUE(res) << res.error().message();
    EXPECT_EQ(fs_.read("memory/ctr/memory.limit_in_bytes"), "1000");
    EXPECT_FALSE(fs_.exists("memory/ctr/memory.memsw.limit_in_bytes"));
    EXPECT_NE(log_.text().find("swap ignored"), std::string::npos) << log_.text();
}

TEST_F(V1Fake, SwapBelowLimitRejectedBeforeAnyWrite) {
    Resources r;
    r.memory = MemoryResources{.limit = 2000, .swap = 1000};
    r.pids = PidsResources{.limit = 5};
    auto res = set(r);
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error().code(), sys::ErrorCode::invalid_argument);
    EXPECT_EQ(fs_.read("memory/ctr/memory.limit_in_bytes"), "");
    EXPECT_EQ(fs_.read("pids/ctr/pids.max"), "");
}

TEST_F(V1Fake, Cpu) {
    Resources r;
    r.cpu = CpuResources{.shares = 512,
                         .quota = 50000,
                         .period = 100000,
                         .realtime_runtime = 1000,
                         .realtime_period = 10000,
                         .cpus = "0-1",
                         .mems = "0",
                         .idle = 1};
    auto res = set(r);
    ASSERT_TRUE(res) << res.error().message();
    EXPECT_EQ(fs_.read("cpu/ctr/cpu.shares"), "512");
    EXPECT_EQ(fs_.read("cpu/ctr/cpu.cfs_quota_us"), "50000");
    EXPECT_EQ(fs_.read("cpu/ctr/cpu.cfs_period_us"), "100000");
    EXPECT_EQ(fs_.read("cpu/ctr/cpu.rt_runtime_us"), "1000");
    EXPECT_EQ(fs_.read("cpu/ctr/cpu.rt_period_us"), "10000");
    EXPECT_EQ(fs_.read("cpu/ctr/cpu.idle"), "1");
    EXPECT_EQ(fs_.read("cpuset/ctr/cpuset.cpus"), "0-1");
    EXPECT_EQ(fs_.read("cpuset/ctr/cpuset.mems"), "0");
}

TEST_F(V1Fake, Pids) {
    Resources r;
    r.pids = PidsResources{.limit = 100};
    ASSERT_TRUE(set(r));
    EXPECT_EQ(fs_.read("pids/ctr/pids.max"), "100");
    r.pids->limit = 0;
    ASSERT_TRUE(set(r));
    EXPECT_EQ(fs_.read("pids/ctr/pids.max"), "max");
    r.pids->limit = -1;
    ASSERT_TRUE(set(r));
    EXPECT_EQ(fs_.read("pids/ctr/pids.max"), "max");
}

TEST_F(V1Fake, Blkio) {
    Resources r;
    r.block_io = BlockIoResources{
        .weight = 500,
        .leaf_weight = 300,
        .weight_device = {{.major = 8, .minor = 0, .weight = 200}},
        .throttle_read_bps_device = {{.major = 8, .minor = 0, .rate = 1048576}},
        .throttle_write_iops_device = {{.major = 8, .minor = 16, .rate = 100}},
    };
    auto res = set(r);
    ASSERT_TRUE(res) << res.error().message();
    EXPECT_EQ(fs_.read("blkio/ctr/blkio.weight"), "500");
    EXPECT_EQ(fs_.read("blkio/ctr/blkio.leaf_weight"), "300");
    EXPECT_EQ(fs_.read("blkio/ctr/blkio.weight_device"), "8:0 200");
    EXPECT_EQ(fs_.read("blkio/ctr/blkio.throttle.read_bps_device"), "8:0 1048576");
    EXPECT_EQ(fs_.read("blkio/ctr/blkio.throttle.write_iops_device"), "8:16 100");
}

TEST_F(V1Fake, BlkioBfqWeightWhenCfqIsGone) {
    ASSERT_EQ(::unlink(fs_.path("blkio/ctr/blkio.weight").c_str()), 0);
    fs_.file("blkio/ctr/blkio.bfq.weight");
    Resources r;
    r.block_io = BlockIoResources{.weight = 700};
    ASSERT_TRUE(set(r));
    EXPECT_EQ(fs_.read("blkio/ctr/blkio.bfq.weight"), "700");
}

TEST_F(V1Fake, Devices) {
    Resources r;
    r.devices = {{.allow = false, .type = 'a'},
                 {.allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rwm"}};
    ASSERT_TRUE(set(r));
    EXPECT_EQ(fs_.read("devices/ctr/devices.deny"), "a");
    EXPECT_EQ(fs_.read("devices/ctr/devices.allow"), "c 1:3 rwm");
    r.devices = {{.allow = true, .type = 'c', .major = -1, .minor = -1, .access = "m"}};
    ASSERT_TRUE(set(r));
    EXPECT_EQ(fs_.read("devices/ctr/devices.allow"), "c *:* m");
}

TEST_F(V1Fake, HugetlbNeedsItsHierarchy) {
    Resources r;
    r.hugepage_limits = {{.page_size = "2MB", .limit = 1 << 21}};
    auto res = set(r);
    ASSERT_FALSE(res);
    EXPECT_NE(
        res.error().message().find("\"hugetlb\" is not mounted at \"" + fs_.path("hugetlb") + "\""),
        std::string::npos)
        << res.error().message();
    // Mounted now: a new manager finds it (one looks each hierarchy up once).
    fs_.file("hugetlb/ctr/hugetlb.2MB.limit_in_bytes");
    mgr_ = make_manager(Version::v1, {.root = fs_.root(), .path = "/ctr", .fake_fs = true}, log_.logger());
    res = set(r);
    ASSERT_TRUE(res) << res.error().message();
    EXPECT_EQ(fs_.read("hugetlb/ctr/hugetlb.2MB.limit_in_bytes"), "2097152");
    r.hugepage_limits = {{.page_size = "../x", .limit = 1}};
    EXPECT_FALSE(set(r));
}

TEST_F(V1Fake, UnifiedRejected) {
    Resources r;
    r.unified = {{"memory.high", "100"}};
    auto res = set(r);
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error().code(), sys::ErrorCode::invalid_argument);
    EXPECT_EQ(res.error().message(), "linux.resources.unified: requires cgroup v2");
}

TEST_F(V1Fake, MissingKnobNamedInError) {
    ASSERT_EQ(::unlink(fs_.path("memory/ctr/memory.swappiness").c_str()), 0);
    Resources r;
    r.memory = MemoryResources{.swappiness = 30};
    auto res = set(r);
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error().message(), "set cgroup \"/ctr\": write \"30\" to \"" +
                                         fs_.path("memory/ctr/memory.swappiness") +
                                         "\": No such file or directory");
}

TEST_F(V1Fake, ApplyCreatesEveryPresentHierarchyAndCopiesCpuset) {
    fs_.dir("unified");
    // An intermediate cpuset level that exists but was never configured.
    fs_.file("cpuset/pod/cpuset.cpus");
    fs_.file("cpuset/pod/cpuset.mems");
    fs_.file("cpuset/pod/ctr2/cpuset.cpus");
    fs_.file("cpuset/pod/ctr2/cpuset.mems");
    auto m = make_manager(Version::v1, {.root = fs_.root(), .path = "pod/ctr2", .fake_fs = true}, log_.logger());
    auto res = m->apply();
    ASSERT_TRUE(res) << res.error().message();
    EXPECT_TRUE(*res) << "made";
    for (const char* c :
         {"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "unified"})
        EXPECT_TRUE(fs_.exists(std::string(c) + "/pod/ctr2")) << c;
    EXPECT_FALSE(fs_.exists("systemd/pod")) << "name=systemd is not ours";
    EXPECT_FALSE(fs_.exists("hugetlb")) << "absent hierarchies are skipped";
    EXPECT_EQ(fs_.read("cpuset/pod/cpuset.cpus"), "0-3");
    EXPECT_EQ(fs_.read("cpuset/pod/cpuset.mems"), "0");
    EXPECT_EQ(fs_.read("cpuset/pod/ctr2/cpuset.cpus"), "0-3");
    EXPECT_EQ(fs_.read("cpuset/pod/ctr2/cpuset.mems"), "0");
    EXPECT_TRUE(m->exists());
    EXPECT_EQ(m->controller_path("memory"), fs_.path("memory/pod/ctr2"));
    auto again = m->apply();
    ASSERT_TRUE(again) << "apply is idempotent";
    EXPECT_FALSE(*again) << "and says the cgroup was there";
}

TEST_F(V1Fake, ANewCpusetTakesItsNearestConfiguredAncestorsValues) {
    for (const char* c : {"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids"})
        fs_.dir(std::string(c) + "/pod");
    fs_.file("cpuset/pod/cpuset.cpus", "1\n");  // the parent's own values, not the root's
    fs_.file("cpuset/pod/cpuset.mems", "0\n");
    fs_.file("cpuset/pod/new/cpuset.cpus");  // (a fake cgroupfs makes no knobs of its own)
    fs_.file("cpuset/pod/new/cpuset.mems");
    auto m = make_manager(Version::v1, {.root = fs_.root(), .path = "pod/new", .fake_fs = true}, log_.logger());
    auto made = m->apply();
    ASSERT_TRUE(made) << made.error().message();
    EXPECT_TRUE(*made);
    EXPECT_EQ(fs_.read("cpuset/pod/new/cpuset.cpus"), "1");
    EXPECT_EQ(fs_.read("cpuset/pod/new/cpuset.mems"), "0");
    EXPECT_EQ(fs_.read("cpuset/cpuset.cpus"), "0-3\n") << "the root is left alone";
}

TEST_F(V1Fake, JoinSelfWritesZeroIntoEveryTasksFile) {
    for (const char* c : {"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids"})
        fs_.file(std::string(c) + "/ctr/tasks");
    ASSERT_TRUE(mgr_->join_self_v1());
    // "0" into tasks moves the calling thread only: the kernel skips the threadgroup lock.
    for (const char* c : {"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids"}) {
        EXPECT_EQ(fs_.read(std::string(c) + "/ctr/tasks"), "0") << c;
        EXPECT_EQ(fs_.read(std::string(c) + "/ctr/cgroup.procs"), "") << c;
    }
    // No unified mount in this fake: nothing to clone into.
    EXPECT_EQ(mgr_->clone_into_dir(), "");
}

TEST_F(V1Fake, AddProcessPidsFreezeStatsDestroy) {
    ASSERT_TRUE(mgr_->add_process(4242));
    for (const char* c :
         {"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids"})
        EXPECT_EQ(fs_.read(std::string(c) + "/ctr/cgroup.procs"), "4242") << c;
    // pids() walks the pids hierarchy, descendants included.
    fs_.file("pids/ctr/cgroup.procs", "10\n12\n");
    fs_.file("pids/ctr/sub/cgroup.procs", "11\n");
    auto pids = mgr_->pids();
    ASSERT_TRUE(pids) << pids.error().message();
    EXPECT_EQ(*pids, (std::vector<pid_t>{10, 11, 12}));

    ASSERT_TRUE(mgr_->freeze(FreezerState::frozen));
    EXPECT_EQ(fs_.read("freezer/ctr/freezer.state"), "FROZEN");
    EXPECT_EQ(mgr_->freezer_state().value(), FreezerState::frozen);
    ASSERT_TRUE(mgr_->freeze(FreezerState::thawed));
    EXPECT_EQ(mgr_->freezer_state().value(), FreezerState::thawed);

    fs_.file("memory/ctr/memory.usage_in_bytes", "12345\n");
    fs_.file("memory/ctr/memory.limit_in_bytes", "9223372036854771712\n");
    fs_.file("memory/ctr/memory.max_usage_in_bytes", "23456\n");
    fs_.file("memory/ctr/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
    fs_.file("cpuacct/ctr/cpuacct.usage", "987654321\n");
    fs_.file("pids/ctr/pids.current", "2\n");
    fs_.file("pids/ctr/pids.max", "max\n");
    auto st = mgr_->stats();
    ASSERT_TRUE(st) << st.error().message();
    EXPECT_EQ(st->memory_usage, 12345u);
    EXPECT_EQ(st->memory_limit, 0u) << "the kernel's unlimited reads as 0";
    EXPECT_EQ(st->memory_max_usage, 23456u);
    EXPECT_EQ(st->oom_kills, 3u);
    EXPECT_EQ(mgr_->oom_kills().value(), 3u) << "the one-file read agrees with stats()";
    EXPECT_EQ(st->cpu_usage_ns, 987654321u);
    EXPECT_EQ(st->pids_current, 2u);
    EXPECT_EQ(st->pids_limit, 0u);

    ASSERT_TRUE(mgr_->destroy());
    EXPECT_FALSE(mgr_->exists());
    for (const char* c :
         {"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids"}) {
        EXPECT_FALSE(fs_.exists(std::string(c) + "/ctr")) << c;
        EXPECT_TRUE(fs_.exists(std::string(c) + "/cgroup.procs")) << "hierarchy root kept: " << c;
    }
    ASSERT_TRUE(mgr_->destroy()) << "destroying twice is fine";
    EXPECT_TRUE(mgr_->pids().value().empty());
}

TEST_F(V1Fake, RejectsPathsOutsideTheHierarchy) {
    for (const char* p : {"", "/", "../etc", "/a/../../b"}) {
        auto m = make_manager(Version::v1, {.root = fs_.root(), .path = p, .fake_fs = true}, log_.logger());
        auto res = m->apply();
        ASSERT_FALSE(res) << p;
        EXPECT_EQ(res.error().code(), sys::ErrorCode::invalid_argument) << p;
        EXPECT_FALSE(m->destroy()) << p;
    }
}

TEST_F(V1Fake, LimitForAbsentControllerIsAnError) {
    ASSERT_TRUE(sys::remove_all(fs_.path("pids")));
    Resources r;
    r.pids = PidsResources{.limit = 10};
    auto res = set(r);
    ASSERT_FALSE(res);
    EXPECT_NE(res.error().message().find(
                  "linux.resources.pids: cgroup controller \"pids\" is not mounted"),
              std::string::npos)
        << res.error().message();
}

}  // namespace
}  // namespace mydocker::cgroups
