// Pure conversions: shares -> weight, blkio -> io weight, v1 device lines, memsw order, v2 swap.
#include <gtest/gtest.h>

#include "cgroups/convert.h"

namespace mydocker::cgroups {
namespace {

TEST(CgroupConvert, SharesToWeight) {
    EXPECT_EQ(shares_to_weight(0), 0u);  // unset stays unset
    EXPECT_EQ(shares_to_weight(2), 1u);
    EXPECT_EQ(shares_to_weight(1024), 39u);
    EXPECT_EQ(shares_to_weight(262144), 10000u);
    // Out-of-range values clamp like the v1 kernel does instead of wrapping around.
    EXPECT_EQ(shares_to_weight(1), 1u);
    EXPECT_EQ(shares_to_weight(1u << 30), 10000u);
}

TEST(CgroupConvert, BlkioWeightToIoWeight) {
    EXPECT_EQ(blkio_weight_to_io_weight(0), 0u);
    EXPECT_EQ(blkio_weight_to_io_weight(10), 1u);
    EXPECT_EQ(blkio_weight_to_io_weight(500), 4950u);
    EXPECT_EQ(blkio_weight_to_io_weight(1000), 10000u);
    EXPECT_EQ(blkio_weight_to_io_weight(5000), 10000u);
}

std::vector<std::string> lines(DeviceRule r) {
    auto l = v1_device_rule_lines(r);
    EXPECT_TRUE(l) << l.error().message();
    return l ? *l : std::vector<std::string>{};
}

TEST(CgroupConvert, V1DeviceRuleLines) {
    using V = std::vector<std::string>;
    EXPECT_EQ(lines({.allow = false, .type = 'a'}), V{"a"});
    EXPECT_EQ(lines({.allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rwm"}),
              V{"c 1:3 rwm"});
    EXPECT_EQ(lines({.allow = true, .type = 'c', .major = -1, .minor = -1, .access = "m"}),
              V{"c *:* m"});
    EXPECT_EQ(lines({.allow = true, .type = 'b', .major = 8, .minor = -1, .access = "r"}),
              V{"b 8:* r"});
    // "a" with anything narrower than *:* rwm would reset the whole list in the kernel.
    EXPECT_EQ(lines({.allow = false, .type = 'a', .major = -1, .minor = -1, .access = "w"}),
              (V{"c *:* w", "b *:* w"}));
    EXPECT_EQ(lines({.allow = true, .type = 'a', .major = 5, .minor = 1, .access = "rw"}),
              (V{"c 5:1 rw", "b 5:1 rw"}));
    EXPECT_FALSE(v1_device_rule_lines({.type = 'x'}));
    EXPECT_FALSE(v1_device_rule_lines({.type = 'c', .access = "rwx"}));
    EXPECT_FALSE(v1_device_rule_lines({.type = 'c', .major = -2}));
}

TEST(CgroupConvert, V1MemswOrder) {
    const KnobWrite lim100{"memory.limit_in_bytes", "100"};
    const KnobWrite sw200{"memory.memsw.limit_in_bytes", "200"};
    using W = std::vector<KnobWrite>;
    // From unlimited: the limit must come down before memsw can.
    EXPECT_EQ(v1_memory_limit_writes(100, 200, std::nullopt), (W{lim100, sw200}));
    // Growing past the current limit: memsw first, or the limit would exceed memsw.
    EXPECT_EQ(v1_memory_limit_writes(100, 200, 50), (W{sw200, lim100}));
    EXPECT_EQ(v1_memory_limit_writes(100, 200, 200), (W{sw200, lim100}));
    // Shrinking below the current limit: the limit first.
    EXPECT_EQ(v1_memory_limit_writes(100, 200, 300), (W{lim100, sw200}));
    // Back to unlimited: memsw first.
    EXPECT_EQ(v1_memory_limit_writes(-1, -1, 300),
              (W{{"memory.memsw.limit_in_bytes", "-1"}, {"memory.limit_in_bytes", "-1"}}));
    EXPECT_EQ(v1_memory_limit_writes(100, std::nullopt, 300), (W{lim100}));
    EXPECT_EQ(v1_memory_limit_writes(std::nullopt, 200, 300), (W{sw200}));
    EXPECT_TRUE(v1_memory_limit_writes(std::nullopt, std::nullopt, 300).empty());
}

std::string swap(std::optional<int64_t> limit, std::optional<int64_t> sw) {
    auto r = v2_swap_max(limit, sw);
    if (!r) return "error: " + r.error().message();
    return r->value_or("<unset>");
}

TEST(CgroupConvert, V2SwapMax) {
    EXPECT_EQ(swap(100, 300), "200");
    EXPECT_EQ(swap(100, 100), "0");  // memory+swap == memory: no swap at all
    EXPECT_EQ(swap(100, -1), "max");
    EXPECT_EQ(swap(-1, std::nullopt), "max");  // unlimited memory means unlimited swap too
    EXPECT_EQ(swap(-1, 0), "max");
    EXPECT_EQ(swap(100, std::nullopt), "<unset>");
    EXPECT_EQ(swap(100, 0), "<unset>");
    EXPECT_EQ(swap(std::nullopt, std::nullopt), "<unset>");
    EXPECT_NE(swap(200, 100).find("below"), std::string::npos);
    EXPECT_NE(swap(std::nullopt, 100).find("needs a memory limit"), std::string::npos);
    EXPECT_NE(swap(-1, 100).find("needs a memory limit"), std::string::npos);
}

TEST(CgroupConvert, V2CpuMax) {
    EXPECT_EQ(v2_cpu_max(50000, std::nullopt, ""), "50000 100000");
    EXPECT_EQ(v2_cpu_max(50000, 200000, "max 100000"), "50000 200000");
    EXPECT_EQ(v2_cpu_max(-1, std::nullopt, "50000 250000"), "max 250000");
    // A period-only update keeps the current quota.
    EXPECT_EQ(v2_cpu_max(std::nullopt, 50000, "20000 100000"), "20000 50000");
    EXPECT_EQ(v2_cpu_max(std::nullopt, 50000, "max 100000"), "max 50000");
    EXPECT_EQ(v2_limit(-1), "max");
    EXPECT_EQ(v2_limit(4096), "4096");
}

}  // namespace
}  // namespace mydocker::cgroups
