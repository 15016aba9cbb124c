// The systemd cgroup driver: a transient scope (or slice) unit started over D-Bus holds the
// container's cgroup, as runc's --systemd-cgroup makes it; the cgroupfs driver of the host's
// version then works inside the unit's cgroup for what systemd does not set.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "cgroups/manager.h"
#include "cgroups/systemd/unit.h"

namespace mydocker::cgroups::systemd {

/// The system bus socket, where systemd's manager answers on a systemd host.
inline constexpr const char* kSystemBus = "/run/dbus/system_bus_socket";

/// A Manager over the unit `unit`. The unit is started by the first add_process(pid) (a scope
/// needs its first process), with the properties of the resources set() gave before it;
/// `started` is for a unit an earlier command started (delete, update, pause...).
class SystemdManager final : public Manager {
  public:
    SystemdManager(UnitPath unit, std::unique_ptr<Manager> inner, bool started,
                   const sys::Logger& log)
        : unit_(std::move(unit)), inner_(std::move(inner)), started_(started), log_(&log) {}

    Version version() const override { return inner_->version(); }
    const std::string& path() const override { return inner_->path(); }
    sys::Result<bool> apply() override;
    sys::Result<void> set(const Resources& r) override;
    sys::Result<void> add_process(pid_t pid) override;
    /// None: the unit does not exist before its first process joins (through add_process).
    std::string clone_into_dir() const override { return ""; }
    sys::Result<void> join_self_v1() override { return inner_->join_self_v1(); }
    std::vector<std::string> self_join_files() const override { return {}; }
    bool needs_process_to_apply() const override { return !started_; }
    sys::Result<void> freeze(FreezerState state) override { return inner_->freeze(state); }
    sys::Result<FreezerState> freezer_state() const override { return inner_->freezer_state(); }
    sys::Result<std::vector<pid_t>> pids() const override { return inner_->pids(); }
    sys::Result<Stats> stats() const override { return inner_->stats(); }
    sys::Result<uint64_t> oom_kills() const override { return inner_->oom_kills(); }
    bool exists() const override { return inner_->exists(); }
    /// Stops the unit (systemd removes its cgroup), then removes whatever is left.
    sys::Result<void> destroy() override;
    std::string controller_path(const std::string& controller) const override {
        return inner_->controller_path(controller);
    }

  private:
    sys::Result<void> start_unit(pid_t pid);
    UnitPath unit_;
    std::unique_ptr<Manager> inner_;
    bool started_;
    std::optional<Resources> pending_;
    const sys::Logger* log_;
};

/// The manager for cgroupsPath "slice:prefix:name" under cgroupfs root `root`.
sys::Result<std::unique_ptr<Manager>> make_systemd_manager(const std::string& cgroups_path,
                                                           const std::string& root, bool started,
                                                           const sys::Logger& log);

}  // namespace mydocker::cgroups::systemd
