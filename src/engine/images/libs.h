// libarchive, libcrypto and zlib, loaded with dlopen() on first use and never linked: they cost
// ~7 ms of start-up each (DESIGN "Fast by design"), and only the commands that write images
// (busybox, import, load, commit, save, export; push) need them. Reading images needs neither.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>
#include <zlib.h>

#include <string>

#include "sys/error.h"

namespace mydocker::engine::images {

// X(name): the libarchive function archive_<name>. The real headers give each pointer its
// exact type, so a wrong call does not compile.
// clang-format off
#define MD_LIBARCHIVE_FUNCS(X)                                                                   \
    X(error_string)                                                                              \
    X(read_new) X(read_support_filter_all) X(read_support_format_tar)                            \
    X(read_support_format_empty) X(read_support_format_raw) X(read_open_fd)                      \
    X(read_next_header) X(read_data) X(read_data_block) X(read_free)                             \
    X(write_new) X(write_set_format_pax_restricted) X(write_set_bytes_in_last_block)             \
    X(write_open_fd) X(write_open2) X(write_header) X(write_data) X(write_data_block)             \
    X(write_finish_entry) X(write_close) X(write_free) X(write_disk_new)                         \
    X(write_disk_set_options)                                                                    \
    X(entry_new) X(entry_free) X(entry_clear) X(entry_pathname) X(entry_copy_pathname)           \
    X(entry_hardlink) X(entry_copy_hardlink) X(entry_symlink) X(entry_copy_symlink)              \
    X(entry_filetype) X(entry_set_filetype) X(entry_perm) X(entry_set_perm) X(entry_size)        \
    X(entry_set_size) X(entry_size_is_set) X(entry_uid) X(entry_set_uid) X(entry_gid)            \
    X(entry_set_gid) X(entry_mtime) X(entry_set_mtime) X(entry_rdevmajor) X(entry_rdevminor)     \
    X(entry_set_rdevmajor) X(entry_set_rdevminor) X(entry_xattr_clear) X(entry_xattr_add_entry)  \
    X(entry_xattr_reset) X(entry_xattr_next)
// clang-format on

/// The libarchive functions the image store uses, resolved from libarchive.so.13.
struct LibArchive {
#define MD_X(name) decltype(&::archive_##name) name = nullptr;
    MD_LIBARCHIVE_FUNCS(MD_X)
#undef MD_X
    // archive_errno (a member cannot be named errno, a macro): the system's error behind a
    // failed write, as "Write failed" alone does not say "no space".
    decltype(&::archive_errno) errno_of = nullptr;
};

/// The libcrypto functions for sha256 (EVP), resolved from libcrypto.so.3.
struct LibCrypto {
    decltype(&::EVP_MD_CTX_new) md_ctx_new = nullptr;
    decltype(&::EVP_MD_CTX_free) md_ctx_free = nullptr;
    decltype(&::EVP_sha256) sha256 = nullptr;
    decltype(&::EVP_DigestInit_ex) digest_init = nullptr;
    decltype(&::EVP_DigestUpdate) digest_update = nullptr;
    decltype(&::EVP_DigestFinal_ex) digest_final = nullptr;
};

/// The zlib functions for gzip compression (push), resolved from libz.so.1. deflateInit2 is
/// a macro over deflateInit2_, which takes the header's version and stream size.
struct LibZ {
    decltype(&::deflateInit2_) deflate_init2 = nullptr;
    decltype(&::deflate) deflate = nullptr;
    decltype(&::deflateEnd) deflate_end = nullptr;
};

/// libarchive, loaded on the first call; "libarchive.so.13 not found: install libarchive13".
sys::Result<const LibArchive*> libarchive();
/// libcrypto, loaded on the first call; "libcrypto.so.3 not found: install libssl3".
sys::Result<const LibCrypto*> libcrypto();

/// zlib, loaded on the first call; "libz.so.1 not found: install zlib1g".
sys::Result<const LibZ*> libz();

/// dlopen(`soname`); the error names the Debian package to install. Exposed for tests.
sys::Result<void*> open_library(const std::string& soname, const std::string& package);

/// libarchive's message for the last error on `a` ("unknown error" when it has none).
std::string archive_message(const LibArchive& la, struct archive* a);

}  // namespace mydocker::engine::images
