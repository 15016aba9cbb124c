// store::secure(): the engine's root and runroot made root-only, and an old store tightened.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>

#include "engine/store/perms.h"
#include "sys/files.h"
#include "sys/log.h"

namespace mydocker::engine::store {
namespace {

mode_t mode_of(const std::string& p) {
    struct stat st;
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
}

class SecureTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/mydocker-perms-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { (void)sys::remove_all(dir_); }

    std::string dir_;
    sys::Logger log_;
};

TEST_F(SecureTest, AMissingStoreStaysMissing) {
    Context ctx{log_};
    ctx.root = dir_ + "/lib/mydocker";
    ctx.run_root = dir_ + "/run/mydocker";
    auto r = secure(ctx);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_FALSE(sys::path_exists(dir_ + "/lib"));
    EXPECT_FALSE(sys::path_exists(dir_ + "/run"));
}

TEST_F(SecureTest, TightensAStoreMadeWithWideModes) {
    Context ctx{log_};
    ctx.root = dir_ + "/root";
    ctx.run_root = ctx.root + "/run";
    std::vector<std::string> dirs{
        ctx.root,          ctx.layers_dir(), ctx.images_dir(),  ctx.containers_dir(),
        ctx.volumes_dir(), ctx.run_root,     ctx.bundles_dir(), ctx.runtime_dir()};
    for (const auto& d : dirs) {
        ASSERT_TRUE(sys::mkdir_all(d, 0755));
        ASSERT_EQ(::chmod(d.c_str(), 0755), 0);
    }
    // What is inside keeps its mode: a layer's own dirs are the image's.
    std::string layer = ctx.layers_dir() + "/abc";
    ASSERT_TRUE(sys::mkdir_all(layer, 0755));
    ASSERT_EQ(::chmod(layer.c_str(), 0755), 0);
    auto r = secure(ctx);
    ASSERT_TRUE(r) << r.error().message();
    for (const auto& d : dirs) EXPECT_EQ(mode_of(d), 0700u) << d;
    EXPECT_EQ(mode_of(layer), 0755u);
}

}  // namespace
}  // namespace mydocker::engine::store
