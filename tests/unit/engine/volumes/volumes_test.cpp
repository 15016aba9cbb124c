// Named volumes in a temporary engine root: the files on disk are what is asserted.
#include "engine/volumes/volumes.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "sys/files.h"

namespace mydocker::engine::volumes {
namespace {

bool is_dir(const std::string& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

class VolumesTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/mydocker-volumes-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        ctx_.root = tmpl;
    }
    void TearDown() override { (void)sys::remove_all(ctx_.root); }

    std::string vol_dir(const std::string& name) const { return ctx_.volumes_dir() + "/" + name; }
    std::vector<std::string> volumes_dir_entries() const {
        auto entries = sys::list_dir(ctx_.volumes_dir());
        EXPECT_TRUE(entries) << entries.error().message();
        auto out = entries ? *entries : std::vector<std::string>{};
        std::sort(out.begin(), out.end());
        return out;
    }

    sys::Logger log_{sys::UniqueFd(), sys::LogFormat::text, sys::LogLevel::error};
    Context ctx_{log_};
    Store store_{ctx_};
};

TEST(VolumeNameTest, FollowsDockersRule) {
    for (const char* ok : {"ab", "a1", "0a", "my_vol.1-x", "Data", "x.", "a--b"})
        EXPECT_TRUE(valid_name(ok)) << ok;
    for (const char* bad :
         {"", "a", "_ab", ".ab", "-ab", "a/b", "..", "../etc", "a b", "a:b", "vol\n", "é1"})
        EXPECT_FALSE(valid_name(bad)) << bad;
}

TEST_F(VolumesTest, CreateMakesDataDirAndRecord) {
    auto v = store_.create("web", {{"env", "prod"}});
    ASSERT_TRUE(v) << v.error().message();
    EXPECT_EQ(v->name, "web");
    EXPECT_EQ(v->driver, "local");
    EXPECT_EQ(v->mountpoint, vol_dir("web") + "/_data");
    EXPECT_TRUE(is_dir(v->mountpoint));
    EXPECT_TRUE(std::regex_match(v->created, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
        << v->created;

    auto text = sys::read_file(vol_dir("web") + "/volume.json");
    ASSERT_TRUE(text) << text.error().message();
    auto j = nlohmann::json::parse(*text);
    EXPECT_EQ(j.at("name"), "web");
    EXPECT_EQ(j.at("driver"), "local");
    EXPECT_EQ(j.at("labels").at("env"), "prod");
    EXPECT_EQ(j.at("created"), v->created);

    auto got = store_.get("web");
    ASSERT_TRUE(got) << got.error().message();
    EXPECT_EQ(got->mountpoint, v->mountpoint);
    EXPECT_EQ(got->labels, v->labels);
    EXPECT_EQ(got->created, v->created);
}

TEST_F(VolumesTest, CreateOfExistingNameReturnsItAndKeepsData) {
    auto first = store_.create("data", {{"a", "1"}});
    ASSERT_TRUE(first) << first.error().message();
    ASSERT_TRUE(sys::write_file(first->mountpoint + "/keep.txt", "hello"));
    auto again = store_.create("data", {{"b", "2"}});
    ASSERT_TRUE(again) << again.error().message();
    EXPECT_EQ(again->created, first->created);
    EXPECT_EQ(again->labels, first->labels);
    auto kept = sys::read_file(first->mountpoint + "/keep.txt");
    ASSERT_TRUE(kept);
    EXPECT_EQ(*kept, "hello");
}

TEST_F(VolumesTest, EmptyNameGetsRandomHexName) {
    auto a = store_.create("");
    auto b = store_.create("");
    ASSERT_TRUE(a && b);
    EXPECT_TRUE(std::regex_match(a->name, std::regex("[0-9a-f]{64}"))) << a->name;
    EXPECT_NE(a->name, b->name);
    EXPECT_TRUE(is_dir(a->mountpoint));
}

TEST_F(VolumesTest, CreateRejectsInvalidNameNamingIt) {
    for (const char* bad : {"../escape", "a", "with space", "/abs"}) {
        auto v = store_.create(bad);
        ASSERT_FALSE(v) << bad;
        EXPECT_EQ(v.error().code(), sys::ErrorCode::invalid_argument);
        EXPECT_NE(v.error().message().find(std::string("\"") + bad + "\""), std::string::npos)
            << v.error().message();
    }
    EXPECT_FALSE(sys::path_exists(ctx_.root + "/escape"));
}

TEST_F(VolumesTest, GetOfMissingIsNotFound) {
    auto v = store_.get("nope");
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error().code(), sys::ErrorCode::not_found);
    EXPECT_EQ(v.error().message(), "no such volume: nope");
    auto bad = store_.get("../../etc");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code(), sys::ErrorCode::not_found);
}

TEST_F(VolumesTest, GetOrCreateCreatesOnce) {
    auto a = store_.get_or_create("cache");
    ASSERT_TRUE(a) << a.error().message();
    ASSERT_TRUE(sys::write_file(a->mountpoint + "/f", "x"));
    auto b = store_.get_or_create("cache");
    ASSERT_TRUE(b) << b.error().message();
    EXPECT_EQ(b->created, a->created);
    EXPECT_TRUE(sys::path_exists(b->mountpoint + "/f"));
    EXPECT_FALSE(store_.get_or_create("../x"));
}

TEST_F(VolumesTest, ListIsSortedAndSkipsWhatIsNoVolume) {
    auto empty = store_.list();
    ASSERT_TRUE(empty) << empty.error().message();  // no volumes dir yet
    EXPECT_TRUE(empty->empty());

    for (const char* n : {"zeta", "alpha", "mid"}) ASSERT_TRUE(store_.create(n));
    ASSERT_TRUE(sys::mkdir_all(vol_dir("halfmade/_data")));         // no record: a crashed create
    ASSERT_TRUE(sys::mkdir_all(vol_dir(".trash-old-1234/_data")));  // an unfinished remove
    ASSERT_TRUE(sys::mkdir_all(vol_dir("broken")));
    ASSERT_TRUE(sys::write_file(vol_dir("broken/volume.json"), "{not json"));

    auto list = store_.list();
    ASSERT_TRUE(list) << list.error().message();
    std::vector<std::string> names;
    for (auto& v : *list) names.push_back(v.name);
    EXPECT_EQ(names, (std::vector<std::string>{"alpha", "mid", "zeta"}));
}

TEST_F(VolumesTest, CreateReusesDirectoryLeftWithoutRecord) {
    ASSERT_TRUE(sys::mkdir_all(vol_dir("half/_data")));
    ASSERT_TRUE(sys::write_file(vol_dir("half/_data/old"), "x"));
    auto v = store_.create("half");
    ASSERT_TRUE(v) << v.error().message();
    EXPECT_TRUE(sys::path_exists(vol_dir("half/volume.json")));
}

TEST_F(VolumesTest, RemoveDeletesDataAndRecord) {
    auto v = store_.create("gone");
    ASSERT_TRUE(v);
    ASSERT_TRUE(sys::mkdir_all(v->mountpoint + "/sub/dir"));
    ASSERT_TRUE(sys::write_file(v->mountpoint + "/sub/dir/file", "data"));
    auto r = store_.remove("gone", false, {});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_FALSE(sys::path_exists(vol_dir("gone")));
    EXPECT_EQ(store_.get("gone").error().code(), sys::ErrorCode::not_found);
    EXPECT_EQ(volumes_dir_entries(), std::vector<std::string>{".lock"});  // no trash left
}

TEST_F(VolumesTest, RemoveOfMissingIsNotFoundUnlessForced) {
    auto r = store_.remove("ghost", false, {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), sys::ErrorCode::not_found);
    EXPECT_NE(r.error().message().find("ghost"), std::string::npos);
    EXPECT_TRUE(store_.remove("ghost", true, {}));
}

TEST_F(VolumesTest, RemoveRefusesVolumeInUseUnlessForced) {
    auto v = store_.create("busy");
    ASSERT_TRUE(v);
    auto r = store_.remove("busy", false, {"busy", "other"});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), sys::ErrorCode::bad_state);
    EXPECT_NE(r.error().message().find("volume is in use"), std::string::npos)
        << r.error().message();
    EXPECT_TRUE(is_dir(v->mountpoint));

    ASSERT_TRUE(store_.remove("busy", true, {"busy"}));
    EXPECT_FALSE(sys::path_exists(vol_dir("busy")));
}

TEST_F(VolumesTest, PruneRemovesEveryVolumeNotInUse) {
    for (const char* n : {"a1", "b1", "c1"}) ASSERT_TRUE(store_.create(n));
    ASSERT_TRUE(sys::write_file(vol_dir("a1/_data/blob"), std::string(1000, 'x')));
    ASSERT_TRUE(sys::mkdir_all(vol_dir("c1/_data/d")));
    ASSERT_TRUE(sys::write_file(vol_dir("c1/_data/d/small"), std::string(24, 'y')));
    ASSERT_TRUE(sys::write_file(vol_dir("b1/_data/kept"), std::string(500, 'z')));
    ASSERT_TRUE(sys::mkdir_all(vol_dir(".trash-old-0000/_data")));  // left by an interrupted remove

    auto report = store_.prune_report({"b1"});
    ASSERT_TRUE(report) << report.error().message();
    EXPECT_EQ(report->removed, (std::vector<std::string>{"a1", "c1"}));
    EXPECT_EQ(report->reclaimed, 1024u);
    EXPECT_EQ(volumes_dir_entries(), (std::vector<std::string>{".lock", "b1"}));
    EXPECT_TRUE(sys::path_exists(vol_dir("b1/_data/kept")));

    auto again = store_.prune({"b1"});
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->empty());
    auto all = store_.prune({});
    ASSERT_TRUE(all);
    EXPECT_EQ(*all, std::vector<std::string>{"b1"});
}

TEST_F(VolumesTest, ConcurrentCreatesOfOneNameAgree) {
    constexpr int kThreads = 8;
    std::vector<sys::Result<Volume>> results(kThreads);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&, i] {
            Store store(ctx_);  // each its own store, as separate processes would have
            results[i] = store.create("shared", {{"writer", std::to_string(i)}});
        });
    }
    for (auto& t : threads) t.join();
    for (auto& r : results) {
        ASSERT_TRUE(r) << r.error().message();
        EXPECT_EQ(r->labels, results[0]->labels);
        EXPECT_EQ(r->created, results[0]->created);
    }
    auto on_disk = store_.get("shared");
    ASSERT_TRUE(on_disk);
    EXPECT_EQ(on_disk->labels, results[0]->labels);
    EXPECT_EQ(volumes_dir_entries(), (std::vector<std::string>{".lock", "shared"}));
    auto files = sys::list_dir(vol_dir("shared"));
    ASSERT_TRUE(files);
    std::sort(files->begin(), files->end());
    EXPECT_EQ(*files, (std::vector<std::string>{"_data", "volume.json"}));  // no temp file left
}

}  // namespace
}  // namespace mydocker::engine::volumes
