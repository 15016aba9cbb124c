#include "sys/files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

namespace mydocker::sys {

Result<UniqueFd> open_file(const std::string& path, int flags, mode_t mode) {
    int fd = MD_RETRY(::open(path.c_str(), flags | O_CLOEXEC, mode));
    if (fd < 0) return fail_errno("open \"" + path + "\"");
    return UniqueFd(fd);
}

Result<UniqueFd> open_at(int dirfd, const std::string& path, int flags, mode_t mode) {
    int fd = MD_RETRY(::openat(dirfd, path.c_str(), flags | O_CLOEXEC, mode));
    if (fd < 0) return fail_errno("open \"" + path + "\"");
    return UniqueFd(fd);
}

Result<std::string> read_fd(int fd) {
    std::string out;
    char buf[8192];
    for (;;) {
        ssize_t n = MD_RETRY(::read(fd, buf, sizeof buf));
        if (n < 0) return fail_errno("read");
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

Result<std::string> read_file(const std::string& path) {
    auto fd = MD_TRY(open_file(path, O_RDONLY));
    auto data = read_fd(fd.get());
    if (!data) return fail(std::move(data.error()).wrap("\"" + path + "\""));
    return data;
}

Result<void> write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = MD_RETRY(::write(fd, data.data(), data.size()));
        if (n < 0) return fail_errno("write");
        data.remove_prefix(static_cast<size_t>(n));
    }
    return {};
}

Result<void> write_file(const std::string& path, std::string_view data, mode_t mode) {
    auto fd = MD_TRY(open_file(path, O_WRONLY | O_CREAT | O_TRUNC, mode));
    if (auto r = write_all(fd.get(), data); !r) return fail(std::move(r.error()).wrap("\"" + path + "\""));
    return {};
}

Result<void> write_existing(const std::string& path, std::string_view data) {
    auto fd = MD_TRY(open_file(path, O_WRONLY));
    ssize_t n = MD_RETRY(::write(fd.get(), data.data(), data.size()));
    if (n < 0) return fail_errno("write \"" + std::string(data) + "\" to \"" + path + "\"");
    return {};
}

Result<void> write_file_atomic(const std::string& path, std::string_view data, mode_t mode) {
    std::string tmp = path + ".tmp." + std::to_string(::getpid());
    {
        auto fd = MD_TRY(open_file(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode));
        if (auto r = write_all(fd.get(), data); !r) {
            ::unlink(tmp.c_str());
            return fail(std::move(r.error()).wrap("\"" + tmp + "\""));
        }
    }
    if (::rename(tmp.c_str(), path.c_str()) < 0) {
        auto e = fail_errno("rename \"" + tmp + "\" to \"" + path + "\"");
        ::unlink(tmp.c_str());
        return e;
    }
    return {};
}

Result<bool> make_dirs(const std::string& path, mode_t mode) {
    if (path.empty()) return false;
    // mkdir first: the common case (parent there) is one syscall, not stat + stat + mkdir.
    if (::mkdir(path.c_str(), mode) == 0) return true;
    int err = errno;
    if (err == ENOENT) {
        auto slash = path.find_last_of('/');
        if (slash != std::string::npos && slash > 0) MD_TRY(make_dirs(path.substr(0, slash), mode));
        if (::mkdir(path.c_str(), mode) == 0) return true;
        err = errno;
    }
    // EEXIST, or EROFS / EACCES on a directory that is there already: fine if it is one.
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) return false;
        return fail(Error::from_errno(ENOTDIR, "mkdir \"" + path + "\""));
    }
    return fail(Error::from_errno(err, "mkdir \"" + path + "\""));
}

Result<void> mkdir_all(const std::string& path, mode_t mode) {
    MD_TRY(make_dirs(path, mode));
    return {};
}

static Result<void> remove_all_at(int dirfd, const std::string& name, const std::string& shown,
                                  dev_t dev) {
    struct stat st;
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT) return {};
        return fail_errno("stat \"" + shown + "\"");
    }
    if (S_ISDIR(st.st_mode)) {
        if (st.st_dev != dev) return fail(Error::from_errno(EBUSY, "remove \"" + shown + "\" (a mount point)"));
        auto fd = MD_TRY(open_at(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
        DIR* d = ::fdopendir(fd.release());
        if (!d) return fail_errno("opendir \"" + shown + "\"");
        Result<void> res;
        while (struct dirent* e = ::readdir(d)) {
            std::string child = e->d_name;
            if (child == "." || child == "..") continue;
            res = remove_all_at(::dirfd(d), child, shown + "/" + child, dev);
            if (!res) break;
        }
        ::closedir(d);
        if (!res) return res;
        if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT)
            return fail_errno("rmdir \"" + shown + "\"");
        return {};
    }
    if (::unlinkat(dirfd, name.c_str(), 0) < 0 && errno != ENOENT) return fail_errno("unlink \"" + shown + "\"");
    return {};
}

Result<void> remove_all(const std::string& path) {
    struct stat st;
    if (::lstat(path.c_str(), &st) < 0) {
        if (errno == ENOENT) return {};
        return fail_errno("stat \"" + path + "\"");
    }
    return remove_all_at(AT_FDCWD, path, path, st.st_dev);
}

bool path_exists(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
}

bool is_dir(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<std::vector<std::string>> list_dir(const std::string& path) {
    DIR* d = ::opendir(path.c_str());
    if (!d) return fail_errno("opendir \"" + path + "\"");
    std::vector<std::string> out;
    while (struct dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") out.push_back(std::move(n));
    }
    ::closedir(d);
    return out;
}

std::string path_join(std::string_view a, std::string_view b) {
    std::string out(a);
    while (!b.empty() && b.front() == '/') b.remove_prefix(1);
    if (b.empty()) return out;
    if (out.empty() || out.back() != '/') out += '/';
    out += b;
    return out;
}

Result<std::string> absolute_path(const std::string& path) {
    std::string base;
    if (path.empty() || path[0] != '/') {
        char cwd[PATH_MAX];
        if (!::getcwd(cwd, sizeof cwd)) return fail_errno("getcwd");
        base = cwd;
    }
    std::string full = base.empty() ? path : base + "/" + path;
    std::vector<std::string_view> parts;
    std::string_view v(full);
    while (!v.empty()) {
        auto pos = v.find('/');
        auto part = v.substr(0, pos);
        if (part == "..") {
            if (!parts.empty()) parts.pop_back();
        } else if (!part.empty() && part != ".") {
            parts.push_back(part);
        }
        if (pos == std::string_view::npos) break;
        v.remove_prefix(pos + 1);
    }
    std::string out;
    for (auto p : parts) {
        out += '/';
        out += p;
    }
    return out.empty() ? "/" : out;
}

}  // namespace mydocker::sys
