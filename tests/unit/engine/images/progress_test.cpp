// The pull progress renderer: sizes, bars, the in-place redraw on a terminal, plain lines
// elsewhere.
#include <gtest/gtest.h>

#include "engine/images/progress.h"

namespace mydocker::engine::images {
namespace {

TEST(HumanSize, ThreeSignificantDigitsDecimalUnits) {
    EXPECT_EQ(human_size(0), "0B");
    EXPECT_EQ(human_size(512), "512B");
    EXPECT_EQ(human_size(12'300'000), "12.3MB");
    EXPECT_EQ(human_size(40'100'000), "40.1MB");
    EXPECT_EQ(human_size(1'050'000'000), "1.05GB");
    EXPECT_EQ(human_size(2'000), "2kB");
}

// As docker draws it: "=" in proportion, ">", spaces, then the current size padded to 8.
TEST(ProgressBar, FillsInProportionWithAnArrowHead) {
    EXPECT_EQ(progress_bar(0, 100, 10), "[>          ]       0B/100B");
    EXPECT_EQ(progress_bar(50, 100, 10), "[=====>     ]      50B/100B");
    EXPECT_EQ(progress_bar(100, 100, 10), "[==========>]     100B/100B");
    EXPECT_EQ(progress_bar(12'300'000, 40'100'000, 10), "[===>       ]   12.3MB/40.1MB");
    // Unknown total: the count alone.
    EXPECT_EQ(progress_bar(2'000, 0, 10), "2kB");
}

TEST(ProgressRenderer, TerminalRedrawsALayerLineInPlace) {
    std::string out;
    ProgressRenderer r(true, [&](std::string_view s) { out += s; });
    r.message("1: Pulling from test/x");
    r.layer("aaa", "Waiting");
    r.layer("bbb", "Waiting");
    EXPECT_EQ(out, "1: Pulling from test/x\naaa: Waiting\nbbb: Waiting\n");
    out.clear();
    // aaa is two lines above the cursor: up 2, erase, draw, down 2.
    r.layer("aaa", "Downloading", 50, 100);
    EXPECT_EQ(out, "\x1b[2A\r\x1b[2Kaaa: Downloading " + progress_bar(50, 100) + "\x1b[2B\r");
    out.clear();
    r.layer("bbb", "Pull complete");
    EXPECT_EQ(out, "\x1b[1A\r\x1b[2Kbbb: Pull complete\x1b[1B\r");
    out.clear();
    // A message goes below; the layer lines are then one further up.
    r.message("Digest: sha256:1");
    r.layer("aaa", "Pull complete");
    EXPECT_EQ(out, "Digest: sha256:1\n\x1b[3A\r\x1b[2Kaaa: Pull complete\x1b[3B\r");
}

TEST(ProgressRenderer, PlainOutputPrintsEachStatusChangeOnce) {
    std::string out;
    ProgressRenderer r(false, [&](std::string_view s) { out += s; });
    r.layer("aaa", "Waiting");
    r.layer("aaa", "Downloading", 10, 100);
    r.layer("aaa", "Downloading", 60, 100);
    r.layer("bbb", "Already exists");
    r.layer("aaa", "Pull complete");
    r.message("Digest: sha256:1");
    EXPECT_EQ(out,
              "aaa: Waiting\naaa: Downloading\nbbb: Already exists\naaa: Pull complete\n"
              "Digest: sha256:1\n");
    EXPECT_EQ(out.find('\x1b'), std::string::npos);
}

}  // namespace
}  // namespace mydocker::engine::images
