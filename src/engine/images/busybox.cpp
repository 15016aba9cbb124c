// The embedded busybox image, built from the host's static busybox (Debian busybox-static):
// no registry is needed for `mydocker run busybox`. Every entry gets the binary's mtime and
// owner root, so the same busybox always gives the same layer digest and image id.
#include <elf.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdlib>
#include <map>
#include <variant>

#include "engine/images/config.h"
#include "engine/images/internal.h"
#include "engine/images/write.h"
#include "sys/files.h"
#include "sys/proc.h"

namespace mydocker::engine::images {

namespace {

constexpr const char* kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
constexpr const char* kGroup =
    "root:x:0:\n"
    "nobody:x:65534:\n";

// A dynamically linked busybox would need the host's libc inside the image: refuse it. An
// ELF with a PT_INTERP program header asks for a dynamic loader.
sys::Result<void> check_static(const std::string& path) {
    auto fd = MD_TRY(sys::open_file(path, O_RDONLY));
    Elf64_Ehdr eh;
    if (::pread(fd.get(), &eh, sizeof eh, 0) != static_cast<ssize_t>(sizeof eh) ||
        std::string_view(reinterpret_cast<const char*>(eh.e_ident), 4) != ELFMAG)
        return sys::fail_invalid("\"" + path + "\" is not an ELF executable");
    if (eh.e_ident[EI_CLASS] != ELFCLASS64) return {};  // only 64-bit hosts are checked
    for (int i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        off_t off = static_cast<off_t>(eh.e_phoff + static_cast<uint64_t>(i) * eh.e_phentsize);
        if (::pread(fd.get(), &ph, sizeof ph, off) != static_cast<ssize_t>(sizeof ph)) break;
        if (ph.p_type == PT_INTERP)
            return sys::fail_invalid("\"" + path +
                                     "\" is dynamically linked: install busybox-static");
    }
    return {};
}

// `busybox --list-full`: one applet path per line ("bin/sh", "usr/bin/env"). Running the
// host's own busybox is the one way to learn what it was built with.
sys::Result<std::vector<std::string>> list_applets(const std::string& busybox) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) return sys::fail_errno("pipe");
    sys::UniqueFd rd(p[0]), wr(p[1]);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, wr.get(), 1);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    std::vector<std::string> args{busybox, "--list-full"};
    auto argv = sys::exec_strings(args);
    std::vector<std::string> env_strings;
    auto envp = sys::exec_strings(env_strings);
    pid_t pid = 0;
    int rc = ::posix_spawn(&pid, busybox.c_str(), &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return sys::fail(sys::Error::from_errno(rc, "run \"" + busybox + " --list-full\""));
    wr.reset();
    auto out = sys::read_fd(rd.get());
    auto status = MD_TRY(sys::wait_pid(pid));
    if (!out) return sys::fail(std::move(out.error()).wrap("read \"" + busybox + " --list-full\""));
    if (sys::exit_code_of(status) != 0)
        return sys::fail_invalid("\"" + busybox + " --list-full\" failed with exit code " +
                                 std::to_string(sys::exit_code_of(status)));
    std::vector<std::string> applets;
    size_t start = 0;
    while (start < out->size()) {
        size_t nl = out->find('\n', start);
        if (nl == std::string::npos) nl = out->size();
        std::string line = out->substr(start, nl - start);
        start = nl + 1;
        if (!line.empty()) applets.push_back(std::move(line));
    }
    if (applets.empty())
        return sys::fail_invalid("\"" + busybox + " --list-full\" printed no applets");
    return applets;
}

struct Dir {
    mode_t mode;
};
struct File {
    std::string src;
};
struct Data {
    std::string text;
};
struct Link {
    std::string target;
};
using Spec = std::variant<Dir, File, Data, Link>;

void add_parents(std::map<std::string, Spec>& entries, const std::string& path) {
    for (size_t slash = path.find('/'); slash != std::string::npos;
         slash = path.find('/', slash + 1))
        entries.try_emplace(path.substr(0, slash), Dir{0755});
}

}  // namespace

sys::Result<StoredImage> build_busybox(const Layout& lay, const WriteLock& lk,
                                       const sys::Logger& log) {
    std::string busybox = "/bin/busybox";
    if (const char* env = std::getenv("MYDOCKER_BUSYBOX"); env && *env) busybox = env;
    auto ctx = "create the busybox image from \"" + busybox + "\"";
    struct stat st;
    if (::stat(busybox.c_str(), &st) < 0) {
        if (errno == ENOENT)
            return sys::fail(sys::Error::not_found(
                ctx + ": not found: install busybox-static (or set MYDOCKER_BUSYBOX)"));
        return sys::fail(sys::Error::from_errno(errno, ctx));
    }
    MD_TRY_CTX(check_static(busybox), ctx);
    auto applets = MD_TRY_CTX(list_applets(busybox), ctx);
    log.debug("busybox image: " + std::to_string(applets.size()) + " applets from " + busybox);

    // The tree, sorted: a directory sorts before everything under it.
    std::map<std::string, Spec> entries;
    for (const char* d :
         {"bin", "dev", "etc", "home", "proc", "sbin", "sys", "usr", "usr/bin", "usr/sbin", "var"})
        entries.emplace(d, Dir{0755});
    entries.emplace("root", Dir{0700});
    entries.emplace("tmp", Dir{01777});
    entries.emplace("var/tmp", Dir{01777});
    entries.emplace("bin/busybox", File{busybox});
    entries.emplace("etc/passwd", Data{kPasswd});
    entries.emplace("etc/group", Data{kGroup});
    for (const auto& a : applets) {
        std::string rel = MD_TRY_CTX(clean_entry_path(a), ctx + ": applet");
        if (rel.empty() || entries.count(rel)) continue;
        add_parents(entries, rel);
        entries.emplace(rel, Link{"/bin/busybox"});
    }
    const int64_t mtime = st.st_mtim.tv_sec;
    auto layer = MD_TRY_CTX(
        add_layer_built(
            lay, lk,
            [&](TarWriter& w) -> sys::Result<void> {
                for (const auto& [path, spec] : entries) {
                    if (auto* d = std::get_if<Dir>(&spec))
                        MD_TRY(w.add_dir(path, EntryMeta{d->mode, 0, 0, mtime}));
                    else if (auto* f = std::get_if<File>(&spec))
                        MD_TRY(w.add_file(path, f->src, EntryMeta{0755, 0, 0, mtime}));
                    else if (auto* t = std::get_if<Data>(&spec))
                        MD_TRY(w.add_data(path, t->text, EntryMeta{0644, 0, 0, mtime}));
                    else if (auto* l = std::get_if<Link>(&spec))
                        MD_TRY(w.add_symlink(path, l->target, EntryMeta{0777, 0, 0, mtime}));
                }
                return {};
            }),
        ctx);

    ImageConfig config;
    config.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
    config.cmd = {"sh"};
    HistoryStep step{format_rfc3339(mtime), "mydocker: the host's static busybox", "", ""};
    std::string text = make_config_text(nullptr, config, {layer.digest}, step);
    return MD_TRY_CTX(lay.add_image(lk, text, {layer}, {kBusyboxName}), ctx);
}

}  // namespace mydocker::engine::images
