// JsonFileWriter: the container's output as Docker json-file records.
#include <fcntl.h>

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

sys::Result<JsonFileWriter> JsonFileWriter::open(const std::string& path) {
    std::string dir = path.substr(0, path.rfind('/') + 1);
    if (path.empty() || path.back() == '/' || !sys::is_dir(dir.empty() ? "." : dir))
        return sys::fail(sys::Error::not_found("open container log \"" + path + "\": no such directory"));
    JsonFileWriter w;
    w.path_ = path;
    return w;
}

sys::Result<void> JsonFileWriter::append(const std::string& out) {
    if (out.empty()) return {};
    if (!fd_) {
        // O_APPEND: each record batch lands at the end in one write, so a reader following the
        // file never sees another writer's bytes in the middle of a line.
        fd_ = MD_TRY_CTX(sys::open_file(path_, O_WRONLY | O_CREAT | O_APPEND, 0640), "open container log");
    }
    MD_TRY_CTX(sys::write_all(fd_.get(), out), "write container log");
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
