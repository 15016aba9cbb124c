#include "sys/lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "sys/files.h"

namespace mydocker::sys {

Result<FileLock> FileLock::acquire(const std::string& path, bool exclusive) {
    // A directory (a container's state dir) is the usual case: open it as one first.
    UniqueFd fd;
    if (auto dir = open_file(path, O_RDONLY | O_DIRECTORY)) {
        fd = std::move(*dir);
    } else {
        fd = MD_TRY(open_file(path, O_RDWR | O_CREAT, 0600));
    }
    return lock(std::move(fd), path, exclusive);
}

Result<FileLock> FileLock::acquire_dir(const std::string& path, bool exclusive) {
    return lock(MD_TRY(open_file(path, O_RDONLY | O_DIRECTORY)), path, exclusive);
}

Result<FileLock> FileLock::lock(UniqueFd fd, const std::string& path, bool exclusive) {
    int rc;
    do {
        rc = ::flock(fd.get(), exclusive ? LOCK_EX : LOCK_SH);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) return fail_errno("lock \"" + path + "\"");
    return FileLock(std::move(fd));
}

}  // namespace mydocker::sys
