// The v2 device filter program: its shape, and its verdicts run through a small interpreter
// of the instructions the builder emits (the kernel itself is exercised in v2_real_test).
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>

#include "cgroups/v2/devicefilter.h"

namespace mydocker::cgroups {
namespace {

constexpr size_t kPrologue = 7;

// Runs the subset of eBPF the builder uses on one request. Fails the test on anything else.
int run(const std::vector<bpf_insn>& prog, char type, uint32_t major, uint32_t minor,
        const char* access) {
    bpf_cgroup_dev_ctx ctx{};
    uint32_t acc = 0;
    for (const char* a = access; *a; ++a)
        acc |= *a == 'r'   ? BPF_DEVCG_ACC_READ
               : *a == 'w' ? BPF_DEVCG_ACC_WRITE
                           : BPF_DEVCG_ACC_MKNOD;
    ctx.access_type = (acc << 16) | (type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
    ctx.major = major;
    ctx.minor = minor;
    uint64_t reg[11] = {};
    for (size_t pc = 0; pc < prog.size(); ++pc) {
        const bpf_insn& i = prog[pc];
        uint64_t imm = static_cast<uint64_t>(static_cast<int64_t>(i.imm));
        switch (i.code) {
            case BPF_LDX | BPF_MEM | BPF_W: {
                EXPECT_EQ(i.src_reg, 1) << "loads only from the context";
                uint32_t v;
                std::memcpy(&v, reinterpret_cast<const char*>(&ctx) + i.off, sizeof v);
                reg[i.dst_reg] = v;
                break;
            }
            case BPF_ALU | BPF_MOV | BPF_X:
                reg[i.dst_reg] = static_cast<uint32_t>(reg[i.src_reg]);
                break;
            case BPF_ALU | BPF_AND | BPF_K:
                reg[i.dst_reg] = static_cast<uint32_t>(reg[i.dst_reg] & imm);
                break;
            case BPF_ALU | BPF_RSH | BPF_K:
                reg[i.dst_reg] = static_cast<uint32_t>(reg[i.dst_reg]) >> i.imm;
                break;
            case BPF_ALU64 | BPF_MOV | BPF_K:
                reg[i.dst_reg] = imm;
                break;
            case BPF_JMP | BPF_JNE | BPF_K:
                if (reg[i.dst_reg] != imm) pc += i.off;
                break;
            case BPF_JMP | BPF_JEQ | BPF_K:
                if (reg[i.dst_reg] == imm) pc += i.off;
                break;
            case BPF_JMP | BPF_EXIT:
                return static_cast<int>(reg[0]);
            default:
                ADD_FAILURE() << "unexpected opcode " << int(i.code) << " at " << pc;
                return -1;
        }
    }
    ADD_FAILURE() << "ran off the end of the program";
    return -1;
}

std::vector<bpf_insn> build(const std::vector<DeviceRule>& rules) {
    auto p = build_device_filter(rules);
    EXPECT_TRUE(p) << p.error().message();
    return p ? *p : std::vector<bpf_insn>{};
}

bool is_exit(const bpf_insn& i) {
    return i.code == (BPF_JMP | BPF_EXIT);
}

TEST(DeviceFilter, EmptyRulesAllow) {
    auto p = build({});
    ASSERT_EQ(p.size(), kPrologue + 2);
    EXPECT_TRUE(is_exit(p.back()));
    EXPECT_EQ(p[p.size() - 2].imm, 1);
    EXPECT_EQ(run(p, 'c', 1, 3, "rw"), 1);
}

TEST(DeviceFilter, DenyAllIsTheDefault) {
    auto p = build({{.allow = false, .type = 'a'}});
    ASSERT_EQ(p.size(), kPrologue + 2) << "a catch-all needs no checks and ends the program";
    EXPECT_EQ(p[kPrologue].imm, 0);
    EXPECT_EQ(run(p, 'c', 1, 3, "r"), 0);
}

TEST(DeviceFilter, ShapeOfOneDevice) {
    auto p = build(
        {{.allow = false, .type = 'a'}, {.allow = true, .type = 'c', .major = 1, .minor = 5}});
    // prologue, [type, major, minor checks, r0 = 1, exit], [r0 = 0, exit]
    ASSERT_EQ(p.size(), kPrologue + 5 + 2);
    const bpf_insn* b = &p[kPrologue];
    EXPECT_EQ(b[0].code, BPF_JMP | BPF_JNE | BPF_K);
    EXPECT_EQ(b[0].imm, BPF_DEVCG_DEV_CHAR);
    EXPECT_EQ(b[0].off, 4) << "a failed check skips the rest of the block";
    EXPECT_EQ(b[1].imm, 1);
    EXPECT_EQ(b[1].off, 3);
    EXPECT_EQ(b[2].imm, 5);
    EXPECT_EQ(b[2].off, 2);
    EXPECT_EQ(b[3].imm, 1);
    EXPECT_TRUE(is_exit(b[4]));
    EXPECT_EQ(p[p.size() - 2].imm, 0);
    EXPECT_TRUE(is_exit(p.back()));
}

TEST(DeviceFilter, LastMatchingRuleWins) {
    std::vector<DeviceRule> rules = {
        {.allow = false, .type = 'a'},
        {.allow = true,
         .type = 'c',
         .major = 1,
         .minor = -1,
         .access = "rwm"},  // all of mem devices
        {.allow = false,
         .type = 'c',
         .major = 1,
         .minor = 3,
         .access = "rwm"},  // but not /dev/null
        {.allow = true, .type = 'c', .major = 136, .minor = -1, .access = "rw"},
        {.allow = true, .type = 'b', .major = 8, .minor = 0, .access = "r"},
    };
    auto p = build(rules);
    EXPECT_EQ(run(p, 'c', 1, 5, "rw"), 1);  // /dev/zero
    EXPECT_EQ(run(p, 'c', 1, 3, "w"), 0);   // /dev/null denied by the later rule
    EXPECT_EQ(run(p, 'c', 136, 2, "rw"), 1);
    EXPECT_EQ(run(p, 'c', 136, 2, "m"), 0);  // access outside the rule
    EXPECT_EQ(run(p, 'b', 8, 0, "r"), 1);
    EXPECT_EQ(run(p, 'b', 8, 0, "rw"), 0);  // an allow rule must grant every requested access
    EXPECT_EQ(run(p, 'c', 8, 0, "r"), 0);   // type matters
    EXPECT_EQ(run(p, 'c', 10, 200, "rw"), 0);
}

TEST(DeviceFilter, DenyRuleRefusesAnyOverlap) {
    // No deny-all: unmatched requests fall through to "allow" (the parent's policy).
    auto p = build({{.allow = false, .type = 'c', .major = 1, .minor = 3, .access = "w"}});
    EXPECT_EQ(run(p, 'c', 1, 3, "rw"), 0);
    EXPECT_EQ(run(p, 'c', 1, 3, "r"), 1);
    EXPECT_EQ(run(p, 'c', 1, 5, "rw"), 1);
}

TEST(DeviceFilter, AllowAllAfterDenies) {
    auto p = build(
        {{.allow = false, .type = 'c', .major = 1, .minor = 3}, {.allow = true, .type = 'a'}});
    ASSERT_EQ(p.size(), kPrologue + 2) << "the final allow-all shadows every earlier rule";
    EXPECT_EQ(run(p, 'c', 1, 3, "w"), 1);
}

TEST(DeviceFilter, RejectsBadRules) {
    EXPECT_FALSE(build_device_filter({{.allow = true, .type = 'x'}}));
    EXPECT_FALSE(build_device_filter({{.allow = true, .type = 'c', .access = "rwq"}}));
    EXPECT_FALSE(build_device_filter({{.allow = true, .type = 'c', .major = -5}}));
    EXPECT_FALSE(build_device_filter({{.allow = true, .type = 'c', .minor = int64_t{1} << 40}}));
}

}  // namespace
}  // namespace mydocker::cgroups
