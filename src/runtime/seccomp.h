// seccomp: compile the spec's filter with libseccomp in the parent (so every error is
// found before a side effect), load it in the init stage just before execve.
#pragma once

#include <memory>

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
    friend sys::Result<SeccompFilter> compile_seccomp(const Seccomp&, const sys::Logger&);
    std::unique_ptr<Impl> impl_;
};

/// Build the filter of `s`. Unknown syscall names are skipped (logged at debug), as runc
/// does; unknown actions, operators, architectures or flags are errors naming the field.
sys::Result<SeccompFilter> compile_seccomp(const Seccomp& s, const sys::Logger& log);

/// Validate names in `s` without building a filter (spec validation).
sys::Result<void> validate_seccomp(const Seccomp& s);

}  // namespace mydocker::runtime
