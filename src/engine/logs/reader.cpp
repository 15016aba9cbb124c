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

// Where the last `n` complete records (lines ending in '\n') of a file start, and how many of
// them (fewer than n: the whole file, and the rest is in the older files).
struct TailStart {
    off_t offset = 0;
    size_t records = 0;
};

// Reads backwards in chunks, so a tail of a large log costs what it prints.
sys::Result<TailStart> tail_start(int fd, off_t size, size_t n) {
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
            if (buf[i] == '\n' && ++newlines == n + 1)
                return TailStart{begin + static_cast<off_t>(i) + 1, n};
        }
        end = begin;
    }
    return TailStart{0, newlines};
}

// Wakes a follower when the file (or, with `events` IN_CREATE | IN_MOVED_TO, the directory)
// changes, at the latest after kPollMs.
class ChangeWaiter {
  public:
    explicit ChangeWaiter(const std::string& path, uint32_t events) {
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

    /// At the end of a rotated file: a line it left unfinished (a crash) is not the start of
    /// the next file's first one.
    void end_file() { carry_.clear(); }

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

std::string dir_of(const std::string& path) {
    std::string dir = path.substr(0, path.rfind('/') + 1);
    return dir.empty() ? "." : dir;
}

// The log at `path`, or an invalid fd if there is none (yet): the monitor makes it at the
// container's first output. Following, it waits for that while the container runs.
sys::Result<sys::UniqueFd> open_log(const std::string& path, const ReadOptions& opts,
                                    const std::function<bool()>& running) {
    auto fd = sys::open_file(path, O_RDONLY);
    if (fd || fd.error().err() != ENOENT) return fd;
    if (!opts.follow || !running) return sys::UniqueFd{};
    // Watch first, then look again: a log made in between is not missed.
    ChangeWaiter waiter(dir_of(path), IN_CREATE | IN_MOVED_TO);
    for (;;) {
        // Asked before looking: a log made just before the container ended is still read.
        bool more = running() && !(opts.until && system_clock::now() > *opts.until);
        fd = sys::open_file(path, O_RDONLY);
        if (fd || fd.error().err() != ENOENT) return fd;
        if (!more) return sys::UniqueFd{};
        waiter.wait();
    }
}

// The rotated files of the log, oldest first (<log>.N ... <log>.1), open; a rotation while they
// are opened one by one may show a record twice or skip one file, not more.
sys::Result<std::vector<sys::UniqueFd>> open_rotated(const std::string& path) {
    std::vector<sys::UniqueFd> out;
    for (int i = 1;; ++i) {
        auto fd = sys::open_file(rotated_path(path, i), O_RDONLY);
        if (!fd && fd.error().err() == ENOENT) break;
        if (!fd) return sys::fail(std::move(fd.error()));
        out.insert(out.begin(), std::move(*fd));
    }
    return out;
}

// --tail over all the files (oldest first): moves each file to where its part starts and
// returns the index of the first one to read.
sys::Result<size_t> seek_tail(std::vector<sys::UniqueFd>& files, size_t n,
                              const std::string& path) {
    for (size_t i = files.size(); i-- > 0;) {
        if (!files[i]) continue;
        struct stat st;
        if (::fstat(files[i].get(), &st) < 0) return sys::fail_errno("stat \"" + path + "\"");
        auto t = MD_TRY_CTX(tail_start(files[i].get(), st.st_size, n), "\"" + path + "\"");
        if (::lseek(files[i].get(), t.offset, SEEK_SET) < 0)
            return sys::fail_errno("seek \"" + path + "\"");
        n -= t.records;
        if (n == 0) return i;
    }
    return 0;
}

// After `fd` (the log once) was rotated: the file that came after it, if there is one yet. It
// is now <log>.k (or gone, with max-file 1), so the next is <log>.k-1, or <log> itself.
sys::Result<sys::UniqueFd> open_successor(int fd, const std::string& path) {
    struct stat old;
    if (::fstat(fd, &old) < 0) return sys::fail_errno("stat \"" + path + "\"");
    int next = 0;
    for (int k = 1;; ++k) {
        struct stat st;
        if (::stat(rotated_path(path, k).c_str(), &st) < 0) break;
        if (st.st_dev == old.st_dev && st.st_ino == old.st_ino) {
            next = k - 1;
            break;
        }
    }
    auto succ = sys::open_file(rotated_path(path, next), O_RDONLY);
    if (!succ && succ.error().err() == ENOENT) return sys::UniqueFd{};
    return succ;
}

// True once `path` no longer names the file open at `fd`: the writer rotated it.
bool rotated_away(int fd, const std::string& path) {
    struct stat a, b;
    if (::fstat(fd, &a) < 0) return false;
    if (::stat(path.c_str(), &b) < 0) return errno == ENOENT;
    return a.st_dev != b.st_dev || a.st_ino != b.st_ino;
}

// Read one file to its end; false once --until ended the copy.
sys::Result<bool> copy_file(int fd, const std::string& path, Copier& copier, std::string& buf) {
    for (;;) {
        ssize_t n = MD_RETRY(::read(fd, buf.data(), buf.size()));
        if (n < 0) return sys::fail_errno("read \"" + path + "\"");
        if (n == 0) return true;
        if (!MD_TRY(copier.feed(std::string_view(buf.data(), static_cast<size_t>(n)))))
            return false;
    }
}

sys::Result<void> copy_log(const std::string& path, const ReadOptions& opts, int out_fd, int err_fd,
                           const std::function<bool()>& running) {
    // Watch first (the dir: the current file's writes, and a new one after a rotation), so no
    // write after our reads goes unnoticed.
    std::optional<ChangeWaiter> waiter;
    if (opts.follow)
        waiter.emplace(dir_of(path),
                       IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_CREATE | IN_MOVED_TO);
    auto files = MD_TRY(open_rotated(path));
    files.push_back(MD_TRY(open_log(path, opts, running)));
    size_t first = opts.tail ? MD_TRY(seek_tail(files, *opts.tail, path)) : 0;
    sys::UniqueFd fd = std::move(files.back());
    files.pop_back();

    Copier copier(opts, out_fd, err_fd);
    std::string buf(kChunk, '\0');
    for (size_t i = first; i < files.size(); ++i) {
        if (!MD_TRY(copy_file(files[i].get(), path, copier, buf))) return copier.flush();
        copier.end_file();
    }
    if (!fd) return copier.flush();
    bool last_pass = !opts.follow;  // after this read to EOF, stop
    bool drained = false;           // the file at fd was rotated away and read to its end
    for (;;) {
        if (!MD_TRY(copy_file(fd.get(), path, copier, buf))) break;
        if (drained) {
            if (auto next = MD_TRY(open_successor(fd.get(), path))) {
                fd = std::move(next);
                copier.end_file();
                drained = false;
                continue;
            }
        } else if (opts.follow && rotated_away(fd.get(), path)) {
            drained = true;  // read it once more: what was written before the rotation
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
