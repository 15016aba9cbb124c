// File and directory helpers over raw syscalls: EINTR-safe, errno captured, call named.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "sys/error.h"
#include "sys/fd.h"

namespace mydocker::sys {

/// open(2) with O_CLOEXEC always added.
Result<UniqueFd> open_file(const std::string& path, int flags, mode_t mode = 0);
/// openat(2) with O_CLOEXEC always added.
Result<UniqueFd> open_at(int dirfd, const std::string& path, int flags, mode_t mode = 0);
/// Read a whole file into a string.
Result<std::string> read_file(const std::string& path);
/// Read everything from an fd (from its current offset).
Result<std::string> read_fd(int fd);
/// Write a whole buffer to a file, creating or truncating it.
Result<void> write_file(const std::string& path, std::string_view data, mode_t mode = 0644);
/// Write to an existing file without O_CREAT/O_TRUNC (cgroup and proc knobs).
Result<void> write_existing(const std::string& path, std::string_view data);
/// Write data to a temp file, then rename it over `path`: readers see the old or new file, never
/// half of one. (No fsync: durability across a crash is left to the filesystem.)
Result<void> write_file_atomic(const std::string& path, std::string_view data, mode_t mode = 0644);
/// write(2) of the whole buffer, retrying on EINTR and short writes.
Result<void> write_all(int fd, std::string_view data);
/// mkdir -p; existing directories are fine.
Result<void> mkdir_all(const std::string& path, mode_t mode = 0755);
/// mkdir_all, saying whether `path` itself was made (false: it was a directory already).
Result<bool> make_dirs(const std::string& path, mode_t mode = 0755);
/// rm -rf that does not cross mount points; a missing path is fine.
Result<void> remove_all(const std::string& path);
/// True if the path exists (lstat succeeds).
bool path_exists(const std::string& path);
/// True if the path is a directory (stat: a symlink to one counts).
bool is_dir(const std::string& path);
/// Entries of a directory except "." and "..".
Result<std::vector<std::string>> list_dir(const std::string& path);
/// Join two path pieces with exactly one slash.
std::string path_join(std::string_view a, std::string_view b);
/// Make a path absolute against the current directory and drop "." and duplicate slashes.
Result<std::string> absolute_path(const std::string& path);
/// Retry a syscall expression while it fails with EINTR.
#define MD_RETRY(expr)                               \
    ({                                               \
        long md_rc_;                                 \
        do {                                         \
            md_rc_ = (expr);                         \
        } while (md_rc_ == -1 && errno == EINTR);    \
        md_rc_;                                      \
    })

}  // namespace mydocker::sys
