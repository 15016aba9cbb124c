// System calls that touch no memory of the process but the caller's arguments: no errno (it
// lives in thread-local storage), no libc state. For a process that shares its address space
// with another one (clone(CLONE_VM) without a thread of its own in libc's eyes) and must not
// disturb what the other one is doing with that memory.
#pragma once

#include <sys/syscall.h>

namespace mydocker::sys {

#if defined(__x86_64__) || defined(__aarch64__)
/// Raw system calls are available on this architecture.
inline constexpr bool kHaveRawSyscall = true;

/// System call `nr` with up to four arguments: the result, or -errno.
inline long raw_syscall(long nr, long a = 0, long b = 0, long c = 0, long d = 0) {
#if defined(__x86_64__)
    long ret;
    register long r10 asm("r10") = d;
    asm volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
    return ret;
#else
    register long x8 asm("x8") = nr;
    register long x0 asm("x0") = a;
    register long x1 asm("x1") = b;
    register long x2 asm("x2") = c;
    register long x3 asm("x3") = d;
    asm volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory", "cc");
    return x0;
#endif
}
#else
inline constexpr bool kHaveRawSyscall = false;
inline long raw_syscall(long, long = 0, long = 0, long = 0, long = 0) {
    return -38; /* ENOSYS */
}
#endif

}  // namespace mydocker::sys
