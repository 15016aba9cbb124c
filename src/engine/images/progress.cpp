// See progress.h.
#include "engine/images/progress.h"

#include <algorithm>
#include <cstdio>
#include <iterator>

#include "sys/units.h"

namespace mydocker::engine::images {

std::string human_size(int64_t bytes) {
    return sys::human_size(static_cast<double>(std::max<int64_t>(bytes, 0)), 3);
}

std::string progress_bar(int64_t current, int64_t total, int width) {
    if (total <= 0) return human_size(current);
    int64_t cur = std::clamp<int64_t>(current, 0, total);
    int filled = static_cast<int>(cur * width / total);
    // As docker draws it: "[" filled "=" ">" spaces "] " and the current size padded to 8.
    char sizes[64];
    std::snprintf(sizes, sizeof sizes, "%8s/%s", human_size(current).c_str(), human_size(total).c_str());
    return "[" + std::string(filled, '=') + ">" + std::string(width - filled, ' ') + "] " + sizes;
}

void ProgressRenderer::message(const std::string& line) {
    std::lock_guard g(mu_);
    if (terminal_) lines_.push_back(Line{"", line});
    out_(line + "\n");
}

void ProgressRenderer::layer(const std::string& id, const std::string& status, int64_t current,
                             int64_t total) {
    std::lock_guard g(mu_);
    auto it = std::find_if(lines_.begin(), lines_.end(), [&](const Line& l) { return l.id == id; });
    if (!terminal_) {
        // One plain line per change of status; a byte count is no change.
        if (it != lines_.end() && it->status == status) return;
        if (it == lines_.end())
            lines_.push_back(Line{id, status});
        else
            it->status = status;
        out_(id + ": " + status + "\n");
        return;
    }
    std::string text = id + ": " + status;
    if (total > 0 || current >= 0) text += " " + progress_bar(current, total);
    if (it == lines_.end()) {
        lines_.push_back(Line{id, status});
        out_(text + "\n");
        return;
    }
    it->status = status;
    // The cursor rests at the start of the line below the last: up to this layer's line,
    // erase it, write, and back down.
    std::string up = std::to_string(lines_.end() - it);
    out_("\x1b[" + up + "A\r\x1b[2K" + text + "\x1b[" + up + "B\r");
}

}  // namespace mydocker::engine::images
