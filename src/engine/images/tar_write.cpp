// TarWriter: pax tars written through libarchive to a sink (a blob being hashed, an fd).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "engine/images/tar.h"
#include "sys/files.h"

namespace mydocker::engine::images {

namespace {

using Xattrs = std::vector<std::pair<std::string, std::string>>;

// overlayfs keeps its own bookkeeping in trusted.overlay.* (opaque, origin, impure, redirect):
// it describes this upper dir on this host and means nothing, or something wrong, in an image.
bool keep_xattr(std::string_view name) {
    return !name.starts_with("trusted.overlay.");
}

// The xattrs of an inode, through an fd when we have one (regular files, directories), else
// through /proc/self/fd/<dir>/<name> so no path of the tree is resolved again (a running
// container could swap a directory for a symlink under us).
sys::Result<Xattrs> read_xattrs(int fd, const std::string& path) {
    Xattrs out;
    auto list = [&](char* buf, size_t n) {
        return fd >= 0 ? ::flistxattr(fd, buf, n) : ::llistxattr(path.c_str(), buf, n);
    };
    auto get = [&](const char* name, void* buf, size_t n) {
        return fd >= 0 ? ::fgetxattr(fd, name, buf, n) : ::lgetxattr(path.c_str(), name, buf, n);
    };
    ssize_t n = list(nullptr, 0);
    if (n < 0) {
        if (errno == ENOTSUP || errno == EPERM) return out;
        return sys::fail_errno("list xattrs of \"" + path + "\"");
    }
    std::string names(static_cast<size_t>(n), '\0');
    n = list(names.data(), names.size());
    if (n < 0) return sys::fail_errno("list xattrs of \"" + path + "\"");
    names.resize(static_cast<size_t>(n));
    for (size_t i = 0; i < names.size();) {
        std::string name(names.c_str() + i);
        i += name.size() + 1;
        if (name.empty()) continue;
        ssize_t vn = get(name.c_str(), nullptr, 0);
        if (vn < 0) {
            if (errno == ENODATA) continue;
            return sys::fail_errno("read xattr \"" + name + "\" of \"" + path + "\"");
        }
        std::string value(static_cast<size_t>(vn), '\0');
        vn = get(name.c_str(), value.data(), value.size());
        if (vn < 0) return sys::fail_errno("read xattr \"" + name + "\" of \"" + path + "\"");
        value.resize(static_cast<size_t>(vn));
        out.emplace_back(std::move(name), std::move(value));
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

struct TarWriter::Impl {
    const LibArchive* la = nullptr;
    struct archive* a = nullptr;
    struct archive_entry* e = nullptr;
    Sink sink;
    std::optional<sys::Error> sink_error;
    bool closed = false;
    // Regular files with several links seen by add_tree: (dev, ino) -> first path.
    std::map<std::pair<dev_t, ino_t>, std::string> links;

    ~Impl() {
        if (e) la->entry_free(e);
        if (a) la->write_free(a);
    }

    static la_ssize_t write_cb(struct archive*, void* client, const void* buf, size_t n) {
        auto* self = static_cast<Impl*>(client);
        auto r = self->sink(std::string_view(static_cast<const char*>(buf), n));
        if (!r) {
            self->sink_error = std::move(r.error());
            return -1;
        }
        return static_cast<la_ssize_t>(n);
    }

    sys::Result<void> check(int rc, const std::string& what) {
        if (rc >= ARCHIVE_WARN) return {};
        if (sink_error) return sys::fail(sys::Error(*sink_error).wrap(what));
        return sys::fail(sys::Error(sys::ErrorCode::system, what + ": " + archive_message(*la, a)));
    }

    // Start an entry: the shared fields, then the caller adds its own.
    void begin(const std::string& path, mode_t type, const EntryMeta& m) {
        la->entry_clear(e);
        la->entry_copy_pathname(e, path.c_str());
        la->entry_set_filetype(e, type);
        la->entry_set_perm(e, m.mode & 07777);
        la->entry_set_uid(e, m.uid);
        la->entry_set_gid(e, m.gid);
        la->entry_set_mtime(e, static_cast<time_t>(m.mtime), 0);
        la->entry_set_size(e, 0);
    }

    sys::Result<void> header(const std::string& path) {
        if (closed) return sys::fail(sys::Error::bad_state("tar writer is closed"));
        return check(la->write_header(a, e), "write tar entry \"" + path + "\"");
    }

    sys::Result<void> data(const std::string& path, std::string_view d) {
        while (!d.empty()) {
            la_ssize_t n = la->write_data(a, d.data(), d.size());
            if (n <= 0) {
                MD_TRY(check(ARCHIVE_FATAL, "write tar data of \"" + path + "\""));
            }
            d.remove_prefix(static_cast<size_t>(n));
        }
        return {};
    }

    sys::Result<void> data_from_fd(const std::string& path, int fd, int64_t size) {
        char buf[65536];
        while (size > 0) {
            ssize_t n = MD_RETRY(::read(fd, buf, std::min<int64_t>(size, sizeof buf)));
            if (n < 0) return sys::fail_errno("read \"" + path + "\"");
            // A file that shrank while we read it: libarchive pads the entry with zeros.
            if (n == 0) break;
            MD_TRY(data(path, std::string_view(buf, static_cast<size_t>(n))));
            size -= n;
        }
        return {};
    }

    sys::Result<void> tree(int dfd, const std::string& shown, const std::string& prefix,
                           Whiteouts wh);
    sys::Result<void> tree_entry(int dfd, const std::string& shown, const std::string& prefix,
                                 const std::string& name, Whiteouts wh);
};

sys::Result<std::unique_ptr<TarWriter>> TarWriter::open(Sink sink) {
    const LibArchive* la = MD_TRY(libarchive());
    std::unique_ptr<TarWriter> w(new TarWriter());
    w->impl_ = std::make_unique<Impl>();
    Impl& im = *w->impl_;
    im.la = la;
    im.sink = std::move(sink);
    im.a = la->write_new();
    im.e = la->entry_new();
    if (!im.a || !im.e) return sys::fail(sys::Error::from_errno(ENOMEM, "create tar writer"));
    // pax, restricted: plain ustar headers unless an entry needs more (long names, xattrs).
    MD_TRY(im.check(la->write_set_format_pax_restricted(im.a), "tar writer: pax format"));
    // No padding of the last block to 10 KiB: the archive ends after its two zero records.
    MD_TRY(im.check(la->write_set_bytes_in_last_block(im.a, 1), "tar writer: block size"));
    MD_TRY(im.check(la->write_open2(im.a, &im, nullptr, &Impl::write_cb, nullptr, nullptr),
                    "open tar writer"));
    return w;
}

TarWriter::~TarWriter() = default;

sys::Result<void> TarWriter::add_dir(const std::string& path, const EntryMeta& m) {
    impl_->begin(path, AE_IFDIR, m);
    return impl_->header(path);
}

sys::Result<void> TarWriter::add_data(const std::string& path, std::string_view data,
                                      const EntryMeta& m) {
    impl_->begin(path, AE_IFREG, m);
    impl_->la->entry_set_size(impl_->e, static_cast<la_int64_t>(data.size()));
    MD_TRY(impl_->header(path));
    return impl_->data(path, data);
}

sys::Result<void> TarWriter::add_file(const std::string& path, const std::string& src,
                                      const EntryMeta& m) {
    auto fd = MD_TRY(sys::open_file(src, O_RDONLY));
    struct stat st;
    if (::fstat(fd.get(), &st) < 0) return sys::fail_errno("stat \"" + src + "\"");
    impl_->begin(path, AE_IFREG, m);
    impl_->la->entry_set_size(impl_->e, st.st_size);
    MD_TRY(impl_->header(path));
    return impl_->data_from_fd(src, fd.get(), st.st_size);
}

sys::Result<void> TarWriter::add_symlink(const std::string& path, const std::string& target,
                                         const EntryMeta& m) {
    impl_->begin(path, AE_IFLNK, m);
    impl_->la->entry_copy_symlink(impl_->e, target.c_str());
    return impl_->header(path);
}

sys::Result<void> TarWriter::add_tree(const std::string& dir, Whiteouts whiteouts) {
    auto fd = MD_TRY(sys::open_file(dir, O_RDONLY | O_DIRECTORY));
    return impl_->tree(fd.get(), dir, "", whiteouts);
}

sys::Result<void> TarWriter::Impl::tree(int dfd, const std::string& shown,
                                        const std::string& prefix, Whiteouts wh) {
    std::vector<std::string> names;
    {
        int dup = ::fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        if (dup < 0) return sys::fail_errno("dup dir fd of \"" + shown + "\"");
        DIR* d = ::fdopendir(dup);
        if (!d) {
            ::close(dup);
            return sys::fail_errno("opendir \"" + shown + "\"");
        }
        while (struct dirent* de = ::readdir(d)) {
            std::string n = de->d_name;
            if (n != "." && n != "..") names.push_back(std::move(n));
        }
        ::closedir(d);
    }
    std::sort(names.begin(), names.end());
    for (const auto& name : names) MD_TRY(tree_entry(dfd, shown, prefix, name, wh));
    return {};
}

sys::Result<void> TarWriter::Impl::tree_entry(int dfd, const std::string& shown,
                                              const std::string& prefix, const std::string& name,
                                              Whiteouts wh) {
    const std::string rel = prefix + name;
    const std::string path = shown + "/" + name;
    struct stat st;
    if (::fstatat(dfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT) return {};  // removed while we walk (a running container)
        return sys::fail_errno("stat \"" + path + "\"");
    }
    EntryMeta meta{st.st_mode, st.st_uid, st.st_gid, st.st_mtim.tv_sec};
    // Sockets cannot be stored in a tar; Docker leaves them out too.
    if (S_ISSOCK(st.st_mode)) return {};
    if (wh == Whiteouts::to_oci && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
        begin(prefix + std::string(kWhiteoutPrefix) + name, AE_IFREG,
              EntryMeta{0, 0, 0, meta.mtime});
        return header(rel);
    }
    sys::UniqueFd fd;
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
        int flags = O_RDONLY | O_NOFOLLOW | O_NOCTTY | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0);
        auto opened = sys::open_at(dfd, name, flags);
        if (!opened) {
            if (opened.error().err() == ENOENT) return {};
            return sys::fail(std::move(opened.error()).wrap("pack \"" + path + "\""));
        }
        fd = std::move(*opened);
    }
    std::string proc_path = "/proc/self/fd/" + std::to_string(dfd) + "/" + name;
    auto xattrs =
        MD_TRY_CTX(read_xattrs(fd.get(), fd.valid() ? path : proc_path), "pack \"" + path + "\"");
    bool opaque = false;
    begin(rel, st.st_mode & S_IFMT, meta);
    for (const auto& [k, v] : xattrs) {
        if (k == kOverlayOpaqueXattr && v == "y") opaque = true;
        if (keep_xattr(k)) la->entry_xattr_add_entry(e, k.c_str(), v.data(), v.size());
    }
    bool with_data = false;
    if (S_ISREG(st.st_mode)) {
        auto key = std::make_pair(st.st_dev, st.st_ino);
        auto seen = st.st_nlink > 1 ? links.find(key) : links.end();
        if (seen != links.end()) {
            // A second name of a file already in the archive: a hard link entry, no data.
            la->entry_copy_hardlink(e, seen->second.c_str());
        } else {
            if (st.st_nlink > 1) links.emplace(key, rel);
            la->entry_set_size(e, st.st_size);
            with_data = st.st_size > 0;
        }
    } else if (S_ISLNK(st.st_mode)) {
        std::string target(static_cast<size_t>(st.st_size > 0 ? st.st_size : 256) + 1, '\0');
        ssize_t n = ::readlinkat(dfd, name.c_str(), target.data(), target.size());
        if (n < 0) return sys::fail_errno("readlink \"" + path + "\"");
        target.resize(static_cast<size_t>(n));
        la->entry_copy_symlink(e, target.c_str());
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
        la->entry_set_rdevmajor(e, major(st.st_rdev));
        la->entry_set_rdevminor(e, minor(st.st_rdev));
    }
    MD_TRY(header(rel));
    if (with_data) MD_TRY(data_from_fd(path, fd.get(), st.st_size));
    if (S_ISDIR(st.st_mode)) {
        if (opaque && wh == Whiteouts::to_oci) {
            begin(rel + "/" + std::string(kOpaqueWhiteout), AE_IFREG,
                  EntryMeta{0, 0, 0, meta.mtime});
            MD_TRY(header(rel + "/" + std::string(kOpaqueWhiteout)));
        }
        MD_TRY(tree(fd.get(), path, rel + "/", wh));
    }
    return {};
}

sys::Result<void> TarWriter::close() {
    if (impl_->closed) return {};
    impl_->closed = true;
    return impl_->check(impl_->la->write_close(impl_->a), "finish tar");
}

}  // namespace mydocker::engine::images
