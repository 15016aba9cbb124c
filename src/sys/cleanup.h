// CleanupStack: undo steps of a multi-step operation, run in reverse unless committed.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace mydocker::sys {

/// Each successful step pushes its undo; on failure (destruction without commit) the
/// undos run in reverse order. Undo errors must be logged by the undo itself, never thrown.
class CleanupStack {
public:
    CleanupStack() = default;
    CleanupStack(const CleanupStack&) = delete;
    CleanupStack& operator=(const CleanupStack&) = delete;
    ~CleanupStack() { run(); }

    void push(std::function<void()> undo) { undos_.push_back(std::move(undo)); }
    /// The operation succeeded: drop every undo.
    void commit() { undos_.clear(); }
    /// Run every pending undo now, newest first.
    void run() {
        while (!undos_.empty()) {
            auto undo = std::move(undos_.back());
            undos_.pop_back();
            undo();
        }
    }

private:
    std::vector<std::function<void()>> undos_;
};

}  // namespace mydocker::sys
