// JsonFileWriter: the container's output as Docker json-file records.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <nlohmann/json.hpp>

#include "engine/logs/logs.h"
#include "sys/files.h"

namespace mydocker::engine::logs {

namespace {

// Docker's copier reads at most 16 KiB before it logs a line that has no end yet; the same bound
// keeps a process that never prints '\n' from growing our buffer without limit.
constexpr size_t kMaxRecord = 16 * 1024;

const char* stream_name(Stream s) {
    return s == Stream::stdout_ ? "stdout" : "stderr";
}

bool utf8_continuation(char c) {
    return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// Where to cut a piece of at most kMaxRecord bytes from `s` so a UTF-8 character is not split
// (a split one would be logged as two U+FFFD). Invalid input just gets cut at the bound.
size_t piece_length(std::string_view s) {
    if (s.size() <= kMaxRecord) return s.size();
    size_t cut = kMaxRecord;
    for (size_t back = 0; back < 3 && utf8_continuation(s[cut]); ++back) --cut;
    return utf8_continuation(s[cut]) ? kMaxRecord : cut;
}

// One record line. nlohmann's replace handler turns invalid UTF-8 into U+FFFD (as Go's
// encoder in docker does) instead of throwing on arbitrary program output.
sys::Result<void> append_record(std::string& out, Stream s, std::string_view text,
                                const std::string& time) {
    try {
        out += "{\"log\":";
        out += nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        out += ",\"stream\":\"";
        out += stream_name(s);
        out += "\",\"time\":\"";
        out += time;
        out += "\"}\n";
    } catch (const nlohmann::json::exception& e) {
        return sys::fail_invalid(std::string("encode log record: ") + e.what());
    }
    return {};
}

}  // namespace

sys::Result<JsonFileWriter> JsonFileWriter::open(const std::string& path, Rotation rotation) {
    std::string dir = path.substr(0, path.rfind('/') + 1);
    if (path.empty() || path.back() == '/' || !sys::is_dir(dir.empty() ? "." : dir))
        return sys::fail(sys::Error::not_found("open container log \"" + path + "\": no such directory"));
    JsonFileWriter w;
    w.path_ = path;
    w.rotation_ = rotation;
    return w;
}

JsonFileWriter JsonFileWriter::discard() {
    JsonFileWriter w;
    w.path_ = "/dev/null";  // "open", so write() and flush() work; append() keeps nothing
    w.discard_ = true;
    return w;
}

sys::Result<void> JsonFileWriter::open_current() {
    // O_APPEND: each record batch lands at the end in one write, so a reader following the
    // file never sees another writer's bytes in the middle of a line.
    fd_ = MD_TRY_CTX(sys::open_file(path_, O_WRONLY | O_CREAT | O_APPEND, 0640),
                     "open container log");
    // A restarted container's log goes on where it was: its size counts.
    struct stat st;
    if (::fstat(fd_.get(), &st) < 0) return sys::fail_errno("stat \"" + path_ + "\"");
    size_ = st.st_size;
    return {};
}

// Docker's rotate(): <log>.<i-1> -> <log>.<i> from the oldest kept down, then <log> -> <log>.1
// (rename(2) replaces the oldest). With max-file 1 the log is unlinked, not truncated: a
// follower still reading it finishes it, then finds the new one by its changed inode.
sys::Result<void> JsonFileWriter::rotate() {
    fd_.reset();
    auto move = [](const std::string& from, const std::string& to) -> sys::Result<void> {
        if (::rename(from.c_str(), to.c_str()) < 0 && errno != ENOENT)
            return sys::fail_errno("rotate container log: rename \"" + from + "\" to \"" + to +
                                   "\"");
        return {};
    };
    if (rotation_.max_file < 2) {
        if (::unlink(path_.c_str()) < 0 && errno != ENOENT)
            return sys::fail_errno("rotate container log: unlink \"" + path_ + "\"");
    } else {
        for (int i = rotation_.max_file - 1; i > 1; --i)
            MD_TRY(move(rotated_path(path_, i - 1), rotated_path(path_, i)));
        MD_TRY(move(path_, rotated_path(path_, 1)));
    }
    return open_current();
}

sys::Result<void> JsonFileWriter::append(const std::string& out) {
    if (out.empty() || discard_) return {};
    if (!fd_) MD_TRY(open_current());
    std::string_view rest(out);
    while (!rest.empty()) {
        // As docker: a file that has reached max-size is rotated before the next record.
        if (rotation_.max_size > 0 && size_ >= rotation_.max_size) MD_TRY(rotate());
        // The records up to (and with) the one that reaches max-size go in one write.
        size_t take = rest.size();
        if (rotation_.max_size > 0) {
            take = 0;
            for (int64_t size = size_; take < rest.size() && size < rotation_.max_size;) {
                size_t nl = rest.find('\n', take);
                size_t end = nl == std::string_view::npos ? rest.size() : nl + 1;
                size += static_cast<int64_t>(end - take);
                take = end;
            }
        }
        MD_TRY_CTX(sys::write_all(fd_.get(), rest.substr(0, take)), "write container log");
        size_ += static_cast<int64_t>(take);
        rest.remove_prefix(take);
    }
    return {};
}

sys::Result<void> JsonFileWriter::write(Stream s, std::string_view data) {
    if (path_.empty()) return sys::fail(sys::Error::bad_state("write log: the log is not open"));
    if (data.empty()) return {};
    std::string& pending = pending_[s == Stream::stdout_ ? 0 : 1];
    pending.append(data);
    std::string time = format_time(std::chrono::system_clock::now());
    std::string out;
    std::string_view rest(pending);
    for (auto nl = rest.find('\n'); nl != std::string_view::npos; nl = rest.find('\n')) {
        MD_TRY(append_record(out, s, rest.substr(0, nl + 1), time));
        rest.remove_prefix(nl + 1);
    }
    while (rest.size() >= kMaxRecord) {
        size_t n = piece_length(rest);
        MD_TRY(append_record(out, s, rest.substr(0, n), time));
        rest.remove_prefix(n);
    }
    pending.erase(0, pending.size() - rest.size());
    return append(out);
}

sys::Result<void> JsonFileWriter::flush() {
    if (path_.empty()) return sys::fail(sys::Error::bad_state("flush log: the log is not open"));
    std::string time = format_time(std::chrono::system_clock::now());
    std::string out;
    for (Stream s : {Stream::stdout_, Stream::stderr_}) {
        std::string& pending = pending_[s == Stream::stdout_ ? 0 : 1];
        if (pending.empty()) continue;
        MD_TRY(append_record(out, s, pending, time));
        pending.clear();
    }
    return append(out);
}

}  // namespace mydocker::engine::logs
