#include "sys/dynlib.h"

#include <dlfcn.h>

namespace mydocker::sys {

Result<void*> open_library(const std::string& soname, const std::string& package) {
    // RTLD_LOCAL: the symbols stay out of the global namespace, so nothing else binds to them
    // by accident.
    void* h = ::dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) return fail(Error(ErrorCode::not_found, soname + " not found: install " + package));
    return h;
}

Result<void*> library_symbol(void* handle, const std::string& soname, const char* name) {
    ::dlerror();
    void* p = ::dlsym(handle, name);
    if (!p) {
        const char* why = ::dlerror();
        return fail(Error(ErrorCode::not_found,
                          soname + ": symbol \"" + name + "\" not found" + (why ? std::string(" (") + why + ")" : "")));
    }
    return p;
}

}  // namespace mydocker::sys
