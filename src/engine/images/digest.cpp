#include "engine/images/digest.h"

#include <fcntl.h>

#include <utility>

#include "sys/files.h"

namespace mydocker::engine::images {

sys::Result<Sha256> Sha256::create() {
    const LibCrypto* lc = MD_TRY(libcrypto());
    EVP_MD_CTX* ctx = lc->md_ctx_new();
    if (!ctx) return sys::fail(sys::Error::from_errno(ENOMEM, "sha256: EVP_MD_CTX_new"));
    if (lc->digest_init(ctx, lc->sha256(), nullptr) != 1) {
        lc->md_ctx_free(ctx);
        return sys::fail(sys::Error::from_errno(EINVAL, "sha256: EVP_DigestInit_ex"));
    }
    return Sha256(lc, ctx);
}

Sha256::Sha256(Sha256&& o) noexcept : lc_(o.lc_), ctx_(std::exchange(o.ctx_, nullptr)) {}

Sha256::~Sha256() {
    if (ctx_) lc_->md_ctx_free(ctx_);
}

void Sha256::update(std::string_view data) {
    if (ctx_ && !data.empty()) lc_->digest_update(ctx_, data.data(), data.size());
}

std::string Sha256::finish() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!ctx_ || lc_->digest_final(ctx_, md, &len) != 1) return {};
    static const char* hex = "0123456789abcdef";
    std::string out;
    out.reserve(len * 2);
    for (unsigned int i = 0; i < len; i++) {
        out.push_back(hex[md[i] >> 4]);
        out.push_back(hex[md[i] & 15]);
    }
    return out;
}

sys::Result<std::string> sha256_hex(std::string_view data) {
    auto h = MD_TRY(Sha256::create());
    h.update(data);
    return h.finish();
}

sys::Result<std::string> sha256_file(const std::string& path) {
    auto h = MD_TRY(Sha256::create());
    auto fd = MD_TRY(sys::open_file(path, O_RDONLY));
    char buf[65536];
    for (;;) {
        ssize_t n = MD_RETRY(::read(fd.get(), buf, sizeof buf));
        if (n < 0) return sys::fail_errno("read \"" + path + "\"");
        if (n == 0) break;
        h.update(std::string_view(buf, static_cast<size_t>(n)));
    }
    return h.finish();
}

bool is_hex(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

bool is_hex64(std::string_view s) {
    return s.size() == 64 && is_hex(s);
}

sys::Result<std::string> digest_hex(std::string_view digest, std::string_view what) {
    constexpr std::string_view prefix = "sha256:";
    if (digest.starts_with(prefix) && is_hex64(digest.substr(prefix.size())))
        return std::string(digest.substr(prefix.size()));
    return sys::fail_invalid(std::string(what) + ": unsupported digest \"" + std::string(digest) +
                             "\" (want sha256:<64 hex digits>)");
}

}  // namespace mydocker::engine::images
