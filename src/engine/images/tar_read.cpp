// TarReader and decompress: reading archives (any compression libarchive knows) from an fd.
#include <sys/stat.h>

#include <map>

#include "engine/images/tar.h"

namespace mydocker::engine::images {

namespace {

// libarchive reads ahead in blocks of this size.
constexpr size_t kReadBlock = 128 * 1024;

// An archive handle for reading, freed on scope exit.
struct ReadHandle {
    const LibArchive* la = nullptr;
    struct archive* a = nullptr;
    ReadHandle() = default;
    ReadHandle(const ReadHandle&) = delete;
    ReadHandle& operator=(const ReadHandle&) = delete;
    ~ReadHandle() {
        if (a) la->read_free(a);
    }
};

}  // namespace

struct TarReader::Impl {
    ReadHandle h;
    std::string what;
    struct archive_entry* current = nullptr;
};

sys::Result<std::unique_ptr<TarReader>> TarReader::open(int fd, std::string what) {
    const LibArchive* la = MD_TRY(libarchive());
    std::unique_ptr<TarReader> r(new TarReader());
    r->impl_ = std::make_unique<Impl>();
    auto& im = *r->impl_;
    im.what = std::move(what);
    im.h.la = la;
    im.h.a = la->read_new();
    if (!im.h.a) return sys::fail(sys::Error::from_errno(ENOMEM, "read \"" + im.what + "\""));
    la->read_support_filter_all(im.h.a);
    la->read_support_format_tar(im.h.a);
    la->read_support_format_empty(im.h.a);
    if (la->read_open_fd(im.h.a, fd, kReadBlock) != ARCHIVE_OK)
        return sys::fail(sys::Error(sys::ErrorCode::invalid_argument,
                                    "read \"" + im.what + "\": " + archive_message(*la, im.h.a)));
    return r;
}

TarReader::~TarReader() = default;

sys::Result<std::optional<TarEntry>> TarReader::next() {
    auto& im = *impl_;
    const LibArchive& la = *im.h.la;
    int rc = la.read_next_header(im.h.a, &im.current);
    if (rc == ARCHIVE_EOF) return std::nullopt;
    if (rc < ARCHIVE_WARN)
        return sys::fail(sys::Error(sys::ErrorCode::invalid_argument,
                                    "read \"" + im.what + "\": " + archive_message(la, im.h.a)));
    TarEntry out;
    const char* p = la.entry_pathname(im.current);
    out.path = p ? p : "";
    out.type = static_cast<mode_t>(la.entry_filetype(im.current));
    if (const char* h = la.entry_hardlink(im.current)) {
        out.linkname = h;
        out.hardlink = true;
    } else if (const char* s = la.entry_symlink(im.current)) {
        out.linkname = s;
    }
    out.size = la.entry_size(im.current);
    out.perm = static_cast<mode_t>(la.entry_perm(im.current));
    out.uid = static_cast<uid_t>(la.entry_uid(im.current));
    out.gid = static_cast<gid_t>(la.entry_gid(im.current));
    la.entry_xattr_reset(im.current);
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    // libarchive's pax writer stores each xattr twice (LIBARCHIVE.xattr and SCHILY.xattr) and
    // its reader returns both: keep one per name.
    std::map<std::string, std::string> xattrs;
    while (la.entry_xattr_next(im.current, &name, &value, &size) == ARCHIVE_OK)
        xattrs[name] = std::string(static_cast<const char*>(value), size);
    out.xattrs.assign(xattrs.begin(), xattrs.end());
    return out;
}

sys::Result<void> TarReader::read_data(
    const std::function<sys::Result<void>(std::string_view)>& sink) {
    auto& im = *impl_;
    char buf[65536];
    for (;;) {
        la_ssize_t n = im.h.la->read_data(im.h.a, buf, sizeof buf);
        if (n == 0) return {};
        if (n < 0)
            return sys::fail(
                sys::Error(sys::ErrorCode::invalid_argument,
                           "read \"" + im.what + "\": " + archive_message(*im.h.la, im.h.a)));
        MD_TRY(sink(std::string_view(buf, static_cast<size_t>(n))));
    }
}

sys::Result<void> decompress(int fd, const std::string& what,
                             const std::function<sys::Result<void>(std::string_view)>& sink) {
    const LibArchive* la = MD_TRY(libarchive());
    ReadHandle h;
    h.la = la;
    h.a = la->read_new();
    if (!h.a) return sys::fail(sys::Error::from_errno(ENOMEM, "read \"" + what + "\""));
    auto bad = [&] {
        return sys::fail(sys::Error(sys::ErrorCode::invalid_argument,
                                    "decompress \"" + what + "\": " + archive_message(*la, h.a)));
    };
    // "raw" format: the whole (decompressed) stream as one entry, whatever it holds.
    la->read_support_filter_all(h.a);
    la->read_support_format_raw(h.a);
    la->read_support_format_empty(h.a);
    if (la->read_open_fd(h.a, fd, kReadBlock) != ARCHIVE_OK) return bad();
    struct archive_entry* e = nullptr;
    int rc = la->read_next_header(h.a, &e);
    if (rc == ARCHIVE_EOF) return {};
    if (rc < ARCHIVE_WARN) return bad();
    char buf[65536];
    for (;;) {
        la_ssize_t n = la->read_data(h.a, buf, sizeof buf);
        if (n == 0) return {};
        if (n < 0) return bad();
        MD_TRY(sink(std::string_view(buf, static_cast<size_t>(n))));
    }
}

}  // namespace mydocker::engine::images
