// sha256 digests (libcrypto EVP, loaded on first use) and the checks on digest strings that
// come from untrusted JSON (index.json, manifests, archives) before they become file names.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/images/libs.h"
#include "sys/error.h"

namespace mydocker::engine::images {

/// An incremental sha256.
class Sha256 {
public:
    static sys::Result<Sha256> create();
    Sha256(Sha256&& o) noexcept;
    Sha256& operator=(Sha256&&) = delete;
    Sha256(const Sha256&) = delete;
    ~Sha256();

    void update(std::string_view data);
    /// The lowercase hex digest (64 chars); the object cannot be updated afterwards.
    std::string finish();

private:
    Sha256(const LibCrypto* lc, EVP_MD_CTX* ctx) : lc_(lc), ctx_(ctx) {}
    const LibCrypto* lc_ = nullptr;
    EVP_MD_CTX* ctx_ = nullptr;
};

/// sha256 of `data` as 64 hex chars.
sys::Result<std::string> sha256_hex(std::string_view data);
/// sha256 of a whole file as 64 hex chars.
sys::Result<std::string> sha256_file(const std::string& path);

/// True for exactly 64 lowercase hex chars.
bool is_hex64(std::string_view s);
/// True for a non-empty string of lowercase hex chars.
bool is_hex(std::string_view s);
/// "sha256:<64 hex>" -> "<64 hex>"; anything else (another algorithm, bad hex) is an error
/// naming `what`, so a digest never becomes a path before this check.
sys::Result<std::string> digest_hex(std::string_view digest, std::string_view what);

}  // namespace mydocker::engine::images
