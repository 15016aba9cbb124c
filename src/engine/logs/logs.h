// Container logs in Docker's json-file form: one JSON object per line,
//   {"log":"hello\n","stream":"stdout","time":"2026-11-23T18:00:00.123456789Z"}
// written by the monitor (or the foreground CLI) and read by `mydocker logs`.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "sys/error.h"
#include "sys/fd.h"

namespace mydocker::engine::logs {

enum class Stream { stdout_, stderr_ };

/// json-file's rotation, docker's --log-opt max-size and max-file: before a record is written
/// to a file that has reached max_size, the file becomes <log>.1 (the older ones <log>.2 ...
/// up to <log>.<max_file-1>, the oldest dropped) and a new <log> starts. So a file ends at most
/// one record past max_size, and the log keeps at most max_file files.
struct Rotation {
    int64_t max_size = -1;  // bytes; -1: no rotation (max_file alone changes nothing, as in docker)
    int max_file = 1;       // files kept, the current one included
};

/// Validate json-file's options as docker does ("max-size" a positive size in decimal units,
/// "max-file" at least 1, no other key); each error names the option.
sys::Result<Rotation> parse_rotation(const std::map<std::string, std::string>& opts);

/// The n-th rotated file of the log at `path` (n = 0: `path` itself).
std::string rotated_path(const std::string& path, int n);

/// Appends log records. Output is split at '\n'; a partial line is kept until its end arrives
/// (or flush()), so one record is one line of the container's output.
class JsonFileWriter {
public:
    /// A writer for the log at `path`, whose directory must exist. The file is made at the first
    /// record: a container that prints nothing costs no file (on the store's disk, an inode
    /// allocated on the path of every start).
    static sys::Result<JsonFileWriter> open(const std::string& path, Rotation rotation = {});
    /// A writer that keeps nothing (--log-driver none).
    static JsonFileWriter discard();
    /// Feed a chunk read from the container's stdout or stderr.
    sys::Result<void> write(Stream s, std::string_view data);
    /// Write out any partial lines (at container exit).
    sys::Result<void> flush();

private:
    sys::Result<void> append(const std::string& out);
    sys::Result<void> open_current();
    sys::Result<void> rotate();

    std::string path_;
    bool discard_ = false;
    Rotation rotation_;
    sys::UniqueFd fd_;
    int64_t size_ = 0;  // of the current file, once fd_ is open
    std::string pending_[2];
};

struct ReadOptions {
    bool follow = false;
    std::optional<size_t> tail;  // last N records (per the whole log, like docker)
    std::optional<std::chrono::system_clock::time_point> since;
    std::optional<std::chrono::system_clock::time_point> until;
    bool timestamps = false;  // prefix each line with its RFC 3339 time
};

/// Format `t` as Docker's log time: RFC 3339 in UTC with nanoseconds, "2026-11-23T18:00:00.123456789Z".
std::string format_time(std::chrono::system_clock::time_point t);

/// Parse --since/--until: RFC 3339 time, Unix seconds ("1700000000[.5]"), or a duration
/// before `now` ("10m", "1h30m", "45s"). A time without a zone is local time, as in docker.
sys::Result<std::chrono::system_clock::time_point> parse_time(std::string_view s,
                                                             std::chrono::system_clock::time_point now);

/// Copy the log at `path`, its rotated files first (oldest first), to out_fd (stdout records) and
/// err_fd (stderr records). With follow, keeps reading new records until `running()` returns false
/// and the file is drained (polls with a bound, no busy loop), going on in the new file after a
/// rotation; an empty `running` counts as not running. A reader that went away (EPIPE on out_fd or
/// err_fd) ends the copy without an error.
sys::Result<void> read(const std::string& path, const ReadOptions& opts, int out_fd, int err_fd,
                       const std::function<bool()>& running = {});

}  // namespace mydocker::engine::logs
