// unpack_tar: a layer tar into a directory, every path confined to it, whiteouts converted to
// overlayfs form (see tar.h).
//
// Confinement is layered: our own checks refuse "..", absolute names and any entry whose
// parent path holds a symlink (a layer may create "a -> /etc" and then "a/passwd"), and
// replace a symlink in the final position instead of writing through it; libarchive's
// ARCHIVE_EXTRACT_SECURE_* flags check the same again as it writes.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <utility>
#include <vector>

#include "engine/images/tar.h"
#include "sys/files.h"

namespace mydocker::engine::images {

namespace {

// archive_write_disk resolves entry names against the current directory, and the SECURE
// flags forbid absolute names: so unpacking runs with the layer dir as cwd, restored after.
// The engine is single-threaded here (STYLE §4), but for pull, whose unpacking threads each
// unshare(CLONE_FS) first and so have a cwd of their own (pull_layer.cpp).
class CwdGuard {
public:
    static sys::Result<CwdGuard> enter(int dirfd) {
        auto old = MD_TRY(sys::open_file(".", O_PATH | O_DIRECTORY));
        if (::fchdir(dirfd) < 0) return sys::fail_errno("chdir into the layer dir");
        return CwdGuard(std::move(old));
    }
    CwdGuard(CwdGuard&&) = default;
    ~CwdGuard() {
        if (old_.valid() && ::fchdir(old_.get()) < 0) {
            // Nothing sensible to do: the old cwd vanished. Stay where we are.
        }
    }

private:
    explicit CwdGuard(sys::UniqueFd old) : old_(std::move(old)) {}
    sys::UniqueFd old_;
};

struct WriteDiskHandle {
    const LibArchive* la = nullptr;
    struct archive* a = nullptr;
    ~WriteDiskHandle() {
        if (a) la->write_free(a);
    }
};

struct ReadHandle {
    const LibArchive* la = nullptr;
    struct archive* a = nullptr;
    ~ReadHandle() {
        if (a) la->read_free(a);
    }
};

std::vector<std::string> components(const std::string& rel) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= rel.size()) {
        size_t slash = rel.find('/', start);
        if (slash == std::string::npos) slash = rel.size();
        if (slash > start) out.push_back(rel.substr(start, slash - start));
        start = slash + 1;
    }
    return out;
}

sys::Error escape_error(const std::string& entry, const std::string& why) {
    return sys::Error::invalid("layer entry \"" + entry + "\": " + why);
}

// Every parent of `rel` that exists must be a real directory: following a symlink the layer
// itself planted would write outside the layer dir.
sys::Result<void> check_parents(int root, const std::string& rel, const std::string& entry) {
    auto comps = components(rel);
    std::string prefix;
    for (size_t i = 0; i + 1 < comps.size(); i++) {
        prefix += (i ? "/" : "") + comps[i];
        struct stat st;
        if (::fstatat(root, prefix.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT) return {};  // created as a plain directory when written
            return sys::fail_errno("stat \"" + prefix + "\" for layer entry \"" + entry + "\"");
        }
        if (S_ISLNK(st.st_mode))
            return sys::fail(
                escape_error(entry, "path goes through symlink \"" + prefix +
                                        "\" (refused: it could lead outside the layer)"));
        if (!S_ISDIR(st.st_mode))
            return sys::fail(escape_error(entry, "parent \"" + prefix + "\" is not a directory"));
    }
    return {};
}

// Open the directory `rel` below `root` one component at a time with O_NOFOLLOW, creating
// what is missing: the walk can never leave the layer dir.
sys::Result<sys::UniqueFd> open_dir_in(int root, const std::string& rel, const std::string& entry) {
    auto cur = MD_TRY(sys::open_at(root, ".", O_RDONLY | O_DIRECTORY));
    for (const auto& c : components(rel)) {
        int fd = MD_RETRY(
            ::openat(cur.get(), c.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (fd < 0 && errno == ENOENT) {
            if (::mkdirat(cur.get(), c.c_str(), 0755) < 0 && errno != EEXIST)
                return sys::fail_errno("mkdir \"" + c + "\" for layer entry \"" + entry + "\"");
            fd = MD_RETRY(
                ::openat(cur.get(), c.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        }
        if (fd < 0) {
            if (errno == ELOOP || errno == ENOTDIR)
                return sys::fail(
                    escape_error(entry, "\"" + c + "\" is a symlink or not a directory"));
            return sys::fail_errno("open \"" + c + "\" for layer entry \"" + entry + "\"");
        }
        cur.reset(fd);
    }
    return cur;
}

// Remove whatever is at `name` in `dirfd` (a whiteout replaces it).
sys::Result<void> remove_at(int dirfd, const std::string& dir_shown, const std::string& name) {
    struct stat st;
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT) return {};
        return sys::fail_errno("stat \"" + name + "\"");
    }
    if (S_ISDIR(st.st_mode)) {
        MD_TRY_CTX(sys::remove_all("/proc/self/fd/" + std::to_string(dirfd) + "/" + name),
                   "remove \"" + dir_shown + name + "\"");
        return {};
    }
    if (::unlinkat(dirfd, name.c_str(), 0) < 0 && errno != ENOENT)
        return sys::fail_errno("unlink \"" + name + "\"");
    return {};
}

// A whiteout entry: ".wh.NAME" becomes the char device 0:0 NAME, ".wh..wh..opq" the opaque
// xattr on its directory. Other ".wh..wh.*" names are aufs bookkeeping and carry nothing.
sys::Result<void> apply_whiteout(int root, const std::string& rel, const std::string& entry) {
    auto slash = rel.rfind('/');
    std::string parent = slash == std::string::npos ? "" : rel.substr(0, slash);
    std::string base = slash == std::string::npos ? rel : rel.substr(slash + 1);
    MD_TRY(check_parents(root, rel, entry));
    auto dir = MD_TRY(open_dir_in(root, parent, entry));
    if (base == kOpaqueWhiteout) {
        if (::fsetxattr(dir.get(), kOverlayOpaqueXattr, "y", 1, 0) < 0)
            return sys::fail_errno("set " + std::string(kOverlayOpaqueXattr) + " on \"" +
                                   (parent.empty() ? "." : parent) + "\" for layer entry \"" +
                                   entry + "\"");
        return {};
    }
    std::string name = base.substr(kWhiteoutPrefix.size());
    if (name.starts_with(kWhiteoutPrefix)) return {};
    if (name.empty() || name == "." || name == "..")
        return sys::fail(escape_error(entry, "whiteout without a valid name"));
    MD_TRY(remove_at(dir.get(), parent.empty() ? "" : parent + "/", name));
    if (::mknodat(dir.get(), name.c_str(), S_IFCHR | 0, makedev(0, 0)) < 0)
        return sys::fail_errno("mknod whiteout \"" + (parent.empty() ? name : parent + "/" + name) +
                               "\" for layer entry \"" + entry + "\"");
    return {};
}

// overlayfs reads trusted.overlay.* as instructions (redirects, opaque dirs, metacopy): a layer
// must not smuggle them in. Opaque directories arrive as .wh..wh..opq entries instead.
void drop_overlay_xattrs(const LibArchive& la, struct archive_entry* e) {
    std::vector<std::pair<std::string, std::string>> keep;
    bool dropped = false;
    la.entry_xattr_reset(e);
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    while (la.entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
        if (std::string_view(name).starts_with("trusted.overlay.")) {
            dropped = true;
            continue;
        }
        keep.emplace_back(name, std::string(static_cast<const char*>(value), size));
    }
    if (!dropped) return;
    la.entry_xattr_clear(e);
    for (const auto& [k, v] : keep) la.entry_xattr_add_entry(e, k.c_str(), v.data(), v.size());
}

}  // namespace

sys::Result<std::string> clean_entry_path(std::string_view name) {
    std::string shown(name);
    if (name.starts_with('/')) return sys::fail(escape_error(shown, "absolute path refused"));
    std::string out;
    size_t start = 0;
    while (start <= name.size()) {
        size_t slash = name.find('/', start);
        if (slash == std::string_view::npos) slash = name.size();
        std::string_view c = name.substr(start, slash - start);
        if (c == "..") return sys::fail(escape_error(shown, "\"..\" in the path refused"));
        if (!c.empty() && c != ".") {
            if (!out.empty()) out += '/';
            out += c;
        }
        start = slash + 1;
    }
    return out;
}

sys::Result<void> unpack_tar(int fd, const std::string& dir, const std::string& what) {
    const LibArchive* la = MD_TRY(libarchive());
    auto root = MD_TRY(sys::open_file(dir, O_RDONLY | O_DIRECTORY));
    ReadHandle r{la, la->read_new()};
    WriteDiskHandle w{la, la->write_disk_new()};
    if (!r.a || !w.a) return sys::fail(sys::Error::from_errno(ENOMEM, "unpack \"" + what + "\""));
    la->read_support_filter_all(r.a);
    la->read_support_format_tar(r.a);
    la->read_support_format_empty(r.a);
    auto bad = [&](struct archive* a, const std::string& ctx) {
        std::string msg = "unpack \"" + what + "\": " + ctx + archive_message(*la, a);
        // The disk's fault, not the archive's: said so ("No space left on device").
        if (int e = la->errno_of(a); e == ENOSPC || e == EDQUOT || e == EIO || e == EROFS)
            return sys::fail(sys::Error::from_errno(e, std::move(msg)));
        return sys::fail(sys::Error(sys::ErrorCode::invalid_argument, std::move(msg)));
    };
    if (la->read_open_fd(r.a, fd, 128 * 1024) != ARCHIVE_OK) return bad(r.a, "");
    // Numeric owners (no name lookup: the host's /etc/passwd is not the image's), no file
    // flags (an immutable file would make the layer undeletable).
    la->write_disk_set_options(
        w.a, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                 ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                 ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
    auto cwd = MD_TRY(CwdGuard::enter(root.get()));
    for (;;) {
        struct archive_entry* e = nullptr;
        int rc = la->read_next_header(r.a, &e);
        if (rc == ARCHIVE_EOF) break;
        if (rc < ARCHIVE_WARN) return bad(r.a, "");
        const char* raw_c = la->entry_pathname(e);
        if (!raw_c) return bad(r.a, "entry without a name: ");
        std::string raw = raw_c;
        std::string rel = MD_TRY(clean_entry_path(raw));
        auto slash = rel.rfind('/');
        std::string base = slash == std::string::npos ? rel : rel.substr(slash + 1);
        if (base.starts_with(kWhiteoutPrefix)) {
            MD_TRY_CTX(apply_whiteout(root.get(), rel, raw), "unpack \"" + what + "\"");
            continue;
        }
        if (rel.empty()) {
            rel = ".";  // the layer's root: its owner, mode and mtime apply to the layer dir
        } else {
            MD_TRY_CTX(check_parents(root.get(), rel, raw), "unpack \"" + what + "\"");
            // A symlink already at this name is replaced, never written through.
            struct stat st;
            if (::fstatat(root.get(), rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISLNK(st.st_mode) && ::unlinkat(root.get(), rel.c_str(), 0) < 0)
                return sys::fail_errno("unpack \"" + what + "\": replace symlink \"" + rel + "\"");
        }
        if (const char* link = la->entry_hardlink(e)) {
            std::string target = MD_TRY_CTX(clean_entry_path(link),
                                            "unpack \"" + what + "\": hard link \"" + raw + "\"");
            if (target.empty()) return sys::fail(escape_error(raw, "hard link to the layer root"));
            MD_TRY_CTX(check_parents(root.get(), target, raw), "unpack \"" + what + "\"");
            la->entry_copy_hardlink(e, target.c_str());
        }
        la->entry_copy_pathname(e, rel.c_str());
        drop_overlay_xattrs(*la, e);
        rc = la->write_header(w.a, e);
        if (rc < ARCHIVE_WARN) return bad(w.a, "entry \"" + raw + "\": ");
        if (la->entry_size(e) > 0) {
            for (;;) {
                const void* buf = nullptr;
                size_t size = 0;
                la_int64_t offset = 0;
                rc = la->read_data_block(r.a, &buf, &size, &offset);
                if (rc == ARCHIVE_EOF) break;
                if (rc < ARCHIVE_WARN) return bad(r.a, "entry \"" + raw + "\": ");
                if (la->write_data_block(w.a, buf, size, offset) < ARCHIVE_WARN)
                    return bad(w.a, "entry \"" + raw + "\": ");
            }
        }
        if (la->write_finish_entry(w.a) < ARCHIVE_WARN) return bad(w.a, "entry \"" + raw + "\": ");
    }
    // Directory modes and mtimes are applied here, after their contents were written.
    if (la->write_close(w.a) < ARCHIVE_WARN) return bad(w.a, "");
    return {};
}

}  // namespace mydocker::engine::images
