// OCI hooks: executables run with the container's state JSON on stdin.
#pragma once

#include <string>
#include <vector>

#include "runtime/spec.h"
#include "sys/error.h"

namespace mydocker::runtime {

/// Run `hooks` in order; the first failure (non-zero exit, signal, timeout) stops the run
/// and is returned, naming the hook kind, index and path, with the hook's output.
/// `stub_fd` >= 0: hooks that run in the container (createContainer, startContainer) are
/// exec'd through the sealed stub (stub.h), as the container's own process is: their path
/// resolves in the container's root, where a `#!/proc/self/exe` script may wait.
sys::Result<void> run_hooks(const std::vector<Hook>& hooks, const char* kind, const std::string& state_json,
                            int stub_fd = -1);

}  // namespace mydocker::runtime
