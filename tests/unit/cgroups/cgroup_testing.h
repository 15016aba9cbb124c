// Test helpers for the cgroup drivers: a fake cgroupfs in a temp dir, and a forked child
// that reports from inside a cgroup whether it may open devices.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "sys/files.h"
#include "sys/log.h"

namespace mydocker::cgroups::testing {

/// A temp dir filled like cgroupfs: knob files are plain files the test creates.
class FakeCgroupfs {
  public:
    FakeCgroupfs() {
        // tmpfs when there is one: dozens of tiny files per test, nothing worth a disk.
        std::string tmpl = sys::path_exists("/dev/shm") ? "/dev/shm/mydocker-cgfake-XXXXXX"
                                                        : "/tmp/mydocker-cgfake-XXXXXX";
        if (::mkdtemp(tmpl.data())) root_ = tmpl;
    }
    ~FakeCgroupfs() {
        if (!root_.empty()) (void)sys::remove_all(root_);
    }
    FakeCgroupfs(const FakeCgroupfs&) = delete;
    FakeCgroupfs& operator=(const FakeCgroupfs&) = delete;

    const std::string& root() const { return root_; }
    std::string path(const std::string& rel) const { return sys::path_join(root_, rel); }
    /// Create the knob `rel` (and its directories) holding `content`.
    void file(const std::string& rel, const std::string& content = "") const {
        std::string p = path(rel);
        ASSERT_TRUE(sys::mkdir_all(p.substr(0, p.rfind('/'))));
        ASSERT_TRUE(sys::write_file(p, content));
    }
    void dir(const std::string& rel) const { ASSERT_TRUE(sys::mkdir_all(path(rel))); }
    /// The content of `rel`, or "<missing>".
    std::string read(const std::string& rel) const {
        auto r = sys::read_file(path(rel));
        return r ? *r : "<missing>";
    }
    bool exists(const std::string& rel) const { return sys::path_exists(path(rel)); }

  private:
    std::string root_;
};

/// A logger writing to a temp file, so tests can assert on warnings.
class CapturedLog {
  public:
    CapturedLog() {
        char tmpl[] = "/tmp/mydocker-cglog-XXXXXX";
        int fd = ::mkstemp(tmpl);
        path_ = tmpl;
        logger_ = sys::Logger(sys::UniqueFd(fd), sys::LogFormat::text, sys::LogLevel::debug);
    }
    ~CapturedLog() { ::unlink(path_.c_str()); }
    const sys::Logger& logger() const { return logger_; }
    std::string text() const {
        auto r = sys::read_file(path_);
        return r ? *r : "";
    }

  private:
    std::string path_;
    sys::Logger logger_;
};

/// A forked child that blocks reading commands: 'o' makes it try to open /dev/null for
/// writing and /dev/zero for reading and reply with both errnos (0 = opened).
class Child {
  public:
    Child() {
        int cmd[2], reply[2];
        if (::pipe2(cmd, O_CLOEXEC) < 0 || ::pipe2(reply, O_CLOEXEC) < 0) return;
        pid_ = ::fork();
        if (pid_ == 0) {
            ::close(cmd[1]);
            ::close(reply[0]);
            char c;
            // Only async-signal-safe calls between fork and _exit.
            while (::read(cmd[0], &c, 1) == 1) {
                int res[2] = {0, 0};
                const char* paths[2] = {"/dev/null", "/dev/zero"};
                const int flags[2] = {O_WRONLY, O_RDONLY};
                for (int i = 0; i < 2; ++i) {
                    int fd = ::open(paths[i], flags[i] | O_CLOEXEC);
                    if (fd < 0)
                        res[i] = errno;
                    else
                        ::close(fd);
                }
                if (::write(reply[1], res, sizeof res) != sizeof res) ::_exit(1);
            }
            ::_exit(0);
        }
        ::close(cmd[0]);
        ::close(reply[1]);
        cmd_ = cmd[1];
        reply_ = reply[0];
    }
    ~Child() { kill_and_reap(); }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    pid_t pid() const { return pid_; }
    /// {errno of opening /dev/null for writing, errno of opening /dev/zero}; -1 on failure.
    std::pair<int, int> try_opens() const {
        int res[2] = {-1, -1};
        if (::write(cmd_, "o", 1) != 1 || ::read(reply_, res, sizeof res) != sizeof res)
            return {-1, -1};
        return {res[0], res[1]};
    }
    /// SIGKILL and reap our own child (never any other process).
    void kill_and_reap() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
            pid_ = -1;
        }
        if (cmd_ >= 0) ::close(cmd_);
        if (reply_ >= 0) ::close(reply_);
        cmd_ = reply_ = -1;
    }

  private:
    pid_t pid_ = -1;
    int cmd_ = -1, reply_ = -1;
};

/// A cgroup name no other test run uses: "/mydocker-test-<pid>-<n>".
inline std::string unique_cgroup_path() {
    static int n = 0;
    return "/mydocker-test-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
}

}  // namespace mydocker::cgroups::testing
