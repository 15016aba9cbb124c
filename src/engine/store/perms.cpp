#include "engine/store/perms.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

#include "sys/files.h"

namespace mydocker::engine::store {

namespace {

// Layers hold setuid-root executables and device nodes from images, volumes what containers
// wrote (a setuid copy of a shell too), and a running container's merged rootfs both: a host
// user who can walk to them runs them as root or opens the device (the class of docker's
// CVE-2021-41091). Docker's root is 0710 for the group of a userns remap, which this engine
// does not have: root alone then. Each holder is 0700 too, so that a root loosened by hand
// still leaves no path in.
constexpr mode_t kPrivate = 0700;

// Take group and other bits off an existing dir; a missing one is fine (made 0700 on use).
// Every command pays one stat(2) per dir; only a wide one is opened, and fchmod'ed through the
// fd whose mode was checked (the name cannot be swapped between the check and the change).
sys::Result<void> tighten(const std::string& dir) {
    struct stat st;
    if (::stat(dir.c_str(), &st) < 0) {
        if (errno == ENOENT) return {};
        return sys::fail_errno("stat \"" + dir + "\"");
    }
    if ((st.st_mode & 077) == 0) return {};
    auto fd = MD_TRY(sys::open_file(dir, O_RDONLY | O_DIRECTORY));
    if (::fstat(fd.get(), &st) < 0) return sys::fail_errno("stat \"" + dir + "\"");
    if ((st.st_mode & 077) == 0) return {};
    if (::fchmod(fd.get(), kPrivate) < 0) return sys::fail_errno("chmod 0700 \"" + dir + "\"");
    return {};
}

}  // namespace

sys::Result<void> secure(const Context& ctx) {
    // Nothing is made here (a command that only reads the store leaves none): the code that
    // makes these dirs, and the root and runroot above them, makes them 0700.
    for (const auto& dir : {ctx.root, ctx.layers_dir(), ctx.images_dir(), ctx.containers_dir(),
                            ctx.volumes_dir(), ctx.run_root, ctx.bundles_dir(), ctx.runtime_dir()})
        MD_TRY(tighten(dir));
    return {};
}

}  // namespace mydocker::engine::store
