// Shared by the image store tests: a temp dir removed at the end, tars written and read back
// through the store's own libarchive wrappers.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <map>
#include <string>

#include "engine/context.h"
#include "engine/images/tar.h"
#include "sys/files.h"
#include "sys/log.h"

namespace mydocker::engine::images::testing {

/// A fresh directory under /tmp, removed (recursively) when the object goes.
class TempDir {
public:
    TempDir() {
        std::string tmpl = "/tmp/mydocker-images-test.XXXXXX";
        if (::mkdtemp(tmpl.data())) path_ = tmpl;
    }
    ~TempDir() {
        if (!path_.empty()) (void)sys::remove_all(path_);
    }
    const std::string& path() const { return path_; }
    std::string operator/(const std::string& rel) const { return sys::path_join(path_, rel); }

private:
    std::string path_;
};

/// Write a tar file at `path` whose entries `build` adds.
inline ::testing::AssertionResult write_tar(
    const std::string& path, const std::function<sys::Result<void>(TarWriter&)>& build) {
    auto fd = sys::open_file(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (!fd) return ::testing::AssertionFailure() << fd.error().message();
    int raw = fd->get();
    auto w = TarWriter::open([raw](std::string_view d) { return sys::write_all(raw, d); });
    if (!w) return ::testing::AssertionFailure() << w.error().message();
    if (auto r = build(**w); !r) return ::testing::AssertionFailure() << r.error().message();
    if (auto r = (*w)->close(); !r) return ::testing::AssertionFailure() << r.error().message();
    return ::testing::AssertionSuccess();
}

/// Every entry of the tar at `path`, by name (fails the test on a read error).
inline std::map<std::string, TarEntry> read_tar(const std::string& path) {
    std::map<std::string, TarEntry> out;
    auto fd = sys::open_file(path, O_RDONLY);
    EXPECT_TRUE(fd.has_value()) << path;
    if (!fd) return out;
    auto r = TarReader::open(fd->get(), path);
    EXPECT_TRUE(r.has_value()) << r.error().message();
    if (!r) return out;
    for (;;) {
        auto e = (*r)->next();
        EXPECT_TRUE(e.has_value()) << e.error().message();
        if (!e || !*e) break;
        out[(*e)->path] = **e;
    }
    return out;
}

/// Unpack the tar file `tar` into the existing dir `dir`.
inline sys::Result<void> unpack_file(const std::string& tar, const std::string& dir) {
    auto fd = MD_TRY(sys::open_file(tar, O_RDONLY));
    return unpack_tar(fd.get(), dir, tar);
}

/// The stat of `path` (not following a final symlink); st_mode 0 when it does not exist.
inline struct stat lstat_of(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) < 0) st.st_mode = 0;
    return st;
}

inline bool have_busybox() {
    return ::access("/bin/busybox", X_OK) == 0;
}

/// A store context over a temp root.
struct StoreRoot {
    TempDir dir;
    sys::Logger log;
    Context ctx{log};
    StoreRoot() {
        ctx.root = dir.path();
        ctx.run_root = dir / "run";
    }
};

}  // namespace mydocker::engine::images::testing
