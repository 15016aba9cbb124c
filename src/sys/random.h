// Random ids and names: straight from the kernel (getrandom), no per-call set-up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace mydocker::sys {

/// Fill `buf` with random bytes: getrandom(2), else /dev/urandom. (Not std::random_device: its
/// set-up probes the CPU with cpuid, which a VM traps, on every construction.)
void random_bytes(void* buf, size_t n);
/// `digits` random lowercase hex digits.
std::string random_hex(size_t digits);
/// A random number in [0, n), n > 0.
uint32_t random_below(uint32_t n);

}  // namespace mydocker::sys
