// docker's pull progress: a status per layer ("<id>: Waiting", "<id>: Downloading [==>  ]
// 1.2MB/4MB", "<id>: Pull complete", ...) and lines of their own ("Digest: sha256:...").
// On a terminal each layer keeps one line, redrawn in place (ANSI cursor up / erase line /
// cursor down, as docker's jsonmessage does); elsewhere each change of a layer's status is
// one plain line, and byte counts are not shown.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace mydocker::engine::images {

/// docker's human size: three significant digits, decimal units ("512B", "12.3MB", "1.05GB").
std::string human_size(int64_t bytes);

/// "[=====>      ] 12.3MB/40.1MB" (`width` cells between the brackets); with an unknown
/// total (<= 0), the count alone.
std::string progress_bar(int64_t current, int64_t total, int width = 50);

/// Renders progress to a writer; safe to call from several threads.
class ProgressRenderer {
public:
    using Write = std::function<void(std::string_view)>;
    /// `terminal`: redraw layer lines in place; else plain lines.
    ProgressRenderer(bool terminal, Write out) : terminal_(terminal), out_(std::move(out)) {}

    /// A line of its own, below the layers shown so far.
    void message(const std::string& line);
    /// Layer `id`'s status; with `total` > 0 (or `current` >= 0), a bar or a count after it.
    void layer(const std::string& id, const std::string& status, int64_t current = -1,
               int64_t total = -1);

private:
    struct Line {
        std::string id;  // "" for a message
        std::string status;
    };
    bool terminal_;
    Write out_;
    std::mutex mu_;
    std::vector<Line> lines_;
};

}  // namespace mydocker::engine::images
