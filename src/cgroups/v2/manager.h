// The cgroup v2 driver: one directory <root>/<path> in the unified hierarchy.
#pragma once

#include <string>
#include <vector>

#include "cgroups/manager.h"

namespace mydocker::cgroups {

class ManagerV2 final : public Manager {
  public:
    ManagerV2(Config cfg, const sys::Logger& log) : cfg_(std::move(cfg)), log_(&log) {}

    Version version() const override { return Version::v2; }
    const std::string& path() const override { return cfg_.path; }
    sys::Result<bool> apply() override;
    sys::Result<void> set(const Resources& r) override;
    sys::Result<void> add_process(pid_t pid) override;
    std::string clone_into_dir() const override;
    sys::Result<void> join_self_v1() override;
    sys::Result<void> freeze(FreezerState state) override;
    sys::Result<FreezerState> freezer_state() const override;
    sys::Result<std::vector<pid_t>> pids() const override;
    sys::Result<Stats> stats() const override;
    sys::Result<uint64_t> oom_kills() const override;
    bool exists() const override;
    sys::Result<void> destroy() override;
    std::string controller_path(const std::string& controller) const override;

    /// The controllers apply() enables in every ancestor's cgroup.subtree_control.
    static const std::vector<std::string>& controllers();

  private:
    // One knob write planned by set(): every value is checked before the first write.
    struct Planned {
        std::string file;
        std::string value;
        // The kernel lacks this knob when the feature is off (memory.swap.max without swap
        // accounting); a value that asks for nothing may then be skipped.
        bool skip_if_missing = false;
    };

    std::string dir() const;
    sys::Result<void> check_path() const;
    sys::Result<void> enable_controllers(const std::string& parent) const;
    sys::Result<void> write_planned(const Planned& w) const;

    sys::Result<void> plan_memory(const MemoryResources& m, std::vector<Planned>& out) const;
    sys::Result<void> plan_cpu(const CpuResources& c, std::vector<Planned>& out) const;
    sys::Result<void> plan_io(const BlockIoResources& b, std::vector<Planned>& out) const;
    sys::Result<void> plan_unified(const std::map<std::string, std::string>& unified,
                                   std::vector<Planned>& out) const;
    sys::Result<void> set_devices(const std::vector<DeviceRule>& rules) const;

    Config cfg_;
    const sys::Logger* log_;
};

}  // namespace mydocker::cgroups
