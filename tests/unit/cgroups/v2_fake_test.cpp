// The v2 driver against a fake cgroupfs: which value lands in which file.
#include <gtest/gtest.h>

#include "cgroup_testing.h"
#include "cgroups/manager.h"

namespace mydocker::cgroups {
namespace {

using testing::CapturedLog;
using testing::FakeCgroupfs;

class V2Fake : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_FALSE(fs_.root().empty());
        fs_.file("cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
        fs_.file("cgroup.subtree_control");
        for (const char* k :
             {"memory.max", "memory.low", "memory.swap.max", "memory.current", "cpu.weight",
              "cpu.max", "cpu.max.burst", "cpu.idle", "cpuset.cpus", "cpuset.mems", "pids.max",
              "io.weight", "io.max", "hugetlb.2MB.max", "memory.high", "cgroup.procs"})
            fs_.file(std::string("ctr/") + k);
        mgr_ = make_manager(Version::v2, {.root = fs_.root(), .path = "/ctr", .fake_fs = true}, log_.logger());
    }

    sys::Result<void> set(const Resources& r) { return mgr_->set(r); }
    std::string knob(const std::string& name) const { return fs_.read("ctr/" + name); }

    FakeCgroupfs fs_;
    CapturedLog log_;
    std::unique_ptr<Manager> mgr_;
};

TEST_F(V2Fake, CloneIntoTheCgroupDirNoV1Join) {
    EXPECT_EQ(mgr_->clone_into_dir(), fs_.root() + "/ctr");
    EXPECT_TRUE(mgr_->join_self_v1());
}

TEST_F(V2Fake, Memory) {
    Resources r;
    r.memory = MemoryResources{.limit = 104857600, .reservation = 52428800, .swap = 314572800};
    auto res = set(r);
    ASSERT_TRUE(res) << res.error().message();
    EXPECT_EQ(knob("memory.max"), "104857600");
    EXPECT_EQ(knob("memory.low"), "52428800");
    EXPECT_EQ(knob("memory.swap.max"), "209715200") << "swap.max counts swap only";

    r.memory = MemoryResources{.limit = -1};
    ASSERT_TRUE(set(r));
    EXPECT_EQ(knob("memory.max"), "max");
    EXPECT_EQ(knob("memory.swap.max"), "max");

    r.memory = MemoryResources{.limit = 1000, .swap = 1000};
    ASSERT_TRUE(set(r));
    EXPECT_EQ(knob("memory.swap.max"), "0") << "memory+swap == memory disables swap";
}

TEST_F(V2Fake, SwapKnobMissing) {
    ASSERT_EQ(::unlink(fs_.path("ctr/memory.swap.max").c_str()), 0);
    Resources r;
    // Asking for no swap where the kernel has no swap accounting is already true.
    r.memory = MemoryResources{.limit = 1000, .swap = 1000};
    ASSERT_TRUE(set(r));
    EXPECT_EQ(knob("memory.max"), "1000");
    // A real swap allowance cannot be honoured: error naming the file.
    r.memory = MemoryResources{.limit = 1000, .swap = 3000};
    auto res = set(r);
    ASSERT_FALSE(res);
    EXPECT_NE(res.error().message().find(fs_.path("ctr/memory.swap.max")), std::string::npos);
}

TEST_F(V2Fake, V1OnlyMemoryFieldsWarn) {
    Resources r;
    r.memory = MemoryResources{.limit = 4096, .kernel = 1, .swappiness = 10};
    ASSERT_TRUE(set(r));
    EXPECT_EQ(knob("memory.max"), "4096");
    EXPECT_NE(log_.text().find("kernel is deprecated"), std::string::npos);
    EXPECT_NE(log_.text().find("swappiness is not supported"), std::string::npos);
}

TEST_F(V2Fake, CpuWeightFromShares) {
    for (auto [shares, weight] :
         {std::pair{1024, "39"}, {2, "1"}, {262144, "10000"}, {512, "20"}}) {
        Resources r;
        r.cpu = CpuResources{.shares = static_cast<uint64_t>(shares)};
        ASSERT_TRUE(set(r));
        EXPECT_EQ(knob("cpu.weight"), weight) << shares;
    }
}

TEST_F(V2Fake, CpuMax) {
    Resources r;
    r.cpu = CpuResources{.quota = 50000};
    ASSERT_TRUE(set(r));
    EXPECT_EQ(knob("cpu.max"), "50000 100000") << "period defaults to 100000";
    r.cpu = CpuResources{.quota = -1, .period = 200000};
    ASSERT_TRUE(set(r));
    EXPECT_EQ(knob("cpu.max"), "max 200000");
    r.cpu = CpuResources{
        .quota = 20000, .burst = 10000, .period = 50000, .cpus = "1", .mems = "0", .idle = 0};
    ASSERT_TRUE(set(r));
    EXPECT_EQ(knob("cpu.max"), "20000 50000");
    EXPECT_EQ(knob("cpu.max.burst"), "10000");
    EXPECT_EQ(knob("cpu.idle"), "0");
    EXPECT_EQ(knob("cpuset.cpus"), "1");
    EXPECT_EQ(knob("cpuset.mems"), "0");
    r.cpu = CpuResources{.realtime_runtime = 1000};
    auto res = set(r);
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error().code(), sys::ErrorCode::invalid_argument);
}

TEST_F(V2Fake, Pids) {
    Resources r;
    r.pids = PidsResources{.limit = 64};
    ASSERT_TRUE(set(r));
    EXPECT_EQ(knob("pids.max"), "64");
    r.pids->limit = -1;
    ASSERT_TRUE(set(r));
    EXPECT_EQ(knob("pids.max"), "max");
}

TEST_F(V2Fake, Io) {
    Resources r;
    r.block_io = BlockIoResources{.weight = 500};
    ASSERT_TRUE(set(r));
    EXPECT_EQ(knob("io.weight"), "4950");
    r.block_io = BlockIoResources{.weight_device = {{.major = 8, .minor = 0, .weight = 1000}}};
    ASSERT_TRUE(set(r));
    EXPECT_EQ(knob("io.weight"), "8:0 10000");
    r.block_io =
        BlockIoResources{.throttle_read_bps_device = {{.major = 8, .minor = 0, .rate = 1048576}}};
    ASSERT_TRUE(set(r));
    EXPECT_EQ(knob("io.max"), "8:0 rbps=1048576");
    r.block_io =
        BlockIoResources{.throttle_write_iops_device = {{.major = 259, .minor = 1, .rate = 0}}};
    ASSERT_TRUE(set(r));
    EXPECT_EQ(knob("io.max"), "259:1 wiops=max") << "rate 0 lifts the limit, as on v1";
}

TEST_F(V2Fake, IoBfqWeight) {
    ASSERT_EQ(::unlink(fs_.path("ctr/io.weight").c_str()), 0);
    fs_.file("ctr/io.bfq.weight");
    Resources r;
    r.block_io = BlockIoResources{.weight = 500};
    ASSERT_TRUE(set(r));
    EXPECT_EQ(knob("io.bfq.weight"), "500") << "bfq keeps the blkio scale";
}

TEST_F(V2Fake, HugetlbAndUnified) {
    Resources r;
    r.hugepage_limits = {{.page_size = "2MB", .limit = 4194304}};
    r.memory = MemoryResources{.limit = 1000};
    r.unified = {{"memory.high", "50000"}, {"memory.max", "2000"}};
    auto res = set(r);
    ASSERT_TRUE(res) << res.error().message();
    EXPECT_EQ(knob("hugetlb.2MB.max"), "4194304");
    EXPECT_EQ(knob("memory.high"), "50000");
    EXPECT_EQ(knob("memory.max"), "2000") << "unified overrides the typed fields";
}

TEST_F(V2Fake, UnifiedKeysStayInTheCgroup) {
    for (const char* key : {"../memory.max", "sub/memory.max", "..", "", ".hidden"}) {
        Resources r;
        r.unified = {{key, "1"}};
        auto res = set(r);
        ASSERT_FALSE(res) << key;
        EXPECT_EQ(res.error().code(), sys::ErrorCode::invalid_argument) << key;
    }
}

TEST_F(V2Fake, MissingControllerKnobNamedInError) {
    Resources r;
    r.unified = {{"rdma.max", "mlx4_0 hca_handle=2"}};
    auto res = set(r);
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error().message(),
              "set cgroup \"/ctr\": write \"mlx4_0 hca_handle=2\" to \"" +
                  fs_.path("ctr/rdma.max") +
                  "\": no such file: the \"rdma\" controller is not enabled for this cgroup");
    ASSERT_EQ(::unlink(fs_.path("ctr/memory.max").c_str()), 0);
    r = Resources{};
    r.memory = MemoryResources{.limit = 1};
    res = set(r);
    ASSERT_FALSE(res);
    EXPECT_NE(res.error().message().find("\"memory\" controller is not enabled"),
              std::string::npos);
}

TEST_F(V2Fake, DeviceRulesValidatedBeforeAnyWrite) {
    Resources r;
    r.memory = MemoryResources{.limit = 1000};
    r.devices = {{.allow = false, .type = 'a'},
                 {.allow = true, .type = 'c', .major = 1, .minor = 5}};
    ASSERT_TRUE(set(r)) << "a fake cgroupfs takes the rules without attaching a program";
    EXPECT_EQ(knob("memory.max"), "1000");
    r.memory = MemoryResources{.limit = 2000};
    r.devices = {{.allow = true, .type = 'x'}};
    auto res = set(r);
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error().code(), sys::ErrorCode::invalid_argument);
    EXPECT_EQ(knob("memory.max"), "1000");
}

TEST_F(V2Fake, ApplyEnablesControllersInEveryAncestor) {
    // A pre-existing middle level offering only some controllers, one already enabled.
    fs_.file("pod/cgroup.controllers", "cpu memory pids\n");
    fs_.file("pod/cgroup.subtree_control", "cpu\n");
    auto m = make_manager(Version::v2, {.root = fs_.root(), .path = "/pod/c1", .fake_fs = true}, log_.logger());
    auto res = m->apply();
    ASSERT_TRUE(res) << res.error().message();
    EXPECT_TRUE(*res) << "made";
    EXPECT_EQ(fs_.read("cgroup.subtree_control"), "+cpuset +cpu +io +memory +hugetlb +pids");
    EXPECT_EQ(fs_.read("pod/cgroup.subtree_control"), "+memory +pids");
    EXPECT_TRUE(fs_.exists("pod/c1"));
    EXPECT_FALSE(fs_.exists("pod/c1/cgroup.subtree_control")) << "the leaf keeps its processes";
    EXPECT_EQ(m->controller_path("memory"), fs_.path("pod/c1"));
    // Nothing left to enable: apply again writes nothing.
    ASSERT_TRUE(
        sys::write_file(fs_.path("cgroup.subtree_control"), "cpuset cpu io memory hugetlb pids"));
    auto again = m->apply();
    ASSERT_TRUE(again);
    EXPECT_FALSE(*again) << "the cgroup was there";
    EXPECT_EQ(fs_.read("cgroup.subtree_control"), "cpuset cpu io memory hugetlb pids");
}

TEST_F(V2Fake, PidsStatsDestroy) {
    fs_.file("ctr/cgroup.procs", "7\n3\n");
    fs_.file("ctr/a/cgroup.procs");
    fs_.file("ctr/a/b/cgroup.procs", "5\n");
    auto pids = mgr_->pids();
    ASSERT_TRUE(pids) << pids.error().message();
    EXPECT_EQ(*pids, (std::vector<pid_t>{3, 5, 7}));

    fs_.file("ctr/memory.current", "4096\n");
    fs_.file("ctr/memory.max", "max\n");
    fs_.file("ctr/memory.peak", "8192\n");
    fs_.file("ctr/memory.events", "low 0\nhigh 0\nmax 4\noom 2\noom_kill 1\n");
    fs_.file("ctr/cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n");
    fs_.file("ctr/pids.current", "3\n");
    fs_.file("ctr/pids.max", "100\n");
    auto st = mgr_->stats();
    ASSERT_TRUE(st);
    EXPECT_EQ(st->memory_usage, 4096u);
    EXPECT_EQ(st->memory_limit, 0u);
    EXPECT_EQ(st->memory_max_usage, 8192u);
    EXPECT_EQ(st->oom_kills, 1u);
    EXPECT_EQ(mgr_->oom_kills().value(), 1u) << "the one-file read agrees with stats()";
    EXPECT_EQ(st->cpu_usage_ns, 1500000u);
    EXPECT_EQ(st->pids_current, 3u);
    EXPECT_EQ(st->pids_limit, 100u);

    EXPECT_TRUE(mgr_->exists());
    ASSERT_TRUE(mgr_->destroy());
    EXPECT_FALSE(mgr_->exists());
    EXPECT_TRUE(fs_.exists("cgroup.controllers")) << "the root stays";
    ASSERT_TRUE(mgr_->destroy());
}

TEST_F(V2Fake, FreezeWaitsForEvents) {
    fs_.file("ctr/cgroup.freeze", "0\n");
    fs_.file("ctr/cgroup.events", "populated 1\nfrozen 1\n");  // the kernel's report
    ASSERT_TRUE(mgr_->freeze(FreezerState::frozen));
    EXPECT_EQ(knob("cgroup.freeze"), "1");
    EXPECT_EQ(mgr_->freezer_state().value(), FreezerState::frozen);
    // A kernel that never reports the thaw: bounded wait, then an error naming the file.
    auto res = mgr_->freeze(FreezerState::thawed);
    ASSERT_FALSE(res);
    EXPECT_NE(res.error().message().find("cgroup.events"), std::string::npos);
}

}  // namespace
}  // namespace mydocker::cgroups
