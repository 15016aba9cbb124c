// Linux capabilities: names, and applying the five OCI sets in the init stage.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "runtime/spec.h"
#include "sys/error.h"
#include "sys/log.h"

namespace mydocker::runtime {

/// "CAP_CHOWN" -> 0; also accepts "chown" / "CHOWN". invalid_argument if unknown.
sys::Result<int> capability_from_name(std::string_view name);
/// 0 -> "CAP_CHOWN"; "CAP_<n>" for numbers without a name.
std::string capability_name(int cap);
/// The highest capability number this kernel knows (/proc/sys/kernel/cap_last_cap).
int last_capability();
/// Docker's default capability set (the sets `spec` and the engine start from).
const std::vector<std::string>& default_capabilities();
/// The names in any set of `caps` that this kernel does not know (above last_capability()),
/// once each: the apply steps skip them silently, so the runtime logs these at debug first.
std::vector<std::string> unsupported_capabilities(const Capabilities& caps);

/// Remove from every set of `caps` the capabilities the calling process cannot grant (not
/// in both its permitted and bounding sets) and return their names, once each. The
/// runtime-spec says such a request is logged as a warning, not a failure: the process
/// runs without them (before, capset failed in init after `start` had reported success).
std::vector<std::string> drop_ungrantable(Capabilities& caps);

/// drop_ungrantable, with one warning on `log` per capability left out.
void warn_ungrantable(Capabilities& caps, const sys::Logger& log);

/// Step 1, while still root with all capabilities: drop every capability that is not in
/// `caps.bounding` from the bounding set.
sys::Result<void> drop_bounding_set(const Capabilities& caps);
/// Step 2, after the uid/gid switch (done with PR_SET_KEEPCAPS): set effective, permitted
/// and inheritable with capset(2), then raise the ambient set.
/// Inheritable capabilities are set only when the spec lists them (CVE-2022-29162).
sys::Result<void> apply_capability_sets(const Capabilities& caps);

}  // namespace mydocker::runtime
