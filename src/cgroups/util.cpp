#include "cgroups/util.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <ctime>

#include "sys/files.h"

namespace mydocker::cgroups {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

std::optional<uint64_t> parse_u64(std::string_view s) {
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

void sleep_ms(int ms) {
    struct timespec ts {
        ms / 1000, static_cast<long>(ms % 1000) * 1000000L
    };
    while (::nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

long fs_magic(const std::string& path) {
    struct statfs st;
    if (::statfs(path.c_str(), &st) < 0) return 0;
    return static_cast<long>(st.f_type);
}

// Child directories of `dir` (cgroups are directories; knob files are skipped).
sys::Result<std::vector<std::string>> subdirs(const std::string& dir) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return sys::fail_errno("opendir \"" + dir + "\"");
    std::vector<std::string> out;
    while (struct dirent* e = ::readdir(d)) {
        std::string_view n = e->d_name;
        if (n == "." || n == "..") continue;
        bool directory = e->d_type == DT_DIR;
        if (e->d_type == DT_UNKNOWN) {
            struct stat st;
            directory = ::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                        S_ISDIR(st.st_mode);
        }
        if (directory) out.emplace_back(n);
    }
    ::closedir(d);
    return out;
}

using Clock = std::chrono::steady_clock;

// On a real cgroupfs rmdir drops the knob files with the directory; a fake cgroupfs (tests)
// holds regular files that must be unlinked first. Never done on a real cgroup filesystem.
void unlink_fake_knobs(const std::string& dir) {
    if (is_cgroup1_fs(dir) || is_cgroup2_fs(dir)) return;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return;
    while (struct dirent* e = ::readdir(d)) {
        struct stat st;
        if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
            ::unlinkat(::dirfd(d), e->d_name, 0);
    }
    ::closedir(d);
}

sys::Result<void> remove_tree_until(const std::string& dir, Clock::time_point deadline) {
    // The usual cgroup has no children and no tasks left: one rmdir, no directory walk.
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return {};
    for (int sleep = 1;; sleep = std::min(sleep * 2, 20)) {
        auto children = subdirs(dir);
        if (!children) {
            if (children.error().err() == ENOENT) return {};
            return sys::fail(std::move(children.error()));
        }
        for (const auto& c : *children) MD_TRY(remove_tree_until(dir + "/" + c, deadline));
        if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return {};
        int err = errno;
        if (err == ENOTEMPTY) {
            unlink_fake_knobs(dir);
            if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return {};
            err = errno;
        }
        // EBUSY: the kernel still counts tasks that are exiting, or a child cgroup appeared
        // between the walk and the rmdir. Both settle quickly; anything else is final.
        if ((err != EBUSY && err != ENOTEMPTY) || Clock::now() >= deadline)
            return sys::fail(sys::Error::from_errno(err, "rmdir \"" + dir + "\""));
        sleep_ms(sleep);
    }
}

}  // namespace

sys::Result<void> write_knob(const std::string& path, std::string_view value) {
    auto what = [&] { return "write \"" + std::string(value) + "\" to \"" + path + "\""; };
    // O_TRUNC is a no-op on cgroupfs but makes a fake knob (a regular file) read back just
    // the last value, as the kernel's does. No O_CREAT: a missing knob is an error.
    int fd = MD_RETRY(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
    if (fd < 0) return sys::fail_errno(what());
    sys::UniqueFd guard(fd);
    // One write(2): the kernel parses each write as one complete value.
    ssize_t n = MD_RETRY(::write(fd, value.data(), value.size()));
    if (n < 0) return sys::fail_errno(what());
    return {};
}

sys::Result<void> write_knob_values(const std::string& path, const std::vector<std::string_view>& values) {
    if (values.size() == 1) return write_knob(path, values[0]);
    std::string dir = path.substr(0, path.rfind('/'));
    // A fake knob (a regular file, tests) must read back only the last value: reopen with
    // O_TRUNC for each, as write_knob does.
    long magic = values.empty() ? 0 : fs_magic(dir);
    if (magic != CGROUP_SUPER_MAGIC && magic != CGROUP2_SUPER_MAGIC) {
        for (auto v : values) MD_TRY(write_knob(path, v));
        return {};
    }
    int fd = MD_RETRY(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (fd < 0) return sys::fail_errno("write \"" + std::string(values[0]) + "\" to \"" + path + "\"");
    sys::UniqueFd guard(fd);
    for (auto v : values) {
        if (MD_RETRY(::write(fd, v.data(), v.size())) < 0)
            return sys::fail_errno("write \"" + std::string(v) + "\" to \"" + path + "\"");
    }
    return {};
}

sys::Result<std::string> read_knob(const std::string& path) {
    auto fd = sys::open_file(path, O_RDONLY);
    if (!fd) return sys::fail(sys::Error::from_errno(fd.error().err(), "read \"" + path + "\""));
    auto data = sys::read_fd(fd->get());
    if (!data)
        return sys::fail(sys::Error::from_errno(data.error().err(), "read \"" + path + "\""));
    return std::string(trim(*data));
}

sys::Result<std::optional<uint64_t>> read_knob_u64(const std::string& path) {
    auto s = MD_TRY(read_knob(path));
    if (s == "max" || s == "-1") return std::optional<uint64_t>();
    auto v = parse_u64(s);
    if (!v) return sys::fail_invalid("parse \"" + path + "\": unexpected value \"" + s + "\"");
    return v;
}

std::optional<uint64_t> keyed_value(std::string_view content, std::string_view key) {
    while (!content.empty()) {
        auto eol = content.find('\n');
        auto line = content.substr(0, eol);
        content = eol == std::string_view::npos ? std::string_view() : content.substr(eol + 1);
        auto sp = line.find(' ');
        if (sp == std::string_view::npos || line.substr(0, sp) != key) continue;
        return parse_u64(trim(line.substr(sp + 1)));
    }
    return std::nullopt;
}

bool is_cgroup2_fs(const std::string& path) {
    return fs_magic(path) == CGROUP2_SUPER_MAGIC;
}

bool is_cgroup1_fs(const std::string& path) {
    return fs_magic(path) == CGROUP_SUPER_MAGIC;
}

sys::Result<std::vector<std::string>> split_cgroup_path(const std::string& path) {
    std::vector<std::string> parts;
    std::string_view v(path);
    while (!v.empty()) {
        auto pos = v.find('/');
        auto part = v.substr(0, pos);
        if (part == "..")
            return sys::fail_invalid("cgroup path \"" + path + "\": \"..\" is not allowed");
        if (!part.empty() && part != ".") parts.emplace_back(part);
        if (pos == std::string_view::npos) break;
        v.remove_prefix(pos + 1);
    }
    return parts;
}

bool poll_until(const std::function<bool()>& done, int timeout_ms) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    for (int sleep = 1;; sleep = std::min(sleep * 2, 20)) {
        if (done()) return true;
        if (Clock::now() >= deadline) return done();
        sleep_ms(sleep);
    }
}

sys::Result<void> collect_pids(const std::string& dir, std::vector<pid_t>& out) {
    auto procs = MD_TRY(read_knob(dir + "/cgroup.procs"));
    std::string_view v(procs);
    while (!v.empty()) {
        auto eol = v.find('\n');
        auto line = trim(v.substr(0, eol));
        v = eol == std::string_view::npos ? std::string_view() : v.substr(eol + 1);
        if (line.empty()) continue;
        auto pid = parse_u64(line);
        if (!pid)
            return sys::fail_invalid("parse \"" + dir + "/cgroup.procs\": bad pid \"" +
                                     std::string(line) + "\"");
        out.push_back(static_cast<pid_t>(*pid));
    }
    auto children = MD_TRY(subdirs(dir));
    for (const auto& c : children) {
        // A child cgroup removed while we walk is not an error: its tasks are gone too.
        auto r = collect_pids(dir + "/" + c, out);
        if (!r && r.error().err() != ENOENT) return r;
    }
    return {};
}

sys::Result<void> remove_cgroup_tree(const std::string& dir, int busy_timeout_ms) {
    return remove_tree_until(dir, Clock::now() + std::chrono::milliseconds(busy_timeout_ms));
}

}  // namespace mydocker::cgroups
