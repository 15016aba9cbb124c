#include "runtime/rootfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>
#include <deque>
#include <vector>

#include "sys/files.h"
#include "sys/mountinfo.h"
#include "sys/strings.h"

namespace mydocker::runtime {

using sys::UniqueFd;

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

namespace {

std::deque<std::string> split_path(const std::string& p) {
    std::deque<std::string> out;
    size_t i = 0;
    while (i <= p.size()) {
        size_t j = p.find('/', i);
        if (j == std::string::npos) j = p.size();
        if (j > i) out.emplace_back(p.substr(i, j - i));
        i = j + 1;
    }
    return out;
}

sys::Result<void> do_mount(const std::string& src, const std::string& target, const std::string& shown,
                           const char* type, unsigned long flags, const std::string& data) {
    if (::mount(src.empty() ? nullptr : src.c_str(), target.c_str(), type, flags,
                data.empty() ? nullptr : data.c_str()) < 0) {
        return sys::fail_errno("mount \"" + (src.empty() ? std::string(type ? type : "") : src) + "\" on \"" +
                               shown + "\"");
    }
    return {};
}

// The flags of an existing mount that a bind remount must keep, unless the spec clears them:
// in a user namespace the kernel refuses to drop "locked" nosuid/nodev/noexec/atime flags.
unsigned long locked_flags(const std::string& target, unsigned long clear) {
    struct statvfs sv;
    if (::statvfs(target.c_str(), &sv) < 0) return 0;
    unsigned long out = 0;
    if (sv.f_flag & ST_NOSUID) out |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV) out |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC) out |= MS_NOEXEC;
    if (sv.f_flag & ST_NOATIME) out |= MS_NOATIME;
    if (sv.f_flag & ST_NODIRATIME) out |= MS_NODIRATIME;
    if (sv.f_flag & ST_RELATIME) out |= MS_RELATIME;
    return out & ~clear;
}

constexpr unsigned long kPropagation = MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE;

/// Make the mount at `fd` (and, if `recursive`, every mount below it) read-only with
/// mount_setattr(2): it changes that one flag, so the locked ones need no statvfs. False when
/// the kernel has no mount_setattr (before 5.12): the caller remounts instead.
bool set_readonly_at(int fd, bool recursive) {
    struct mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    unsigned flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
    return ::mount_setattr(fd, "", flags, &attr, sizeof attr) == 0;
}

/// The same for a path (after pivot_root, where the paths are the container's own).
bool set_readonly(const std::string& path) {
    struct mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    return ::mount_setattr(AT_FDCWD, path.c_str(), 0, &attr, sizeof attr) == 0;
}

/// Bind-remount `shown` read-only, keeping its other flags: mount_setattr, else MS_REMOUNT.
sys::Result<void> remount_readonly(const std::string& path, const std::string& shown, unsigned long clear = 0) {
    if (clear == 0 && set_readonly(path)) return {};
    if (::mount(nullptr, path.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(path, clear),
                nullptr) < 0)
        return sys::fail_errno("mount \"\" on \"" + shown + "\"");
    return {};
}

struct DefaultDevice {
    const char* name;
    unsigned major, minor;
};
constexpr DefaultDevice kDefaultDevices[] = {
    {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

/// Make the node `base` in the directory `dfd` (`path` names it in errors).
sys::Result<void> make_node(int root_fd, int dfd, const std::string& path, const std::string& base, char type,
                            int64_t major, int64_t minor, uint32_t mode, uint32_t uid, uint32_t gid, bool user_ns) {
    mode_t kind = type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR;
    if (!user_ns) {
        dev_t dev = makedev(static_cast<unsigned>(major), static_cast<unsigned>(minor));
        int rc = ::mknodat(dfd, base.c_str(), kind | (mode & 07777), dev);
        if (rc < 0 && errno == EEXIST) {
            // Replace whatever the image had there (a file, a stale node).
            ::unlinkat(dfd, base.c_str(), 0);
            rc = ::mknodat(dfd, base.c_str(), kind | (mode & 07777), dev);
        }
        if (rc < 0) return sys::fail_errno("mknod \"" + path + "\"");
        if (::fchownat(dfd, base.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
            return sys::fail_errno("chown \"" + path + "\"");
        return {};
    }
    // In a user namespace mknod is refused: bind the host's node onto an empty file.
    ::unlinkat(dfd, base.c_str(), 0);
    auto f = MD_TRY(sys::open_at(dfd, base, O_WRONLY | O_CREAT | O_EXCL, 0000));
    f.reset();
    auto target = MD_TRY(resolve_in_root(root_fd, path, false));
    return do_mount(path, fd_path(target.get()), path, nullptr, MS_BIND, "");
}

sys::Result<void> create_device(int root_fd, const std::string& path, char type, int64_t major, int64_t minor,
                                uint32_t mode, uint32_t uid, uint32_t gid, bool user_ns) {
    auto slash = path.find_last_of('/');
    std::string dir = path.substr(0, slash), base = path.substr(slash + 1);
    auto dir_fd = MD_TRY(resolve_in_root(root_fd, dir.empty() ? "/" : dir, true));
    return make_node(root_fd, dir_fd.get(), path, base, type, major, minor, mode, uid, gid, user_ns);
}

/// The cgroup hierarchies mounted directly under `root` (name, fs type): what a v1 container
/// gets one directory each of. From the directory itself, not mountinfo: a statfs per entry
/// is far cheaper than the kernel rendering every mount of the namespace. (fstatfs of an
/// entry opened from the directory's fd: no walk from / for each, a third of the time here.)
sys::Result<std::vector<std::pair<std::string, std::string>>> cgroup_hierarchies(const std::string& root) {
    std::vector<std::pair<std::string, std::string>> out;
    DIR* d = ::opendir(root.c_str());
    if (!d) return sys::fail_errno("opendir \"" + root + "\"");
    while (struct dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        // "cpu" -> "cpu,cpuacct" style links are made again from the comma name.
        if (name == "." || name == ".." || (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN)) continue;
        sys::UniqueFd entry(::openat(::dirfd(d), e->d_name, O_PATH | O_DIRECTORY | O_CLOEXEC));
        struct statfs sf;
        if (!entry.valid() || ::fstatfs(entry.get(), &sf) < 0) continue;
        if (sf.f_type == CGROUP_SUPER_MAGIC) out.emplace_back(name, "cgroup");
        else if (sf.f_type == CGROUP2_SUPER_MAGIC) out.emplace_back(name, "cgroup2");
    }
    ::closedir(d);
    return out;
}

sys::Result<void> mount_cgroup(int root_fd, const Mount& m, const RootfsOptions& opts) {
    auto target = MD_TRY(resolve_in_root(root_fd, m.destination, true));
    unsigned long flags = m.flags & ~MS_RDONLY;
    struct statfs sf;
    bool v2 = ::statfs(opts.cgroup_root.c_str(), &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
    if (v2) {
        if (opts.new_cgroup_ns)
            return do_mount("cgroup2", fd_path(target.get()), m.destination, "cgroup2", m.flags, "");
        std::string src = sys::path_join(opts.cgroup_root, opts.cgroup_path);
        MD_TRY(do_mount(src, fd_path(target.get()), m.destination, nullptr, MS_BIND | MS_REC, ""));
        target = MD_TRY(resolve_in_root(root_fd, m.destination, false));
        if (m.flags & MS_RDONLY)
            MD_TRY(do_mount("", fd_path(target.get()), m.destination, nullptr,
                            MS_BIND | MS_REMOUNT | MS_RDONLY | flags, ""));
        return {};
    }
    // v1 (and hybrid): a tmpfs holding one directory per hierarchy, like the host's.
    if (!opts.new_cgroup_ns && opts.take_cgroup_tree) {
        auto tree = MD_TRY(opts.take_cgroup_tree());
        if (tree && ::move_mount(tree.get(), "", target.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) == 0)
            return {};
    }
    MD_TRY(do_mount("tmpfs", fd_path(target.get()), m.destination, "tmpfs", flags, "mode=755"));
    // The fresh tmpfs is ours alone (nothing runs in the container yet): its entries are made
    // relative to its root fd, with no resolution from the rootfs for each.
    target = MD_TRY(resolve_in_root(root_fd, m.destination, false));
    const int dir = target.get();
    struct Hierarchy {
        std::string name, fstype, super_options;
    };
    std::vector<Hierarchy> hierarchies;
    if (opts.new_cgroup_ns) {
        // A fresh mount per hierarchy needs its options: those only mountinfo has.
        for (const auto& mi : MD_TRY(sys::read_mountinfo())) {
            if (mi.fstype != "cgroup" && mi.fstype != "cgroup2") continue;
            if (mi.mount_point.rfind(opts.cgroup_root + "/", 0) != 0) continue;
            std::string name = mi.mount_point.substr(opts.cgroup_root.size() + 1);
            if (name.empty() || name.find('/') != std::string::npos) continue;
            hierarchies.push_back({name, mi.fstype, mi.super_options});
        }
    } else {
        for (auto& [name, fstype] : MD_TRY(cgroup_hierarchies(opts.cgroup_root))) hierarchies.push_back({name, fstype, ""});
    }
    const bool ro = m.flags & MS_RDONLY;
    std::vector<std::pair<std::string, std::string>> links;
    for (const auto& h : hierarchies) {
        const std::string& name = h.name;
        std::string dest = m.destination + "/" + name;
        std::string mount_point = opts.cgroup_root + "/" + name;
        if (::mkdirat(dir, name.c_str(), 0755) < 0 && errno != EEXIST) return sys::fail_errno("mkdir \"" + dest + "\"");
        auto sub = MD_TRY_CTX(sys::open_at(dir, name, O_PATH | O_NOFOLLOW | O_DIRECTORY), "resolve \"" + dest + "\" in rootfs");
        if (opts.new_cgroup_ns) {
            // Inside the new cgroup namespace a fresh mount shows the container's cgroup as root.
            std::string data;
            if (h.fstype == "cgroup") {
                for (const auto& opt : sys::split(h.super_options, ','))
                    if (opt != "rw" && opt != "ro" && !opt.empty()) data += (data.empty() ? "" : ",") + opt;
            }
            MD_TRY(do_mount("cgroup", fd_path(sub.get()), dest, h.fstype.c_str(), m.flags, data));
        } else {
            std::string src = sys::path_join(mount_point, opts.cgroup_path);
            if (!sys::path_exists(src)) src = mount_point;
            MD_TRY(do_mount(src, fd_path(sub.get()), dest, nullptr, MS_BIND | MS_REC, ""));
        }
        // "cpu,cpuacct" is also reachable as "cpu" and "cpuacct", as on the host.
        if (name.find(',') != std::string::npos)
            for (auto& part : sys::split(name, ',')) links.emplace_back(std::move(part), name);
    }
    for (auto& [link, to] : links) {
        if (::symlinkat(to.c_str(), dir, link.c_str()) < 0 && errno != EEXIST)
            return sys::fail_errno("symlink \"" + m.destination + "/" + link + "\"");
    }
    if (!ro) return {};
    // One call makes the tmpfs and every bind on it read-only.
    if (set_readonly_at(dir, true)) return {};
    // No mount_setattr: each bind is remounted (the fresh cgroup mounts were made read-only).
    for (const auto& h : opts.new_cgroup_ns ? std::vector<Hierarchy>{} : hierarchies) {
        // Reopened: the first fd named the directory under the bind, not the bind itself.
        std::string dest = m.destination + "/" + h.name;
        auto sub = MD_TRY(sys::open_at(dir, h.name, O_PATH | O_NOFOLLOW | O_DIRECTORY));
        MD_TRY(do_mount("", fd_path(sub.get()), dest, nullptr,
                        MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(fd_path(sub.get()), 0), ""));
    }
    return do_mount("", fd_path(dir), m.destination, nullptr, MS_REMOUNT | MS_RDONLY | flags, "");
}

/// The mount_setattr(2) / fsmount(2) attributes of mount(2) flags; false if `flags` holds one
/// they cannot say.
bool mount_attrs(unsigned long flags, uint64_t& attrs) {
    constexpr unsigned long kKnown = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME |
                                     MS_RELATIME | MS_STRICTATIME;
    if (flags & ~kKnown) return false;
    attrs = 0;
    if (flags & MS_RDONLY) attrs |= MOUNT_ATTR_RDONLY;
    if (flags & MS_NOSUID) attrs |= MOUNT_ATTR_NOSUID;
    if (flags & MS_NODEV) attrs |= MOUNT_ATTR_NODEV;
    if (flags & MS_NOEXEC) attrs |= MOUNT_ATTR_NOEXEC;
    if (flags & MS_NODIRATIME) attrs |= MOUNT_ATTR_NODIRATIME;
    if (flags & MS_NOATIME) attrs |= MOUNT_ATTR_NOATIME;
    else if (flags & MS_STRICTATIME) attrs |= MOUNT_ATTR_STRICTATIME;
    return true;
}

/// A destination that resolves onto procfs through a link of the image is inside /proc as
/// well: the spec's check (proc_destination_allowed) saw only its name.
sys::Result<void> refuse_proc_target(int target_fd, const Mount& m) {
    if (m.destination == "/proc" || proc_destination_allowed(m.destination)) return {};
    struct statfs sf;
    if (::fstatfs(target_fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC)
        return sys::fail(
            sys::Error::from_errno(EPERM, "mount destination \"" + m.destination + "\" resolves inside /proc"));
    return {};
}

sys::Result<void> mount_entry(int root_fd, const Mount& m, const RootfsOptions& opts, int idmap_fd) {
    if (m.type == "cgroup" || m.type == "cgroup2") return mount_cgroup(root_fd, m, opts);
    if (m.bind) {
        struct stat st;
        if (idmap_fd >= 0 ? ::fstat(idmap_fd, &st) < 0 : ::stat(m.source.c_str(), &st) < 0)
            return sys::fail_errno("bind mount source \"" + m.source + "\"");
        auto target = MD_TRY(resolve_in_root(root_fd, m.destination, true, !S_ISDIR(st.st_mode)));
        MD_TRY(refuse_proc_target(target.get(), m));
        std::string tp = fd_path(target.get());
        if (idmap_fd >= 0) {
            // The parent's detached, id-mapped copy of the source, attached where the
            // destination resolved inside the rootfs (CVE-2021-30465, as every mount).
            if (::move_mount(idmap_fd, "", target.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return sys::fail_errno("move_mount id-mapped \"" + m.source + "\" on \"" + m.destination + "\"");
        } else {
            MD_TRY(do_mount(m.source, tp, m.destination, nullptr, MS_BIND | (m.recursive ? MS_REC : 0), ""));
        }
        // The fd names the directory under the new mount: reopen to reach the mount itself.
        target = MD_TRY(resolve_in_root(root_fd, m.destination, false));
        tp = fd_path(target.get());
        unsigned long extra = m.flags & ~(MS_BIND | MS_REC | MS_REMOUNT | kPropagation);
        if (extra != 0) {
            MD_TRY(do_mount("", tp, m.destination, nullptr,
                            MS_BIND | MS_REMOUNT | extra | locked_flags(tp, m.clear_flags), ""));
        }
        if (m.propagation_flags)
            MD_TRY(do_mount("", tp, m.destination, nullptr, m.propagation_flags, ""));
        return {};
    }
    auto target = MD_TRY(resolve_in_root(root_fd, m.destination, true));
    MD_TRY(refuse_proc_target(target.get(), m));
    std::string tp = fd_path(target.get());
    const char* type = m.type.empty() ? nullptr : m.type.c_str();
    auto r = do_mount(m.source, tp, m.destination, type, m.flags & ~kPropagation, m.data);
    if (!r && m.type == "sysfs" && opts.new_user_ns && r.error().err() == EPERM) {
        // sysfs can't be mounted in a user namespace without its own network namespace:
        // fall back to the host's /sys, read-only and recursive, as runc does.
        MD_TRY(do_mount("/sys", tp, m.destination, nullptr, MS_BIND | MS_REC, ""));
        target = MD_TRY(resolve_in_root(root_fd, m.destination, false));
        tp = fd_path(target.get());
        return do_mount("", tp, m.destination, nullptr,
                        MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(tp, 0), "");
    }
    if (!r && m.type == "mqueue" && r.error().err() == EPERM) {
        // Same restriction as sysfs: fall back to binding the host's mqueue.
        return do_mount("/dev/mqueue", tp, m.destination, nullptr, MS_BIND | MS_REC, "");
    }
    if (!r) return r;
    if (m.propagation_flags) {
        target = MD_TRY(resolve_in_root(root_fd, m.destination, false));
        MD_TRY(do_mount("", fd_path(target.get()), m.destination, nullptr, m.propagation_flags, ""));
    }
    return {};
}

bool needs_default_dev(const Spec& spec) {
    for (const auto& m : spec.mounts)
        if (m.destination == "/dev" && m.bind) return false;
    return true;
}

sys::Result<void> setup_dev(int root_fd, const Spec& spec, bool user_ns) {
    // /dev is resolved once; every default node and link is made relative to it.
    auto dev = MD_TRY(resolve_in_root(root_fd, "/dev", true));
    const int dfd = dev.get();
    mode_t old = ::umask(0);
    auto restore = [&] { ::umask(old); };
    for (const auto& d : kDefaultDevices) {
        if (auto r = make_node(root_fd, dfd, std::string("/dev/") + d.name, d.name, 'c', d.major, d.minor, 0666, 0,
                               0, user_ns);
            !r) {
            restore();
            return r;
        }
    }
    if (spec.linux) {
        for (const auto& d : spec.linux->devices) {
            if (auto r = create_device(root_fd, d.path, d.type, d.major, d.minor, d.file_mode.value_or(0666),
                                       d.uid.value_or(0), d.gid.value_or(0), user_ns);
                !r) {
                restore();
                return sys::fail(std::move(r.error()).wrap("linux.devices \"" + d.path + "\""));
            }
        }
    }
    restore();
    const std::pair<const char*, const char*> links[] = {
        {"fd", "/proc/self/fd"},          {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
        {"stderr", "/proc/self/fd/2"},    {"ptmx", "pts/ptmx"},
    };
    for (auto [name, to] : links) {
        if (::symlinkat(to, dfd, name) < 0 && errno != EEXIST)
            return sys::fail_errno(std::string("symlink \"/dev/") + name + "\"");
    }
    if (sys::path_exists("/proc/kcore")) (void)::symlinkat("/proc/kcore", dfd, "core");
    return {};
}

}  // namespace

sys::Result<UniqueFd> build_cgroup_tree(const Mount& m, const RootfsOptions& opts) {
    uint64_t attrs = 0;
    if (!mount_attrs(m.flags, attrs)) return sys::fail_invalid("cgroup mount flags need mount(2)");
    const bool ro = attrs & MOUNT_ATTR_RDONLY;
    attrs &= ~uint64_t{MOUNT_ATTR_RDONLY};  // set on the whole tree once it is built
    int fsfd = ::fsopen("tmpfs", FSOPEN_CLOEXEC);
    if (fsfd < 0) return sys::fail_errno("fsopen tmpfs");
    UniqueFd fs(fsfd);
    if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, "source", "tmpfs", 0) < 0 ||
        ::fsconfig(fs.get(), FSCONFIG_SET_STRING, "mode", "755", 0) < 0 ||
        ::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
        return sys::fail_errno("configure tmpfs");
    int mfd = ::fsmount(fs.get(), FSMOUNT_CLOEXEC, static_cast<unsigned>(attrs));
    if (mfd < 0) return sys::fail_errno("fsmount tmpfs");
    UniqueFd tree(mfd);
    std::vector<std::pair<std::string, std::string>> links;
    for (auto& [name, fstype] : MD_TRY(cgroup_hierarchies(opts.cgroup_root))) {
        std::string mount_point = opts.cgroup_root + "/" + name;
        // The container's cgroup in this hierarchy, else (one it is not in, name=systemd) the
        // hierarchy's root.
        std::string src = sys::path_join(mount_point, opts.cgroup_path);
        if (::mkdirat(tree.get(), name.c_str(), 0755) < 0) return sys::fail_errno("mkdir \"" + name + "\"");
        int t = ::open_tree(AT_FDCWD, src.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        if (t < 0 && errno == ENOENT) {
            src = mount_point;
            t = ::open_tree(AT_FDCWD, src.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        }
        if (t < 0) return sys::fail_errno("open_tree \"" + src + "\"");
        UniqueFd bind(t);
        if (::move_mount(bind.get(), "", tree.get(), name.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0)
            return sys::fail_errno("move_mount \"" + src + "\"");
        if (name.find(',') != std::string::npos)
            for (auto& part : sys::split(name, ',')) links.emplace_back(std::move(part), name);
    }
    for (auto& [link, to] : links) {
        if (::symlinkat(to.c_str(), tree.get(), link.c_str()) < 0 && errno != EEXIST)
            return sys::fail_errno("symlink \"" + link + "\"");
    }
    if (ro && !set_readonly_at(tree.get(), true)) return sys::fail_errno("make the cgroup mount read-only");
    return tree;
}

sys::Result<UniqueFd> resolve_in_root(int root_fd, const std::string& path, bool create, bool last_is_file) {
    // The kernel does the same walk in one call: ".." stops at root_fd and symlinks resolve
    // under it. Magic links are refused there (the walk below reads them as plain links).
    // Anything it does not resolve (a missing component to create, ELOOP, an old kernel)
    // takes the walk, which also words the error.
    {
        struct open_how how{};
        how.flags = O_PATH | O_CLOEXEC;
        how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
        size_t skip = path.find_first_not_of('/');
        const char* rel = skip == std::string::npos ? "." : path.c_str() + skip;
        long fd = MD_RETRY(::syscall(SYS_openat2, root_fd, rel, &how, sizeof how));
        if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    }
    std::vector<UniqueFd> stack;
    auto root = MD_TRY(sys::open_at(root_fd, ".", O_PATH | O_DIRECTORY));
    stack.push_back(std::move(root));
    std::deque<std::string> parts = split_path(path);
    int links = 0;
    while (!parts.empty()) {
        std::string c = std::move(parts.front());
        parts.pop_front();
        if (c == ".") continue;
        if (c == "..") {
            if (stack.size() > 1) stack.pop_back();
            continue;
        }
        int cur = stack.back().get();
        struct stat st;
        if (::fstatat(cur, c.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno != ENOENT || !create) return sys::fail_errno("resolve \"" + path + "\" in rootfs");
            bool file = parts.empty() && last_is_file;
            if (file) {
                int fd = ::openat(cur, c.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
                if (fd < 0 && errno != EEXIST) return sys::fail_errno("create \"" + path + "\" in rootfs");
                if (fd >= 0) ::close(fd);
            } else if (::mkdirat(cur, c.c_str(), 0755) < 0 && errno != EEXIST) {
                return sys::fail_errno("mkdir \"" + path + "\" in rootfs");
            }
            if (::fstatat(cur, c.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
                return sys::fail_errno("resolve \"" + path + "\" in rootfs");
        }
        if (S_ISLNK(st.st_mode)) {
            if (++links > 40) return sys::fail(sys::Error::from_errno(ELOOP, "resolve \"" + path + "\" in rootfs"));
            char buf[4096];
            ssize_t n = ::readlinkat(cur, c.c_str(), buf, sizeof buf - 1);
            if (n < 0) return sys::fail_errno("readlink \"" + c + "\" in rootfs");
            std::string target(buf, static_cast<size_t>(n));
            // An absolute link restarts at the container's root, never the host's.
            if (!target.empty() && target[0] == '/') stack.resize(1);
            auto more = split_path(target);
            parts.insert(parts.begin(), more.begin(), more.end());
            continue;
        }
        if (!parts.empty() && !S_ISDIR(st.st_mode))
            return sys::fail(sys::Error::from_errno(ENOTDIR, "resolve \"" + path + "\" in rootfs"));
        auto next = MD_TRY(sys::open_at(cur, c, O_PATH | O_NOFOLLOW));
        stack.push_back(std::move(next));
    }
    return std::move(stack.back());
}

sys::Result<void> check_procfs(int fd, const std::string& what) {
    struct statfs sf;
    if (::fstatfs(fd, &sf) < 0) return sys::fail_errno("statfs \"" + what + "\"");
    if (sf.f_type != PROC_SUPER_MAGIC)
        return sys::fail(sys::Error::from_errno(EINVAL, "\"" + what + "\" is not on procfs"));
    return {};
}

namespace {

// A cgroup filesystem mount at /sys/fs/cgroup: the one spec mount that may wait until after
// pivot_root (can_mount_after_pivot). Its mount point is sysfs' own, there in any rootfs.
bool is_cgroup_fs_mount(const Mount& m) {
    return (m.type == "cgroup" || m.type == "cgroup2") && !m.bind && m.destination == "/sys/fs/cgroup";
}

// `a` is `b` or below it.
bool at_or_below(const std::string& a, const std::string& b) {
    return a == b || b == "/" || (a.size() > b.size() && a.compare(0, b.size(), b) == 0 && a[b.size()] == '/');
}

// Mounting mounts[i] after all the others (and after /dev, which is /dev and below) gives the
// same tree: no later mount is at, above or below its destination, and it is not /dev's.
bool movable_to_end(const std::vector<Mount>& mounts, size_t i) {
    const std::string& d = mounts[i].destination;
    if (at_or_below(d, "/dev") || at_or_below("/dev", d)) return false;
    for (size_t j = i + 1; j < mounts.size(); ++j)
        if (at_or_below(mounts[j].destination, d) || at_or_below(d, mounts[j].destination)) return false;
    return true;
}

}  // namespace

sys::Result<void> prepare_rootfs(const Spec& spec, const RootfsOptions& opts) {
    // Nothing done in the container may propagate back to the host ("/proc broke after exit"):
    // rslave by default (host mounts still reach rslave binds), rprivate when asked. Shared
    // and unbindable are applied after pivot_root, which refuses a shared parent mount.
    unsigned long prop = MS_REC | MS_SLAVE;
    if (spec.linux && (spec.linux->rootfs_propagation_flags & MS_PRIVATE))
        prop = MS_REC | MS_PRIVATE;
    MD_TRY(do_mount("", "/", "/", nullptr, prop, ""));
    const std::string& rootfs = spec.root.path;
    if (opts.rootfs_mount >= 0) {
        // Attached here, after the propagation change: it is a mount point of its own, and
        // exists in no other namespace.
        if (::move_mount(opts.rootfs_mount, "", AT_FDCWD, rootfs.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0)
            return sys::fail_errno("attach the rootfs on \"" + rootfs + "\"");
    } else {
        MD_TRY(do_mount(rootfs, rootfs, rootfs, nullptr, MS_BIND | MS_REC, ""));
    }
    auto root = MD_TRY(sys::open_file(rootfs, O_PATH | O_DIRECTORY));
    auto mount_one = [&](size_t i) -> sys::Result<void> {
        const int idmap_fd = i < opts.idmap_fds.size() ? opts.idmap_fds[i] : -1;
        if (auto r = mount_entry(root.get(), spec.mounts[i], opts, idmap_fd); !r)
            return sys::fail(std::move(r.error()).wrap("mounts[" + std::to_string(i) + "]"));
        return {};
    };
    // A mount that needs the cgroup waits for the parent to make it (before_cgroup). It goes
    // last, after the other mounts and /dev, when no later mount is on, over or under it
    // (then the order cannot show): init does that work while the parent is still busy.
    std::vector<size_t> later;
    for (size_t i = 0; i < spec.mounts.size(); ++i) {
        const auto& m = spec.mounts[i];
        bool needs_cgroup = m.type == "cgroup" || m.type == "cgroup2" || (m.bind && at_or_below(m.source, opts.cgroup_root));
        if (needs_cgroup && opts.before_cgroup) {
            if (opts.after_pivot && is_cgroup_fs_mount(m) && movable_to_end(spec.mounts, i)) {
                opts.after_pivot->push_back(i);
                continue;
            }
            if (movable_to_end(spec.mounts, i)) {
                later.push_back(i);
                continue;
            }
            MD_TRY(opts.before_cgroup());
        }
        MD_TRY(mount_one(i));
    }
    if (needs_default_dev(spec)) MD_TRY(setup_dev(root.get(), spec, opts.new_user_ns));
    for (size_t i : later) {
        MD_TRY(opts.before_cgroup());
        MD_TRY(mount_one(i));
    }
    return {};
}

bool can_mount_after_pivot(const Spec& spec) {
    bool cgroup = false, proc = false;
    for (const auto& m : spec.mounts) {
        if (m.destination == "/proc" && m.type == "proc") proc = true;
        if (!is_cgroup_fs_mount(m)) continue;
        cgroup = true;
        if (!spec.linux) continue;
        for (const auto* paths : {&spec.linux->masked_paths, &spec.linux->readonly_paths})
            for (const auto& p : *paths)
                if (at_or_below(p, m.destination) || at_or_below(m.destination, p)) return false;
    }
    return cgroup && proc;
}

sys::Result<UniqueFd> pivot_to_rootfs(const Spec& spec) {
    const std::string& rootfs = spec.root.path;
    if (::chdir(rootfs.c_str()) < 0) return sys::fail_errno("chdir \"" + rootfs + "\"");
    // pivot_root(".", "."): the old root ends up stacked on the new one, until detach_old_root.
    auto old_root = MD_TRY(sys::open_file("/", O_RDONLY | O_DIRECTORY));
    if (::syscall(SYS_pivot_root, ".", ".") < 0) return sys::fail_errno("pivot_root \"" + rootfs + "\"");
    return old_root;
}

sys::Result<void> detach_old_root(UniqueFd old_root) {
    if (::fchdir(old_root.get()) < 0) return sys::fail_errno("fchdir old root");
    // Slave first so the detach does not propagate to the host's mounts.
    if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0) return sys::fail_errno("make old root rslave");
    if (::umount2(".", MNT_DETACH) < 0) return sys::fail_errno("unmount old root");
    if (::chdir("/") < 0) return sys::fail_errno("chdir to new root");
    return {};
}

sys::Result<void> enter_rootfs(const Spec& spec, bool no_pivot) {
    if (no_pivot) {
        const std::string& rootfs = spec.root.path;
        if (::chdir(rootfs.c_str()) < 0) return sys::fail_errno("chdir \"" + rootfs + "\"");
        if (::mount(rootfs.c_str(), "/", nullptr, MS_MOVE, nullptr) < 0) return sys::fail_errno("move rootfs to /");
        if (::chroot(".") < 0) return sys::fail_errno("chroot \"" + rootfs + "\"");
        if (::chdir("/") < 0) return sys::fail_errno("chdir /");
        return {};
    }
    return detach_old_root(MD_TRY(pivot_to_rootfs(spec)));
}

sys::Result<void> mount_after_pivot(const Spec& spec, const std::vector<size_t>& indices, const RootfsOptions& opts,
                                    int old_root) {
    if (indices.empty()) return {};
    // "/" is the new root (a lookup starts below what is stacked on it).
    auto root = MD_TRY(sys::open_file("/", O_PATH | O_DIRECTORY));
    // Should the cgroup mount have to be built here after all (no tree from the parent), its
    // sources are the host's hierarchies: through the old root, until it is detached.
    RootfsOptions o = opts;
    o.cgroup_root = fd_path(old_root) + opts.cgroup_root;
    for (size_t i : indices) {
        if (o.before_cgroup) MD_TRY(o.before_cgroup());
        if (auto r = mount_entry(root.get(), spec.mounts[i], o, -1); !r)
            return sys::fail(std::move(r.error()).wrap("mounts[" + std::to_string(i) + "]"));
    }
    return {};
}

namespace {

/// Bind the checked /dev/null `null_fd` onto `p` from the fd itself: /proc/self/fd/N would be
/// looked up in the container's /proc, which an image can make a tree of its own (a /proc
/// link into a volume), and so mask with a file of its choosing (CVE-2025-31133).
sys::Result<void> bind_null(int null_fd, const std::string& p) {
    int t = ::open_tree(null_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    if (t < 0 && errno == ENOSYS) return do_mount(fd_path(null_fd), p, p, nullptr, MS_BIND, "");
    if (t < 0) return sys::fail_errno("open_tree \"/dev/null\"");
    UniqueFd tree(t);
    if (::move_mount(tree.get(), "", AT_FDCWD, p.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return sys::fail_errno("mount \"/dev/null\" on \"" + p + "\"");
    return {};
}

}  // namespace

sys::Result<void> finalize_paths(const Spec& spec) {
    if (!spec.linux) return {};
    // Mask with the real /dev/null only (CVE-2025-31133): check it is char 1:3.
    UniqueFd null_fd;
    for (const auto& p : spec.linux->masked_paths) {
        struct stat st;
        if (::lstat(p.c_str(), &st) < 0) {
            if (errno == ENOENT) continue;
            return sys::fail_errno("masked path \"" + p + "\"");
        }
        if (S_ISDIR(st.st_mode)) {
            MD_TRY(do_mount("tmpfs", p, p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0"));
            continue;
        }
        if (!null_fd) {
            null_fd = MD_TRY(sys::open_file("/dev/null", O_PATH));
            struct stat ns;
            if (::fstat(null_fd.get(), &ns) < 0 || !S_ISCHR(ns.st_mode) || major(ns.st_rdev) != 1 ||
                minor(ns.st_rdev) != 3)
                return sys::fail(sys::Error::invalid("/dev/null in the container is not the null device"));
        }
        MD_TRY(bind_null(null_fd.get(), p));
    }
    for (const auto& p : spec.linux->readonly_paths) {
        if (::mount(p.c_str(), p.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) {
            if (errno == ENOENT) continue;  // not in this image or kernel
            return sys::fail_errno("mount \"" + p + "\" on \"" + p + "\"");
        }
        MD_TRY(remount_readonly(p, p));
    }
    return {};
}

sys::Result<void> finalize_root(const Spec& spec) {
    if (spec.root.readonly) MD_TRY(remount_readonly("/", "/"));
    if (spec.linux && (spec.linux->rootfs_propagation_flags & (MS_SHARED | MS_UNBINDABLE)))
        MD_TRY(do_mount("", "/", "/", nullptr, spec.linux->rootfs_propagation_flags, ""));
    return {};
}

sys::Result<void> finalize_rootfs(const Spec& spec) {
    MD_TRY(finalize_paths(spec));
    return finalize_root(spec);
}

}  // namespace mydocker::runtime
