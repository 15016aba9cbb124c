// json-file rotation: --log-opt parsing, and the writer's files against a temp dir.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/logs/logs.h"
#include "sys/files.h"

namespace mydocker::engine::logs {
namespace {

TEST(ParseRotation, SizesAreDecimalAsDockersJsonFile) {
    auto r = parse_rotation({{"max-size", "10m"}, {"max-file", "3"}});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->max_size, 10'000'000);
    EXPECT_EQ(r->max_file, 3);
    EXPECT_EQ(parse_rotation({{"max-size", "1k"}})->max_size, 1000);
    EXPECT_EQ(parse_rotation({{"max-size", "1.5g"}})->max_size, 1'500'000'000);
    EXPECT_EQ(parse_rotation({{"max-size", "10MB"}})->max_size, 10'000'000);
    EXPECT_EQ(parse_rotation({{"max-size", "2 KiB"}})->max_size, 2000);
    EXPECT_EQ(parse_rotation({{"max-size", "512"}})->max_size, 512);
}

TEST(ParseRotation, DefaultsKeepOneUnboundedFile) {
    auto r = parse_rotation({});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->max_size, -1);
    EXPECT_EQ(r->max_file, 1);
    // docker's json-file takes max-file alone and does not rotate.
    r = parse_rotation({{"max-file", "4"}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->max_size, -1);
}

TEST(ParseRotation, BadValuesNameTheOption) {
    struct Case {
        std::map<std::string, std::string> opts;
        std::string want;
    };
    std::vector<Case> cases = {
        {{{"max-size", "abc"}}, "--log-opt max-size=abc: invalid size"},
        {{{"max-size", ""}}, "--log-opt max-size=: invalid size"},
        {{{"max-size", "10x"}}, "--log-opt max-size=10x: invalid size"},
        {{{"max-size", "-1"}}, "--log-opt max-size=-1: invalid size"},
        {{{"max-size", "0"}}, "max-size must be a positive number"},
        {{{"max-file", "0"}}, "--log-opt max-file=0: max-file cannot be less than 1"},
        {{{"max-file", "-2"}}, "max-file cannot be less than 1"},
        {{{"max-file", "3x"}}, "--log-opt max-file=3x: not a number"},
        {{{"compress", "true"}},
         "--log-opt compress: unknown log opt 'compress' for json-file log driver"},
    };
    for (const auto& tc : cases) {
        auto r = parse_rotation(tc.opts);
        ASSERT_FALSE(r) << tc.want;
        EXPECT_NE(r.error().message().find(tc.want), std::string::npos) << r.error().message();
    }
}

class RotationTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/mydocker-logrot-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        path_ = dir_ + "/ctr-json.log";
    }
    void TearDown() override { (void)sys::remove_all(dir_); }

    // The files of the log, oldest first, as the reader takes them.
    std::vector<std::string> files() {
        std::vector<std::string> out;
        for (int i = 1; sys::path_exists(rotated_path(path_, i)); ++i)
            out.insert(out.begin(), rotated_path(path_, i));
        if (sys::path_exists(path_)) out.push_back(path_);
        return out;
    }
    off_t size_of(const std::string& p) {
        struct stat st;
        EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
        return st.st_size;
    }
    // The "log" of each record in the files, oldest first.
    std::vector<std::string> logged() {
        std::vector<std::string> out;
        for (const auto& f : files()) {
            std::string text = *sys::read_file(f);
            EXPECT_TRUE(text.empty() || text.back() == '\n') << f << " ends inside a record";
            size_t pos = 0;
            for (auto nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', pos)) {
                out.push_back(nlohmann::json::parse(text.substr(pos, nl - pos)).at("log"));
                pos = nl + 1;
            }
        }
        return out;
    }

    std::string dir_, path_;
};

std::string line(int i) {
    return "line " + std::to_string(i) + " " + std::string(40, 'x') + "\n";
}

TEST_F(RotationTest, KeepsMaxFileFilesEachAtMostOneRecordPastMaxSize) {
    auto w = JsonFileWriter::open(path_, Rotation{300, 3});
    ASSERT_TRUE(w);
    for (int i = 0; i < 60; ++i) ASSERT_TRUE(w->write(Stream::stdout_, line(i)));
    auto fs = files();
    ASSERT_EQ(fs.size(), 3u);
    EXPECT_EQ(fs[0], path_ + ".2");
    EXPECT_FALSE(sys::path_exists(path_ + ".3"));
    size_t record = 120;  // one record of line(): the JSON around 48 bytes of text, and the time
    for (const auto& f : fs) EXPECT_LE(size_of(f), static_cast<off_t>(300 + record)) << f;
    // The files hold the newest records, in order, with none missing between them.
    auto logs = logged();
    ASSERT_FALSE(logs.empty());
    EXPECT_EQ(logs.back(), line(59));
    int first = 60 - static_cast<int>(logs.size());
    EXPECT_GT(first, 0) << "nothing was dropped: the test wrote too little";
    for (size_t i = 0; i < logs.size(); ++i) EXPECT_EQ(logs[i], line(first + static_cast<int>(i)));
}

TEST_F(RotationTest, OneChunkOfManyRecordsIsSplitAtTheLimit) {
    auto w = JsonFileWriter::open(path_, Rotation{300, 2});
    ASSERT_TRUE(w);
    std::string chunk;
    for (int i = 0; i < 8; ++i) chunk += line(i);
    ASSERT_TRUE(w->write(Stream::stderr_, chunk));
    ASSERT_EQ(files().size(), 2u);
    EXPECT_LE(size_of(path_ + ".1"), 300 + 120);
    EXPECT_EQ(logged().back(), line(7));
}

TEST_F(RotationTest, MaxFileOneStartsTheFileOver) {
    auto w = JsonFileWriter::open(path_, Rotation{300, 1});
    ASSERT_TRUE(w);
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(w->write(Stream::stdout_, line(i)));
    EXPECT_EQ(files(), std::vector<std::string>{path_});
    EXPECT_LE(size_of(path_), 300 + 120);
    EXPECT_EQ(logged().back(), line(19));
}

TEST_F(RotationTest, ARestartedWriterCountsTheFileItAppendsTo) {
    {
        auto w = JsonFileWriter::open(path_);  // the first run: no limit
        ASSERT_TRUE(w);
        for (int i = 0; i < 5; ++i) ASSERT_TRUE(w->write(Stream::stdout_, line(i)));
    }
    ASSERT_GT(size_of(path_), 300);
    auto w = JsonFileWriter::open(path_, Rotation{300, 2});
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->write(Stream::stdout_, line(5)));
    ASSERT_EQ(files().size(), 2u);
    // The first run's records moved to .1 whole; the new one starts the current file.
    EXPECT_EQ(logged(),
              (std::vector<std::string>{line(0), line(1), line(2), line(3), line(4), line(5)}));
    EXPECT_LT(size_of(path_), 300);
}

TEST_F(RotationTest, WithoutMaxSizeNothingRotates) {
    auto w = JsonFileWriter::open(path_, Rotation{-1, 5});
    ASSERT_TRUE(w);
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(w->write(Stream::stdout_, line(i)));
    EXPECT_EQ(files(), std::vector<std::string>{path_});
    EXPECT_EQ(logged().size(), 50u);
}

TEST_F(RotationTest, DiscardKeepsNothing) {
    auto w = JsonFileWriter::discard();
    ASSERT_TRUE(w.write(Stream::stdout_, line(1)));
    ASSERT_TRUE(w.flush());
    EXPECT_TRUE(sys::list_dir(dir_)->empty());
}

}  // namespace
}  // namespace mydocker::engine::logs
