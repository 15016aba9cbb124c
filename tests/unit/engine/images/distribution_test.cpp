// The distribution metadata file (images/distribution.json): what push and pull record of a
// layer's compressed blobs, read back, looked up by registry, kept bounded, pruned; a
// corrupt file is a cache miss, not a failure.
#include "engine/images/distribution.h"

#include <gtest/gtest.h>

#include "images_testing.h"
#include "sys/files.h"

namespace mydocker::engine::images {
namespace {

using testing::StoreRoot;

std::string hex_of(char c) {
    return std::string(64, c);
}
std::string diff(char c) {
    return "sha256:" + hex_of(c);
}
Descriptor gz(char c, int64_t size) {
    return {"application/vnd.docker.image.rootfs.diff.tar.gzip", "sha256:" + hex_of(c), size};
}

TEST(Distribution, AnEmptyStoreKnowsNothing) {
    StoreRoot r;
    Layout lay(r.ctx);
    auto meta = read_distribution(lay);
    ASSERT_TRUE(meta.has_value()) << meta.error().message();
    EXPECT_TRUE(meta->empty());
    EXPECT_TRUE(lookup_layer_sources(lay, diff('a'), "127.0.0.1:5000", "t/a").empty());
}

TEST(Distribution, RecordAndLookUp) {
    StoreRoot r;
    Layout lay(r.ctx);
    auto lk = lay.lock();
    ASSERT_TRUE(lk.has_value()) << lk.error().message();
    ASSERT_TRUE(record_layer_source(lay, *lk, diff('a'), gz('1', 10), "127.0.0.1:5000", "t/one"));
    ASSERT_TRUE(record_layer_source(lay, *lk, diff('a'), gz('2', 20), "127.0.0.1:5000", "t/two"));
    ASSERT_TRUE(record_layer_source(lay, *lk, diff('a'), gz('3', 30), "docker.io", "library/x"));
    ASSERT_TRUE(record_layer_source(lay, *lk, diff('b'), gz('4', 40), "127.0.0.1:5000", "t/one"));

    // This registry only; the most recent first...
    auto got = lookup_layer_sources(lay, diff('a'), "127.0.0.1:5000", "t/other");
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].blob.digest, gz('2', 0).digest);
    EXPECT_EQ(got[0].repository, "t/two");
    EXPECT_EQ(got[0].blob.size, 20);
    EXPECT_EQ(got[0].blob.media_type, "application/vnd.docker.image.rootfs.diff.tar.gzip");
    EXPECT_EQ(got[1].repository, "t/one");
    // ... but the repository pushed to before the others.
    got = lookup_layer_sources(lay, diff('a'), "127.0.0.1:5000", "t/one");
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].repository, "t/one");
    EXPECT_EQ(lookup_layer_sources(lay, diff('a'), "docker.io", "library/x").size(), 1u);
    EXPECT_TRUE(lookup_layer_sources(lay, diff('c'), "127.0.0.1:5000", "t/one").empty());

    // Recording the same place again moves it to the front, not twice in the list.
    ASSERT_TRUE(record_layer_source(lay, *lk, diff('a'), gz('1', 10), "127.0.0.1:5000", "t/one"));
    auto meta = read_distribution(lay);
    ASSERT_TRUE(meta.has_value()) << meta.error().message();
    ASSERT_EQ((*meta)[diff('a')].size(), 3u);
    EXPECT_EQ((*meta)[diff('a')][0].repository, "t/one");
}

TEST(Distribution, RoundTripsThroughItsJson) {
    DistributionMetadata m;
    m[diff('a')] = {{gz('1', 10), "127.0.0.1:5000", "t/one"},
                    {gz('2', 0), "docker.io", "library/b"}};
    m[diff('b')] = {{gz('3', 1234567890123), "localhost:5000", "x"}};
    auto back = parse_distribution(distribution_json(m));
    ASSERT_TRUE(back.has_value()) << back.error().message();
    ASSERT_EQ(back->size(), 2u);
    for (const auto& [id, list] : m) {
        ASSERT_EQ((*back)[id].size(), list.size());
        for (size_t i = 0; i < list.size(); ++i) {
            EXPECT_EQ((*back)[id][i].blob.digest, list[i].blob.digest);
            EXPECT_EQ((*back)[id][i].blob.media_type, list[i].blob.media_type);
            EXPECT_EQ((*back)[id][i].blob.size, list[i].blob.size);
            EXPECT_EQ((*back)[id][i].registry, list[i].registry);
            EXPECT_EQ((*back)[id][i].repository, list[i].repository);
        }
    }
}

TEST(Distribution, RejectsBadDocuments) {
    const std::string e = R"({"digest":"sha256:)" + hex_of('1') +
                          R"(","mediaType":"m","size":1,"registry":"r","repository":"p"})";
    EXPECT_TRUE(parse_distribution("{\"" + diff('a') + "\":[" + e + "]}").has_value());
    for (const std::string& bad : {
             std::string("not json"),
             std::string("[]"),
             "{\"sha256:zz\":[" + e + "]}",  // not a digest: never a path
             "{\"" + diff('a') + "\":{}}",   // not a list
             "{\"" + diff('a') + "\":[1]}",  // not an entry
             "{\"" + diff('a') + "\":[{\"digest\":\"sha256:" + hex_of('1') + "\"}]}",
             "{\"" + diff('a') + "\":[" +
                 std::string(e).replace(e.find("\"size\":1"), 8, "\"size\":-1") + "]}",
             "{\"" + diff('a') + "\":[" + std::string(e).replace(e.find("sha256:"), 7, "md5:") +
                 "]}",
         }) {
        auto got = parse_distribution(bad);
        EXPECT_FALSE(got.has_value()) << bad;
        if (!got) {
            EXPECT_EQ(got.error().code(), sys::ErrorCode::invalid_argument) << bad;
        }
    }
}

TEST(Distribution, ACorruptFileIsAMissThenReplaced) {
    StoreRoot r;
    Layout lay(r.ctx);
    auto lk = lay.lock();
    ASSERT_TRUE(lk.has_value()) << lk.error().message();
    const std::string path = sys::path_join(lay.images_dir(), "distribution.json");
    ASSERT_TRUE(sys::write_file(path, "{\"sha256:", 0644));
    auto meta = read_distribution(lay);
    ASSERT_FALSE(meta.has_value());
    EXPECT_NE(meta.error().message().find(path), std::string::npos) << meta.error().message();
    EXPECT_TRUE(lookup_layer_sources(lay, diff('a'), "r", "p").empty());
    ASSERT_TRUE(record_layer_source(lay, *lk, diff('a'), gz('1', 10), "r", "p"));
    meta = read_distribution(lay);
    ASSERT_TRUE(meta.has_value()) << meta.error().message();
    EXPECT_EQ(meta->size(), 1u);
    EXPECT_EQ(lookup_layer_sources(lay, diff('a'), "r", "p").size(), 1u);
}

TEST(Distribution, RefusesBadRecordsAndKeepsAFewSourcesPerLayer) {
    StoreRoot r;
    Layout lay(r.ctx);
    auto lk = lay.lock();
    ASSERT_TRUE(lk.has_value()) << lk.error().message();
    EXPECT_FALSE(record_layer_source(lay, *lk, "sha256:../x", gz('1', 1), "r", "p"));
    EXPECT_FALSE(record_layer_source(lay, *lk, diff('a'), {"m", "nope", 1}, "r", "p"));
    EXPECT_FALSE(record_layer_source(lay, *lk, diff('a'), gz('1', 1), "", "p"));
    for (int i = 0; i < 20; ++i)
        ASSERT_TRUE(
            record_layer_source(lay, *lk, diff('a'), gz('1', 1), "r", "p" + std::to_string(i)));
    auto got = lookup_layer_sources(lay, diff('a'), "r", "none");
    ASSERT_EQ(got.size(), kMaxLayerSources);
    EXPECT_EQ(got.front().repository, "p19");  // the oldest went
}

TEST(Distribution, PruneDropsLayersNoLongerInTheStore) {
    StoreRoot r;
    Layout lay(r.ctx);
    auto lk = lay.lock();
    ASSERT_TRUE(lk.has_value()) << lk.error().message();
    ASSERT_TRUE(record_layer_source(lay, *lk, diff('a'), gz('1', 1), "r", "p"));
    ASSERT_TRUE(record_layer_source(lay, *lk, diff('b'), gz('2', 2), "r", "p"));
    ASSERT_TRUE(prune_distribution(lay, *lk, {diff('b'), diff('c')}));
    EXPECT_TRUE(lookup_layer_sources(lay, diff('a'), "r", "p").empty());
    EXPECT_EQ(lookup_layer_sources(lay, diff('b'), "r", "p").size(), 1u);
}

}  // namespace
}  // namespace mydocker::engine::images
