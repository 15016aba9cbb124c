// shed_memory: the process keeps working, and what it had faulted in of its own code goes.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "sys/memory.h"

namespace mydocker::sys {
namespace {

// Rss (kB) of this process's mappings of its own executable (its code and constants).
long exe_rss_kb() {
    std::ifstream maps("/proc/self/smaps");
    std::string exe;
    {
        char buf[4096];
        ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
        if (n <= 0) return -1;
        exe.assign(buf, static_cast<size_t>(n));
    }
    long total = 0;
    bool ours = false;
    for (std::string line; std::getline(maps, line);) {
        if (!line.empty() && std::isxdigit(static_cast<unsigned char>(line[0])) && line.find('-') < 16) {
            ours = line.size() >= exe.size() && line.compare(line.size() - exe.size(), exe.size(), exe) == 0;
        } else if (ours && line.rfind("Rss:", 0) == 0) {
            total += std::strtol(line.c_str() + 4, nullptr, 10);
        }
    }
    return total;
}

TEST(ShedMemory, DropsTheExecutablesPagesAndKeepsRunning) {
    // Heap in use and heap freed, both must survive / go without harm.
    std::vector<std::string> kept(1000, std::string(100, 'k'));
    { std::vector<std::string> freed(10000, std::string(100, 'f')); }
    long before = exe_rss_kb();
    ASSERT_GT(before, 0);
    shed_memory();
    long after = exe_rss_kb();
    // What runs from here faults a few pages back in: far fewer than the test binary had.
    EXPECT_LT(after, before);
    for (const auto& s : kept) ASSERT_EQ(s, std::string(100, 'k'));
    std::vector<int> deep(100000, 7);  // heap and stack usable afterwards
    EXPECT_EQ(deep.back(), 7);
}

}  // namespace
}  // namespace mydocker::sys
