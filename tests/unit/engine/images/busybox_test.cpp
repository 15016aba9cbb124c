// The embedded busybox image, built from the host's busybox-static on first resolve.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "engine/images/store.h"
#include "images_testing.h"

namespace mydocker::engine::images {
namespace {

using nlohmann::json;
using testing::have_busybox;
using testing::lstat_of;
using testing::StoreRoot;

std::string link_target(const std::string& p) {
    char buf[4096];
    ssize_t n = ::readlink(p.c_str(), buf, sizeof buf);
    return n < 0 ? "" : std::string(buf, static_cast<size_t>(n));
}

TEST(Busybox, FirstResolveBuildsTheImage) {
    if (!have_busybox()) GTEST_SKIP() << "/bin/busybox missing: install busybox-static";
    StoreRoot r;
    Store store(r.ctx);
    auto img = store.resolve("busybox");
    ASSERT_TRUE(img.has_value()) << img.error().message();
    EXPECT_EQ(img->names, std::vector<std::string>{"busybox:latest"});
    EXPECT_EQ(img->config.cmd, std::vector<std::string>{"sh"});
    EXPECT_EQ(img->config.env,
              std::vector<std::string>{
                  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"});
    ASSERT_EQ(img->layer_dirs.size(), 1u);
    const std::string& l = img->layer_dirs[0];
    struct stat bb = lstat_of(l + "/bin/busybox");
    EXPECT_TRUE(S_ISREG(bb.st_mode));
    EXPECT_EQ(bb.st_mode & 0777, 0755u);
    EXPECT_EQ(bb.st_size, lstat_of("/bin/busybox").st_size);
    EXPECT_EQ(link_target(l + "/bin/sh"), "/bin/busybox");
    EXPECT_EQ(link_target(l + "/usr/bin/env"), "/bin/busybox");
    EXPECT_EQ(lstat_of(l + "/tmp").st_mode & 07777, 01777u);
    for (const char* d : {"dev", "proc", "sys", "root", "etc", "home", "var"})
        EXPECT_TRUE(S_ISDIR(lstat_of(l + "/" + d).st_mode)) << d;
    std::string passwd = *sys::read_file(l + "/etc/passwd");
    EXPECT_NE(passwd.find("root:x:0:0:root:/root:/bin/sh\n"), std::string::npos);
    EXPECT_NE(passwd.find("nobody:x:65534:65534:"), std::string::npos);
    EXPECT_TRUE(sys::path_exists(l + "/etc/group"));
    // All entries carry the binary's mtime: the same busybox gives the same image.
    EXPECT_EQ(lstat_of(l + "/etc/passwd").st_mtime, lstat_of("/bin/busybox").st_mtime);

    // Other spellings find the same image; a second resolve builds nothing new.
    for (const char* ref :
         {"busybox:latest", "docker.io/library/busybox", "docker.io/library/busybox:latest"}) {
        auto again = store.resolve(ref);
        ASSERT_TRUE(again.has_value()) << ref << ": " << again.error().message();
        EXPECT_EQ(again->id, img->id) << ref;
    }
    EXPECT_EQ(json::parse(*sys::read_file(r.dir / "images/index.json"))["manifests"].size(), 1u);
    EXPECT_FALSE(store.resolve("busybox:other").has_value());

    StoreRoot other;
    Store store2(other.ctx);
    auto img2 = store2.resolve("busybox");
    ASSERT_TRUE(img2.has_value()) << img2.error().message();
    EXPECT_EQ(img2->id, img->id) << "the same busybox must give the same image id";
}

TEST(Busybox, ConcurrentFirstResolvesBuildItOnce) {
    if (!have_busybox()) GTEST_SKIP() << "/bin/busybox missing: install busybox-static";
    StoreRoot r;
    constexpr int kProcs = 12;
    std::vector<std::pair<pid_t, int>> kids;
    for (int i = 0; i < kProcs; i++) {
        int p[2];
        ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
        pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            Store store(r.ctx);
            auto img = store.resolve("busybox");
            std::string out = img ? img->id : "error: " + img.error().message();
            (void)!::write(p[1], out.data(), out.size());
            ::_exit(img ? 0 : 1);
        }
        ::close(p[1]);
        kids.emplace_back(pid, p[0]);
    }
    std::set<std::string> ids;
    for (auto [pid, fd] : kids) {
        std::string out = *sys::read_fd(fd);
        ::close(fd);
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
        ids.insert(out);
    }
    EXPECT_EQ(ids.size(), 1u);
    EXPECT_EQ(json::parse(*sys::read_file(r.dir / "images/index.json"))["manifests"].size(), 1u);
    EXPECT_EQ(sys::list_dir(r.dir / "layers")->size(), 1u);
    EXPECT_EQ(sys::list_dir(r.dir / "images/blobs/sha256")->size(), 3u);  // layer, config, manifest
    EXPECT_TRUE(sys::list_dir(r.dir / "images/tmp")->empty());
}

TEST(Busybox, AMissingBinaryIsAClearError) {
    StoreRoot r;
    ::setenv("MYDOCKER_BUSYBOX", "/nonexistent/busybox", 1);
    Store store(r.ctx);
    auto img = store.resolve("busybox");
    ::unsetenv("MYDOCKER_BUSYBOX");
    ASSERT_FALSE(img.has_value());
    EXPECT_NE(img.error().message().find("\"/nonexistent/busybox\""), std::string::npos)
        << img.error().message();
    EXPECT_NE(img.error().message().find("busybox-static"), std::string::npos)
        << img.error().message();
}

TEST(Busybox, ADynamicBinaryIsRefused) {
    StoreRoot r;
    ::setenv("MYDOCKER_BUSYBOX", "/bin/ls", 1);
    Store store(r.ctx);
    auto img = store.resolve("busybox");
    ::unsetenv("MYDOCKER_BUSYBOX");
    ASSERT_FALSE(img.has_value());
    EXPECT_NE(img.error().message().find("dynamically linked"), std::string::npos)
        << img.error().message();
}

}  // namespace
}  // namespace mydocker::engine::images
