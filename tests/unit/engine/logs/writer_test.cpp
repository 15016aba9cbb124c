// JsonFileWriter: the records in the file, decoded back.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <regex>

#include "engine/logs/logs.h"
#include "sys/files.h"

namespace mydocker::engine::logs {
namespace {

struct Rec {
    std::string log, stream, time;
};

class WriterTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/mydocker-logw-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        path_ = dir_ + "/ctr-json.log";
    }
    void TearDown() override { (void)sys::remove_all(dir_); }

    std::vector<std::string> raw_lines() {
        std::vector<std::string> out;
        if (!sys::path_exists(path_)) return out;  // made at the first record
        auto text = sys::read_file(path_);
        EXPECT_TRUE(text) << text.error().message();
        if (!text) return out;
        EXPECT_TRUE(text->empty() || text->back() == '\n') << "the file must end with a whole line";
        size_t pos = 0;
        for (auto nl = text->find('\n'); nl != std::string::npos; nl = text->find('\n', pos)) {
            out.push_back(text->substr(pos, nl - pos));
            pos = nl + 1;
        }
        return out;
    }
    std::vector<Rec> records() {
        std::vector<Rec> out;
        for (auto& line : raw_lines()) {
            auto j = nlohmann::json::parse(line);  // throws (fails the test) on bad JSON
            EXPECT_EQ(j.size(), 3u) << line;
            out.push_back({j.at("log"), j.at("stream"), j.at("time")});
        }
        return out;
    }

    std::string dir_, path_;
};

TEST_F(WriterTest, TheFileIsMadeAtTheFirstRecord) {
    auto w = JsonFileWriter::open(path_);
    ASSERT_TRUE(w) << w.error().message();
    ASSERT_TRUE(w->write(Stream::stdout_, "no newline yet"));
    ASSERT_TRUE(w->write(Stream::stderr_, ""));
    EXPECT_FALSE(sys::path_exists(path_)) << "a container that printed no whole line has no log file";
    ASSERT_TRUE(w->write(Stream::stdout_, "\n"));
    ASSERT_TRUE(sys::path_exists(path_));
    auto recs = records();
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_EQ(recs[0].log, "no newline yet\n");

    auto quiet = JsonFileWriter::open(dir_ + "/quiet-json.log");
    ASSERT_TRUE(quiet);
    ASSERT_TRUE(quiet->flush());
    EXPECT_FALSE(sys::path_exists(dir_ + "/quiet-json.log"));
}

TEST_F(WriterTest, AMissingDirectoryIsAnError) {
    auto w = JsonFileWriter::open(dir_ + "/gone/ctr-json.log");
    ASSERT_FALSE(w);
    EXPECT_NE(w.error().message().find(dir_ + "/gone/ctr-json.log"), std::string::npos) << w.error().message();
}

TEST_F(WriterTest, OneRecordPerLineAndPartialLinesWait) {
    auto w = JsonFileWriter::open(path_);
    ASSERT_TRUE(w) << w.error().message();
    ASSERT_TRUE(w->write(Stream::stdout_, "a\nb\nc"));
    auto recs = records();
    ASSERT_EQ(recs.size(), 2u);
    EXPECT_EQ(recs[0].log, "a\n");
    EXPECT_EQ(recs[1].log, "b\n");
    EXPECT_EQ(recs[0].stream, "stdout");

    ASSERT_TRUE(w->write(Stream::stdout_, "on"));
    ASSERT_TRUE(w->write(Stream::stdout_, "tinued\n\n"));
    recs = records();
    ASSERT_EQ(recs.size(), 4u);
    EXPECT_EQ(recs[2].log, "continued\n");
    EXPECT_EQ(recs[3].log, "\n");
}

TEST_F(WriterTest, StreamsKeepTheirOwnPartialLines) {
    auto w = JsonFileWriter::open(path_);
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->write(Stream::stdout_, "out-"));
    ASSERT_TRUE(w->write(Stream::stderr_, "err\n"));
    ASSERT_TRUE(w->write(Stream::stdout_, "line\n"));
    auto recs = records();
    ASSERT_EQ(recs.size(), 2u);
    EXPECT_EQ(recs[0].log, "err\n");
    EXPECT_EQ(recs[0].stream, "stderr");
    EXPECT_EQ(recs[1].log, "out-line\n");
    EXPECT_EQ(recs[1].stream, "stdout");
}

TEST_F(WriterTest, FlushWritesPartialLinesOnce) {
    auto w = JsonFileWriter::open(path_);
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->write(Stream::stdout_, "no newline"));
    ASSERT_TRUE(w->write(Stream::stderr_, "err tail"));
    EXPECT_TRUE(records().empty());
    ASSERT_TRUE(w->flush());
    auto recs = records();
    ASSERT_EQ(recs.size(), 2u);
    EXPECT_EQ(recs[0].log, "no newline");
    EXPECT_EQ(recs[0].stream, "stdout");
    EXPECT_EQ(recs[1].log, "err tail");
    EXPECT_EQ(recs[1].stream, "stderr");
    ASSERT_TRUE(w->flush());
    EXPECT_EQ(records().size(), 2u);
}

TEST_F(WriterTest, EscapesAndSurvivesInvalidUtf8) {
    auto w = JsonFileWriter::open(path_);
    ASSERT_TRUE(w);
    std::string tricky = "say \"hi\" \\ back\ttab \x01\x1f caf\xc3\xa9 \xe2\x82\xac\n";
    ASSERT_TRUE(w->write(Stream::stdout_, tricky));
    ASSERT_TRUE(w->write(Stream::stderr_, std::string("bad \xff\xfe bytes\n")));
    ASSERT_TRUE(w->write(Stream::stdout_, std::string("nul \0 inside\n", 13)));
    auto lines = raw_lines();
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_NE(lines[0].find(R"(say \"hi\" \\ back\ttab \u0001\u001f)"), std::string::npos)
        << lines[0];
    auto recs = records();
    EXPECT_EQ(recs[0].log, tricky);
    EXPECT_EQ(recs[1].log, "bad \xef\xbf\xbd\xef\xbf\xbd bytes\n");  // U+FFFD each
    EXPECT_EQ(recs[2].log, std::string("nul \0 inside\n", 13));
}

TEST_F(WriterTest, RecordTimeIsNanosecondUtcOfTheWrite) {
    auto before = std::chrono::system_clock::now();
    auto w = JsonFileWriter::open(path_);
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->write(Stream::stdout_, "x\n"));
    auto after = std::chrono::system_clock::now();
    auto recs = records();
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_TRUE(
        std::regex_match(recs[0].time, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z)")))
        << recs[0].time;
    auto t = parse_time(recs[0].time, after);
    ASSERT_TRUE(t) << t.error().message();
    EXPECT_GE(*t, before);
    EXPECT_LE(*t, after);
}

TEST_F(WriterTest, LongLinesAreCutAt16KiB) {
    auto w = JsonFileWriter::open(path_);
    ASSERT_TRUE(w);
    std::string big(40000, 'x');
    ASSERT_TRUE(w->write(Stream::stdout_, big.substr(0, 10000)));
    EXPECT_TRUE(records().empty());
    ASSERT_TRUE(w->write(Stream::stdout_, big.substr(10000)));
    auto recs = records();
    ASSERT_EQ(recs.size(), 2u);
    EXPECT_EQ(recs[0].log.size(), 16384u);
    EXPECT_EQ(recs[1].log.size(), 16384u);
    ASSERT_TRUE(w->write(Stream::stdout_, "end\n"));
    recs = records();
    ASSERT_EQ(recs.size(), 3u);
    EXPECT_EQ(recs[2].log, std::string(40000 - 2 * 16384, 'x') + "end\n");
}

TEST_F(WriterTest, LongLineCutDoesNotSplitUtf8) {
    auto w = JsonFileWriter::open(path_);
    ASSERT_TRUE(w);
    std::string text = "a";
    for (int i = 0; i < 10000; ++i) text += "\xc3\xa9";  // 'é': lead bytes at odd offsets
    ASSERT_TRUE(w->write(Stream::stdout_, text));
    ASSERT_TRUE(w->flush());
    auto recs = records();
    ASSERT_EQ(recs.size(), 2u);
    EXPECT_EQ(recs[0].log.size(), 16383u);
    EXPECT_EQ(recs[0].log + recs[1].log, text);
}

TEST_F(WriterTest, AppendsToAnExistingLog) {
    {
        auto w = JsonFileWriter::open(path_);
        ASSERT_TRUE(w);
        ASSERT_TRUE(w->write(Stream::stdout_, "first\n"));
    }
    auto a = JsonFileWriter::open(path_);
    auto b = JsonFileWriter::open(path_);
    ASSERT_TRUE(a && b);
    ASSERT_TRUE(a->write(Stream::stdout_, "from a\n"));
    ASSERT_TRUE(b->write(Stream::stderr_, "from b\n"));
    ASSERT_TRUE(a->write(Stream::stdout_, "a again\n"));
    auto recs = records();
    ASSERT_EQ(recs.size(), 4u);
    EXPECT_EQ(recs[0].log, "first\n");
    EXPECT_EQ(recs[1].log, "from a\n");
    EXPECT_EQ(recs[2].log, "from b\n");
    EXPECT_EQ(recs[3].log, "a again\n");
}

TEST_F(WriterTest, OpenNamesTheBadPath) {
    auto w = JsonFileWriter::open(dir_ + "/missing/dir/x.log");
    ASSERT_FALSE(w);
    EXPECT_NE(w.error().message().find(dir_ + "/missing/dir/x.log"), std::string::npos)
        << w.error().message();
}

}  // namespace
}  // namespace mydocker::engine::logs
