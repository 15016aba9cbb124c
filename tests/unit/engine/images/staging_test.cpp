// A pull's layer claims and stagings (layout.h): the store's sweep spares a held claim and
// removes a dead one's leftovers; a committed staging becomes the layer and its blob.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "engine/images/config.h"
#include "engine/images/layout.h"
#include "images_testing.h"

namespace mydocker::engine::images {
namespace {

using testing::StoreRoot;

/// Whether someone holds the flock on `path` (as another process would see it).
bool lock_held(const std::string& path) {
    auto fd = sys::open_file(path, O_RDWR);
    if (!fd) return false;
    return ::flock(fd->get(), LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}

TEST(LayerClaim, TheSweepSparesAHeldClaimAndItsStaging) {
    StoreRoot r;
    Layout lay(r.ctx);
    ASSERT_TRUE(lay.lock().has_value());
    const std::string hex(64, 'a');
    auto claim = lay.claim_layer("sha256:" + hex);
    ASSERT_TRUE(claim.has_value()) << claim.error().message();
    auto blob = lay.new_staged_blob(*claim);
    ASSERT_TRUE(blob.has_value()) << blob.error().message();
    ASSERT_TRUE(blob->write("partial").has_value());
    const std::string staging = lay.staging_dir(*claim);
    ASSERT_EQ(::mkdir(staging.c_str(), 0755), 0);
    EXPECT_TRUE(lock_held(r.dir / ("images/tmp/" + hex + ".lock")));

    ASSERT_TRUE(lay.lock().has_value());  // another writer's sweep
    EXPECT_TRUE(sys::path_exists(blob->temp_path()));
    EXPECT_TRUE(sys::path_exists(staging));
    EXPECT_TRUE(lock_held(r.dir / ("images/tmp/" + hex + ".lock")));
}

TEST(LayerClaim, TheSweepRemovesWhatADeadPullLeft) {
    StoreRoot r;
    Layout lay(r.ctx);
    ASSERT_TRUE(lay.lock().has_value());
    const std::string hex(64, 'b');
    // As a pull killed mid-layer leaves them: nobody holds the lock file.
    ASSERT_TRUE(sys::write_file_atomic(r.dir / ("images/tmp/" + hex + ".lock"), "", 0600).has_value());
    ASSERT_TRUE(sys::write_file_atomic(r.dir / ("images/tmp/" + hex + ".blob"), "half", 0644).has_value());
    ASSERT_TRUE(sys::mkdir_all(r.dir / ("layers/.pull-" + hex + "/etc")).has_value());
    ASSERT_TRUE(lay.lock().has_value());
    EXPECT_EQ(*sys::list_dir(r.dir / "images/tmp"), std::vector<std::string>{});
    EXPECT_FALSE(sys::path_exists(r.dir / ("layers/.pull-" + hex)));
}

TEST(LayerClaim, ACommittedStagingIsTheLayerAndItsBlob) {
    StoreRoot r;
    Layout lay(r.ctx);
    ASSERT_TRUE(lay.lock().has_value());
    auto hex = sha256_hex("layer bytes");
    ASSERT_TRUE(hex.has_value());
    const std::string diff_id = "sha256:" + *hex;
    {
        auto claim = lay.claim_layer(diff_id);
        ASSERT_TRUE(claim.has_value()) << claim.error().message();
        auto blob = lay.new_staged_blob(*claim);
        ASSERT_TRUE(blob.has_value());
        ASSERT_TRUE(blob->write("layer bytes").has_value());
        const std::string staging = lay.staging_dir(*claim);
        ASSERT_TRUE(sys::mkdir_all(staging + "/etc").has_value());
        auto lk = lay.lock();
        ASSERT_TRUE(lk.has_value());
        auto d = lay.commit_staged_layer(*lk, *claim, *blob);
        ASSERT_TRUE(d.has_value()) << d.error().message();
        EXPECT_EQ(d->digest, diff_id);
        EXPECT_EQ(d->size, 11);
        EXPECT_FALSE(sys::path_exists(staging));
    }
    EXPECT_TRUE(sys::path_exists(*lay.layer_dir(diff_id) + "/etc"));
    EXPECT_EQ(*sys::read_file(*lay.blob_path(diff_id)), "layer bytes");
    // The claim is gone with its lock file.
    EXPECT_EQ(*sys::list_dir(r.dir / "images/tmp"), std::vector<std::string>{});
}

}  // namespace
}  // namespace mydocker::engine::images
