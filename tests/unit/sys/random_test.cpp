// Random ids: length, alphabet, and that two draws differ.
#include <gtest/gtest.h>

#include <set>

#include "sys/random.h"

namespace mydocker::sys {
namespace {

TEST(RandomHex, GivesThatManyLowercaseHexDigits) {
    for (size_t n : {0u, 1u, 7u, 16u, 64u}) {
        std::string s = random_hex(n);
        EXPECT_EQ(s.size(), n);
        EXPECT_EQ(s.find_first_not_of("0123456789abcdef"), std::string::npos) << s;
    }
}

TEST(RandomHex, DrawsDiffer) {
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) seen.insert(random_hex(64));
    EXPECT_EQ(seen.size(), 100u);
}

TEST(RandomBelow, StaysInRangeAndReachesEveryValue) {
    std::set<uint32_t> seen;
    for (int i = 0; i < 2000; ++i) {
        uint32_t v = random_below(7);
        ASSERT_LT(v, 7u);
        seen.insert(v);
    }
    EXPECT_EQ(seen.size(), 7u);
    EXPECT_EQ(random_below(1), 0u);
}

}  // namespace
}  // namespace mydocker::sys
