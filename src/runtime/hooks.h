// OCI hooks: executables run with the container's state JSON on stdin.
#pragma once

#include <string>
#include <vector>

#include "runtime/spec.h"
#include "sys/error.h"

namespace mydocker::runtime {

/// Run `hooks` in order; the first failure (non-zero exit, signal, timeout) stops the run
/// and is returned, naming the hook kind, index and path, with the hook's output.
sys::Result<void> run_hooks(const std::vector<Hook>& hooks, const char* kind, const std::string& state_json);

}  // namespace mydocker::runtime
