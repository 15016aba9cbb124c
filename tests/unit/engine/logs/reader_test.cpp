// read(): what `mydocker logs` prints for a json-file log, including -f against a live writer.
#include <fcntl.h>
#include <sys/stat.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "engine/logs/logs.h"
#include "sys/files.h"

namespace mydocker::engine::logs {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

std::string record(const std::string& log, const std::string& stream, const std::string& time) {
    return nlohmann::json{{"log", log}, {"stream", stream}, {"time", time}}.dump() + "\n";
}

Clock::time_point at(const char* rfc3339) {
    auto t = parse_time(rfc3339, Clock::now());
    EXPECT_TRUE(t) << rfc3339;
    return t ? *t : Clock::time_point{};
}

// Fails a follow test that would never end (a reader that ignores running()): a hung test
// would otherwise sit until ctest's timeout with no message.
class Watchdog {
  public:
    explicit Watchdog(std::chrono::seconds limit)
        : thread_([this, limit] {
              std::unique_lock lock(mu_);
              if (!cv_.wait_for(lock, limit, [this] { return done_; })) {
                  std::fprintf(stderr, "watchdog: follow did not return within %llds\n",
                               static_cast<long long>(limit.count()));
                  std::abort();
              }
          }) {}
    ~Watchdog() {
        {
            std::lock_guard lock(mu_);
            done_ = true;
        }
        cv_.notify_one();
        thread_.join();
    }

  private:
    std::mutex mu_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread thread_;
};

class ReaderTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/mydocker-logr-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        path_ = dir_ + "/ctr-json.log";
        out_.reset(::open((dir_ + "/out").c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        err_.reset(::open((dir_ + "/err").c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        ASSERT_TRUE(out_ && err_);
    }
    void TearDown() override { (void)sys::remove_all(dir_); }

    // Three records a second apart, stdout and stderr mixed.
    void write_sample() {
        ASSERT_TRUE(sys::write_file(
            path_, record("one\n", "stdout", "2026-11-23T18:00:01.000000000Z") +
                       record("two\n", "stderr", "2026-11-23T18:00:02.5Z") +
                       record("three\n", "stdout", "2026-11-23T18:00:03.000000000Z")));
    }
    sys::Result<void> run(const ReadOptions& opts, const std::function<bool()>& running = {}) {
        return read(path_, opts, out_.get(), err_.get(), running);
    }
    void reset_outputs() {
        for (auto* fd : {&out_, &err_}) {
            ASSERT_EQ(::ftruncate(fd->get(), 0), 0);
            ASSERT_EQ(::lseek(fd->get(), 0, SEEK_SET), 0);
        }
    }
    std::string out() { return *sys::read_file(dir_ + "/out"); }
    std::string err() { return *sys::read_file(dir_ + "/err"); }

    std::string dir_, path_;
    sys::UniqueFd out_, err_;
};

TEST_F(ReaderTest, CopiesEachStreamToItsFd) {
    write_sample();
    auto r = run({});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(out(), "one\nthree\n");
    EXPECT_EQ(err(), "two\n");
}

TEST_F(ReaderTest, SameFdForBothStreamsKeepsRecordOrder) {
    write_sample();
    auto r = read(path_, {}, out_.get(), out_.get());
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(out(), "one\ntwo\nthree\n");
}

TEST_F(ReaderTest, TailTakesTheLastRecordsOfTheWholeLog) {
    write_sample();
    ReadOptions opts;
    opts.tail = 2;
    ASSERT_TRUE(run(opts));
    EXPECT_EQ(out(), "three\n");
    EXPECT_EQ(err(), "two\n");
}

TEST_F(ReaderTest, TailZeroAndTailBeyondTheLog) {
    write_sample();
    ReadOptions opts;
    opts.tail = 0;
    ASSERT_TRUE(run(opts));
    EXPECT_EQ(out(), "");
    EXPECT_EQ(err(), "");
    opts.tail = 100;
    ASSERT_TRUE(run(opts));
    EXPECT_EQ(out(), "one\nthree\n");
}

TEST_F(ReaderTest, TailOfALogLargerThanOneReadChunk) {
    std::string text;
    for (int i = 0; i < 5000; ++i)
        text += record("line " + std::to_string(i) + "\n", "stdout", "2026-11-23T18:00:00Z");
    ASSERT_GT(text.size(), 200000u);
    ASSERT_TRUE(sys::write_file(path_, text));
    ReadOptions opts;
    opts.tail = 3;
    ASSERT_TRUE(run(opts));
    EXPECT_EQ(out(), "line 4997\nline 4998\nline 4999\n");

    reset_outputs();
    opts.tail = 4000;
    ASSERT_TRUE(run(opts));
    EXPECT_EQ(out().substr(0, 10), "line 1000\n");
}

TEST_F(ReaderTest, SinceAndUntilFilterByRecordTime) {
    write_sample();
    ReadOptions opts;
    opts.since = at("2026-11-23T18:00:02Z");
    ASSERT_TRUE(run(opts));
    EXPECT_EQ(out(), "three\n");
    EXPECT_EQ(err(), "two\n");

    reset_outputs();
    opts = {};
    opts.until = at("2026-11-23T18:00:02.5Z");  // inclusive, like docker
    ASSERT_TRUE(run(opts));
    EXPECT_EQ(out(), "one\n");
    EXPECT_EQ(err(), "two\n");
}

TEST_F(ReaderTest, TimestampsPrefixEachLineWithItsTime) {
    write_sample();
    ReadOptions opts;
    opts.timestamps = true;
    ASSERT_TRUE(run(opts));
    EXPECT_EQ(out(), "2026-11-23T18:00:01.000000000Z one\n2026-11-23T18:00:03.000000000Z three\n");
    EXPECT_EQ(err(), "2026-11-23T18:00:02.500000000Z two\n");
}

TEST_F(ReaderTest, SkipsDamagedLinesAndAnUnfinishedLastLine) {
    ASSERT_TRUE(sys::write_file(
        path_, record("ok\n", "stdout", "2026-11-23T18:00:01Z") + "{garbage\n" + "\n" +
                   record("fine\n", "stdout", "2026-11-23T18:00:02Z") + R"({"log":"half)"));
    ASSERT_TRUE(run({}));
    EXPECT_EQ(out(), "ok\nfine\n");
}

TEST_F(ReaderTest, AnUnreadableLogNamesThePath) {
    ASSERT_EQ(::mkdir(path_.c_str(), 0700), 0);  // read(2) of a directory: EISDIR
    auto r = run({});
    ::rmdir(path_.c_str());
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find(path_), std::string::npos) << r.error().message();
}

TEST_F(ReaderTest, AGoneReaderEndsTheCopyQuietly) {
    write_sample();
    ::signal(SIGPIPE, SIG_IGN);
    int p[2];
    ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
    ::close(p[0]);
    auto r = read(path_, {}, p[1], p[1]);
    ::close(p[1]);
    EXPECT_TRUE(r) << r.error().message();
}

TEST_F(ReaderTest, FollowWithoutRunningContainerDrainsAndReturns) {
    write_sample();
    ReadOptions opts;
    opts.follow = true;
    Watchdog watchdog(20s);
    auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(run(opts, [] { return false; }));
    ASSERT_TRUE(run(opts));  // no running() at all: the same
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
    EXPECT_EQ(out(), "one\nthree\none\nthree\n");
}

TEST_F(ReaderTest, FollowReadsAppendedRecordsUntilTheContainerStops) {
    write_sample();
    Watchdog watchdog(20s);
    std::atomic<bool> running{true};
    std::atomic<int> polls{0};
    std::thread writer([&] {
        auto w = JsonFileWriter::open(path_);
        ASSERT_TRUE(w);
        std::this_thread::sleep_for(150ms);
        ASSERT_TRUE(w->write(Stream::stdout_, "four\n"));
        ASSERT_TRUE(w->write(Stream::stderr_, "oops\n"));
        std::this_thread::sleep_for(150ms);
        // A record whose line is written in two pieces: the reader must wait for its '\n'.
        std::string rec = record("five\n", "stdout", "2026-11-23T19:00:00Z");
        auto fd = sys::open_file(path_, O_WRONLY | O_APPEND);
        ASSERT_TRUE(fd);
        ASSERT_TRUE(sys::write_all(fd->get(), rec.substr(0, 10)));
        std::this_thread::sleep_for(250ms);
        ASSERT_TRUE(sys::write_all(fd->get(), rec.substr(10)));
        // Written just before the container counts as stopped: still read.
        ASSERT_TRUE(w->write(Stream::stdout_, "last\n"));
        running = false;
    });
    ReadOptions opts;
    opts.follow = true;
    opts.tail = 1;
    auto deadline = std::chrono::steady_clock::now() + 10s;  // bounds the test if follow never ends
    auto start = std::chrono::steady_clock::now();
    auto r = run(opts, [&] {
        ++polls;
        return running.load() && std::chrono::steady_clock::now() < deadline;
    });
    auto took = std::chrono::steady_clock::now() - start;
    writer.join();
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_LT(took, 5s) << "follow did not stop when the container stopped";
    EXPECT_EQ(out(), "three\nfour\nfive\nlast\n");
    EXPECT_EQ(err(), "oops\n");
    // ~550 ms of following with at most 100 ms between checks: a few dozen at most, not a spin.
    EXPECT_LT(polls.load(), 60);
    EXPECT_GE(polls.load(), 2);
}

TEST_F(ReaderTest, NoLogFileYetIsAnEmptyLog) {
    ASSERT_FALSE(sys::path_exists(path_));
    ASSERT_TRUE(run(ReadOptions{}));
    ReadOptions tail;
    tail.tail = 3;
    ASSERT_TRUE(run(tail));
    ReadOptions follow;
    follow.follow = true;
    Watchdog watchdog(20s);
    ASSERT_TRUE(run(follow, [] { return false; }));  // stopped without a word
    EXPECT_EQ(out(), "");
    EXPECT_EQ(err(), "");
}

TEST_F(ReaderTest, FollowWaitsForTheFirstOutput) {
    Watchdog watchdog(20s);
    std::atomic<bool> running{true};
    std::thread writer([&] {
        auto w = JsonFileWriter::open(path_);
        ASSERT_TRUE(w);
        std::this_thread::sleep_for(300ms);  // the container is silent for a while
        ASSERT_TRUE(w->write(Stream::stdout_, "first words\n"));
        std::this_thread::sleep_for(150ms);
        ASSERT_TRUE(w->write(Stream::stderr_, "and last\n"));
        running = false;
    });
    ReadOptions opts;
    opts.follow = true;
    auto deadline = std::chrono::steady_clock::now() + 10s;
    auto r = run(opts, [&] { return running.load() && std::chrono::steady_clock::now() < deadline; });
    writer.join();
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(out(), "first words\n");
    EXPECT_EQ(err(), "and last\n");
}

TEST_F(ReaderTest, FollowStopsAtUntil) {
    ASSERT_TRUE(
        sys::write_file(path_, record("before\n", "stdout", format_time(Clock::now() - 1s))));
    ReadOptions opts;
    opts.follow = true;
    opts.until = Clock::now() + 300ms;
    Watchdog watchdog(20s);
    auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(run(opts, [] { return true; }));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
    EXPECT_EQ(out(), "before\n");
}

// Rotated files as the writer leaves them: <log>.2 the oldest, then <log>.1, then <log>.
void write_rotated(const std::string& path) {
    ASSERT_TRUE(sys::write_file(path + ".2", record("a\n", "stdout", "2026-11-23T18:00:01Z") +
                                                 record("b\n", "stderr", "2026-11-23T18:00:02Z")));
    ASSERT_TRUE(sys::write_file(path + ".1", record("c\n", "stdout", "2026-11-23T18:00:03Z") +
                                                 record("d\n", "stdout", "2026-11-23T18:00:04Z")));
    ASSERT_TRUE(sys::write_file(path, record("e\n", "stdout", "2026-11-23T18:00:05Z")));
}

TEST_F(ReaderTest, ReadsTheRotatedFilesOldestFirst) {
    write_rotated(path_);
    auto r = read(path_, {}, out_.get(), out_.get());
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(out(), "a\nb\nc\nd\ne\n");
}

TEST_F(ReaderTest, TailAndSinceSpanTheRotatedFiles) {
    write_rotated(path_);
    ReadOptions opts;
    opts.tail = 3;
    ASSERT_TRUE(read(path_, opts, out_.get(), out_.get()));
    EXPECT_EQ(out(), "c\nd\ne\n");
    reset_outputs();
    opts.tail = 4;
    ASSERT_TRUE(read(path_, opts, out_.get(), out_.get()));
    EXPECT_EQ(out(), "b\nc\nd\ne\n");
    reset_outputs();
    opts.tail = 100;
    ASSERT_TRUE(read(path_, opts, out_.get(), out_.get()));
    EXPECT_EQ(out(), "a\nb\nc\nd\ne\n");
    reset_outputs();
    opts.tail.reset();
    opts.since = at("2026-11-23T18:00:02Z");
    opts.until = at("2026-11-23T18:00:04Z");
    ASSERT_TRUE(read(path_, opts, out_.get(), out_.get()));
    EXPECT_EQ(out(), "b\nc\nd\n");
}

TEST_F(ReaderTest, FollowGoesOnAcrossRotations) {
    Watchdog watchdog(20s);
    std::atomic<bool> running{true};
    std::thread writer([&] {
        auto w = JsonFileWriter::open(path_, Rotation{200, 3});
        ASSERT_TRUE(w);
        for (int i = 0; i < 12; ++i) {
            ASSERT_TRUE(w->write(Stream::stdout_,
                                 "line " + std::to_string(i) + " " + std::string(60, 'y') + "\n"));
            std::this_thread::sleep_for(60ms);  // the follower sees each file and each rotation
        }
        running = false;
    });
    ReadOptions opts;
    opts.follow = true;
    auto deadline = std::chrono::steady_clock::now() + 10s;
    auto r =
        run(opts, [&] { return running.load() && std::chrono::steady_clock::now() < deadline; });
    writer.join();
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_TRUE(sys::path_exists(path_ + ".2"))
        << "the writer did not rotate: the test proves nothing";
    std::string want;
    for (int i = 0; i < 12; ++i)
        want += "line " + std::to_string(i) + " " + std::string(60, 'y') + "\n";
    EXPECT_EQ(out(), want);
}

TEST_F(ReaderTest, FollowGoesOnAfterMaxFileOneStartsOver) {
    Watchdog watchdog(20s);
    std::atomic<bool> running{true};
    std::thread writer([&] {
        auto w = JsonFileWriter::open(path_, Rotation{150, 1});
        ASSERT_TRUE(w);
        for (int i = 0; i < 6; ++i) {
            ASSERT_TRUE(
                w->write(Stream::stdout_, "n" + std::to_string(i) + std::string(80, 'z') + "\n"));
            std::this_thread::sleep_for(60ms);
        }
        running = false;
    });
    ReadOptions opts;
    opts.follow = true;
    auto deadline = std::chrono::steady_clock::now() + 10s;
    auto r =
        run(opts, [&] { return running.load() && std::chrono::steady_clock::now() < deadline; });
    writer.join();
    ASSERT_TRUE(r) << r.error().message();
    std::string want;
    for (int i = 0; i < 6; ++i) want += "n" + std::to_string(i) + std::string(80, 'z') + "\n";
    EXPECT_EQ(out(), want);
}

}  // namespace
}  // namespace mydocker::engine::logs
