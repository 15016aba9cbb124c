#include "sys/memory.h"

#include <elf.h>
#include <link.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

namespace mydocker::sys {

namespace {

uintptr_t page_size() {
    return static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
}

// The main program's segments that were never writable: code and constants. (Not a read-only
// segment that was written first, like RELRO: its pages are private copies, and dropping them
// would bring back the file's unrelocated bytes.)
int drop_readonly_segments(dl_phdr_info* info, size_t, void*) {
    const uintptr_t page = page_size();
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        const auto& ph = info->dlpi_phdr[i];
        if (ph.p_type != PT_LOAD || (ph.p_flags & PF_W)) continue;
        uintptr_t lo = (info->dlpi_addr + ph.p_vaddr) & ~(page - 1);
        uintptr_t hi = (info->dlpi_addr + ph.p_vaddr + ph.p_memsz + page - 1) & ~(page - 1);
        (void)::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
    }
    return 1;  // the first object is the main program: stop there
}

// The stack below this frame, down to 1 MiB (a start runs a few hundred KiB deep at most; the
// kernel keeps a far wider gap below the stack, so nothing else is in that range), minus a
// margin for what runs next, signal handlers included. Zero-filled again if touched.
[[gnu::noinline]] void drop_deep_stack() {
    volatile char here = 0;
    const uintptr_t page = page_size();
    uintptr_t sp = reinterpret_cast<uintptr_t>(&here) & ~(page - 1);
    uintptr_t hi = sp - 8 * page, lo = sp - (1u << 20);
    // madvise skips what is not mapped in the range (and then says ENOMEM, ignored here).
    (void)::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
}

}  // namespace

void shed_memory() {
    (void)::malloc_trim(0);
    (void)::dl_iterate_phdr(drop_readonly_segments, nullptr);
    drop_deep_stack();
}

}  // namespace mydocker::sys
