#include "engine/volumes/volumes.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <nlohmann/json.hpp>
#include <utility>

#include "sys/clock.h"
#include "sys/files.h"
#include "sys/random.h"
#include "sys/lock.h"
#include "sys/json_text.h"

namespace mydocker::engine::volumes {

namespace {

using nlohmann::json;

// Neither name can be a volume's (a volume name starts with [a-zA-Z0-9]), so list() and a
// volume called "lock" never collide with them.
constexpr const char* kLockFile = ".lock";
constexpr const char* kTrashPrefix = ".trash-";
constexpr const char* kRecordFile = "volume.json";
constexpr const char* kDataDir = "_data";

bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

std::string in_quotes(const std::string& s) {
    return "\"" + s + "\"";
}

// Docker reports a volume's CreatedAt to the second.
std::string now_seconds_rfc3339() {
    return sys::format_rfc3339_utc(static_cast<int64_t>(::time(nullptr)));
}

std::string volume_dir(const Context& ctx, const std::string& name) {
    return sys::path_join(ctx.volumes_dir(), name);
}

sys::Result<sys::FileLock> lock_volumes(const Context& ctx) {
    MD_TRY_CTX(sys::mkdir_all(ctx.volumes_dir(), 0700), "create the volumes directory");
    return sys::FileLock::acquire(sys::path_join(ctx.volumes_dir(), kLockFile));
}

sys::Result<Volume> read_record(const Context& ctx, const std::string& name) {
    if (!valid_name(name)) return sys::fail(sys::Error::not_found("no such volume: " + name));
    std::string dir = volume_dir(ctx, name);
    std::string path = sys::path_join(dir, kRecordFile);
    auto text = sys::read_file(path);
    if (!text) {
        if (text.error().err() == ENOENT)
            return sys::fail(sys::Error::not_found("no such volume: " + name));
        return sys::fail(std::move(text.error()).wrap("volume " + in_quotes(name)));
    }
    auto j = json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return sys::fail(sys::Error::invalid("volume " + in_quotes(name) + ": " + in_quotes(path) +
                                             " is not valid JSON"));
    Volume v;
    v.name = name;
    v.mountpoint = sys::path_join(dir, kDataDir);
    try {
        if (auto it = j.find("driver"); it != j.end()) v.driver = it->get<std::string>();
        if (auto it = j.find("created"); it != j.end()) v.created = it->get<std::string>();
        if (auto it = j.find("labels"); it != j.end() && !it->is_null())
            v.labels = it->get<std::map<std::string, std::string>>();
    } catch (const json::exception& e) {
        return sys::fail(sys::Error::invalid("volume " + in_quotes(name) + ": " + in_quotes(path) +
                                             ": " + e.what()));
    }
    return v;
}

// Sum of the sizes of the regular files and symlinks under dirfd/name, each inode once, not
// crossing into other filesystems (what `docker system df` counts for a volume).
uint64_t usage_at(int dirfd, const char* name, dev_t dev, std::set<std::pair<dev_t, ino_t>>& seen) {
    struct stat st;
    if (::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) return 0;
    if (!S_ISDIR(st.st_mode)) {
        if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) return 0;
        if (st.st_nlink > 1 && !seen.emplace(st.st_dev, st.st_ino).second) return 0;
        return static_cast<uint64_t>(st.st_size);
    }
    if (st.st_dev != dev) return 0;
    int fd = MD_RETRY(::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (fd < 0) return 0;
    DIR* d = ::fdopendir(fd);
    if (!d) {
        ::close(fd);
        return 0;
    }
    uint64_t total = 0;
    while (struct dirent* e = ::readdir(d)) {
        if (std::string_view n = e->d_name; n == "." || n == "..") continue;
        total += usage_at(::dirfd(d), e->d_name, dev, seen);
    }
    ::closedir(d);
    return total;
}

uint64_t disk_usage(const std::string& path) {
    struct stat st;
    if (::lstat(path.c_str(), &st) < 0) return 0;
    std::set<std::pair<dev_t, ino_t>> seen;
    return usage_at(AT_FDCWD, path.c_str(), st.st_dev, seen);
}

// With the lock held: move the volume out of sight in one rename, so that it is gone whole even
// if deleting its data then fails half-way (a mount point inside it, EBUSY); prune retries.
sys::Result<std::string> detach(const Context& ctx, const std::string& name) {
    std::string trash =
        sys::path_join(ctx.volumes_dir(), kTrashPrefix + name + "-" + sys::random_hex(16));
    std::string dir = volume_dir(ctx, name);
    if (::rename(dir.c_str(), trash.c_str()) < 0)
        return sys::fail_errno("rename " + in_quotes(dir) + " to " + in_quotes(trash));
    return trash;
}

}  // namespace

bool valid_name(const std::string& name) {
    if (name.size() < 2) return false;
    auto first = name[0];
    bool alnum = (first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z') ||
                 (first >= '0' && first <= '9');
    return alnum && std::all_of(name.begin() + 1, name.end(), name_char);
}

sys::Result<Volume> Store::create(const std::string& name_in,
                                  const std::map<std::string, std::string>& labels) {
    std::string name = name_in.empty() ? sys::random_hex(64) : name_in;
    if (!valid_name(name))
        return sys::fail_invalid(
            in_quotes(name) +
            " includes invalid characters for a local volume name, only "
            "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed; to mount a host directory, use an "
            "absolute path");
    for (const auto& [k, v] : labels)
        if (k.empty())
            return sys::fail_invalid("volume " + in_quotes(name) + ": a label needs a key");
    auto lock = MD_TRY_CTX(lock_volumes(ctx_), "create volume " + in_quotes(name));
    if (auto existing = read_record(ctx_, name);
        existing || existing.error().code() != sys::ErrorCode::not_found)
        return existing;

    // A directory without a record is what a crash between mkdir and the record leaves: reuse it.
    std::string dir = volume_dir(ctx_, name);
    bool had_dir = sys::path_exists(dir);
    Volume v;
    v.name = name;
    v.mountpoint = sys::path_join(dir, kDataDir);
    v.created = now_seconds_rfc3339();
    v.labels = labels;
    json record = {
        {"name", v.name}, {"driver", v.driver}, {"created", v.created}, {"labels", v.labels}};
    auto made = sys::mkdir_all(v.mountpoint, 0755);
    if (made)
        made =
            sys::write_file_atomic(sys::path_join(dir, kRecordFile), sys::json_text(record, 2) + "\n", 0644);
    if (!made) {
        if (!had_dir) (void)sys::remove_all(dir);
        return sys::fail(std::move(made.error()).wrap("create volume " + in_quotes(name)));
    }
    ctx_.log.debug("created volume " + in_quotes(name) + " at " + in_quotes(v.mountpoint));
    return v;
}

sys::Result<Volume> Store::get(const std::string& name) {
    return read_record(ctx_, name);
}

sys::Result<Volume> Store::get_or_create(const std::string& name) {
    auto v = get(name);
    if (v || v.error().code() != sys::ErrorCode::not_found || !valid_name(name)) return v;
    return create(name);
}

sys::Result<std::vector<Volume>> Store::list() {
    std::vector<Volume> out;
    auto names = sys::list_dir(ctx_.volumes_dir());
    if (!names) {
        if (names.error().err() == ENOENT) return out;
        return sys::fail(std::move(names.error()).wrap("list volumes"));
    }
    for (const auto& name : *names) {
        if (!valid_name(name)) continue;  // the lock file, data being deleted
        auto v = read_record(ctx_, name);
        if (v) {
            out.push_back(std::move(*v));
        } else if (v.error().code() != sys::ErrorCode::not_found) {
            // One damaged record must not hide every other volume.
            ctx_.log.warn("skipping volume " + in_quotes(name) + ": " + v.error().message());
        }
    }
    std::sort(out.begin(), out.end(),
              [](const Volume& a, const Volume& b) { return a.name < b.name; });
    return out;
}

sys::Result<void> Store::remove(const std::string& name, bool force,
                                const std::set<std::string>& in_use) {
    auto lock = MD_TRY_CTX(lock_volumes(ctx_), "remove volume " + in_quotes(name));
    if (auto v = read_record(ctx_, name); !v) {
        if (force && v.error().code() == sys::ErrorCode::not_found) return {};
        return sys::fail(std::move(v.error()));
    }
    if (in_use.contains(name) && !force)
        return sys::fail(
            sys::Error::bad_state("volume is in use").wrap("remove volume " + in_quotes(name)));
    auto trash = MD_TRY_CTX(detach(ctx_, name), "remove volume " + in_quotes(name));
    MD_TRY_CTX(sys::remove_all(trash), "remove the data of volume " + in_quotes(name));
    ctx_.log.debug("removed volume " + in_quotes(name));
    return {};
}

sys::Result<PruneReport> Store::prune_report(const std::set<std::string>& in_use) {
    auto lock = MD_TRY_CTX(lock_volumes(ctx_), "prune volumes");
    PruneReport report;
    // Data an earlier remove could not finish deleting (see detach): retried, not reported.
    auto entries = MD_TRY_CTX(sys::list_dir(ctx_.volumes_dir()), "prune volumes");
    for (const auto& n : entries) {
        if (!n.starts_with(kTrashPrefix)) continue;
        if (auto r = sys::remove_all(sys::path_join(ctx_.volumes_dir(), n)); !r)
            ctx_.log.warn("prune volumes: " + r.error().message());
    }
    auto volumes = MD_TRY(list());
    for (const auto& v : volumes) {
        if (in_use.contains(v.name)) continue;
        auto trash = MD_TRY_CTX(detach(ctx_, v.name), "remove volume " + in_quotes(v.name));
        report.removed.push_back(v.name);
        report.reclaimed +=
            disk_usage(sys::path_join(trash, kDataDir));  // the data, as docker counts
        MD_TRY_CTX(sys::remove_all(trash), "remove the data of volume " + in_quotes(v.name));
    }
    return report;
}

sys::Result<std::vector<std::string>> Store::prune(const std::set<std::string>& in_use) {
    auto report = MD_TRY(prune_report(in_use));
    return std::move(report.removed);
}

}  // namespace mydocker::engine::volumes
