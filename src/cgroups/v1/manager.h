// The cgroup v1 driver: one directory per controller hierarchy (<root>/<controller>/<path>),
// plus the cgroup2 "unified" mount of a hybrid host.
#pragma once

#include <string>
#include <vector>

#include "cgroups/manager.h"

namespace mydocker::cgroups {

class ManagerV1 final : public Manager {
  public:
    ManagerV1(Config cfg, const sys::Logger& log) : cfg_(std::move(cfg)), log_(&log) {}

    Version version() const override { return Version::v1; }
    const std::string& path() const override { return cfg_.path; }
    sys::Result<bool> apply() override;
    sys::Result<void> set(const Resources& r) override;
    sys::Result<void> add_process(pid_t pid) override;
    std::string clone_into_dir() const override;
    sys::Result<void> join_self_v1() override;
    std::vector<std::string> self_join_files() const override;
    sys::Result<void> freeze(FreezerState state) override;
    sys::Result<FreezerState> freezer_state() const override;
    sys::Result<std::vector<pid_t>> pids() const override;
    sys::Result<Stats> stats() const override;
    sys::Result<uint64_t> oom_kills() const override;
    bool exists() const override;
    sys::Result<void> destroy() override;
    std::string controller_path(const std::string& controller) const override;

    /// The controllers this driver creates and joins ("name=systemd" is the init's, not ours).
    static const std::vector<std::string>& controllers();

  private:
    // One knob write planned by set(): every value is checked before the first write.
    struct Planned {
        std::string controller;
        std::string file;
        std::string value;
    };

    /// The hierarchy <root>/<controller> is mounted (a v1 cgroupfs; a directory with fake_fs).
    bool present(const std::string& controller) const;
    /// A hybrid host's cgroup2 mount at <root>/unified, which runc-style runtimes also join.
    bool unified_present() const;
    /// Every cgroup directory of this container: present hierarchies, then unified.
    std::vector<std::string> joined_dirs() const;
    sys::Result<void> check_path() const;
    sys::Result<void> require(const std::string& controller, const std::string& field) const;
    sys::Result<bool> make_cpuset_dirs(const std::vector<std::string>& parts) const;

    sys::Result<void> plan_memory(const MemoryResources& m, std::vector<Planned>& out) const;
    sys::Result<void> plan_cpu(const CpuResources& c, std::vector<Planned>& out) const;
    sys::Result<void> plan_blkio(const BlockIoResources& b, std::vector<Planned>& out) const;
    sys::Result<void> plan_devices(const std::vector<DeviceRule>& rules,
                                   std::vector<Planned>& out) const;
    sys::Result<void> plan_hugetlb(const std::vector<HugepageLimit>& limits,
                                   std::vector<Planned>& out) const;

    Config cfg_;
    const sys::Logger* log_;
    // The hierarchies found mounted, or not: every operation asks for each of them, and a stat per
    // controller per call was most of the driver's syscalls.
    mutable uint32_t present_mask_ = 0;
    mutable uint32_t absent_mask_ = 0;
    mutable int unified_ = -1;  // -1: not looked up yet
};

}  // namespace mydocker::cgroups
