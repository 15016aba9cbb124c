// seccomp: compile the spec's filter with libseccomp in the parent (so every error is
// found before a side effect), load it in the init stage just before execve.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "runtime/spec.h"
#include "sys/error.h"
#include "sys/log.h"

namespace mydocker::runtime {

/// A compiled seccomp filter, ready to load.
class SeccompFilter {
public:
    SeccompFilter();
    ~SeccompFilter();
    SeccompFilter(SeccompFilter&&) noexcept;
    SeccompFilter& operator=(SeccompFilter&&) noexcept;

    /// Install the filter in the calling process (needs no_new_privs or CAP_SYS_ADMIN).
    /// Returns the notify listener fd when the filter has SCMP_ACT_NOTIFY rules, else -1.
    sys::Result<int> load() const;
    /// True when the filter uses SCMP_ACT_NOTIFY (needs linux.seccomp.listenerPath).
    bool uses_notify() const;

    struct Impl;

private:
    friend sys::Result<SeccompFilter> compile_seccomp(const Seccomp&, const sys::Logger&,
                                                      const std::string&);
    std::unique_ptr<Impl> impl_;
};

/// Build the filter of `s`. Unknown syscall names are skipped (logged at debug), as runc
/// does; unknown actions, operators, architectures or flags are errors naming the field.
/// `cache_dir` (optional): generated programs are kept there and used again for the same
/// profile: libseccomp takes ~10 ms for one of docker's size, more than the rest of a start.
sys::Result<SeccompFilter> compile_seccomp(const Seccomp& s, const sys::Logger& log,
                                           const std::string& cache_dir = "");

/// Validate names in `s` without building a filter (spec validation).
sys::Result<void> validate_seccomp(const Seccomp& s);

/// The container process state sent to listenerPath (runtime-spec config-linux.md):
/// ociVersion, fds ["seccompFd"], pid, metadata and `state_json` (the OCI state) as "state".
std::string container_process_state_json(pid_t pid, const std::string& metadata,
                                         const std::string& state_json);

/// Connect to the agent's unix socket at `listener_path`, send `process_state` with
/// `listener_fd` attached (SCM_RIGHTS), and close: one state per connection, as the spec says.
sys::Result<void> send_seccomp_listener(const std::string& listener_path,
                                        const std::string& process_state, int listener_fd);

}  // namespace mydocker::runtime
