// The store over a temp root: resolve, list, tag, remove, import, commit.
#include <gtest/gtest.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include <nlohmann/json.hpp>
#include <set>

#include "engine/images/config.h"
#include "engine/images/digest.h"
#include "engine/images/format.h"
#include "engine/images/layout.h"
#include "engine/images/store.h"
#include "images_testing.h"

namespace mydocker::engine::images {
namespace {

using nlohmann::json;
using testing::lstat_of;
using testing::read_tar;
using testing::StoreRoot;
using testing::TempDir;
using testing::write_tar;

// A one-layer image imported from a tar holding `files` (name -> content); `label` makes
// otherwise equal images differ.
Image import_image(StoreRoot& r, const std::map<std::string, std::string>& files,
                   std::optional<std::string> name, const std::string& label = "") {
    std::string tar = r.dir / ("in-" + std::to_string(::getpid()) + ".tar");
    EXPECT_TRUE(write_tar(tar, [&](TarWriter& w) -> sys::Result<void> {
        for (const auto& [n, c] : files) MD_TRY(w.add_data(n, c, {0644, 0, 0, 100}));
        return {};
    }));
    ImageConfig cfg;
    cfg.cmd = {"/bin/true"};
    if (!label.empty()) cfg.labels["l"] = label;
    Store store(r.ctx);
    auto img = store.import_tar(tar, name, cfg);
    EXPECT_TRUE(img.has_value()) << img.error().message();
    ::unlink(tar.c_str());
    return img ? *img : Image{};
}

json index_of(const StoreRoot& r) {
    return json::parse(*sys::read_file(r.dir / "images/index.json"));
}

TEST(Store, ImportStoresAnOciLayoutWithUncompressedLayers) {
    StoreRoot r;
    Image img = import_image(r, {{"etc/hello", "hi\n"}}, "hello:v1");
    ASSERT_EQ(img.id.size(), 64u);
    EXPECT_EQ(img.names, std::vector<std::string>{"hello:v1"});
    ASSERT_EQ(img.diff_ids.size(), 1u);
    ASSERT_EQ(img.layer_dirs.size(), 1u);
    EXPECT_EQ(img.layer_dirs[0], r.dir / ("layers/" + img.diff_ids[0].substr(7)));
    EXPECT_EQ(*sys::read_file(img.layer_dirs[0] + "/etc/hello"), "hi\n");
    EXPECT_EQ(img.config.cmd, std::vector<std::string>{"/bin/true"});

    EXPECT_EQ(json::parse(*sys::read_file(r.dir / "images/oci-layout"))["imageLayoutVersion"],
              "1.0.0");
    json index = index_of(r);
    ASSERT_EQ(index["manifests"].size(), 1u);
    EXPECT_EQ(index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
              "hello:v1");
    std::string mdigest = index["manifests"][0]["digest"];
    EXPECT_EQ(mdigest, img.manifest_digest);
    json manifest =
        json::parse(*sys::read_file(r.dir / ("images/blobs/sha256/" + mdigest.substr(7))));
    EXPECT_EQ(manifest["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    EXPECT_EQ(manifest["config"]["mediaType"], "application/vnd.oci.image.config.v1+json");
    EXPECT_EQ(manifest["config"]["digest"], "sha256:" + img.id);
    ASSERT_EQ(manifest["layers"].size(), 1u);
    EXPECT_EQ(manifest["layers"][0]["mediaType"], "application/vnd.oci.image.layer.v1.tar");
    EXPECT_EQ(manifest["layers"][0]["digest"], img.diff_ids[0]);
    // Digests are real: the id is the config's sha256, the layer blob's sha256 its diff_id.
    EXPECT_EQ(*sha256_file(r.dir / ("images/blobs/sha256/" + img.id)), img.id);
    EXPECT_EQ(*sha256_file(r.dir / ("images/blobs/sha256/" + img.diff_ids[0].substr(7))),
              img.diff_ids[0].substr(7));
    // Nothing left in the temp places.
    EXPECT_TRUE(sys::list_dir(r.dir / "images/tmp")->empty());
    auto layers = sys::list_dir(r.dir / "layers");
    ASSERT_TRUE(layers.has_value());
    for (const auto& n : *layers) EXPECT_FALSE(n.starts_with(".tmp")) << n;
}

TEST(Store, ImportAcceptsACompressedTarAndStdin) {
    StoreRoot r;
    std::string tar = r.dir / "rootfs.tar";
    ASSERT_TRUE(write_tar(tar, [](TarWriter& w) { return w.add_data("f", "compressed", {}); }));
    std::string plain_digest = "sha256:" + *sha256_file(tar);
    ASSERT_EQ(std::system(("gzip -k " + tar).c_str()), 0);
    Store store(r.ctx);
    auto img = store.import_tar(tar + ".gz", "gz", {});
    ASSERT_TRUE(img.has_value()) << img.error().message();
    EXPECT_EQ(img->diff_ids, std::vector<std::string>{plain_digest});
    EXPECT_EQ(*sys::read_file(img->layer_dirs[0] + "/f"), "compressed");

    // "-" reads stdin: swap a file in as fd 0 for the call.
    int saved = ::dup(0);
    int in = ::open((tar + ".gz").c_str(), O_RDONLY);
    ASSERT_GE(in, 0);
    ::dup2(in, 0);
    ::close(in);
    auto img2 = store.import_tar("-", "stdin", {});
    ::dup2(saved, 0);
    ::close(saved);
    ASSERT_TRUE(img2.has_value()) << img2.error().message();
    EXPECT_EQ(img2->diff_ids, img->diff_ids);

    auto bad = store.import_tar(r.dir / "missing.tar", std::nullopt, {});
    ASSERT_FALSE(bad.has_value());
    EXPECT_NE(bad.error().message().find("missing.tar"), std::string::npos);
    ASSERT_TRUE(
        sys::write_file(r.dir / "junk.tar", "this is not a tar at all, not even close............")
            .has_value());
    EXPECT_FALSE(store.import_tar(r.dir / "junk.tar", std::nullopt, {}).has_value());
    EXPECT_TRUE(sys::list_dir(r.dir / "images/tmp")->empty());
}

TEST(Store, ResolveByNameIdPrefixAndDigest) {
    StoreRoot r;
    Image a = import_image(r, {{"a", "a"}}, "app:1");
    Image b = import_image(r, {{"b", "b"}}, std::nullopt);
    Store store(r.ctx);
    for (std::string ref : {std::string("app:1"), a.id, "sha256:" + a.id, a.id.substr(0, 12),
                            "sha256:" + a.id.substr(0, 5)}) {
        auto got = store.resolve(ref);
        ASSERT_TRUE(got.has_value()) << ref << ": " << got.error().message();
        EXPECT_EQ(got->id, a.id) << ref;
    }
    auto db = store.resolve(b.id.substr(0, 8));
    ASSERT_TRUE(db.has_value());
    EXPECT_TRUE(db->names.empty());

    auto missing = store.resolve("app:2");
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().code(), sys::ErrorCode::not_found);
    EXPECT_EQ(missing.error().context(), "unable to find image \"app:2\"");
    EXPECT_FALSE(store.resolve("Bad Name").has_value());
}

// A name reads its own image only: another image's unreadable config stops `images` and a
// resolve by id prefix (both read every image), not a run of the named one.
TEST(Store, ResolveByNameReadsOnlyThatImage) {
    StoreRoot r;
    Image a = import_image(r, {{"a", "a"}}, "app:1");
    Image b = import_image(r, {{"b", "b"}}, "other:1");
    ASSERT_TRUE(sys::write_file(r.dir / ("images/blobs/sha256/" + b.id), "not json", 0644));
    Store store(r.ctx);
    auto got = store.resolve("app:1");
    ASSERT_TRUE(got.has_value()) << got.error().message();
    EXPECT_EQ(got->id, a.id);
    EXPECT_EQ(got->names, std::vector<std::string>{"app:1"});
    EXPECT_FALSE(store.resolve(a.id.substr(0, 12)).has_value());
    EXPECT_FALSE(store.list().has_value());
    EXPECT_FALSE(store.resolve("other:1").has_value());
}

TEST(Store, AnAmbiguousIdPrefixIsAnError) {
    StoreRoot r;
    std::map<char, std::string> first_char;
    std::string x, y;
    for (int i = 0; i < 17 && x.empty(); i++) {
        Image img = import_image(r, {{"f", "same"}}, std::nullopt, "n" + std::to_string(i));
        ASSERT_FALSE(img.id.empty());
        auto [it, fresh] = first_char.emplace(img.id[0], img.id);
        if (!fresh) {
            x = it->second;
            y = img.id;
        }
    }
    ASSERT_FALSE(x.empty()) << "17 ids and no shared first hex digit";
    size_t common = 0;
    while (x[common] == y[common]) common++;
    Store store(r.ctx);
    auto amb = store.resolve(x.substr(0, common));
    ASSERT_FALSE(amb.has_value());
    EXPECT_NE(amb.error().message().find("ambiguous"), std::string::npos) << amb.error().message();
    auto one = store.resolve(x.substr(0, common + 1));
    ASSERT_TRUE(one.has_value()) << one.error().message();
    EXPECT_EQ(one->id, x);
    // All of them share one layer dir.
    EXPECT_EQ(sys::list_dir(r.dir / "layers")->size(), 1u);
}

TEST(Store, ResolveUnpacksAMissingLayerDirAgain) {
    StoreRoot r;
    Image a = import_image(r, {{"etc/x", "x"}}, "x");
    ASSERT_TRUE(sys::remove_all(a.layer_dirs[0]).has_value());
    Store store(r.ctx);
    auto got = store.resolve("x");
    ASSERT_TRUE(got.has_value()) << got.error().message();
    EXPECT_EQ(*sys::read_file(a.layer_dirs[0] + "/etc/x"), "x");
}

TEST(Store, ListIsNewestFirst) {
    StoreRoot r;
    Image a = import_image(r, {{"a", "a"}}, "first");
    Image b = import_image(r, {{"b", "b"}}, "second");
    Store store(r.ctx);
    auto all = store.list();
    ASSERT_TRUE(all.has_value()) << all.error().message();
    ASSERT_EQ(all->size(), 2u);
    EXPECT_EQ((*all)[0].id, b.id);
    EXPECT_EQ((*all)[1].id, a.id);
    EXPECT_GT((*all)[0].size, 0u);
}

TEST(Store, TagAddsAndMovesNames) {
    StoreRoot r;
    Image a = import_image(r, {{"a", "a"}}, "a");
    Image b = import_image(r, {{"b", "b"}}, "b");
    Store store(r.ctx);
    ASSERT_TRUE(store.tag("a", "shared:1").has_value());
    ASSERT_TRUE(store.tag(a.id.substr(0, 12), "docker.io/library/alias").has_value());
    EXPECT_EQ(store.resolve("alias:latest")->id, a.id);
    EXPECT_EQ(store.resolve("shared:1")->id, a.id);
    EXPECT_EQ(store.resolve("a")->names.size(), 3u);
    // The name moves; one index entry per name.
    ASSERT_TRUE(store.tag("b", "shared:1").has_value());
    EXPECT_EQ(store.resolve("shared:1")->id, b.id);
    std::set<std::string> seen;
    for (const auto& m : index_of(r)["manifests"]) {
        std::string n = m["annotations"]["org.opencontainers.image.ref.name"];
        EXPECT_TRUE(seen.insert(n).second) << n << " twice";
    }
    EXPECT_FALSE(store.tag("a", "Bad:Name").has_value());
    EXPECT_FALSE(store.tag("nope", "x").has_value());

    // Moving an image's only name leaves it dangling, still there by id.
    Image c = import_image(r, {{"c", "c"}}, "only");
    ASSERT_TRUE(store.tag("a", "only").has_value());
    auto dangling = store.resolve(c.id);
    ASSERT_TRUE(dangling.has_value()) << dangling.error().message();
    EXPECT_TRUE(dangling->names.empty());
    EXPECT_EQ(store.list()->size(), 3u);
}

TEST(Store, RemoveUntagsThenDeletesAndKeepsSharedLayers) {
    StoreRoot r;
    Image a = import_image(r, {{"f", "shared"}}, "a", "1");
    Image b = import_image(r, {{"f", "shared"}}, "b", "2");
    ASSERT_EQ(a.diff_ids, b.diff_ids);
    ASSERT_NE(a.id, b.id);
    Store store(r.ctx);
    ASSERT_TRUE(store.tag("a", "a2").has_value());

    auto lines = store.remove("a2", false, {});
    ASSERT_TRUE(lines.has_value()) << lines.error().message();
    EXPECT_EQ(*lines, std::vector<std::string>{"Untagged: a2:latest"});
    EXPECT_TRUE(store.resolve(a.id).has_value());

    lines = store.remove("a", false, {});
    ASSERT_TRUE(lines.has_value()) << lines.error().message();
    EXPECT_EQ(*lines, (std::vector<std::string>{"Untagged: a:latest", "Deleted: sha256:" + a.id}));
    EXPECT_FALSE(store.resolve(a.id).has_value());
    EXPECT_FALSE(sys::path_exists(r.dir / ("images/blobs/sha256/" + a.id)));
    EXPECT_FALSE(sys::path_exists(r.dir / ("images/blobs/sha256/" + a.manifest_digest.substr(7))));
    // b still uses the layer.
    EXPECT_TRUE(sys::path_exists(a.layer_dirs[0]));
    EXPECT_TRUE(sys::path_exists(r.dir / ("images/blobs/sha256/" + a.diff_ids[0].substr(7))));

    lines = store.remove(b.id.substr(0, 12), false, {});
    ASSERT_TRUE(lines.has_value()) << lines.error().message();
    EXPECT_EQ(*lines, (std::vector<std::string>{"Untagged: b:latest", "Deleted: sha256:" + b.id,
                                                "Deleted: " + b.diff_ids[0]}));
    EXPECT_FALSE(sys::path_exists(b.layer_dirs[0]));
    EXPECT_TRUE(sys::list_dir(r.dir / "images/blobs/sha256")->empty());
    EXPECT_TRUE(index_of(r)["manifests"].empty());

    auto none = store.remove("b", false, {});
    ASSERT_FALSE(none.has_value());
    EXPECT_EQ(none.error().code(), sys::ErrorCode::not_found);
}

TEST(Store, RemoveRefusesImagesInUseUnlessForcedAndThenKeepsTheirLayers) {
    StoreRoot r;
    Image a = import_image(r, {{"f", "x"}}, "used");
    Store store(r.ctx);
    std::set<std::string> in_use{a.id};
    auto refused = store.remove("used", false, in_use);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code(), sys::ErrorCode::bad_state);
    EXPECT_NE(refused.error().message().find("must force"), std::string::npos)
        << refused.error().message();
    EXPECT_FALSE(store.remove(a.id, false, in_use).has_value());

    auto forced = store.remove("used", true, in_use);
    ASSERT_TRUE(forced.has_value()) << forced.error().message();
    EXPECT_EQ(*forced, std::vector<std::string>{"Untagged: used:latest"});
    auto still = store.resolve(a.id);
    ASSERT_TRUE(still.has_value());
    EXPECT_TRUE(still->names.empty());
    EXPECT_TRUE(sys::path_exists(a.layer_dirs[0]));

    // Not in use any more: removing the dangling image by id deletes it.
    auto gone = store.remove(a.id, false, {});
    ASSERT_TRUE(gone.has_value()) << gone.error().message();
    EXPECT_EQ(gone->front(), "Deleted: sha256:" + a.id);
    EXPECT_FALSE(sys::path_exists(a.layer_dirs[0]));
}

TEST(Store, RemoveByIdOfAnImageWithSeveralNamesNeedsForce) {
    StoreRoot r;
    Image a = import_image(r, {{"f", "x"}}, "n1");
    Store store(r.ctx);
    ASSERT_TRUE(store.tag("n1", "n2").has_value());
    auto refused = store.remove(a.id, false, {});
    ASSERT_FALSE(refused.has_value());
    EXPECT_NE(refused.error().message().find("multiple repositories"), std::string::npos);
    auto forced = store.remove(a.id, true, {});
    ASSERT_TRUE(forced.has_value()) << forced.error().message();
    EXPECT_EQ((*forced)[0], "Untagged: n1:latest");
    EXPECT_EQ((*forced)[1], "Untagged: n2:latest");
    EXPECT_EQ((*forced)[2], "Deleted: sha256:" + a.id);
}

// A RepoDigest of `id` as pull records it.
void add_digest(StoreRoot& r, const std::string& id, const std::string& repo_digest) {
    Layout lay(r.ctx);
    auto lk = lay.lock();
    ASSERT_TRUE(lk.has_value()) << lk.error().message();
    auto ok = lay.add_repo_digest(*lk, id, repo_digest);
    ASSERT_TRUE(ok.has_value()) << ok.error().message();
}

TEST(Store, RepoDigestsAreListedFoundAndRemovedWithTheirLastTag) {
    StoreRoot r;
    Image a = import_image(r, {{"f", "x"}}, "a");
    const std::string d1 = "a@sha256:" + std::string(64, '1');
    const std::string d2 = "other/a@sha256:" + std::string(64, '2');
    add_digest(r, a.id, d1);
    add_digest(r, a.id, d1);  // recorded once
    add_digest(r, a.id, d2);
    Store store(r.ctx);
    auto got = store.resolve("a");
    ASSERT_TRUE(got.has_value()) << got.error().message();
    EXPECT_EQ(got->repo_digests, (std::vector<std::string>{d1, d2}));
    auto by_digest = store.find("docker.io/library/" + d1);
    ASSERT_TRUE(by_digest.has_value()) << by_digest.error().message();
    EXPECT_EQ(by_digest->id, a.id);

    // The digest alone: the image keeps its tag and its other digest.
    auto lines = store.remove(d2, false, {});
    ASSERT_TRUE(lines.has_value()) << lines.error().message();
    EXPECT_EQ(*lines, std::vector<std::string>{"Untagged: " + d2});
    EXPECT_EQ(store.resolve("a")->repo_digests, std::vector<std::string>{d1});
    EXPECT_FALSE(store.remove(d2, false, {}).has_value());

    // The last tag of repository a takes a's digest along, and then the image.
    lines = store.remove("a", false, {});
    ASSERT_TRUE(lines.has_value()) << lines.error().message();
    EXPECT_EQ(*lines,
              (std::vector<std::string>{"Untagged: a:latest", "Untagged: " + d1,
                                        "Deleted: sha256:" + a.id, "Deleted: " + a.diff_ids[0]}));
    EXPECT_TRUE(sys::list_dir(r.dir / "images/blobs/sha256")->empty());
    EXPECT_EQ(json::parse(*sys::read_file(r.dir / "images/repodigests.json")), json::object());
}

TEST(Store, RemovingTheLastDigestOfAnUntaggedImageDeletesItUnlessUsed) {
    StoreRoot r;
    Image a = import_image(r, {{"f", "x"}}, std::nullopt);
    const std::string d = "127.0.0.1:5000/x@sha256:" + std::string(64, 'a');
    add_digest(r, a.id, d);
    Store store(r.ctx);
    auto refused = store.remove(d, false, {a.id});
    ASSERT_FALSE(refused.has_value());
    EXPECT_NE(refused.error().message().find("must force"), std::string::npos)
        << refused.error().message();
    auto lines = store.remove(d, false, {});
    ASSERT_TRUE(lines.has_value()) << lines.error().message();
    EXPECT_EQ((*lines)[0], "Untagged: " + d);
    EXPECT_EQ((*lines)[1], "Deleted: sha256:" + a.id);
    EXPECT_FALSE(sys::path_exists(a.layer_dirs[0]));
    auto bad = store.remove("x@sha256:nothex", false, {});
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().code(), sys::ErrorCode::invalid_argument);
}

TEST(Store, PruneRemovesDanglingImagesAndWhatNothingReferences) {
    StoreRoot r;
    Image tagged = import_image(r, {{"f", "shared"}}, "keep", "1");
    Image dangling = import_image(r, {{"g", "own"}}, std::nullopt, "2");
    Image used = import_image(r, {{"h", "used"}}, std::nullopt, "3");
    Image shares = import_image(r, {{"f", "shared"}}, std::nullopt, "4");
    const std::string d = "x@sha256:" + std::string(64, 'd');
    add_digest(r, dangling.id, d);
    Store store(r.ctx);
    // Left by a crash: a blob and a layer dir no image names.
    std::string orphan = std::string(64, 'e');
    ASSERT_TRUE(sys::write_file_atomic(r.dir / ("images/blobs/sha256/" + orphan), "junk", 0644)
                    .has_value());
    ASSERT_TRUE(sys::mkdir_all(r.dir / ("layers/" + orphan)).has_value());

    auto rep = store.prune(false, {used.id});
    ASSERT_TRUE(rep.has_value()) << rep.error().message();
    std::set<std::string> lines(rep->lines.begin(), rep->lines.end());
    EXPECT_EQ(lines, (std::set<std::string>{"untagged: " + d, "deleted: sha256:" + dangling.id,
                                            "deleted: " + dangling.diff_ids[0],
                                            "deleted: sha256:" + shares.id}));
    EXPECT_GT(rep->reclaimed, 4u);
    EXPECT_FALSE(sys::path_exists(dangling.layer_dirs[0]));
    EXPECT_FALSE(sys::path_exists(r.dir / ("images/blobs/sha256/" + orphan)));
    EXPECT_FALSE(sys::path_exists(r.dir / ("layers/" + orphan)));
    EXPECT_TRUE(sys::path_exists(tagged.layer_dirs[0]));
    EXPECT_TRUE(sys::path_exists(used.layer_dirs[0]));
    EXPECT_TRUE(store.resolve("keep").has_value());
    EXPECT_TRUE(store.resolve(used.id).has_value());
    EXPECT_FALSE(store.resolve(shares.id).has_value());

    // Nothing left to prune.
    rep = store.prune(false, {used.id});
    ASSERT_TRUE(rep.has_value()) << rep.error().message();
    EXPECT_TRUE(rep->lines.empty());
    EXPECT_EQ(rep->reclaimed, 0u);

    // -a: the tagged image too, never the one in use.
    rep = store.prune(true, {used.id});
    ASSERT_TRUE(rep.has_value()) << rep.error().message();
    EXPECT_EQ(rep->lines.front(), "untagged: keep:latest");
    EXPECT_FALSE(store.resolve("keep").has_value());
    EXPECT_TRUE(store.resolve(used.id).has_value());
    auto left = store.list();
    ASSERT_TRUE(left.has_value());
    EXPECT_EQ(left->size(), 1u);
    EXPECT_EQ(*sys::list_dir(r.dir / "layers"),
              std::vector<std::string>{used.diff_ids[0].substr(7)});
}

TEST(Store, CommitPacksTheUpperDirWithOciWhiteouts) {
    StoreRoot r;
    Image parent =
        import_image(r, {{"etc/old", "old"}, {"gone", "x"}, {"opq/inner", "hidden"}}, "parent");
    std::string upper = r.dir / "upper";
    ASSERT_TRUE(sys::mkdir_all(upper + "/opq").has_value());
    ASSERT_TRUE(sys::write_file(upper + "/new", "new\n").has_value());
    ASSERT_TRUE(sys::write_file(upper + "/opq/fresh", "fresh").has_value());
    ASSERT_EQ(::mknod((upper + "/gone").c_str(), S_IFCHR, makedev(0, 0)), 0);
    ASSERT_EQ(::setxattr((upper + "/opq").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
    ASSERT_EQ(::setxattr((upper + "/new").c_str(), "trusted.overlay.origin", "junk", 4, 0), 0);
    ASSERT_EQ(::setxattr((upper + "/new").c_str(), "user.keep", "1", 1, 0), 0);

    CommitOptions opts;
    opts.upper_dir = upper;
    opts.parent_id = parent.id;
    opts.config.cmd = {"cat", "/new"};
    opts.config.env = {"A=1"};
    opts.name = "committed:v2";
    opts.author = "me";
    opts.comment = "a test commit";
    Store store(r.ctx);
    auto img = store.commit(opts);
    ASSERT_TRUE(img.has_value()) << img.error().message();
    EXPECT_EQ(img->names, std::vector<std::string>{"committed:v2"});
    ASSERT_EQ(img->diff_ids.size(), 2u);
    EXPECT_EQ(img->diff_ids[0], parent.diff_ids[0]);
    EXPECT_EQ(img->layer_dirs[0], parent.layer_dirs[0]);
    EXPECT_EQ(img->config.cmd, opts.config.cmd);
    EXPECT_EQ(img->author, "me");
    EXPECT_EQ(img->comment, "a test commit");

    // The layer blob holds the OCI form...
    auto entries = read_tar(r.dir / ("images/blobs/sha256/" + img->diff_ids[1].substr(7)));
    EXPECT_TRUE(entries.count(".wh.gone"));
    EXPECT_TRUE(entries.count("opq/.wh..wh..opq"));
    EXPECT_TRUE(entries.count("opq/fresh"));
    ASSERT_TRUE(entries.count("new"));
    EXPECT_EQ(entries["new"].xattrs,
              (std::vector<std::pair<std::string, std::string>>{{"user.keep", "1"}}));
    // ...and its unpacked dir the overlay form again.
    const std::string& top = img->layer_dirs[1];
    EXPECT_TRUE(S_ISCHR(lstat_of(top + "/gone").st_mode));
    char v[4] = {};
    EXPECT_EQ(::getxattr((top + "/opq").c_str(), "trusted.overlay.opaque", v, sizeof v), 1);
    EXPECT_EQ(*sys::read_file(top + "/new"), "new\n");

    // History grows; the parent's config fields stay (architecture, os).
    json cfg = json::parse(*sys::read_file(r.dir / ("images/blobs/sha256/" + img->id)));
    EXPECT_EQ(cfg["history"].size(), 2u);
    EXPECT_EQ(cfg["history"][1]["created_by"], "mydocker commit");
    EXPECT_EQ(cfg["os"], "linux");
    EXPECT_EQ(cfg["rootfs"]["diff_ids"].size(), 2u);

    // A commit without a parent is a one-layer image.
    opts.parent_id.clear();
    opts.name.reset();
    auto scratch = store.commit(opts);
    ASSERT_TRUE(scratch.has_value()) << scratch.error().message();
    EXPECT_EQ(scratch->diff_ids.size(), 1u);
    EXPECT_TRUE(scratch->names.empty());
}

TEST(Libraries, AMissingLibraryNamesThePackage) {
    auto r = open_library("libmydocker-does-not-exist.so.7", "mydocker-nothing7");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().context(),
              "libmydocker-does-not-exist.so.7 not found: install mydocker-nothing7");
}

// Reading images must not load libarchive or libcrypto (start-up cost, DESIGN "Fast by
// design"). Checked in a fresh process: this test re-runs itself with the store root in the
// environment, and the child looks at its own memory map after resolve and list.
TEST(Libraries, ResolveAndListLoadNeitherLibarchiveNorLibcrypto) {
    if (const char* root = std::getenv("MYDOCKER_IMAGES_TEST_CHILD_ROOT")) {
        sys::Logger log;
        Context ctx{log};
        ctx.root = root;
        Store store(ctx);
        auto img = store.resolve("light");
        ASSERT_TRUE(img.has_value()) << img.error().message();
        ASSERT_TRUE(store.list().has_value());
        std::string maps = *sys::read_file("/proc/self/maps");
        EXPECT_EQ(maps.find("libarchive"), std::string::npos);
        EXPECT_EQ(maps.find("libcrypto"), std::string::npos);
        return;
    }
    StoreRoot r;
    import_image(r, {{"f", "x"}}, "light");
    std::string cmd =
        "MYDOCKER_IMAGES_TEST_CHILD_ROOT=" + r.dir.path() + " /proc/" + std::to_string(::getpid()) +
        "/exe"
        " --gtest_filter=Libraries.ResolveAndListLoadNeitherLibarchiveNorLibcrypto >" +
        (r.dir / "child.log") + " 2>&1";
    int rc = std::system(cmd.c_str());
    EXPECT_EQ(rc, 0) << *sys::read_file(r.dir / "child.log");
}

TEST(Format, DockerSizesAndDurations) {
    EXPECT_EQ(human_size(0), "0B");
    EXPECT_EQ(human_size(512), "512B");
    EXPECT_EQ(human_size(4261234), "4.26MB");
    EXPECT_EQ(human_size(1000), "1kB");
    EXPECT_EQ(human_size(1500000000), "1.5GB");
    EXPECT_EQ(human_duration(0), "Less than a second");
    EXPECT_EQ(human_duration(1), "1 second");
    EXPECT_EQ(human_duration(59), "59 seconds");
    EXPECT_EQ(human_duration(60), "About a minute");
    EXPECT_EQ(human_duration(150), "2 minutes");
    EXPECT_EQ(human_duration(3600), "About an hour");
    EXPECT_EQ(human_duration(5 * 3600), "5 hours");
    EXPECT_EQ(human_duration(3 * 86400), "3 days");
    EXPECT_EQ(human_duration(20 * 86400), "2 weeks");
    EXPECT_EQ(human_duration(90 * 86400), "3 months");
    EXPECT_EQ(human_duration(3 * 365 * 86400), "3 years");
    EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:10Z"), 10);
    EXPECT_EQ(parse_rfc3339("2024-05-07T10:00:00.123456789Z"), 1715076000);
    EXPECT_EQ(parse_rfc3339("2024-05-07T12:00:00+02:00"), 1715076000);
    EXPECT_EQ(parse_rfc3339_nanos("1970-01-01T00:00:01.5Z"), 1500000000);
    EXPECT_FALSE(parse_rfc3339("yesterday").has_value());
    EXPECT_EQ(format_rfc3339(1715076000), "2024-05-07T10:00:00Z");
    EXPECT_EQ(format_docker_time(1715076000), "2024-05-07 10:00:00 +0000 UTC");
}

}  // namespace
}  // namespace mydocker::engine::images
