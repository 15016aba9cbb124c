// ManagerV1 lifecycle: create, join, freeze, inspect and remove (limits live in set.cpp).
#include "cgroups/v1/manager.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "cgroups/util.h"
#include "sys/files.h"

namespace mydocker::cgroups {

namespace {

constexpr int kFreezeTimeoutMs = 2000;

// Values at or above this are the kernel's "no limit" (PAGE_COUNTER_MAX pages, rounded).
constexpr uint64_t kV1Unlimited = uint64_t{1} << 62;

uint64_t limit_or_zero(std::optional<uint64_t> v) {
    return v && *v < kV1Unlimited ? *v : 0;
}

}  // namespace

const std::vector<std::string>& ManagerV1::controllers() {
    static const std::vector<std::string> names = {
        "cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "hugetlb"};
    return names;
}

bool ManagerV1::present(const std::string& controller) const {
    // A hierarchy is a mounted v1 cgroupfs, never just a name: runc's tests, podman and others
    // leave plain directories (hugetlb, net_cls, perf_event...) on the host's tmpfs.
    auto mounted = [&] {
        std::string dir = sys::path_join(cfg_.root, controller);
        return cfg_.fake_fs ? is_dir(dir) : is_cgroup1_fs(dir);
    };
    const auto& names = controllers();
    auto it = std::find(names.begin(), names.end(), controller);
    if (it == names.end()) return mounted();
    // Looked up once per manager (one command's, or one start's, worth of operations).
    uint32_t bit = uint32_t{1} << (it - names.begin());
    if (present_mask_ & bit) return true;
    if (absent_mask_ & bit) return false;
    bool there = mounted();
    (there ? present_mask_ : absent_mask_) |= bit;
    return there;
}

bool ManagerV1::unified_present() const {
    if (unified_ < 0) {
        std::string unified = sys::path_join(cfg_.root, "unified");
        unified_ = (cfg_.fake_fs ? is_dir(unified) : is_cgroup2_fs(unified)) ? 1 : 0;
    }
    return unified_ == 1;
}

std::string ManagerV1::controller_path(const std::string& controller) const {
    return sys::path_join(sys::path_join(cfg_.root, controller), cfg_.path);
}

std::vector<std::string> ManagerV1::joined_dirs() const {
    std::vector<std::string> out;
    for (const auto& c : controllers())
        if (present(c)) out.push_back(controller_path(c));
    if (unified_present()) out.push_back(controller_path("unified"));
    return out;
}

sys::Result<void> ManagerV1::check_path() const {
    auto parts = MD_TRY(split_cgroup_path(cfg_.path));
    // The hierarchy root is shared by the whole host: never ours to create or remove.
    if (parts.empty())
        return sys::fail_invalid("cgroup path \"" + cfg_.path + "\" names the root cgroup");
    return {};
}

sys::Result<void> ManagerV1::require(const std::string& controller,
                                     const std::string& field) const {
    if (present(controller)) return {};
    return sys::fail(sys::Error::not_found(field + ": cgroup controller \"" + controller +
                                           "\" is not mounted at \"" +
                                           sys::path_join(cfg_.root, controller) + "\""));
}

sys::Result<bool> ManagerV1::make_cpuset_dirs(const std::vector<std::string>& parts) const {
    // A new v1 cpuset starts with empty cpuset.cpus/mems and then refuses tasks (ENOSPC):
    // each level inherits the values of its nearest configured ancestor. The root is read
    // only if no level on the way holds values (usually the parent does: two reads, not four).
    const std::string root = sys::path_join(cfg_.root, "cpuset");
    std::string cpus, mems;
    bool root_read = false;
    // A missing knob (a fake root in tests) reads as empty and is not written.
    auto read_at = [](const std::string& d, const char* file) -> sys::Result<std::string> {
        auto v = read_knob(d + "/" + file);
        if (!v && v.error().err() == ENOENT) return std::string();
        return v;
    };
    auto write_at = [](const std::string& d, const char* file, const std::string& value) -> sys::Result<void> {
        if (value.empty()) return {};
        auto r = write_knob(d + "/" + file, value);
        if (!r && r.error().err() != ENOENT) return r;
        return {};
    };
    auto from_root = [&]() -> sys::Result<void> {
        if (root_read) return {};
        root_read = true;
        if (cpus.empty()) cpus = MD_TRY(read_at(root, "cpuset.cpus"));
        if (mems.empty()) mems = MD_TRY(read_at(root, "cpuset.mems"));
        return {};
    };
    // An existing level: its values are carried down; empty ones get the carried values.
    auto inherit = [&](const std::string& d, const char* file, std::string& value) -> sys::Result<void> {
        std::string cur = MD_TRY(read_at(d, file));
        if (!cur.empty()) {
            value = cur;
            return {};
        }
        if (value.empty()) MD_TRY(from_root());
        return write_at(d, file, value);
    };
    std::string dir = root;
    bool made = false;
    for (const auto& p : parts) {
        dir += "/" + p;
        made = ::mkdir(dir.c_str(), 0755) == 0;
        if (made) {
            // It holds empty values (or, with clone_children, its parent's, which are the
            // ones we carry): written without reading first.
            if (cpus.empty() || mems.empty()) MD_TRY(from_root());
            MD_TRY(write_at(dir, "cpuset.cpus", cpus));
            MD_TRY(write_at(dir, "cpuset.mems", mems));
            continue;
        }
        if (errno != EEXIST) return sys::fail_errno("mkdir \"" + dir + "\"");
        MD_TRY(inherit(dir, "cpuset.cpus", cpus));
        MD_TRY(inherit(dir, "cpuset.mems", mems));
    }
    return made;
}

sys::Result<bool> ManagerV1::apply() {
    auto parts = MD_TRY(split_cgroup_path(cfg_.path));
    MD_TRY(check_path());
    bool made = false;
    for (const auto& c : controllers()) {
        if (!present(c)) continue;
        if (c == "cpuset") {
            made |= MD_TRY_CTX(make_cpuset_dirs(parts), "create cgroup \"" + cfg_.path + "\"");
        } else {
            made |= MD_TRY_CTX(sys::make_dirs(controller_path(c)), "create cgroup \"" + cfg_.path + "\"");
        }
        log_->debug("cgroup v1: created \"" + controller_path(c) + "\"");
    }
    if (unified_present())
        made |= MD_TRY_CTX(sys::make_dirs(controller_path("unified")), "create cgroup \"" + cfg_.path + "\"");
    return made;
}

sys::Result<void> ManagerV1::add_process(pid_t pid) {
    MD_TRY(check_path());
    for (const auto& dir : joined_dirs())
        MD_TRY(write_knob(dir + "/cgroup.procs", std::to_string(pid)));
    return {};
}

std::string ManagerV1::clone_into_dir() const { return unified_present() ? controller_path("unified") : ""; }

sys::Result<void> ManagerV1::join_self_v1() {
    MD_TRY(check_path());
    for (const auto& f : self_join_files()) MD_TRY(write_knob(f, "0"));
    return {};
}

std::vector<std::string> ManagerV1::self_join_files() const {
    std::vector<std::string> out;
    if (!check_path()) return out;
    for (const auto& c : controllers())
        if (present(c)) out.push_back(controller_path(c) + "/tasks");
    return out;
}

sys::Result<void> ManagerV1::freeze(FreezerState state) {
    MD_TRY(check_path());
    MD_TRY(require("freezer", state == FreezerState::frozen ? "freeze" : "thaw"));
    const std::string knob = controller_path("freezer") + "/freezer.state";
    const std::string target = state == FreezerState::frozen ? "FROZEN" : "THAWED";
    MD_TRY(write_knob(knob, target));
    int polls = 0;
    std::string last;
    bool done = poll_until(
        [&] {
            auto cur = read_knob(knob);
            last = cur ? *cur : "";
            if (last == target) return true;
            // A task in an uninterruptible sleep can leave the cgroup FREEZING for good;
            // writing the target again makes the kernel retry the tasks it missed.
            if (++polls % 10 == 0) (void)write_knob(knob, target);
            return false;
        },
        kFreezeTimeoutMs);
    if (done) return {};
    if (state == FreezerState::frozen)
        (void)write_knob(knob, "THAWED");  // don't leave it half frozen
    return sys::fail(sys::Error::from_errno(ETIMEDOUT, "freeze cgroup \"" + cfg_.path + "\": \"" +
                                                           knob + "\" still reads \"" + last +
                                                           "\", wanted \"" + target + "\""));
}

sys::Result<FreezerState> ManagerV1::freezer_state() const {
    if (!present("freezer")) return FreezerState::thawed;
    const std::string knob = controller_path("freezer") + "/freezer.state";
    auto cur = read_knob(knob);
    if (!cur) {
        if (cur.error().err() == ENOENT) return FreezerState::thawed;
        return sys::fail(std::move(cur.error()));
    }
    // FREEZING counts as frozen: some tasks are stopped already and only a thaw resumes them.
    return *cur == "THAWED" ? FreezerState::thawed : FreezerState::frozen;
}

sys::Result<std::vector<pid_t>> ManagerV1::pids() const {
    MD_TRY(check_path());
    std::string dir;
    for (const char* c : {"pids", "freezer", "memory"})
        if (present(c)) {
            dir = controller_path(c);
            break;
        }
    if (dir.empty()) {
        auto dirs = joined_dirs();
        if (dirs.empty()) return std::vector<pid_t>();
        dir = dirs.front();
    }
    std::vector<pid_t> out;
    if (!is_dir(dir)) return out;  // already destroyed: no processes
    MD_TRY(collect_pids(dir, out));
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

sys::Result<uint64_t> ManagerV1::oom_kills() const {
    MD_TRY(check_path());
    if (!present("memory")) return 0;
    auto oom = read_knob(controller_path("memory") + "/memory.oom_control");
    return oom ? keyed_value(*oom, "oom_kill").value_or(0) : 0;
}

sys::Result<Stats> ManagerV1::stats() const {
    MD_TRY(check_path());
    Stats s;
    // Best effort: a hierarchy or counter the kernel lacks leaves its field at 0.
    auto num = [](const std::string& knob) -> std::optional<uint64_t> {
        auto v = read_knob_u64(knob);
        return v ? *v : std::nullopt;
    };
    if (present("memory")) {
        std::string dir = controller_path("memory");
        s.memory_usage = num(dir + "/memory.usage_in_bytes").value_or(0);
        s.memory_limit = limit_or_zero(num(dir + "/memory.limit_in_bytes"));
        s.memory_max_usage = num(dir + "/memory.max_usage_in_bytes").value_or(0);
        if (auto oom = read_knob(dir + "/memory.oom_control"))
            s.oom_kills = keyed_value(*oom, "oom_kill").value_or(0);
    }
    if (present("cpuacct"))
        s.cpu_usage_ns = num(controller_path("cpuacct") + "/cpuacct.usage").value_or(0);
    if (present("pids")) {
        std::string dir = controller_path("pids");
        s.pids_current = num(dir + "/pids.current").value_or(0);
        s.pids_limit = num(dir + "/pids.max").value_or(0);
    }
    return s;
}

bool ManagerV1::exists() const {
    if (!check_path()) return false;
    for (const auto& dir : joined_dirs())
        if (is_dir(dir)) return true;
    return false;
}

sys::Result<void> ManagerV1::destroy() {
    MD_TRY(check_path());
    // Every hierarchy is tried even after a failure so one busy controller does not leave
    // the others behind; the first error is reported.
    sys::Result<void> first;
    for (const auto& dir : joined_dirs()) {
        auto r = remove_cgroup_tree(dir);
        if (!r) {
            log_->warn("remove cgroup: " + r.error().message());
            if (first)
                first = sys::fail(std::move(r.error()).wrap("remove cgroup \"" + cfg_.path + "\""));
        } else {
            log_->debug("cgroup v1: removed \"" + dir + "\"");
        }
    }
    return first;
}

}  // namespace mydocker::cgroups
