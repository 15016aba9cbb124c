// Tar streams through libarchive: writing (layers, busybox, save, export), reading entry by
// entry (load), unpacking a layer into a directory with its paths confined to it, and
// decompressing a layer to its plain tar bytes (whose sha256 is the diff_id).
//
// Whiteouts (OCI image-spec "layer.md"): in a layer tar, ".wh.NAME" deletes NAME of the layers
// below and "DIR/.wh..wh..opq" hides everything below DIR. overlayfs spells them a character
// device 0:0 named NAME and the xattr trusted.overlay.opaque=y on DIR. Unpacking converts the
// tar form to the overlay form; packing a container's upper dir converts back.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/images/libs.h"
#include "sys/error.h"

namespace mydocker::engine::images {

inline constexpr std::string_view kWhiteoutPrefix = ".wh.";
inline constexpr std::string_view kOpaqueWhiteout = ".wh..wh..opq";
inline constexpr const char* kOverlayOpaqueXattr = "trusted.overlay.opaque";

/// Owner, mode and mtime of an entry written by hand.
struct EntryMeta {
    mode_t mode = 0644;  // permission bits (incl. setuid/sticky)
    uid_t uid = 0;
    gid_t gid = 0;
    int64_t mtime = 0;
};

/// How add_tree treats overlayfs whiteouts found on disk.
enum class Whiteouts {
    keep,    // a plain tree (export): entries as they are
    to_oci,  // a container's upper dir (commit): char 0:0 -> .wh.NAME, opaque -> .wh..wh..opq
};

/// A tar (pax, uncompressed) written to a sink.
class TarWriter {
public:
    using Sink = std::function<sys::Result<void>(std::string_view)>;
    static sys::Result<std::unique_ptr<TarWriter>> open(Sink sink);
    ~TarWriter();
    TarWriter(const TarWriter&) = delete;
    TarWriter& operator=(const TarWriter&) = delete;

    sys::Result<void> add_dir(const std::string& path, const EntryMeta& m);
    sys::Result<void> add_data(const std::string& path, std::string_view data, const EntryMeta& m);
    /// A regular file whose content is the file at `src` (read while writing).
    sys::Result<void> add_file(const std::string& path, const std::string& src, const EntryMeta& m);
    sys::Result<void> add_symlink(const std::string& path, const std::string& target,
                                  const EntryMeta& m);
    /// Everything below `dir` (not `dir` itself), names sorted so the same tree gives the same
    /// bytes; owners, modes, mtimes, xattrs (trusted.overlay.* dropped), hard links, devices.
    sys::Result<void> add_tree(const std::string& dir, Whiteouts whiteouts);
    /// Write the end of the archive; the writer is unusable afterwards.
    sys::Result<void> close();

private:
    TarWriter() = default;
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// One entry of a tar being read.
struct TarEntry {
    std::string path;      // as stored
    mode_t type = 0;       // S_IFREG, S_IFDIR, S_IFLNK, ...
    std::string linkname;  // symlink target, or hard link target (hardlink = true)
    bool hardlink = false;
    int64_t size = 0;
    mode_t perm = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<std::pair<std::string, std::string>> xattrs;
};

/// Reads a tar (any compression) entry by entry.
class TarReader {
public:
    /// Read from `fd` (not owned); `what` names the input in errors.
    static sys::Result<std::unique_ptr<TarReader>> open(int fd, std::string what);
    ~TarReader();
    TarReader(const TarReader&) = delete;
    TarReader& operator=(const TarReader&) = delete;

    /// The next entry, or nullopt at the end.
    sys::Result<std::optional<TarEntry>> next();
    /// The current entry's data, chunk by chunk.
    sys::Result<void> read_data(const std::function<sys::Result<void>(std::string_view)>& sink);

private:
    TarReader() = default;
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// Unpack the tar read from `fd` (plain or compressed) into the existing directory `dir`:
/// every path confined to `dir` (no "..", no absolute path, nothing through a symlink: an
/// escaping entry is an error naming it), owners, modes, mtimes, xattrs, hard links, device
/// nodes; whiteouts converted to overlayfs form. `what` names the input in errors.
sys::Result<void> unpack_tar(int fd, const std::string& dir, const std::string& what);

/// Copy the decompressed bytes of `fd` (gzip, zstd, xz, bzip2, or already plain) to `sink`.
sys::Result<void> decompress(int fd, const std::string& what,
                             const std::function<sys::Result<void>(std::string_view)>& sink);

/// A tar entry name made relative and clean: "./a//b/" -> "a/b", "./" -> "". Absolute names and
/// ".." components are errors naming the entry.
sys::Result<std::string> clean_entry_path(std::string_view name);

}  // namespace mydocker::engine::images
