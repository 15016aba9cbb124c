#include "engine/images/libs.h"

#include "sys/dynlib.h"

namespace mydocker::engine::images {

namespace {

// One load per process; a failed load is remembered too, so every caller sees the same error.
template <typename Lib>
struct Loaded {
    Lib lib;
    sys::Result<void> status;
};

sys::Result<void*> symbol(void* handle, const char* soname, const char* name) {
    return sys::library_symbol(handle, soname, name);
}

sys::Result<void> load_archive(LibArchive& la) {
    void* h = MD_TRY(open_library("libarchive.so.13", "libarchive13"));
#define MD_X(name)                                 \
    la.name = reinterpret_cast<decltype(la.name)>( \
        MD_TRY(symbol(h, "libarchive.so.13", "archive_" #name)));
    MD_LIBARCHIVE_FUNCS(MD_X)
#undef MD_X
    MD_TRY(sys::bind_symbol(h, "libarchive.so.13", "archive_errno", la.errno_of));
    return {};
}

sys::Result<void> load_crypto(LibCrypto& lc) {
    void* h = MD_TRY(open_library("libcrypto.so.3", "libssl3"));
    auto get = [&](auto& fn, const char* name) { return sys::bind_symbol(h, "libcrypto.so.3", name, fn); };
    MD_TRY(get(lc.md_ctx_new, "EVP_MD_CTX_new"));
    MD_TRY(get(lc.md_ctx_free, "EVP_MD_CTX_free"));
    MD_TRY(get(lc.sha256, "EVP_sha256"));
    MD_TRY(get(lc.digest_init, "EVP_DigestInit_ex"));
    MD_TRY(get(lc.digest_update, "EVP_DigestUpdate"));
    MD_TRY(get(lc.digest_final, "EVP_DigestFinal_ex"));
    return {};
}

sys::Result<void> load_z(LibZ& lz) {
    void* h = MD_TRY(open_library("libz.so.1", "zlib1g"));
    auto get = [&](auto& fn, const char* name) {
        return sys::bind_symbol(h, "libz.so.1", name, fn);
    };
    MD_TRY(get(lz.deflate_init2, "deflateInit2_"));
    MD_TRY(get(lz.deflate, "deflate"));
    MD_TRY(get(lz.deflate_end, "deflateEnd"));
    return {};
}

}  // namespace

sys::Result<void*> open_library(const std::string& soname, const std::string& package) {
    return sys::open_library(soname, package);
}

sys::Result<const LibArchive*> libarchive() {
    static Loaded<LibArchive> loaded = [] {
        Loaded<LibArchive> l;
        l.status = load_archive(l.lib);
        return l;
    }();
    if (!loaded.status) return sys::fail(loaded.status.error());
    return &loaded.lib;
}

sys::Result<const LibCrypto*> libcrypto() {
    static Loaded<LibCrypto> loaded = [] {
        Loaded<LibCrypto> l;
        l.status = load_crypto(l.lib);
        return l;
    }();
    if (!loaded.status) return sys::fail(loaded.status.error());
    return &loaded.lib;
}

sys::Result<const LibZ*> libz() {
    static Loaded<LibZ> loaded = [] {
        Loaded<LibZ> l;
        l.status = load_z(l.lib);
        return l;
    }();
    if (!loaded.status) return sys::fail(loaded.status.error());
    return &loaded.lib;
}

std::string archive_message(const LibArchive& la, struct archive* a) {
    const char* s = a ? la.error_string(a) : nullptr;
    return s ? s : "unknown error";
}

}  // namespace mydocker::engine::images
