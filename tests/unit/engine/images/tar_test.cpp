// Layer tars: unpacking with paths confined to the layer dir, whiteouts converted to overlayfs
// form and back, owners/modes/xattrs/links/devices kept.
#include <gtest/gtest.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "engine/images/store.h"
#include "images_testing.h"

namespace mydocker::engine::images {
namespace {

using testing::lstat_of;
using testing::read_tar;
using testing::TempDir;
using testing::unpack_file;
using testing::write_tar;

std::string get_xattr(const std::string& path, const char* name) {
    char buf[256];
    ssize_t n = ::lgetxattr(path.c_str(), name, buf, sizeof buf);
    return n < 0 ? std::string("<none>") : std::string(buf, static_cast<size_t>(n));
}

TEST(CleanEntryPath, NormalisesAndRefusesEscapes) {
    EXPECT_EQ(*clean_entry_path("./a//b/"), "a/b");
    EXPECT_EQ(*clean_entry_path("./"), "");
    EXPECT_EQ(*clean_entry_path("a/./b"), "a/b");
    for (const char* bad : {"../x", "a/../../x", "a/..", "/abs", "/"}) {
        auto r = clean_entry_path(bad);
        ASSERT_FALSE(r.has_value()) << bad;
        EXPECT_NE(r.error().message().find(std::string("\"") + bad + "\""), std::string::npos)
            << r.error().message();
    }
}

TEST(Unpack, WhiteoutsBecomeOverlayFormAndPackBackToOci) {
    TempDir t;
    std::string tar = t / "layer.tar";
    ASSERT_TRUE(write_tar(tar, [](TarWriter& w) -> sys::Result<void> {
        MD_TRY(w.add_dir("a", {0755, 0, 0, 1000}));
        MD_TRY(w.add_data("a/keep", "kept\n", {0644, 0, 0, 1000}));
        MD_TRY(w.add_data("a/.wh..wh..opq", "", {0644, 0, 0, 1000}));
        MD_TRY(w.add_data(".wh.gone", "", {0644, 0, 0, 1000}));
        MD_TRY(w.add_data("b/.wh.x", "", {0644, 0, 0, 1000}));  // parent not in the tar
        return {};
    }));
    std::string dir = t / "unpacked";
    ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
    auto r = unpack_file(tar, dir);
    ASSERT_TRUE(r.has_value()) << r.error().message();

    struct stat gone = lstat_of(dir + "/gone");
    EXPECT_TRUE(S_ISCHR(gone.st_mode));
    EXPECT_EQ(gone.st_rdev, makedev(0, 0));
    EXPECT_TRUE(S_ISCHR(lstat_of(dir + "/b/x").st_mode));
    EXPECT_EQ(get_xattr(dir + "/a", "trusted.overlay.opaque"), "y");
    EXPECT_EQ(lstat_of(dir + "/a").st_mtime, 1000);  // mtimes survive the whiteouts written in it
    EXPECT_EQ(lstat_of(dir + "/.wh.gone").st_mode, 0u);
    EXPECT_EQ(lstat_of(dir + "/a/.wh..wh..opq").st_mode, 0u);
    EXPECT_EQ(*sys::read_file(dir + "/a/keep"), "kept\n");

    // Back to OCI form, as commit does for an upper dir.
    std::string packed = t / "packed.tar";
    ASSERT_TRUE(
        write_tar(packed, [&](TarWriter& w) { return w.add_tree(dir, Whiteouts::to_oci); }));
    auto entries = read_tar(packed);
    ASSERT_TRUE(entries.count(".wh.gone"));
    EXPECT_EQ(entries[".wh.gone"].type, static_cast<mode_t>(S_IFREG));
    EXPECT_EQ(entries[".wh.gone"].size, 0);
    ASSERT_TRUE(entries.count("b/.wh.x"));
    ASSERT_TRUE(entries.count("a/.wh..wh..opq"));
    ASSERT_TRUE(entries.count("a/keep"));
    EXPECT_FALSE(entries.count("gone"));
    EXPECT_FALSE(entries.count("b/x"));
    for (const auto& [name, e] : entries) {
        EXPECT_NE(e.type, static_cast<mode_t>(S_IFCHR)) << name;
        for (const auto& [k, v] : e.xattrs)
            EXPECT_FALSE(k.starts_with("trusted.overlay.")) << name << ": " << k;
    }

    // A plain export keeps what is on disk.
    std::string exported = t / "export.tar";
    ASSERT_TRUE(
        write_tar(exported, [&](TarWriter& w) { return w.add_tree(dir, Whiteouts::keep); }));
    auto plain = read_tar(exported);
    ASSERT_TRUE(plain.count("gone"));
    EXPECT_EQ(plain["gone"].type, static_cast<mode_t>(S_IFCHR));
    EXPECT_FALSE(plain.count(".wh.gone"));
}

// An entry that would land outside the layer dir fails the unpack, names the entry, and
// writes nothing outside.
void expect_refused(const std::function<sys::Result<void>(TarWriter&)>& build,
                    const std::string& entry, const std::string& outside_rel) {
    TempDir t;
    std::string tar = t / "evil.tar";
    ASSERT_TRUE(write_tar(tar, build));
    // The tar really holds the hostile name (the writer does not sanitise it).
    auto entries = read_tar(tar);
    ASSERT_TRUE(entries.count(entry)) << "entry \"" << entry << "\" not in the tar";
    std::string dir = t / "layer/dir";
    ASSERT_TRUE(sys::mkdir_all(dir).has_value());
    auto r = unpack_file(tar, dir);
    ASSERT_FALSE(r.has_value()) << "unpacked \"" << entry << "\"";
    EXPECT_NE(r.error().message().find("\"" + entry + "\""), std::string::npos)
        << r.error().message();
    EXPECT_EQ(lstat_of(t / outside_rel).st_mode, 0u) << outside_rel << " was written";
}

TEST(Unpack, RefusesDotDot) {
    expect_refused([](TarWriter& w) { return w.add_data("../x", "evil", {}); }, "../x", "layer/x");
    expect_refused([](TarWriter& w) { return w.add_data("a/../../y", "evil", {}); }, "a/../../y",
                   "layer/y");
}

TEST(Unpack, RefusesAbsolutePaths) {
    TempDir victim;
    std::string target = victim / "abs";
    expect_refused([&](TarWriter& w) { return w.add_data(target, "evil", {}); }, target, "nothing");
    EXPECT_EQ(lstat_of(target).st_mode, 0u);
}

TEST(Unpack, RefusesWritingThroughASymlink) {
    TempDir victim;
    // Absolute target: the host dir. Relative target: out of the layer dir.
    expect_refused(
        [&](TarWriter& w) -> sys::Result<void> {
            MD_TRY(w.add_symlink("link", victim.path(), {0777}));
            return w.add_data("link/file", "evil", {});
        },
        "link/file", "nothing");
    EXPECT_EQ(lstat_of(victim / "file").st_mode, 0u);
    expect_refused(
        [&](TarWriter& w) -> sys::Result<void> {
            MD_TRY(w.add_symlink("up", "../..", {0777}));
            return w.add_data("up/escaped", "evil", {});
        },
        "up/escaped", "escaped");
    // A whiteout through a symlink is refused too.
    expect_refused(
        [&](TarWriter& w) -> sys::Result<void> {
            MD_TRY(w.add_symlink("w", victim.path(), {0777}));
            return w.add_data("w/.wh.victim", "", {});
        },
        "w/.wh.victim", "nothing");
    EXPECT_EQ(lstat_of(victim / "victim").st_mode, 0u);
}

TEST(Unpack, AFileReplacesASymlinkInsteadOfWritingThroughIt) {
    TempDir t, victim;
    ASSERT_TRUE(sys::write_file(victim / "target", "host\n").has_value());
    std::string tar = t / "l.tar";
    ASSERT_TRUE(write_tar(tar, [&](TarWriter& w) -> sys::Result<void> {
        MD_TRY(w.add_symlink("l", victim / "target", {0777}));
        return w.add_data("l", "layer\n", {0644});
    }));
    std::string dir = t / "d";
    ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
    auto r = unpack_file(tar, dir);
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_TRUE(S_ISREG(lstat_of(dir + "/l").st_mode));
    EXPECT_EQ(*sys::read_file(dir + "/l"), "layer\n");
    EXPECT_EQ(*sys::read_file(victim / "target"), "host\n");
}

TEST(Unpack, KeepsOwnersModesTimesXattrsLinksAndDevices) {
    TempDir t;
    std::string src = t / "src";
    ASSERT_TRUE(sys::mkdir_all(src + "/d").has_value());
    ASSERT_TRUE(sys::write_file(src + "/d/file", "data", 0644).has_value());
    ASSERT_EQ(::chown((src + "/d/file").c_str(), 1000, 1001), 0);
    ASSERT_EQ(::chmod((src + "/d/file").c_str(), 04755), 0);
    ASSERT_EQ(::link((src + "/d/file").c_str(), (src + "/hard").c_str()), 0);
    ASSERT_EQ(::symlink("d/file", (src + "/sym").c_str()), 0);
    ASSERT_EQ(::mknod((src + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
    ASSERT_EQ(::mkfifo((src + "/fifo").c_str(), 0600), 0);
    ASSERT_EQ(::setxattr((src + "/d/file").c_str(), "user.note", "hi", 2, 0), 0);
    ASSERT_EQ(::setxattr((src + "/d/file").c_str(), "trusted.overlay.origin", "x", 1, 0), 0);
    struct timespec times[2] = {{0, UTIME_OMIT}, {1234567, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, (src + "/d/file").c_str(), times, AT_SYMLINK_NOFOLLOW), 0);

    std::string tar = t / "tree.tar";
    ASSERT_TRUE(write_tar(tar, [&](TarWriter& w) { return w.add_tree(src, Whiteouts::keep); }));
    auto entries = read_tar(tar);
    ASSERT_TRUE(entries.count("hard") && entries.count("d/file"));
    // The second name of the file is a hard link entry (sorted: "d/file" comes first).
    EXPECT_TRUE(entries["hard"].hardlink);
    EXPECT_EQ(entries["hard"].linkname, "d/file");

    std::string dst = t / "dst";
    ASSERT_EQ(::mkdir(dst.c_str(), 0755), 0);
    auto r = unpack_file(tar, dst);
    ASSERT_TRUE(r.has_value()) << r.error().message();
    struct stat f = lstat_of(dst + "/d/file");
    EXPECT_EQ(f.st_uid, 1000u);
    EXPECT_EQ(f.st_gid, 1001u);
    EXPECT_EQ(f.st_mode & 07777, 04755u);
    EXPECT_EQ(f.st_mtime, 1234567);
    EXPECT_EQ(f.st_nlink, 2u);
    EXPECT_EQ(lstat_of(dst + "/hard").st_ino, f.st_ino);
    EXPECT_EQ(get_xattr(dst + "/d/file", "user.note"), "hi");
    EXPECT_EQ(get_xattr(dst + "/d/file", "trusted.overlay.origin"), "<none>");
    struct stat sym = lstat_of(dst + "/sym");
    ASSERT_TRUE(S_ISLNK(sym.st_mode));
    struct stat dev = lstat_of(dst + "/null");
    EXPECT_TRUE(S_ISCHR(dev.st_mode));
    EXPECT_EQ(dev.st_rdev, makedev(1, 3));
    EXPECT_TRUE(S_ISFIFO(lstat_of(dst + "/fifo").st_mode));
}

// A ustar header by hand: TarWriter has no call for a hard link, and hostile link targets
// are exactly what a real writer would not produce.
std::string ustar(const std::string& name, char type, const std::string& link,
                  const std::string& data) {
    std::string h(512, '\0');
    auto put = [&](size_t off, size_t len, const std::string& v) {
        h.replace(off, std::min(len, v.size()), v.substr(0, len));
    };
    auto octal = [](uint64_t v, int width) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%0*llo", width - 1, static_cast<unsigned long long>(v));
        return std::string(buf);
    };
    put(0, 100, name);
    put(100, 8, octal(0644, 8));
    put(108, 8, octal(0, 8));
    put(116, 8, octal(0, 8));
    put(124, 12, octal(data.size(), 12));
    put(136, 12, octal(0, 12));
    put(148, 8, "        ");
    h[156] = type;
    put(157, 100, link);
    put(257, 6, std::string("ustar\0", 6));
    put(263, 2, "00");
    unsigned sum = 0;
    for (unsigned char c : h) sum += c;
    put(148, 8, octal(sum, 7) + std::string(1, '\0'));
    std::string out = h + data;
    out.append((512 - data.size() % 512) % 512, '\0');
    return out;
}

TEST(Unpack, RefusesAHardLinkOutOfTheLayer) {
    TempDir t;
    ASSERT_TRUE(sys::write_file(t / "secret", "host secret").has_value());
    for (const char* target : {"../../secret", "/etc/passwd"}) {
        std::string tar = t / "hard.tar";
        std::string bytes = ustar("x", '1', target, "") + std::string(1024, '\0');
        ASSERT_TRUE(sys::write_file(tar, bytes).has_value());
        auto entries = read_tar(tar);
        ASSERT_TRUE(entries.count("x") && entries["x"].hardlink) << target;
        std::string dir = t / "layer/d";
        ASSERT_TRUE(sys::mkdir_all(dir).has_value());
        auto r = unpack_file(tar, dir);
        ASSERT_FALSE(r.has_value()) << target;
        EXPECT_NE(r.error().message().find("\"x\""), std::string::npos) << r.error().message();
        EXPECT_EQ(lstat_of(dir + "/x").st_mode, 0u) << target;
    }
    // Through a symlink the layer planted first.
    std::string tar = t / "hard2.tar";
    std::string bytes =
        ustar("l", '2', t.path(), "") + ustar("y", '1', "l/secret", "") + std::string(1024, '\0');
    ASSERT_TRUE(sys::write_file(tar, bytes).has_value());
    std::string dir = t / "layer2";
    ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
    auto r = unpack_file(tar, dir);
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message().find("\"y\""), std::string::npos) << r.error().message();
    EXPECT_EQ(lstat_of(dir + "/y").st_mode, 0u);
}

TEST(Unpack, TheRootEntryAppliesToTheLayerDir) {
    // Docker's layer tars start with "./": its mode is the container's "/".
    TempDir t;
    std::string root = ustar("./", '5', "", "");
    root.replace(100, 7, "0000750");  // mode field
    unsigned sum = 0;
    root.replace(148, 8, "        ");
    for (unsigned char c : root.substr(0, 512)) sum += c;
    char chk[8];
    std::snprintf(chk, sizeof chk, "%06o", sum);
    root.replace(148, 7, std::string(chk, 6) + '\0');
    std::string tar = t / "root.tar";
    ASSERT_TRUE(sys::write_file(tar, root + ustar("./f", '0', "", "x") + std::string(1024, '\0'))
                    .has_value());
    std::string dir = t / "layer";
    ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
    auto r = unpack_file(tar, dir);
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(lstat_of(dir).st_mode & 07777, 0750u);
    EXPECT_EQ(*sys::read_file(dir + "/f"), "x");
}

TEST(Unpack, RefusesAnEscapeWrittenByHand) {
    // Same check with raw ustar bytes, in case a writer ever normalised names for us.
    TempDir t;
    std::string tar = t / "raw.tar";
    ASSERT_TRUE(
        sys::write_file(tar, ustar("../raw-escape", '0', "", "evil") + std::string(1024, '\0'))
            .has_value());
    std::string dir = t / "layer";
    ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
    auto r = unpack_file(tar, dir);
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message().find("\"../raw-escape\""), std::string::npos)
        << r.error().message();
    EXPECT_EQ(lstat_of(t / "raw-escape").st_mode, 0u);
}

TEST(ExportTree, WritesAPlainTarOfADirectory) {
    TempDir t;
    std::string dir = t / "rootfs";
    ASSERT_TRUE(sys::mkdir_all(dir + "/etc").has_value());
    ASSERT_TRUE(sys::write_file(dir + "/etc/hostname", "box\n").has_value());
    ASSERT_EQ(::symlink("/etc/hostname", (dir + "/link").c_str()), 0);
    std::string out = t / "export.tar";
    auto fd = sys::open_file(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_TRUE(fd.has_value());
    auto r = export_tree(dir, fd->get());
    ASSERT_TRUE(r.has_value()) << r.error().message();
    auto entries = read_tar(out);
    EXPECT_EQ(entries.size(), 3u);
    ASSERT_TRUE(entries.count("etc/hostname"));
    EXPECT_EQ(entries["etc/hostname"].size, 4);
    EXPECT_EQ(entries["link"].linkname, "/etc/hostname");
    EXPECT_FALSE(export_tree(t / "missing", fd->get()).has_value());
}

TEST(Decompress, GzipAndZstdGiveThePlainBytes) {
    TempDir t;
    std::string tar = t / "x.tar";
    ASSERT_TRUE(write_tar(tar, [](TarWriter& w) { return w.add_data("f", "hello", {}); }));
    std::string plain = *sys::read_file(tar);
    for (const char* tool : {"gzip", "zstd", "xz"}) {
        std::string cmd = std::string("command -v ") + tool + " >/dev/null && " + tool + " -c " +
                          tar + " > " + tar + "." + tool;
        if (std::system(cmd.c_str()) != 0) continue;
        auto fd = sys::open_file(tar + "." + tool, O_RDONLY);
        ASSERT_TRUE(fd.has_value());
        std::string out;
        auto r = decompress(fd->get(), tool, [&](std::string_view d) -> sys::Result<void> {
            out.append(d);
            return {};
        });
        ASSERT_TRUE(r.has_value()) << tool << ": " << r.error().message();
        EXPECT_EQ(out, plain) << tool;
    }
}

}  // namespace
}  // namespace mydocker::engine::images
