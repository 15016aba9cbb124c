// read(): `mydocker logs` over a json-file log, with --tail, --since, --until, -t and -f.
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "engine/logs/log_time.h"
#include "engine/logs/logs.h"
#include "sys/files.h"

namespace mydocker::engine::logs {

namespace {

using std::chrono::system_clock;

constexpr size_t kChunk = 64 * 1024;
// How long a follower sleeps at most between checks of running(): an exit is noticed this fast
// even when inotify is unavailable or the last write raised no event.
constexpr int kPollMs = 100;

// Output to the two fds, batched, in record order: a change of fd first flushes what the other
// one has, so a terminal behind both shows stdout and stderr lines in the order they were logged.
class Output {
  public:
    Output(int out_fd, int err_fd) : out_fd_(out_fd), err_fd_(err_fd) {}

    sys::Result<void> put(Stream s, std::string_view prefix, std::string_view text) {
        int fd = s == Stream::stdout_ ? out_fd_ : err_fd_;
        if (fd != buf_fd_) {
            MD_TRY(flush());
            buf_fd_ = fd;
        }
        buf_.append(prefix);
        buf_.append(text);
        if (buf_.size() >= kChunk) MD_TRY(flush());
        return {};
    }

    sys::Result<void> flush() {
        if (buf_.empty()) return {};
        auto r = sys::write_all(buf_fd_, buf_);
        buf_.clear();
        return r;
    }

  private:
    int out_fd_, err_fd_;
    int buf_fd_ = -1;
    std::string buf_;
};

// Offset of the first of the last `n` complete records (lines ending in '\n') before `size`.
// Reads backwards in chunks, so a tail of a large log costs what it prints.
sys::Result<off_t> tail_start(int fd, off_t size, size_t n) {
    // The (n+1)-th '\n' from the end ends the record just before the ones wanted.
    size_t newlines = 0;
    std::string buf(kChunk, '\0');
    off_t end = size;
    while (end > 0) {
        off_t begin = end > static_cast<off_t>(kChunk) ? end - static_cast<off_t>(kChunk) : 0;
        size_t len = static_cast<size_t>(end - begin);
        ssize_t got = MD_RETRY(::pread(fd, buf.data(), len, begin));
        if (got < 0) return sys::fail_errno("read log");
        if (static_cast<size_t>(got) < len) len = static_cast<size_t>(got);  // truncated under us
        for (size_t i = len; i-- > 0;) {
            if (buf[i] == '\n' && ++newlines == n + 1) return begin + static_cast<off_t>(i) + 1;
        }
        end = begin;
    }
    return 0;
}

// Wakes a follower when the file (or, with `events` IN_CREATE | IN_MOVED_TO, the directory)
// changes, at the latest after kPollMs.
class ChangeWaiter {
  public:
    explicit ChangeWaiter(const std::string& path, uint32_t events = IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB) {
        int fd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (fd < 0) return;  // fall back to the bounded sleep
        fd_.reset(fd);
        if (::inotify_add_watch(fd, path.c_str(), events) < 0) fd_.reset();
    }

    void wait() {
        struct pollfd p {
            fd_.get(), POLLIN, 0
        };
        int rc = ::poll(fd_ ? &p : nullptr, fd_ ? 1 : 0, kPollMs);
        if (rc > 0 && fd_) {
            char events[4096];
            while (::read(fd_.get(), events, sizeof events) > 0) {
            }
        }
    }

  private:
    sys::UniqueFd fd_;
};

class Copier {
  public:
    Copier(const ReadOptions& opts, int out_fd, int err_fd) : opts_(opts), out_(out_fd, err_fd) {}

    /// Copy each complete line of `data` (appended to what is carried over); returns false once
    /// a record after --until ends the copy.
    sys::Result<bool> feed(std::string_view data) {
        carry_.append(data);
        std::string_view rest(carry_);
        bool go_on = true;
        for (auto nl = rest.find('\n'); nl != std::string_view::npos; nl = rest.find('\n')) {
            go_on = MD_TRY(record(rest.substr(0, nl)));
            rest.remove_prefix(nl + 1);
            if (!go_on) break;
        }
        carry_.erase(0, carry_.size() - rest.size());
        return go_on;
    }

    sys::Result<void> flush() { return out_.flush(); }

  private:
    sys::Result<bool> record(std::string_view line) {
        if (line.empty()) return true;
        auto j = nlohmann::json::parse(line, nullptr, false);
        // A line that is not a record (a crash cut it short) is skipped, as docker does.
        if (j.is_discarded() || !j.is_object()) return true;
        auto log_it = j.find("log");
        auto stream_it = j.find("stream");
        if (log_it == j.end() || !log_it->is_string()) return true;
        Stream s = Stream::stdout_;
        if (stream_it != j.end() && stream_it->is_string() &&
            stream_it->get_ref<const std::string&>() == "stderr")
            s = Stream::stderr_;

        std::string prefix;
        if (opts_.since || opts_.until || opts_.timestamps) {
            std::optional<system_clock::time_point> t;
            if (auto it = j.find("time"); it != j.end() && it->is_string())
                t = detail::parse_rfc3339(it->get_ref<const std::string&>());
            if (!t) return true;  // no time to filter or print by
            if (opts_.since && *t < *opts_.since) return true;
            if (opts_.until && *t > *opts_.until) return false;
            if (opts_.timestamps) prefix = format_time(*t) + " ";
        }
        MD_TRY(out_.put(s, prefix, log_it->get_ref<const std::string&>()));
        return true;
    }

    const ReadOptions& opts_;
    Output out_;
    std::string carry_;  // the start of a line whose '\n' has not been read yet
};

// The log at `path`, or an invalid fd if there is none (yet): the monitor makes it at the
// container's first output. Following, it waits for that while the container runs.
sys::Result<sys::UniqueFd> open_log(const std::string& path, const ReadOptions& opts,
                                    const std::function<bool()>& running) {
    auto fd = sys::open_file(path, O_RDONLY);
    if (fd || fd.error().err() != ENOENT) return fd;
    if (!opts.follow || !running) return sys::UniqueFd{};
    // Watch first, then look again: a log made in between is not missed.
    ChangeWaiter waiter(path.substr(0, path.rfind('/') + 1), IN_CREATE | IN_MOVED_TO);
    for (;;) {
        // Asked before looking: a log made just before the container ended is still read.
        bool more = running() && !(opts.until && system_clock::now() > *opts.until);
        fd = sys::open_file(path, O_RDONLY);
        if (fd || fd.error().err() != ENOENT) return fd;
        if (!more) return sys::UniqueFd{};
        waiter.wait();
    }
}

sys::Result<void> copy_log(const std::string& path, const ReadOptions& opts, int out_fd, int err_fd,
                           const std::function<bool()>& running) {
    auto fd = MD_TRY(open_log(path, opts, running));
    if (!fd) return {};
    if (opts.tail) {
        struct stat st;
        if (::fstat(fd.get(), &st) < 0) return sys::fail_errno("stat \"" + path + "\"");
        off_t start = MD_TRY_CTX(tail_start(fd.get(), st.st_size, *opts.tail), "\"" + path + "\"");
        if (::lseek(fd.get(), start, SEEK_SET) < 0) return sys::fail_errno("seek \"" + path + "\"");
    }

    Copier copier(opts, out_fd, err_fd);
    std::optional<ChangeWaiter> waiter;
    if (opts.follow) waiter.emplace(path);  // before the first read, so no write goes unnoticed
    bool last_pass = !opts.follow;          // after this read to EOF, stop
    std::string buf(kChunk, '\0');
    for (;;) {
        ssize_t n = MD_RETRY(::read(fd.get(), buf.data(), buf.size()));
        if (n < 0) return sys::fail_errno("read \"" + path + "\"");
        if (n > 0) {
            bool go_on = MD_TRY(copier.feed(std::string_view(buf.data(), static_cast<size_t>(n))));
            if (!go_on) break;
            continue;
        }
        if (last_pass) break;
        // At EOF while following: show what we have, then wait for more. running() is asked
        // before the final pass, so everything written before the container ended is read.
        MD_TRY(copier.flush());
        if (!running || !running() || (opts.until && system_clock::now() > *opts.until)) {
            last_pass = true;
            continue;
        }
        waiter->wait();
    }
    return copier.flush();
}

}  // namespace

sys::Result<void> read(const std::string& path, const ReadOptions& opts, int out_fd, int err_fd,
                       const std::function<bool()>& running) {
    auto r = copy_log(path, opts, out_fd, err_fd, running);
    // `mydocker logs -f web | head`: the reader is gone, so there is nothing left to do.
    if (!r && r.error().err() == EPIPE) return {};
    if (!r) return sys::fail(std::move(r.error()).wrap("read logs"));
    return {};
}

}  // namespace mydocker::engine::logs
