// Capabilities: the name table and the two init-stage steps (bounding set, then capset +
// ambient). The apply functions run between clone() and execve(): they throw nothing, touch
// no logger and allocate only to build an error message.
#include "runtime/capabilities.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdint>

namespace mydocker::runtime {

namespace {

// Indexed by capability number (include/uapi/linux/capability.h).
constexpr std::array<std::string_view, 41> cap_names = {
    "CAP_CHOWN",               // 0
    "CAP_DAC_OVERRIDE",        // 1
    "CAP_DAC_READ_SEARCH",     // 2
    "CAP_FOWNER",              // 3
    "CAP_FSETID",              // 4
    "CAP_KILL",                // 5
    "CAP_SETGID",              // 6
    "CAP_SETUID",              // 7
    "CAP_SETPCAP",             // 8
    "CAP_LINUX_IMMUTABLE",     // 9
    "CAP_NET_BIND_SERVICE",    // 10
    "CAP_NET_BROADCAST",       // 11
    "CAP_NET_ADMIN",           // 12
    "CAP_NET_RAW",             // 13
    "CAP_IPC_LOCK",            // 14
    "CAP_IPC_OWNER",           // 15
    "CAP_SYS_MODULE",          // 16
    "CAP_SYS_RAWIO",           // 17
    "CAP_SYS_CHROOT",          // 18
    "CAP_SYS_PTRACE",          // 19
    "CAP_SYS_PACCT",           // 20
    "CAP_SYS_ADMIN",           // 21
    "CAP_SYS_BOOT",            // 22
    "CAP_SYS_NICE",            // 23
    "CAP_SYS_RESOURCE",        // 24
    "CAP_SYS_TIME",            // 25
    "CAP_SYS_TTY_CONFIG",      // 26
    "CAP_MKNOD",               // 27
    "CAP_LEASE",               // 28
    "CAP_AUDIT_WRITE",         // 29
    "CAP_AUDIT_CONTROL",       // 30
    "CAP_SETFCAP",             // 31
    "CAP_MAC_OVERRIDE",        // 32
    "CAP_MAC_ADMIN",           // 33
    "CAP_SYSLOG",              // 34
    "CAP_WAKE_ALARM",          // 35
    "CAP_BLOCK_SUSPEND",       // 36
    "CAP_AUDIT_READ",          // 37
    "CAP_PERFMON",             // 38
    "CAP_BPF",                 // 39
    "CAP_CHECKPOINT_RESTORE",  // 40
};

// Our masks are 64 bits wide: capset(2) v3 carries two 32-bit words, so no kernel can go
// beyond 63 without a new ABI.
constexpr int max_mask_cap = 63;

char ascii_upper(char c) {
    return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (ascii_upper(a[i]) != ascii_upper(b[i])) return false;
    return true;
}

uint64_t bit(int cap) {
    return uint64_t{1} << cap;
}

// Reads /proc/sys/kernel/cap_last_cap; when /proc is not there (an init stage after
// pivot_root into a rootfs without /proc) asks the kernel instead: PR_CAPBSET_READ fails
// with EINVAL exactly for numbers above the last capability.
int read_last_capability() {
    int fd = ::open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        char buf[16];
        ssize_t n;
        do {
            n = ::read(fd, buf, sizeof buf);
        } while (n < 0 && errno == EINTR);
        ::close(fd);
        int value = -1;
        if (n > 0) {
            auto [end, ec] = std::from_chars(buf, buf + n, value);
            if (ec == std::errc() && value >= 0) return value > max_mask_cap ? max_mask_cap : value;
        }
    }
    int last = 0;
    while (last < max_mask_cap && ::prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0) ++last;
    return last;
}

// The mask of a set's names; caps this kernel lacks are left out (the runtime logs them
// at debug before clone, see unsupported_capabilities()).
sys::Result<uint64_t> mask_of(const std::vector<std::string>& names, std::string_view set) {
    uint64_t mask = 0;
    const int last = last_capability();
    for (const auto& name : names) {
        auto cap = capability_from_name(name);
        if (!cap) return std::unexpected(std::move(cap.error()).wrap(set));
        if (*cap <= last) mask |= bit(*cap);
    }
    return mask;
}

// The lowest capability in `mask`, or -1.
int first_cap(uint64_t mask) {
    return mask == 0 ? -1 : __builtin_ctzll(mask);
}

uint64_t join_words(uint32_t lo, uint32_t hi) {
    return uint64_t{lo} | (uint64_t{hi} << 32);
}

// capset(2) says only EPERM; work out which capability broke which rule, so the user
// learns what to change in config.json rather than just "Operation not permitted".
std::string explain_capset_failure(uint64_t eff, uint64_t prm, uint64_t inh) {
    if (int c = first_cap(eff & ~prm); c >= 0)
        return "effective capability \"" + capability_name(c) + "\" is not in the permitted set";

    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct cur[2] = {};
    if (::syscall(SYS_capget, &hdr, cur) < 0) return "set capabilities";
    const uint64_t cur_prm = join_words(cur[0].permitted, cur[1].permitted);
    const uint64_t cur_inh = join_words(cur[0].inheritable, cur[1].inheritable);
    const uint64_t cur_eff = join_words(cur[0].effective, cur[1].effective);

    if (int c = first_cap(prm & ~cur_prm); c >= 0)
        return "permitted capability \"" + capability_name(c) + "\" is not held by the runtime";

    uint64_t bounding = 0;
    for (int c = 0; c <= last_capability(); ++c)
        if (::prctl(PR_CAPBSET_READ, c, 0, 0, 0) > 0) bounding |= bit(c);
    if (int c = first_cap(inh & ~(cur_inh | bounding)); c >= 0)
        return "inheritable capability \"" + capability_name(c) + "\" is not in the bounding set";
    // Without CAP_SETPCAP a process may only add inheritable caps it has permitted.
    if (!(cur_eff & bit(CAP_SETPCAP)))
        if (int c = first_cap(inh & ~(cur_inh | cur_prm)); c >= 0)
            return "inheritable capability \"" + capability_name(c) +
                   "\" is not permitted (and CAP_SETPCAP is not effective)";
    return "set capabilities";
}

}  // namespace

sys::Result<int> capability_from_name(std::string_view name) {
    std::string_view bare = name;
    if (bare.size() >= 4 && iequals(bare.substr(0, 4), "CAP_")) bare.remove_prefix(4);
    for (size_t i = 0; i < cap_names.size(); ++i)
        if (iequals(cap_names[i].substr(4), bare)) return static_cast<int>(i);
    return sys::fail_invalid("unknown capability \"" + std::string(name) + "\"");
}

std::string capability_name(int cap) {
    if (cap >= 0 && static_cast<size_t>(cap) < cap_names.size())
        return std::string(cap_names[static_cast<size_t>(cap)]);
    return "CAP_" + std::to_string(cap);
}

int last_capability() {
    // Read once: the value cannot change while we run, and the init stage may no longer
    // see the host's /proc.
    static const int last = read_last_capability();
    return last;
}

const std::vector<std::string>& default_capabilities() {
    // Docker's default set (moby oci/caps/defaults.go), in Docker's order.
    static const std::vector<std::string> caps = {
        "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
        "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
        "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
        "CAP_KILL",    "CAP_AUDIT_WRITE",
    };
    return caps;
}

std::vector<std::string> drop_ungrantable(Capabilities& caps) {
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct cur[2] = {};
    if (::syscall(SYS_capget, &hdr, cur) < 0) return {};
    uint64_t held = join_words(cur[0].permitted, cur[1].permitted);
    const int last = last_capability();
    for (int c = 0; c <= last && c <= max_mask_cap; ++c)
        if (::prctl(PR_CAPBSET_READ, c, 0, 0, 0) <= 0) held &= ~bit(c);
    std::vector<std::string> dropped;
    uint64_t reported = 0;
    for (auto* set : {&caps.bounding, &caps.effective, &caps.inheritable, &caps.permitted, &caps.ambient}) {
        std::erase_if(*set, [&](const std::string& name) {
            auto cap = capability_from_name(name);
            // Unknown names fail validation elsewhere; caps past this kernel are skipped.
            if (!cap || *cap > last || *cap > max_mask_cap || (held & bit(*cap))) return false;
            if (!(reported & bit(*cap))) {
                reported |= bit(*cap);
                dropped.push_back(capability_name(*cap));
            }
            return true;
        });
    }
    return dropped;
}

void warn_ungrantable(Capabilities& caps, const sys::Logger& log) {
    for (const auto& name : drop_ungrantable(caps))
        log.warn("process.capabilities: \"" + name +
                 "\" cannot be granted (the runtime does not hold it); the process runs without it");
}

std::vector<std::string> unsupported_capabilities(const Capabilities& caps) {
    std::vector<std::string> out;
    uint64_t seen = 0;  // by number, so "CAP_BPF" and "bpf" are reported once
    const int last = last_capability();
    for (const auto* set :
         {&caps.bounding, &caps.effective, &caps.inheritable, &caps.permitted, &caps.ambient}) {
        for (const auto& name : *set) {
            auto cap = capability_from_name(name);
            if (!cap || *cap <= last) continue;
            if (*cap <= max_mask_cap) {
                if (seen & bit(*cap)) continue;
                seen |= bit(*cap);
            }
            out.push_back(capability_name(*cap));
        }
    }
    return out;
}

sys::Result<void> drop_bounding_set(const Capabilities& caps) {
    const uint64_t keep = MD_TRY(mask_of(caps.bounding, "bounding"));
    for (int cap = 0; cap <= last_capability(); ++cap) {
        if (keep & bit(cap)) continue;
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
            return sys::fail_errno("drop capability \"" + capability_name(cap) +
                                   "\" from the bounding set");
    }
    return {};
}

sys::Result<void> apply_capability_sets(const Capabilities& caps) {
    const uint64_t eff = MD_TRY(mask_of(caps.effective, "effective"));
    const uint64_t prm = MD_TRY(mask_of(caps.permitted, "permitted"));
    // Only what the spec lists: a default inheritable set would let a file-capable binary
    // in the image gain capabilities across execve (CVE-2022-29162).
    const uint64_t inh = MD_TRY(mask_of(caps.inheritable, "inheritable"));
    const uint64_t amb = MD_TRY(mask_of(caps.ambient, "ambient"));

    // Raw capset(2) rather than libcap: one syscall, no library state to set up.
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    data[0].effective = static_cast<uint32_t>(eff);
    data[1].effective = static_cast<uint32_t>(eff >> 32);
    data[0].permitted = static_cast<uint32_t>(prm);
    data[1].permitted = static_cast<uint32_t>(prm >> 32);
    data[0].inheritable = static_cast<uint32_t>(inh);
    data[1].inheritable = static_cast<uint32_t>(inh >> 32);
    if (::syscall(SYS_capset, &hdr, data) < 0) {
        const int err = errno;
        std::string what =
            err == EPERM ? explain_capset_failure(eff, prm, inh) : "set capabilities";
        return sys::fail(sys::Error::from_errno(err, std::move(what)));
    }

    // Ambient capabilities appeared in Linux 4.3; on an older kernel CLEAR_ALL fails with
    // EINVAL, which only matters when the spec asks for ambient capabilities.
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && (errno != EINVAL || amb))
        return sys::fail_errno("clear the ambient capability set");
    for (int cap = 0; cap <= last_capability(); ++cap) {
        if (!(amb & bit(cap))) continue;
        // The kernel refuses (EPERM) a cap that is not both permitted and inheritable. runc
        // warns and goes on, and its default spec lists ambient caps without inheritable
        // ones, so such a cap is skipped rather than failing the container.
        if (!(prm & inh & bit(cap))) continue;
        if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
            return sys::fail_errno("raise ambient capability \"" + capability_name(cap) +
                                   "\" (it must also be permitted and inheritable)");
    }
    return {};
}

}  // namespace mydocker::runtime
