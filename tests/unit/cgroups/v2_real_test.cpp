// The v2 driver on the host's real cgroup2 mount (root only): processes, freezer, the eBPF
// device filter, removal. Each test owns a uniquely named cgroup and removes it in TearDown.
#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <gtest/gtest.h>

#include "cgroup_testing.h"
#include "cgroups/manager.h"
#include "cgroups/util.h"

namespace mydocker::cgroups {
namespace {

using testing::Child;

// A v2 host has cgroup2 at /sys/fs/cgroup; a hybrid host (like the v1 CI VMs) at .../unified.
std::string cgroup2_root() {
    for (const char* r : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"})
        if (is_cgroup2_fs(r)) return r;
    return "";
}

// Programs attached directly to a cgroup for the device hook.
int attached_device_programs(const std::string& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    uint32_t ids[16];
    bpf_attr a;
    std::memset(&a, 0, sizeof a);
    a.query.target_fd = static_cast<uint32_t>(fd);
    a.query.attach_type = BPF_CGROUP_DEVICE;
    a.query.prog_ids = reinterpret_cast<uintptr_t>(ids);
    a.query.prog_cnt = 16;
    long rc = ::syscall(__NR_bpf, BPF_PROG_QUERY, &a, sizeof a);
    ::close(fd);
    return rc < 0 ? -1 : static_cast<int>(a.query.prog_cnt);
}

class V2Real : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root";
        root_ = cgroup2_root();
        if (root_.empty()) GTEST_SKIP() << "no cgroup2 mount";
        mgr_ =
            make_manager(Version::v2, {.root = root_, .path = testing::unique_cgroup_path()}, log_);
    }
    void TearDown() override {
        if (!mgr_) return;
        // Only our own children, by pid; then our own cgroup, whatever the test left.
        (void)mgr_->freeze(FreezerState::thawed);
        child_.reset();
        auto r = mgr_->destroy();
        EXPECT_TRUE(r) << r.error().message();
        if (mgr_->exists()) ::rmdir(mgr_->controller_path("").c_str());
    }
    std::string dir() const { return mgr_->controller_path(""); }

    sys::Logger log_;
    std::string root_;
    std::unique_ptr<Manager> mgr_;
    std::unique_ptr<Child> child_;
};

TEST_F(V2Real, DetectsVersion) {
    auto v = detect_version(root_);
    ASSERT_TRUE(v);
    EXPECT_EQ(*v, Version::v2);
    if (root_ != "/sys/fs/cgroup") {
        EXPECT_EQ(detect_version("/sys/fs/cgroup").value(), Version::v1);
    }
}

TEST_F(V2Real, ProcessesFreezeDestroy) {
    auto made = mgr_->apply();
    ASSERT_TRUE(made) << made.error().message();
    EXPECT_TRUE(*made) << "a new cgroup";
    sys::Result<void> res;
    ASSERT_TRUE(mgr_->exists());
    child_ = std::make_unique<Child>();
    ASSERT_GT(child_->pid(), 0);
    res = mgr_->add_process(child_->pid());
    ASSERT_TRUE(res) << res.error().message();

    auto pids = mgr_->pids();
    ASSERT_TRUE(pids) << pids.error().message();
    EXPECT_EQ(*pids, std::vector<pid_t>{child_->pid()});
    auto st = mgr_->stats();
    ASSERT_TRUE(st) << st.error().message();

    res = mgr_->freeze(FreezerState::frozen);
    ASSERT_TRUE(res) << res.error().message();
    EXPECT_NE(read_knob(dir() + "/cgroup.events").value_or("").find("frozen 1"), std::string::npos);
    EXPECT_EQ(mgr_->freezer_state().value(), FreezerState::frozen);
    res = mgr_->freeze(FreezerState::thawed);
    ASSERT_TRUE(res) << res.error().message();
    EXPECT_NE(read_knob(dir() + "/cgroup.events").value_or("").find("frozen 0"), std::string::npos);
    EXPECT_EQ(mgr_->freezer_state().value(), FreezerState::thawed);
    EXPECT_EQ(child_->try_opens(), std::make_pair(0, 0)) << "the thawed child runs again";

    child_.reset();  // SIGKILL + reap
    res = mgr_->destroy();
    ASSERT_TRUE(res) << res.error().message();
    EXPECT_FALSE(mgr_->exists());
    EXPECT_FALSE(sys::path_exists(dir()));
}

TEST_F(V2Real, DeviceFilterDeniesAndIsReplacedOnUpdate) {
    ASSERT_TRUE(mgr_->apply());
    child_ = std::make_unique<Child>();
    ASSERT_GT(child_->pid(), 0);
    ASSERT_TRUE(mgr_->add_process(child_->pid()));
    EXPECT_EQ(child_->try_opens(), std::make_pair(0, 0));

    // Deny everything, then allow /dev/zero (c 1:5) only.
    Resources r;
    r.devices = {{.allow = false, .type = 'a'},
                 {.allow = true, .type = 'c', .major = 1, .minor = 5, .access = "rwm"}};
    auto res = mgr_->set(r);
    ASSERT_TRUE(res) << res.error().message();
    EXPECT_EQ(child_->try_opens(), std::make_pair(EPERM, 0))
        << "/dev/null denied, /dev/zero allowed";
    EXPECT_EQ(attached_device_programs(dir()), 1);

    // An update swaps the rules: /dev/null (c 1:3) only. The old program must be gone.
    r.devices[1].minor = 3;
    res = mgr_->set(r);
    ASSERT_TRUE(res) << res.error().message();
    EXPECT_EQ(child_->try_opens(), std::make_pair(0, EPERM));
    EXPECT_EQ(attached_device_programs(dir()), 1);

    // Partial access lists load through the verifier too: allow all, refuse writes to
    // /dev/null, allow reads of /dev/zero.
    r.devices = {{.allow = true, .type = 'a'},
                 {.allow = false, .type = 'c', .major = 1, .minor = 3, .access = "w"},
                 {.allow = true, .type = 'c', .major = 1, .minor = 5, .access = "r"}};
    res = mgr_->set(r);
    ASSERT_TRUE(res) << res.error().message();
    EXPECT_EQ(child_->try_opens(), std::make_pair(EPERM, 0));
    EXPECT_EQ(attached_device_programs(dir()), 1);
}

TEST_F(V2Real, MissingControllerIsNamed) {
    ASSERT_TRUE(mgr_->apply());
    // On a hybrid host the cgroup2 mount has no controllers: memory.max does not exist.
    if (sys::path_exists(dir() + "/memory.max")) GTEST_SKIP() << "memory controller enabled here";
    Resources r;
    r.memory = MemoryResources{.limit = 1 << 30};
    auto res = mgr_->set(r);
    ASSERT_FALSE(res);
    EXPECT_NE(res.error().message().find(dir() + "/memory.max"), std::string::npos)
        << res.error().message();
}

}  // namespace
}  // namespace mydocker::cgroups
