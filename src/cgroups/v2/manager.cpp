// ManagerV2 lifecycle: create, join, freeze, inspect and remove (limits live in set.cpp).
#include "cgroups/v2/manager.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "cgroups/util.h"
#include "sys/files.h"

namespace mydocker::cgroups {

namespace {

constexpr int kFreezeTimeoutMs = 2000;

std::vector<std::string> words(std::string_view s) {
    std::vector<std::string> out;
    while (!s.empty()) {
        auto sp = s.find_first_of(" \n");
        auto w = s.substr(0, sp);
        // A fake subtree_control (tests) keeps what was written: "+cpu +memory".
        if (!w.empty() && w.front() == '+') w.remove_prefix(1);
        if (!w.empty()) out.emplace_back(w);
        if (sp == std::string_view::npos) break;
        s.remove_prefix(sp + 1);
    }
    return out;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

const std::vector<std::string>& ManagerV2::controllers() {
    static const std::vector<std::string> names = {"cpuset", "cpu",     "io",
                                                   "memory", "hugetlb", "pids"};
    return names;
}

std::string ManagerV2::dir() const {
    return sys::path_join(cfg_.root, cfg_.path);
}

std::string ManagerV2::controller_path(const std::string&) const {
    return dir();
}

sys::Result<void> ManagerV2::check_path() const {
    auto parts = MD_TRY(split_cgroup_path(cfg_.path));
    // The root cgroup is shared by the whole host: never ours to create or remove.
    if (parts.empty())
        return sys::fail_invalid("cgroup path \"" + cfg_.path + "\" names the root cgroup");
    return {};
}

sys::Result<void> ManagerV2::enable_controllers(const std::string& parent) const {
    const std::string avail_knob = parent + "/cgroup.controllers";
    const std::string knob = parent + "/cgroup.subtree_control";
    if (!sys::path_exists(avail_knob) || !sys::path_exists(knob)) return {};
    auto available = words(MD_TRY(read_knob(avail_knob)));
    auto enabled = words(MD_TRY(read_knob(knob)));
    std::vector<std::string> wanted;
    for (const auto& c : controllers())
        if (contains(available, c) && !contains(enabled, c)) wanted.push_back(c);
    if (wanted.empty()) return {};
    std::string all;
    for (const auto& c : wanted) all += (all.empty() ? "+" : " +") + c;
    if (write_knob(knob, all)) {
        log_->debug("cgroup v2: " + knob + " += " + all);
        return {};
    }
    // One refused controller (EBUSY: the parent has processes of its own, the "no internal
    // processes" rule) must not block the others. A limit on a controller left disabled
    // fails later in set() and names the missing file.
    for (const auto& c : wanted) {
        auto r = write_knob(knob, "+" + c);
        if (!r) log_->warn("cgroup v2: enable controller: " + r.error().message());
    }
    return {};
}

sys::Result<bool> ManagerV2::apply() {
    MD_TRY(check_path());
    auto parts = MD_TRY(split_cgroup_path(cfg_.path));
    std::string cur = cfg_.root;
    bool made = false;
    for (const auto& p : parts) {
        // Controllers reach a cgroup only through every ancestor's subtree_control.
        MD_TRY_CTX(enable_controllers(cur), "create cgroup \"" + cfg_.path + "\"");
        cur = sys::path_join(cur, p);
        made = ::mkdir(cur.c_str(), 0755) == 0;
        if (!made && errno != EEXIST)
            return sys::fail(sys::Error::from_errno(errno, "mkdir \"" + cur + "\"")
                                 .wrap("create cgroup \"" + cfg_.path + "\""));
    }
    log_->debug("cgroup v2: created \"" + dir() + "\"");
    return made;
}

sys::Result<void> ManagerV2::add_process(pid_t pid) {
    MD_TRY(check_path());
    return write_knob(dir() + "/cgroup.procs", std::to_string(pid));
}

std::string ManagerV2::clone_into_dir() const { return dir(); }

sys::Result<void> ManagerV2::join_self_v1() { return {}; }  // no v1 hierarchy

sys::Result<void> ManagerV2::freeze(FreezerState state) {
    MD_TRY(check_path());
    const std::string knob = dir() + "/cgroup.freeze";
    const std::string events = dir() + "/cgroup.events";
    const bool frozen = state == FreezerState::frozen;
    if (!sys::path_exists(knob))
        return sys::fail(
            sys::Error::not_found("freeze cgroup \"" + cfg_.path + "\": \"" + knob +
                                  "\" does not exist (the kernel needs 5.2 or later)"));
    MD_TRY(write_knob(knob, frozen ? "1" : "0"));
    // cgroup.freeze is the request; cgroup.events "frozen" turns 1 only once every task
    // has stopped (a task in the middle of a syscall gets there a little later).
    bool done = poll_until(
        [&] {
            auto ev = read_knob(events);
            return ev && keyed_value(*ev, "frozen") == (frozen ? 1u : 0u);
        },
        kFreezeTimeoutMs);
    if (done) return {};
    if (frozen) (void)write_knob(knob, "0");  // don't leave it half frozen
    return sys::fail(sys::Error::from_errno(ETIMEDOUT, "freeze cgroup \"" + cfg_.path + "\": \"" +
                                                           events + "\" does not report \"frozen " +
                                                           (frozen ? "1" : "0") + "\""));
}

sys::Result<FreezerState> ManagerV2::freezer_state() const {
    auto req = read_knob(dir() + "/cgroup.freeze");
    if (!req) {
        if (req.error().err() == ENOENT) return FreezerState::thawed;
        return sys::fail(std::move(req.error()));
    }
    if (*req == "1") return FreezerState::frozen;
    // A frozen ancestor freezes this cgroup too while its own cgroup.freeze stays 0.
    auto ev = read_knob(dir() + "/cgroup.events");
    if (ev && keyed_value(*ev, "frozen") == 1u) return FreezerState::frozen;
    return FreezerState::thawed;
}

sys::Result<std::vector<pid_t>> ManagerV2::pids() const {
    MD_TRY(check_path());
    std::vector<pid_t> out;
    if (!is_dir(dir())) return out;  // already destroyed: no processes
    MD_TRY(collect_pids(dir(), out));
    std::sort(out.begin(), out.end());
    return out;
}

sys::Result<uint64_t> ManagerV2::oom_kills() const {
    MD_TRY(check_path());
    auto ev = read_knob(dir() + "/memory.events");
    return ev ? keyed_value(*ev, "oom_kill").value_or(0) : 0;
}

sys::Result<Stats> ManagerV2::stats() const {
    MD_TRY(check_path());
    Stats s;
    const std::string d = dir();
    // Best effort: a controller that is not enabled leaves its fields at 0.
    auto num = [](const std::string& knob) -> std::optional<uint64_t> {
        auto v = read_knob_u64(knob);
        return v ? *v : std::nullopt;
    };
    s.memory_usage = num(d + "/memory.current").value_or(0);
    s.memory_limit = num(d + "/memory.max").value_or(0);
    s.memory_max_usage = num(d + "/memory.peak").value_or(0);
    if (auto ev = read_knob(d + "/memory.events"))
        s.oom_kills = keyed_value(*ev, "oom_kill").value_or(0);
    if (auto cpu = read_knob(d + "/cpu.stat"))
        s.cpu_usage_ns = keyed_value(*cpu, "usage_usec").value_or(0) * 1000;
    s.pids_current = num(d + "/pids.current").value_or(0);
    s.pids_limit = num(d + "/pids.max").value_or(0);
    return s;
}

bool ManagerV2::exists() const {
    return check_path() && is_dir(dir());
}

sys::Result<void> ManagerV2::destroy() {
    MD_TRY(check_path());
    // No cgroup.kill here: destroy removes an emptied cgroup; killing is the caller's call.
    MD_TRY_CTX(remove_cgroup_tree(dir()), "remove cgroup \"" + cfg_.path + "\"");
    log_->debug("cgroup v2: removed \"" + dir() + "\"");
    return {};
}

}  // namespace mydocker::cgroups
