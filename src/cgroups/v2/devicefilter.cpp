#include "cgroups/v2/devicefilter.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstddef>
#include <cstring>

#include "sys/fd.h"
#include "sys/files.h"

namespace mydocker::cgroups {

namespace {

// Registers of the generated program. r1 holds the context on entry and is reused as
// scratch once the fields are loaded.
constexpr uint8_t kCtx = 1, kScratch = 1, kType = 3, kAccess = 4, kMajor = 5, kMinor = 6;
constexpr int32_t kAllAccess = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    bpf_insn i;
    std::memset(&i, 0, sizeof i);
    i.code = code;
    i.dst_reg = dst & 0xf;
    i.src_reg = src & 0xf;
    i.off = off;
    i.imm = imm;
    return i;
}

bpf_insn load_u32(uint8_t dst, uint8_t src, int16_t off) {
    return insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0);
}
bpf_insn mov32_reg(uint8_t dst, uint8_t src) {
    return insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0);
}
bpf_insn alu32_imm(uint8_t op, uint8_t dst, int32_t imm) {
    return insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn jmp_imm(uint8_t op, uint8_t dst, int32_t imm) {
    return insn(BPF_JMP | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn ret(int32_t value) {
    return insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, value);
}
bpf_insn exit_insn() {
    return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

sys::Result<int32_t> access_mask(const std::string& access) {
    if (access.empty()) return kAllAccess;
    int32_t mask = 0;
    for (char c : access) {
        switch (c) {
            case 'r':
                mask |= BPF_DEVCG_ACC_READ;
                break;
            case 'w':
                mask |= BPF_DEVCG_ACC_WRITE;
                break;
            case 'm':
                mask |= BPF_DEVCG_ACC_MKNOD;
                break;
            default:
                return sys::fail_invalid("linux.resources.devices: bad access \"" + access + "\"");
        }
    }
    return mask;
}

sys::Result<void> check_number(int64_t n, const char* what) {
    // Compared against a sign-extended 32-bit immediate: keep it non-negative.
    if (n < -1 || n > INT32_MAX)
        return sys::fail_invalid(std::string("linux.resources.devices: bad ") + what + " " +
                                 std::to_string(n));
    return {};
}

// Append the checks of one rule: fall through to "return verdict" when it matches, jump
// past the block when it does not. Returns true when the rule matches every request.
sys::Result<bool> emit_rule(const DeviceRule& r, std::vector<bpf_insn>& out) {
    int32_t type = 0;
    switch (r.type) {
        case 'a':
            break;
        case 'c':
            type = BPF_DEVCG_DEV_CHAR;
            break;
        case 'b':
            type = BPF_DEVCG_DEV_BLOCK;
            break;
        default:
            return sys::fail_invalid(std::string("linux.resources.devices: bad type \"") + r.type +
                                     "\"");
    }
    MD_TRY(check_number(r.major, "major"));
    MD_TRY(check_number(r.minor, "minor"));
    int32_t mask = MD_TRY(access_mask(r.access));

    std::vector<bpf_insn> block;
    std::vector<size_t> jumps;  // indexes whose offset must reach the end of the block
    auto jump = [&](bpf_insn j) {
        jumps.push_back(block.size());
        block.push_back(j);
    };
    if (type != 0) jump(jmp_imm(BPF_JNE, kType, type));
    if (mask != kAllAccess) {
        block.push_back(mov32_reg(kScratch, kAccess));
        if (r.allow) {
            // Allowed only if nothing outside the rule's access is requested.
            block.push_back(alu32_imm(BPF_AND, kScratch, ~mask & kAllAccess));
            jump(jmp_imm(BPF_JNE, kScratch, 0));
        } else {
            // Denied as soon as one requested access is in the rule's access.
            block.push_back(alu32_imm(BPF_AND, kScratch, mask));
            jump(jmp_imm(BPF_JEQ, kScratch, 0));
        }
    }
    if (r.major >= 0) jump(jmp_imm(BPF_JNE, kMajor, static_cast<int32_t>(r.major)));
    if (r.minor >= 0) jump(jmp_imm(BPF_JNE, kMinor, static_cast<int32_t>(r.minor)));
    block.push_back(ret(r.allow ? 1 : 0));
    block.push_back(exit_insn());
    for (size_t j : jumps) block[j].off = static_cast<int16_t>(block.size() - j - 1);
    out.insert(out.end(), block.begin(), block.end());
    return jumps.empty();
}

long bpf(int cmd, bpf_attr& attr) {
    return ::syscall(__NR_bpf, cmd, &attr, sizeof attr);
}

uint64_t ptr(const void* p) {
    return reinterpret_cast<uintptr_t>(p);
}

sys::Result<sys::UniqueFd> load_program(const std::vector<bpf_insn>& prog) {
    static const char license[] = "Apache";
    auto load = [&](char* log, uint32_t log_size) {
        bpf_attr a;
        std::memset(&a, 0, sizeof a);
        a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        a.insn_cnt = static_cast<uint32_t>(prog.size());
        a.insns = ptr(prog.data());
        a.license = ptr(license);
        if (log) {
            a.log_buf = ptr(log);
            a.log_size = log_size;
            a.log_level = 1;
        }
        return static_cast<int>(MD_RETRY(bpf(BPF_PROG_LOAD, a)));
    };
    int fd = load(nullptr, 0);
    if (fd >= 0) return sys::UniqueFd(fd);
    int err = errno;
    std::string what =
        "load device filter (bpf BPF_PROG_LOAD, " + std::to_string(prog.size()) + " insns)";
    if (err == EINVAL || err == EACCES) {
        // Load again with the verifier log so the error says which instruction it refused.
        std::string log(65536, '\0');
        int again = load(log.data(), static_cast<uint32_t>(log.size()));
        if (again >= 0) return sys::UniqueFd(again);
        log.resize(std::strlen(log.c_str()));
        while (!log.empty() && log.back() == '\n') log.pop_back();
        auto nl = log.rfind('\n');
        if (!log.empty())
            what += ": verifier: " + (nl == std::string::npos ? log : log.substr(nl + 1));
    }
    return sys::fail(sys::Error::from_errno(err, what));
}

sys::Result<uint32_t> program_id(int prog_fd) {
    bpf_prog_info info;
    std::memset(&info, 0, sizeof info);
    bpf_attr a;
    std::memset(&a, 0, sizeof a);
    a.info.bpf_fd = static_cast<uint32_t>(prog_fd);
    a.info.info_len = sizeof info;
    a.info.info = ptr(&info);
    if (MD_RETRY(bpf(BPF_OBJ_GET_INFO_BY_FD, a)) < 0)
        return sys::fail_errno("bpf BPF_OBJ_GET_INFO_BY_FD");
    return info.id;
}

sys::Result<std::vector<uint32_t>> attached_programs(int cgroup_fd, const std::string& dir) {
    std::vector<uint32_t> ids(16);
    for (;;) {
        bpf_attr a;
        std::memset(&a, 0, sizeof a);
        a.query.target_fd = static_cast<uint32_t>(cgroup_fd);
        a.query.attach_type = BPF_CGROUP_DEVICE;
        a.query.prog_ids = ptr(ids.data());
        a.query.prog_cnt = static_cast<uint32_t>(ids.size());
        if (MD_RETRY(bpf(BPF_PROG_QUERY, a)) == 0) {
            ids.resize(a.query.prog_cnt);
            return ids;
        }
        // ENOSPC: more programs than slots; prog_cnt now holds the real count.
        if (errno != ENOSPC || a.query.prog_cnt <= ids.size())
            return sys::fail_errno("query device filters of \"" + dir + "\" (bpf BPF_PROG_QUERY)");
        ids.resize(a.query.prog_cnt);
    }
}

}  // namespace

sys::Result<std::vector<bpf_insn>> build_device_filter(const std::vector<DeviceRule>& rules) {
    std::vector<bpf_insn> prog = {
        load_u32(2, kCtx, offsetof(bpf_cgroup_dev_ctx, access_type)),
        mov32_reg(kType, 2),
        alu32_imm(BPF_AND, kType, 0xffff),  // low 16 bits: BPF_DEVCG_DEV_*
        mov32_reg(kAccess, 2),
        alu32_imm(BPF_RSH, kAccess, 16),  // high 16 bits: BPF_DEVCG_ACC_*
        load_u32(kMajor, kCtx, offsetof(bpf_cgroup_dev_ctx, major)),
        load_u32(kMinor, kCtx, offsetof(bpf_cgroup_dev_ctx, minor)),
    };
    // Last rule first: the first block that matches returns, so the spec's last matching
    // rule decides. A catch-all ("a *:* rwm") matches everything: the rules before it can
    // never decide and the default is unreachable.
    for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
        bool catch_all = MD_TRY(emit_rule(*it, prog));
        if (catch_all) return prog;
    }
    prog.push_back(ret(1));
    prog.push_back(exit_insn());
    return prog;
}

sys::Result<void> attach_device_filter(const std::string& dir, const std::vector<bpf_insn>& prog) {
    auto cgroup = MD_TRY(sys::open_file(dir, O_RDONLY | O_DIRECTORY));
    auto fd = MD_TRY(load_program(prog));
    auto new_id = MD_TRY(program_id(fd.get()));
    bpf_attr a;
    std::memset(&a, 0, sizeof a);
    a.target_fd = static_cast<uint32_t>(cgroup.get());
    a.attach_bpf_fd = static_cast<uint32_t>(fd.get());
    a.attach_type = BPF_CGROUP_DEVICE;
    // ALLOW_MULTI: the programs of ancestors keep running too, and a later update can attach
    // its program next to this one before detaching it, leaving no unfiltered window.
    a.attach_flags = BPF_F_ALLOW_MULTI;
    if (MD_RETRY(bpf(BPF_PROG_ATTACH, a)) < 0)
        return sys::fail_errno("attach device filter to \"" + dir + "\" (bpf BPF_PROG_ATTACH)");
    auto ids = MD_TRY(attached_programs(cgroup.get(), dir));
    for (uint32_t id : ids) {
        if (id == new_id) continue;
        std::memset(&a, 0, sizeof a);
        a.prog_id = id;
        int old = static_cast<int>(MD_RETRY(bpf(BPF_PROG_GET_FD_BY_ID, a)));
        if (old < 0) {
            if (errno == ENOENT) continue;  // detached and freed meanwhile
            return sys::fail_errno("open device filter " + std::to_string(id) +
                                   " (bpf BPF_PROG_GET_FD_BY_ID)");
        }
        sys::UniqueFd old_fd(old);
        std::memset(&a, 0, sizeof a);
        a.target_fd = static_cast<uint32_t>(cgroup.get());
        a.attach_bpf_fd = static_cast<uint32_t>(old_fd.get());
        a.attach_type = BPF_CGROUP_DEVICE;
        if (MD_RETRY(bpf(BPF_PROG_DETACH, a)) < 0 && errno != ENOENT)
            return sys::fail_errno("detach old device filter " + std::to_string(id) + " from \"" +
                                   dir + "\" (bpf BPF_PROG_DETACH)");
    }
    return {};
}

}  // namespace mydocker::cgroups
