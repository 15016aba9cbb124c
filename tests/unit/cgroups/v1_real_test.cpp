// The v1 driver on the host's real v1 hierarchies (root only): limits the kernel accepts,
// processes, freezer, devices, removal from every hierarchy. Each test owns a uniquely
// named cgroup and removes it in TearDown.
#include <unistd.h>

#include <gtest/gtest.h>

#include "cgroup_testing.h"
#include "cgroups/manager.h"
#include "cgroups/util.h"

namespace mydocker::cgroups {
namespace {

using testing::Child;

const std::string kRoot = "/sys/fs/cgroup";

class V1Real : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root";
        if (!is_cgroup1_fs(kRoot + "/memory") || !is_cgroup1_fs(kRoot + "/freezer"))
            GTEST_SKIP() << "no v1 memory/freezer hierarchies";
        mgr_ =
            make_manager(Version::v1, {.root = kRoot, .path = testing::unique_cgroup_path()}, log_);
    }
    void TearDown() override {
        if (!mgr_) return;
        // A v1-frozen task cannot die: thaw first, then kill our own child, then remove.
        (void)mgr_->freeze(FreezerState::thawed);
        child_.reset();
        auto r = mgr_->destroy();
        EXPECT_TRUE(r) << r.error().message();
        for (const auto& d : dirs()) ::rmdir(d.c_str());
    }
    std::vector<std::string> dirs() const {
        std::vector<std::string> out;
        for (const char* c : {"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio",
                              "pids", "unified"})
            if (is_dir(kRoot + "/" + c)) out.push_back(mgr_->controller_path(c));
        return out;
    }
    std::string knob(const char* controller, const char* file) const {
        return read_knob(mgr_->controller_path(controller) + "/" + file).value_or("<error>");
    }

    sys::Logger log_;
    std::unique_ptr<Manager> mgr_;
    std::unique_ptr<Child> child_;
};

TEST_F(V1Real, DetectsVersion) {
    EXPECT_EQ(detect_version(kRoot).value(), Version::v1);
}

TEST_F(V1Real, MemoryLimitsInEveryOrder) {
    auto made = mgr_->apply();
    ASSERT_TRUE(made) << made.error().message();
    EXPECT_TRUE(*made) << "a new cgroup";
    sys::Result<void> res;
    bool memsw = sys::path_exists(mgr_->controller_path("memory") + "/memory.memsw.limit_in_bytes");
    // Grow, grow past the old memsw, shrink below the old limit: each step needs the
    // kernel's order (memsw >= limit at every write).
    for (auto [limit, swap] : {std::pair<int64_t, int64_t>{100 << 20, 200 << 20},
                               {300 << 20, 400 << 20},
                               {50 << 20, 60 << 20},
                               {-1, -1}}) {
        Resources r;
        r.memory = MemoryResources{.limit = limit, .swap = swap};
        res = mgr_->set(r);
        ASSERT_TRUE(res) << limit << "/" << swap << ": " << res.error().message();
        if (limit > 0) {
            EXPECT_EQ(knob("memory", "memory.limit_in_bytes"), std::to_string(limit));
            if (memsw) {
                EXPECT_EQ(knob("memory", "memory.memsw.limit_in_bytes"), std::to_string(swap));
            }
        } else {
            EXPECT_EQ(mgr_->stats().value().memory_limit, 0u) << "unlimited again";
        }
    }
}

TEST_F(V1Real, CpuPidsAndCpusetInherited) {
    ASSERT_TRUE(mgr_->apply());
    if (is_dir(kRoot + "/cpuset")) {
        EXPECT_EQ(knob("cpuset", "cpuset.cpus"), read_knob(kRoot + "/cpuset/cpuset.cpus").value());
        EXPECT_EQ(knob("cpuset", "cpuset.mems"), read_knob(kRoot + "/cpuset/cpuset.mems").value());
    }
    Resources r;
    r.cpu = CpuResources{.shares = 512, .quota = 20000, .period = 100000};
    r.pids = PidsResources{.limit = 50};
    auto res = mgr_->set(r);
    ASSERT_TRUE(res) << res.error().message();
    EXPECT_EQ(knob("cpu", "cpu.shares"), "512");
    EXPECT_EQ(knob("cpu", "cpu.cfs_quota_us"), "20000");
    if (is_dir(kRoot + "/pids")) {
        EXPECT_EQ(knob("pids", "pids.max"), "50");
    }
}

TEST_F(V1Real, ProcessesFreezeDevicesDestroy) {
    auto made = mgr_->apply();
    ASSERT_TRUE(made) << made.error().message();
    EXPECT_TRUE(*made) << "a new cgroup";
    sys::Result<void> res;
    child_ = std::make_unique<Child>();
    ASSERT_GT(child_->pid(), 0);
    // Fails with ENOSPC if the new cpuset was left without cpus/mems.
    res = mgr_->add_process(child_->pid());
    ASSERT_TRUE(res) << res.error().message();
    auto pids = mgr_->pids();
    ASSERT_TRUE(pids) << pids.error().message();
    EXPECT_EQ(*pids, std::vector<pid_t>{child_->pid()});
    auto self = sys::read_file("/proc/" + std::to_string(child_->pid()) + "/cgroup").value_or("");
    EXPECT_NE(self.find(":memory:" + mgr_->path() + "\n"), std::string::npos) << self;

    Resources r;
    r.devices = {{.allow = false, .type = 'a'},
                 {.allow = true, .type = 'c', .major = 1, .minor = 5, .access = "rwm"}};
    res = mgr_->set(r);
    ASSERT_TRUE(res) << res.error().message();
    EXPECT_EQ(knob("devices", "devices.list"), "c 1:5 rwm");
    EXPECT_EQ(child_->try_opens(), std::make_pair(EPERM, 0))
        << "/dev/null denied, /dev/zero allowed";

    res = mgr_->freeze(FreezerState::frozen);
    ASSERT_TRUE(res) << res.error().message();
    EXPECT_EQ(knob("freezer", "freezer.state"), "FROZEN");
    EXPECT_EQ(mgr_->freezer_state().value(), FreezerState::frozen);
    res = mgr_->freeze(FreezerState::thawed);
    ASSERT_TRUE(res) << res.error().message();
    EXPECT_EQ(knob("freezer", "freezer.state"), "THAWED");
    EXPECT_EQ(child_->try_opens(), std::make_pair(EPERM, 0)) << "the thawed child runs again";

    child_.reset();
    res = mgr_->destroy();
    ASSERT_TRUE(res) << res.error().message();
    EXPECT_FALSE(mgr_->exists());
    for (const auto& d : dirs()) EXPECT_FALSE(sys::path_exists(d)) << d;
}

}  // namespace
}  // namespace mydocker::cgroups
