// update, pause, resume
#include <cstdio>
#include <optional>

#include "cli/oci/cli.h"
#include "runtime/container.h"
#include "sys/files.h"
#include "sys/units.h"

namespace mydocker::cli {

void register_resources(CLI::App& app, Globals& g) {
    struct UpdateArgs {
        std::string id;
        std::string resources_file;
        std::optional<uint16_t> blkio_weight;
        std::optional<uint64_t> cpu_period, cpu_share, cpu_rt_period;
        std::optional<int64_t> cpu_quota, cpu_rt_runtime, pids_limit;
        std::string cpuset_cpus, cpuset_mems, memory, memory_reservation, memory_swap, kernel_memory, kernel_tcp;
    };
    auto ua = std::make_shared<UpdateArgs>();
    auto* up = app.add_subcommand("update", "update a container's resource limits");
    up->add_option("-r,--resources", ua->resources_file, "linux.resources JSON file (\"-\" for stdin)");
    up->add_option("--blkio-weight", ua->blkio_weight, "block IO weight (10-1000)");
    up->add_option("--cpu-period", ua->cpu_period, "CPU CFS period (us)");
    up->add_option("--cpu-quota", ua->cpu_quota, "CPU CFS quota (us)");
    up->add_option("--cpu-share", ua->cpu_share, "CPU shares");
    up->add_option("--cpu-rt-period", ua->cpu_rt_period, "CPU realtime period (us)");
    up->add_option("--cpu-rt-runtime", ua->cpu_rt_runtime, "CPU realtime runtime (us)");
    up->add_option("--cpuset-cpus", ua->cpuset_cpus, "CPUs to use");
    up->add_option("--cpuset-mems", ua->cpuset_mems, "memory nodes to use");
    up->add_option("--memory", ua->memory, "memory limit (e.g. 100m)");
    up->add_option("--memory-reservation", ua->memory_reservation, "memory soft limit");
    up->add_option("--memory-swap", ua->memory_swap, "memory + swap limit");
    up->add_option("--kernel-memory", ua->kernel_memory, "ignored (deprecated by the kernel)");
    up->add_option("--kernel-memory-tcp", ua->kernel_tcp, "kernel TCP memory limit");
    up->add_option("--pids-limit", ua->pids_limit, "maximum number of pids (-1 unlimited)");
    up->add_option("container-id", ua->id)->required();
    up->callback([&g, ua] {
        g.action = [ua](runtime::Context& ctx) -> sys::Result<int> {
            cgroups::Resources r;
            if (!ua->resources_file.empty()) {
                std::string text;
                if (ua->resources_file == "-") text = MD_TRY(sys::read_fd(0));
                else text = MD_TRY(sys::read_file(ua->resources_file));
                r = MD_TRY_CTX(runtime::parse_resources(text), "--resources");
            }
            auto bytes = [](const std::string& s, const char* flag) -> sys::Result<std::optional<int64_t>> {
                if (s.empty()) return std::optional<int64_t>{};
                auto v = sys::parse_bytes(s);
                if (!v) return sys::fail(std::move(v.error()).wrap(flag));
                return std::optional<int64_t>{*v};
            };
            auto mem = MD_TRY(bytes(ua->memory, "--memory"));
            auto res = MD_TRY(bytes(ua->memory_reservation, "--memory-reservation"));
            auto swap = MD_TRY(bytes(ua->memory_swap, "--memory-swap"));
            auto ktcp = MD_TRY(bytes(ua->kernel_tcp, "--kernel-memory-tcp"));
            if (mem || res || swap || ktcp) {
                if (!r.memory) r.memory = cgroups::MemoryResources{};
                if (mem) r.memory->limit = mem;
                if (res) r.memory->reservation = res;
                if (swap) r.memory->swap = swap;
                if (ktcp) r.memory->kernel_tcp = ktcp;
            }
            if (ua->cpu_period || ua->cpu_quota || ua->cpu_share || ua->cpu_rt_period || ua->cpu_rt_runtime ||
                !ua->cpuset_cpus.empty() || !ua->cpuset_mems.empty()) {
                if (!r.cpu) r.cpu = cgroups::CpuResources{};
                if (ua->cpu_period) r.cpu->period = ua->cpu_period;
                if (ua->cpu_quota) r.cpu->quota = ua->cpu_quota;
                if (ua->cpu_share) r.cpu->shares = ua->cpu_share;
                if (ua->cpu_rt_period) r.cpu->realtime_period = ua->cpu_rt_period;
                if (ua->cpu_rt_runtime) r.cpu->realtime_runtime = ua->cpu_rt_runtime;
                if (!ua->cpuset_cpus.empty()) r.cpu->cpus = ua->cpuset_cpus;
                if (!ua->cpuset_mems.empty()) r.cpu->mems = ua->cpuset_mems;
            }
            if (ua->pids_limit) r.pids = cgroups::PidsResources{*ua->pids_limit};
            if (ua->blkio_weight) {
                if (*ua->blkio_weight < 10 || *ua->blkio_weight > 1000)
                    return sys::fail_invalid("--blkio-weight: must be between 10 and 1000");
                if (!r.block_io) r.block_io = cgroups::BlockIoResources{};
                r.block_io->weight = ua->blkio_weight;
            }
            MD_TRY(runtime::update(ctx, ua->id, r));
            return 0;
        };
    });

    auto pause_id = std::make_shared<std::string>();
    auto* pause = app.add_subcommand("pause", "freeze every process of the container");
    pause->add_option("container-id", *pause_id)->required();
    pause->callback([&g, pause_id] {
        g.action = [pause_id](runtime::Context& ctx) -> sys::Result<int> {
            MD_TRY(runtime::pause(ctx, *pause_id));
            return 0;
        };
    });
    auto resume_id = std::make_shared<std::string>();
    auto* resume = app.add_subcommand("resume", "thaw a paused container");
    resume->add_option("container-id", *resume_id)->required();
    resume->callback([&g, resume_id] {
        g.action = [resume_id](runtime::Context& ctx) -> sys::Result<int> {
            MD_TRY(runtime::resume(ctx, *resume_id));
            return 0;
        };
    });
}

}  // namespace mydocker::cli
