// Signal names <-> numbers for `kill` and stop signals: the spellings runc, Docker and
// kill(1) accept.
#include "sys/signals.h"

#include <signal.h>

#include <array>
#include <charconv>

namespace mydocker::sys {

namespace {

struct SignalName {
    std::string_view name;  // without "SIG"
    int number;
};

// The primary name of each standard signal comes first: signal_name() uses the first match.
const std::array<SignalName, 34> signals = {{
    {"HUP", SIGHUP},
    {"INT", SIGINT},
    {"QUIT", SIGQUIT},
    {"ILL", SIGILL},
    {"TRAP", SIGTRAP},
    {"ABRT", SIGABRT},
    {"BUS", SIGBUS},
    {"FPE", SIGFPE},
    {"KILL", SIGKILL},
    {"USR1", SIGUSR1},
    {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE},
    {"ALRM", SIGALRM},
    {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT},
    {"CHLD", SIGCHLD},
    {"CONT", SIGCONT},
    {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},
    {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU},
    {"URG", SIGURG},
    {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ},
    {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF},
    {"WINCH", SIGWINCH},
    {"IO", SIGIO},
    {"PWR", SIGPWR},
    {"SYS", SIGSYS},
    // Aliases kill(1) and Go's x/sys accept.
    {"IOT", SIGIOT},
    {"CLD", SIGCHLD},
    {"POLL", SIGPOLL},
}};

// kill -l shows the real-time signals as RTMIN+n up to half way, then as RTMAX-n.
constexpr int rt_half = 15;

char ascii_upper(char c) {
    return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (ascii_upper(a[i]) != ascii_upper(b[i])) return false;
    return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// A whole-string unsigned decimal, or -1.
int parse_decimal(std::string_view s) {
    int value = -1;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end != s.data() + s.size()) return -1;
    return value;
}

// "RTMIN", "RTMIN+3", "RTMAX", "RTMAX-2" (already without "SIG"), or -1. SIGRTMIN is
// glibc's (34: it keeps two for its threads), the number Docker and kill(1) use too.
int parse_realtime(std::string_view s) {
    const bool from_min = istarts_with(s, "RTMIN");
    if (!from_min && !istarts_with(s, "RTMAX")) return -1;
    std::string_view rest = s.substr(5);
    const int base = from_min ? SIGRTMIN : SIGRTMAX;
    if (rest.empty()) return base;
    if (rest[0] != (from_min ? '+' : '-') || rest.size() < 2 || rest[1] == '+' || rest[1] == '-')
        return -1;
    const int offset = parse_decimal(rest.substr(1));
    if (offset < 0 || offset > SIGRTMAX - SIGRTMIN) return -1;
    return from_min ? base + offset : base - offset;
}

}  // namespace

Result<int> parse_signal(std::string_view s) {
    auto unknown = [&] { return fail_invalid("unknown signal \"" + std::string(s) + "\""); };
    if (!s.empty() && s[0] >= '0' && s[0] <= '9') {
        // kill(2) takes 1.._NSIG-1; 0 only probes and is no signal to send.
        const int n = parse_decimal(s);
        if (n < 1 || n > SIGRTMAX) return unknown();
        return n;
    }
    std::string_view bare = s;
    if (istarts_with(bare, "SIG")) bare.remove_prefix(3);
    if (bare.empty()) return unknown();
    for (const auto& sig : signals)
        if (iequals(sig.name, bare)) return sig.number;
    if (int n = parse_realtime(bare); n > 0) return n;
    return unknown();
}

std::string signal_name(int sig) {
    for (const auto& entry : signals)
        if (entry.number == sig) return "SIG" + std::string(entry.name);
    if (sig == SIGRTMIN) return "SIGRTMIN";
    if (sig == SIGRTMAX) return "SIGRTMAX";
    if (sig > SIGRTMIN && sig <= SIGRTMIN + rt_half)
        return "SIGRTMIN+" + std::to_string(sig - SIGRTMIN);
    if (sig > SIGRTMIN + rt_half && sig < SIGRTMAX)
        return "SIGRTMAX-" + std::to_string(SIGRTMAX - sig);
    // 32 and 33 (glibc-internal) and anything else: the number, which parse_signal accepts.
    return std::to_string(sig);
}

}  // namespace mydocker::sys
