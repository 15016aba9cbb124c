// GzipStream (push's on-the-fly compression): what it produces is gzip that decompresses to
// the file, its digest and size are those of the bytes it gave out, whatever the pieces the
// reader asks for, and the same file gives the same bytes (a pushed layer's digest is stable).
#include "engine/images/gzip.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include "engine/images/digest.h"
#include "engine/images/tar.h"
#include "images_testing.h"
#include "sys/files.h"

namespace mydocker::engine::images {
namespace {

using testing::TempDir;

// Compress the file at `path`, asking for `piece` bytes at a time.
std::string gzip_file(const std::string& path, size_t piece, std::string* digest = nullptr) {
    auto fd = sys::open_file(path, O_RDONLY);
    EXPECT_TRUE(fd.has_value());
    if (!fd) return "";
    auto gz = GzipStream::open(fd->get(), path);
    EXPECT_TRUE(gz.has_value()) << gz.error().message();
    if (!gz) return "";
    std::string out, buf(piece, '\0');
    for (;;) {
        auto n = gz->read(buf.data(), buf.size());
        EXPECT_TRUE(n.has_value()) << n.error().message();
        if (!n || *n == 0) break;
        out.append(buf.data(), *n);
    }
    EXPECT_EQ(gz->size(), static_cast<int64_t>(out.size()));
    EXPECT_EQ(gz->input_size(), static_cast<int64_t>(sys::read_file(path)->size()));
    if (digest) *digest = gz->digest();
    return out;
}

std::string gunzip(const TempDir& dir, const std::string& data) {
    const std::string path = dir / "in.gz";
    EXPECT_TRUE(sys::write_file(path, data));
    auto fd = sys::open_file(path, O_RDONLY);
    std::string out;
    EXPECT_TRUE(decompress(fd->get(), path, [&](std::string_view d) -> sys::Result<void> {
        out.append(d);
        return {};
    }));
    return out;
}

TEST(GzipStream, CompressesAFileInAnyPiecesAndTheSameWay) {
    TempDir dir;
    std::string content;
    for (int i = 0; i < 200000; ++i) content += std::to_string(i * 7919 % 100003) + "\n";
    const std::string path = dir / "layer.tar";
    ASSERT_TRUE(sys::write_file(path, content));

    std::string digest;
    std::string big = gzip_file(path, 64 << 10, &digest);
    ASSERT_GT(big.size(), 10u);
    EXPECT_LT(big.size(), content.size());
    EXPECT_EQ(static_cast<unsigned char>(big[0]), 0x1f);
    EXPECT_EQ(static_cast<unsigned char>(big[1]), 0x8b);
    EXPECT_EQ(big.substr(4, 4), std::string(4, '\0'));  // no mtime
    EXPECT_EQ(digest, "sha256:" + *sha256_hex(big));
    EXPECT_EQ(gunzip(dir, big), content);
    // Tiny pieces: the same bytes.
    EXPECT_EQ(gzip_file(path, 7), big);
}

TEST(GzipStream, AnEmptyFileIsAValidEmptyGzip) {
    TempDir dir;
    const std::string path = dir / "empty";
    ASSERT_TRUE(sys::write_file(path, ""));
    std::string digest;
    std::string gz = gzip_file(path, 4096, &digest);
    ASSERT_GE(gz.size(), 20u);  // header and trailer
    EXPECT_EQ(digest, "sha256:" + *sha256_hex(gz));
    EXPECT_EQ(gunzip(dir, gz), "");
}

}  // namespace
}  // namespace mydocker::engine::images
