// push's pure parts: where an upload continues (the Location a registry answers may be
// relative or absolute and may carry its own query, as distribution's "_state" does), and
// which repository of the same registry a blob can be mounted from.
#include "engine/images/push.h"

#include <gtest/gtest.h>

namespace mydocker::engine::images {
namespace {

TEST(UploadUrl, ResolvesALocationAndAddsTheDigest) {
    const std::string base = "http://127.0.0.1:5000";
    EXPECT_EQ(upload_url(base, "/v2/t/bb/blobs/uploads/u1", "digest=sha256%3Aab"),
              "http://127.0.0.1:5000/v2/t/bb/blobs/uploads/u1?digest=sha256%3Aab");
    EXPECT_EQ(upload_url(base, "/v2/t/bb/blobs/uploads/u1?_state=xyz", "digest=d"),
              "http://127.0.0.1:5000/v2/t/bb/blobs/uploads/u1?_state=xyz&digest=d");
    // Absolute, elsewhere (storage behind the registry): kept as given.
    EXPECT_EQ(upload_url(base, "https://storage.example/up/1?sig=a", "digest=d"),
              "https://storage.example/up/1?sig=a&digest=d");
    EXPECT_EQ(upload_url(base, "http://127.0.0.1:5000/v2/x/blobs/uploads/2", "digest=d"),
              "http://127.0.0.1:5000/v2/x/blobs/uploads/2?digest=d");
    // No query (the PATCH, a cancel): the Location as it is.
    EXPECT_EQ(upload_url(base, "/v2/t/bb/blobs/uploads/u1?_state=xyz", ""),
              "http://127.0.0.1:5000/v2/t/bb/blobs/uploads/u1?_state=xyz");
}

TEST(MountSource, AnotherRepositoryOfTheSameRegistry) {
    Reference ref = *parse_reference("127.0.0.1:5000/test/two:latest");
    EXPECT_EQ(mount_source({"127.0.0.1:5000/test/two:latest", "127.0.0.1:5000/test/one:1"}, ref),
              "test/one");
    // Same repository, another tag: nothing to mount from; other registries do not count.
    EXPECT_EQ(
        mount_source({"127.0.0.1:5000/test/two:v2", "busybox:latest", "127.0.0.1:6000/test/one:1"},
                     ref),
        "");
    EXPECT_EQ(mount_source({}, ref), "");
    Reference hub = *parse_reference("user/app:1");
    EXPECT_EQ(mount_source({"busybox:latest"}, hub), "library/busybox");
}

}  // namespace
}  // namespace mydocker::engine::images
