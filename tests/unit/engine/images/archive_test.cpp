// save and load: docker-archive and OCI archives, round trips, and archives written by others.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/images/digest.h"
#include "engine/images/store.h"
#include "images_testing.h"

namespace mydocker::engine::images {
namespace {

using nlohmann::json;
using testing::read_tar;
using testing::StoreRoot;
using testing::write_tar;

// A two-layer image named `names`: an import plus a commit on top.
Image two_layer_image(StoreRoot& r, const std::vector<std::string>& names) {
    std::string tar = r.dir / "base.tar";
    EXPECT_TRUE(write_tar(tar, [](TarWriter& w) -> sys::Result<void> {
        MD_TRY(w.add_dir("etc", {0755, 0, 0, 5}));
        MD_TRY(w.add_data("etc/base", "base\n", {0644, 0, 0, 5}));
        return w.add_data("bin/tool", "#!/bin/sh\n", {0755, 0, 0, 5});
    }));
    Store store(r.ctx);
    ImageConfig cfg;
    cfg.cmd = {"sh"};
    auto base = store.import_tar(tar, std::nullopt, cfg);
    EXPECT_TRUE(base.has_value()) << base.error().message();
    std::string upper = r.dir / "upper";
    EXPECT_TRUE(sys::mkdir_all(upper + "/etc").has_value());
    EXPECT_TRUE(sys::write_file(upper + "/etc/top", "top\n").has_value());
    CommitOptions opts;
    opts.upper_dir = upper;
    opts.parent_id = base->id;
    opts.config.cmd = {"cat", "/etc/top"};
    opts.config.labels = {{"k", "v"}};
    opts.config.exposed_ports = {"80/tcp"};
    opts.name = names.front();
    auto img = store.commit(opts);
    EXPECT_TRUE(img.has_value()) << img.error().message();
    for (size_t i = 1; i < names.size(); i++) EXPECT_TRUE(store.tag(img->id, names[i]).has_value());
    // The base image is dangling: remove it so the store holds exactly one image.
    EXPECT_TRUE(store.remove(base->id, false, {}).has_value());
    return *store.resolve(img->id);
}

void expect_same_image(const Image& a, const Image& b) {
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.diff_ids, b.diff_ids);
    EXPECT_EQ(a.config.cmd, b.config.cmd);
    EXPECT_EQ(a.config.labels, b.config.labels);
    EXPECT_EQ(a.config.exposed_ports, b.config.exposed_ports);
    ASSERT_EQ(b.layer_dirs.size(), 2u);
    EXPECT_EQ(*sys::read_file(b.layer_dirs[0] + "/etc/base"), "base\n");
    EXPECT_EQ(*sys::read_file(b.layer_dirs[1] + "/etc/top"), "top\n");
}

class RoundTrip : public ::testing::TestWithParam<ArchiveFormat> {};

TEST_P(RoundTrip, SaveThenLoadGivesTheSameImage) {
    StoreRoot src;
    Image img = two_layer_image(src, {"app:1", "registry.example:5000/team/app:2"});
    std::string archive = src.dir / "out.tar";
    Store store(src.ctx);
    auto saved = store.save({"app:1", "registry.example:5000/team/app:2"}, archive, GetParam());
    ASSERT_TRUE(saved.has_value()) << saved.error().message();

    auto entries = read_tar(archive);
    if (GetParam() == ArchiveFormat::docker) {
        ASSERT_TRUE(entries.count("manifest.json"));
        ASSERT_TRUE(entries.count("repositories"));
        ASSERT_TRUE(entries.count(img.id + ".json"));
        for (const auto& d : img.diff_ids)
            EXPECT_TRUE(entries.count(d.substr(7) + "/layer.tar")) << d;
    } else {
        ASSERT_TRUE(entries.count("oci-layout"));
        ASSERT_TRUE(entries.count("index.json"));
        EXPECT_TRUE(entries.count("blobs/sha256/" + img.id));
        EXPECT_TRUE(entries.count("blobs/sha256/" + img.manifest_digest.substr(7)));
        EXPECT_FALSE(entries.count("manifest.json"));
    }

    StoreRoot dst;
    Store loader(dst.ctx);
    auto loaded = loader.load(archive);
    ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
    EXPECT_EQ(*loaded, (std::vector<std::string>{"app:1", "registry.example:5000/team/app:2"}));
    auto got = loader.resolve("app:1");
    ASSERT_TRUE(got.has_value()) << got.error().message();
    expect_same_image(img, *got);
    EXPECT_EQ(loader.resolve("registry.example:5000/team/app:2")->id, img.id);
    // Loading again changes nothing.
    ASSERT_TRUE(loader.load(archive).has_value());
    EXPECT_EQ(loader.list()->size(), 1u);
    EXPECT_TRUE(sys::list_dir(dst.dir / "images/tmp")->empty());

    // Saved by id: no names travel, the image loads dangling.
    std::string by_id = src.dir / "by-id.tar";
    ASSERT_TRUE(store.save({img.id.substr(0, 12)}, by_id, GetParam()).has_value());
    StoreRoot dst2;
    Store loader2(dst2.ctx);
    auto l2 = loader2.load(by_id);
    ASSERT_TRUE(l2.has_value()) << l2.error().message();
    EXPECT_EQ(*l2, std::vector<std::string>{"sha256:" + img.id});
    EXPECT_TRUE(loader2.resolve(img.id)->names.empty());
}

INSTANTIATE_TEST_SUITE_P(Formats, RoundTrip,
                         ::testing::Values(ArchiveFormat::docker, ArchiveFormat::oci),
                         [](const auto& info) {
                             return info.param == ArchiveFormat::docker ? "docker" : "oci";
                         });

TEST(Save, ErrorsNameTheImageAndLeaveNoFile) {
    StoreRoot r;
    Store store(r.ctx);
    std::string out = r.dir / "x.tar";
    auto res = store.save({"nope:1"}, out, ArchiveFormat::docker);
    ASSERT_FALSE(res.has_value());
    EXPECT_NE(res.error().message().find("\"nope:1\""), std::string::npos) << res.error().message();
    EXPECT_FALSE(sys::path_exists(out));
    EXPECT_FALSE(store.save({}, out, ArchiveFormat::docker).has_value());
}

// podman's docker-archive names layers "<hex>.tar" and the config "<hex>.json"; Docker's
// legacy one links a repeated layer to its first copy; either may hold compressed layers.
TEST(Load, DockerArchivesWrittenByOthers) {
    StoreRoot src;
    Image img = two_layer_image(src, {"other:1"});
    std::string blobs = src.dir / "images/blobs/sha256/";
    std::string l0 = img.diff_ids[0].substr(7), l1 = img.diff_ids[1].substr(7);
    std::string gz = src.dir / "l1.tar.gz";
    ASSERT_EQ(std::system(("gzip -c " + blobs + l1 + " > " + gz).c_str()), 0);
    std::string archive = src.dir / "podman.tar";
    ASSERT_TRUE(write_tar(archive, [&](TarWriter& w) -> sys::Result<void> {
        MD_TRY(w.add_file(l0 + ".tar", blobs + l0, {}));
        MD_TRY(w.add_file("layers/" + l1 + ".tar.gz", gz, {}));
        MD_TRY(w.add_symlink(l1 + ".tar", "layers/" + l1 + ".tar.gz", {0777}));
        MD_TRY(w.add_file(img.id + ".json", blobs + img.id, {}));
        json m = json::array({{{"Config", img.id + ".json"},
                               {"RepoTags", {"localhost/other:1"}},
                               {"Layers", {l0 + ".tar", "./" + l1 + ".tar"}}}});
        return w.add_data("manifest.json", m.dump(), {});
    }));
    StoreRoot dst;
    Store loader(dst.ctx);
    auto loaded = loader.load(archive);
    ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
    EXPECT_EQ(*loaded, std::vector<std::string>{"localhost/other:1"});
    auto got = loader.resolve("localhost/other:1");
    ASSERT_TRUE(got.has_value());
    expect_same_image(img, *got);
    // The compressed layer was stored uncompressed: blob digest == diff_id.
    EXPECT_EQ(*sha256_file(dst.dir / ("images/blobs/sha256/" + l1)), l1);
}

TEST(Load, RefusesALayerThatDoesNotMatchItsDiffId) {
    StoreRoot src;
    Image img = two_layer_image(src, {"bad:1"});
    std::string blobs = src.dir / "images/blobs/sha256/";
    std::string archive = src.dir / "tampered.tar";
    std::string l0 = img.diff_ids[0].substr(7);
    ASSERT_TRUE(write_tar(archive, [&](TarWriter& w) -> sys::Result<void> {
        MD_TRY(w.add_file("a.tar", blobs + l0, {}));
        MD_TRY(w.add_file("b.tar", blobs + l0, {}));  // the wrong layer in second place
        MD_TRY(w.add_file("c.json", blobs + img.id, {}));
        json m = json::array(
            {{{"Config", "c.json"}, {"RepoTags", {"bad:1"}}, {"Layers", {"a.tar", "b.tar"}}}});
        return w.add_data("manifest.json", m.dump(), {});
    }));
    StoreRoot dst;
    Store loader(dst.ctx);
    auto loaded = loader.load(archive);
    ASSERT_FALSE(loaded.has_value());
    EXPECT_NE(loaded.error().message().find("b.tar"), std::string::npos)
        << loaded.error().message();
    EXPECT_FALSE(loader.resolve("bad:1").has_value());
    EXPECT_TRUE(sys::list_dir(dst.dir / "images/tmp")->empty());
}

TEST(Load, RefusesArchivesThatAreNotImages) {
    StoreRoot r;
    std::string archive = r.dir / "plain.tar";
    ASSERT_TRUE(write_tar(archive, [](TarWriter& w) { return w.add_data("etc/passwd", "x", {}); }));
    Store store(r.ctx);
    auto loaded = store.load(archive);
    ASSERT_FALSE(loaded.has_value());
    EXPECT_NE(loaded.error().message().find("not an image archive"), std::string::npos)
        << loaded.error().message();
    std::string evil = r.dir / "evil.tar";
    ASSERT_TRUE(write_tar(evil, [](TarWriter& w) -> sys::Result<void> {
        MD_TRY(w.add_symlink("manifest.json", "../../../etc/passwd", {0777}));
        return {};
    }));
    auto e = store.load(evil);
    ASSERT_FALSE(e.has_value());
    EXPECT_NE(e.error().message().find("outside the archive"), std::string::npos)
        << e.error().message();
}

}  // namespace
}  // namespace mydocker::engine::images
