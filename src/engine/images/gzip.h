// gzip compression of a file as a stream (push): the compressed bytes come out in pieces as
// the reader asks for them, their sha256 and size counted on the way, so a layer is never
// held in memory or written anywhere but to the registry.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/images/digest.h"
#include "engine/images/libs.h"
#include "sys/error.h"

namespace mydocker::engine::images {

class GzipStream {
  public:
    /// Compress the file open as `fd` (from offset 0; not owned, read with pread), named
    /// `what` in errors. Deterministic: no name or time in the gzip header (zlib writes a zero
    /// mtime), the default level, so the same file gives the same bytes with the same zlib.
    static sys::Result<GzipStream> open(int fd, std::string what);
    GzipStream(GzipStream&&) noexcept = default;
    GzipStream& operator=(GzipStream&&) = delete;
    ~GzipStream();

    /// Up to `n` more compressed bytes into `buf`; 0 once the stream is complete.
    sys::Result<size_t> read(char* buf, size_t n);
    /// Read to the end, the bytes dropped (only the digest and size are wanted).
    sys::Result<void> drain();
    /// Once read() returned 0: "sha256:<hex>" of the compressed bytes.
    const std::string& digest() const { return digest_; }
    /// Bytes out so far (compressed) and in (the file's).
    int64_t size() const { return out_; }
    int64_t input_size() const { return in_; }

  private:
    GzipStream(const LibZ* lz, int fd, std::string what, Sha256 hash);
    const LibZ* lz_;
    int fd_;
    std::string what_;
    Sha256 hash_;
    std::unique_ptr<z_stream> z_;
    std::vector<unsigned char> in_buf_;
    int64_t in_ = 0;
    int64_t out_ = 0;
    bool eof_ = false;
    bool done_ = false;
    std::string digest_;
};

}  // namespace mydocker::engine::images
