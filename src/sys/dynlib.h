// Shared libraries loaded on first use with dlopen(): the heavy ones (libarchive, libcrypto,
// libnftables) cost milliseconds of start-up each when linked, and only a few commands need
// them (DESIGN "Fast by design").
#pragma once

#include <string>

#include "sys/error.h"

namespace mydocker::sys {

/// dlopen(`soname`) (RTLD_NOW | RTLD_LOCAL, kept for the life of the process); the error
/// names the Debian package to install.
Result<void*> open_library(const std::string& soname, const std::string& package);
/// dlsym(`name`) in a handle of open_library; not_found names the library and the symbol.
Result<void*> library_symbol(void* handle, const std::string& soname, const char* name);
/// library_symbol into a typed function pointer.
template <typename Fn>
Result<void> bind_symbol(void* handle, const std::string& soname, const char* name, Fn*& out) {
    out = reinterpret_cast<Fn*>(MD_TRY(library_symbol(handle, soname, name)));
    return {};
}

}  // namespace mydocker::sys
