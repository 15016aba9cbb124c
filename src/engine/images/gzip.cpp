#include "engine/images/gzip.h"

#include <unistd.h>

#include <cerrno>

namespace mydocker::engine::images {

namespace {

constexpr size_t kInChunk = 128 << 10;
// 15 bits of window + 16: a gzip wrapper instead of zlib's.
constexpr int kGzipWindowBits = 15 + 16;

}  // namespace

GzipStream::GzipStream(const LibZ* lz, int fd, std::string what, Sha256 hash)
    : lz_(lz), fd_(fd), what_(std::move(what)), hash_(std::move(hash)) {}

GzipStream::~GzipStream() {
    if (z_) lz_->deflate_end(z_.get());
}

sys::Result<GzipStream> GzipStream::open(int fd, std::string what) {
    const LibZ* lz = MD_TRY(libz());
    GzipStream g(lz, fd, std::move(what), MD_TRY(Sha256::create()));
    auto z = std::make_unique<z_stream>();
    if (int rc = lz->deflate_init2(z.get(), Z_DEFAULT_COMPRESSION, Z_DEFLATED, kGzipWindowBits, 8,
                                   Z_DEFAULT_STRATEGY, ZLIB_VERSION, sizeof(z_stream));
        rc != Z_OK)
        return sys::fail(sys::Error::from_errno(
            rc == Z_MEM_ERROR ? ENOMEM : EINVAL,
            "compress \"" + g.what_ + "\": deflateInit2: error " + std::to_string(rc)));
    g.z_ = std::move(z);
    g.in_buf_.resize(kInChunk);
    return g;
}

sys::Result<size_t> GzipStream::read(char* buf, size_t n) {
    if (done_ || n == 0) return size_t{0};
    z_->next_out = reinterpret_cast<Bytef*>(buf);
    z_->avail_out = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    const uInt want = z_->avail_out;
    while (z_->avail_out > 0 && !done_) {
        if (z_->avail_in == 0 && !eof_) {
            ssize_t got;
            do got = ::pread(fd_, in_buf_.data(), in_buf_.size(), in_);
            while (got < 0 && errno == EINTR);
            if (got < 0) return sys::fail_errno("read \"" + what_ + "\"");
            if (got == 0) eof_ = true;
            in_ += got;
            z_->next_in = in_buf_.data();
            z_->avail_in = static_cast<uInt>(got);
        }
        int rc = lz_->deflate(z_.get(), eof_ ? Z_FINISH : Z_NO_FLUSH);
        if (rc == Z_STREAM_END) {
            done_ = true;
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            return sys::fail(sys::Error::from_errno(
                EIO, "compress \"" + what_ + "\": deflate: error " + std::to_string(rc)));
        }
    }
    size_t produced = want - z_->avail_out;
    hash_.update(std::string_view(buf, produced));
    out_ += static_cast<int64_t>(produced);
    if (done_) digest_ = "sha256:" + hash_.finish();
    return produced;
}

sys::Result<void> GzipStream::drain() {
    std::vector<char> sink(kInChunk);
    while (MD_TRY(read(sink.data(), sink.size())) > 0) {
    }
    return {};
}

}  // namespace mydocker::engine::images
