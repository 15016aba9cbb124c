// Which driver a host needs, and the factories that build it.
#include <linux/magic.h>
#include <sys/statfs.h>

#include "cgroups/manager.h"
#include "cgroups/v1/manager.h"
#include "cgroups/v2/manager.h"

namespace mydocker::cgroups {

sys::Result<Version> detect_version(const std::string& root) {
    struct statfs st;
    if (::statfs(root.c_str(), &st) < 0) return sys::fail_errno("statfs \"" + root + "\"");
    // A v2 host mounts cgroup2 at the root itself; v1 and hybrid hosts mount a tmpfs there
    // holding one mount per controller (and, on hybrid hosts, cgroup2 at "unified").
    return st.f_type == CGROUP2_SUPER_MAGIC ? Version::v2 : Version::v1;
}

std::unique_ptr<Manager> make_manager(Version v, const Config& cfg, const sys::Logger& log) {
    if (v == Version::v2) return std::make_unique<ManagerV2>(cfg, log);
    return std::make_unique<ManagerV1>(cfg, log);
}

sys::Result<std::unique_ptr<Manager>> make_manager(const Config& cfg, const sys::Logger& log) {
    auto v = MD_TRY_CTX(detect_version(cfg.root), "detect cgroup version");
    return make_manager(v, cfg, log);
}

}  // namespace mydocker::cgroups
