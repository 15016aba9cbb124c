// Logger: text or JSON lines (runc's --log-format json), reached through an explicit context.
#pragma once

#include <string>
#include <string_view>

#include "sys/fd.h"

namespace mydocker::sys {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3 };
enum class LogFormat { text, json };

/// Writes one line per message to an fd; each line is a single write(2) so concurrent
/// writers (runtime, hooks) never interleave mid-line.
class Logger {
public:
    Logger() = default;
    /// Log to `fd` (owned) or, when invalid, to stderr.
    Logger(UniqueFd fd, LogFormat format, LogLevel level)
        : fd_(std::move(fd)), format_(format), level_(level) {}

    void set_level(LogLevel level) { level_ = level; }
    LogLevel level() const { return level_; }
    LogFormat format() const { return format_; }
    /// True when a message at `level` would be written.
    bool enabled(LogLevel level) const { return level >= level_; }
    /// The fd this logger writes to (stderr if none was opened).
    int fd() const { return fd_.valid() ? fd_.get() : 2; }

    void log(LogLevel level, std::string_view msg) const;
    void debug(std::string_view msg) const { if (enabled(LogLevel::debug)) log(LogLevel::debug, msg); }
    void info(std::string_view msg) const { if (enabled(LogLevel::info)) log(LogLevel::info, msg); }
    void warn(std::string_view msg) const { if (enabled(LogLevel::warn)) log(LogLevel::warn, msg); }
    void error(std::string_view msg) const { if (enabled(LogLevel::error)) log(LogLevel::error, msg); }

private:
    UniqueFd fd_;
    LogFormat format_ = LogFormat::text;
    LogLevel level_ = LogLevel::warn;
};

/// Escape a string for inclusion inside a JSON string literal.
std::string json_escape(std::string_view s);

}  // namespace mydocker::sys
