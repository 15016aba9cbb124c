// FileLock: an flock(2) held for the lifetime of the object.
#pragma once

#include <string>

#include "sys/error.h"
#include "sys/fd.h"

namespace mydocker::sys {

/// An exclusive (or shared) flock on a file or directory, released on destruction.
class FileLock {
public:
    FileLock() = default;
    /// Open `path` (a directory or a file, created if missing) and lock it, waiting for it.
    static Result<FileLock> acquire(const std::string& path, bool exclusive = true);
    /// Lock the directory `path` itself (it must exist): no lock file to create and delete.
    static Result<FileLock> acquire_dir(const std::string& path, bool exclusive = true);
    bool held() const { return fd_.valid(); }
    int fd() const { return fd_.get(); }

private:
    explicit FileLock(UniqueFd fd) : fd_(std::move(fd)) {}
    static Result<FileLock> lock(UniqueFd fd, const std::string& path, bool exclusive);
    UniqueFd fd_;
};

}  // namespace mydocker::sys
