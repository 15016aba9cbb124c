#include "runtime/idmap.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "sys/files.h"
#include "sys/proc.h"

namespace mydocker::runtime {

namespace {

std::string map_text(const std::vector<IdMapping>& maps) {
    std::string text;
    for (const auto& m : maps)
        text += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " +
                std::to_string(m.size) + "\n";
    return text;
}

}  // namespace

sys::Result<sys::UniqueFd> make_userns_fd(const std::vector<IdMapping>& uids,
                                          const std::vector<IdMapping>& gids) {
    // A user namespace outlives its last process only through an fd: a child makes it, waits
    // until we have written its maps and opened its ns file, and exits when the pipe closes.
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) return sys::fail_errno("pipe");
    sys::UniqueFd rd(p[0]), wr(p[1]);
    long pid = ::syscall(SYS_clone, static_cast<unsigned long>(CLONE_NEWUSER) | SIGCHLD, nullptr,
                         nullptr, nullptr, 0);
    if (pid < 0) return sys::fail_errno("clone a user namespace for an id-mapped mount");
    if (pid == 0) {
        char c;
        wr.reset();
        while (::read(rd.get(), &c, 1) < 0 && errno == EINTR) {
        }
        ::_exit(0);
    }
    rd.reset();
    auto reap = [&] {
        wr.reset();
        (void)sys::wait_pid(static_cast<pid_t>(pid));
    };
    const std::string proc = "/proc/" + std::to_string(pid) + "/";
    sys::Result<sys::UniqueFd> out = [&]() -> sys::Result<sys::UniqueFd> {
        MD_TRY_CTX(sys::write_existing(proc + "uid_map", map_text(uids)), "uidMappings");
        MD_TRY_CTX(sys::write_existing(proc + "gid_map", map_text(gids)), "gidMappings");
        return sys::open_file(proc + "ns/user", O_RDONLY);
    }();
    reap();
    return out;
}

sys::Result<sys::UniqueFd> open_idmapped_tree(const Mount& m) {
    unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (m.recursive ? AT_RECURSIVE : 0);
    int t = ::open_tree(AT_FDCWD, m.source.c_str(), flags);
    if (t < 0) return sys::fail_errno("open_tree bind mount source \"" + m.source + "\"");
    sys::UniqueFd tree(t);
    auto userns = MD_TRY(make_userns_fd(m.uid_mappings, m.gid_mappings));
    struct mount_attr attr {};
    attr.attr_set = MOUNT_ATTR_IDMAP;
    attr.userns_fd = static_cast<uint64_t>(userns.get());
    unsigned at = AT_EMPTY_PATH | (m.idmap_recursive ? AT_RECURSIVE : 0);
    // EINVAL here: the filesystem of the source cannot be id-mapped (or a mount of an rbind
    // tree already is); EPERM: we are not privileged over its superblock.
    if (::mount_setattr(tree.get(), "", at, &attr, sizeof attr) < 0)
        return sys::fail_errno("id-map bind mount source \"" + m.source + "\"");
    return tree;
}

}  // namespace mydocker::runtime
