// Giving back what a long-lived forked process touched while it was busy.
#pragma once

namespace mydocker::sys {

/// For a process that forked from a busy one and now mostly waits (the monitor of a detached
/// container): give back what the busy part touched, instead of re-executing to start small.
/// - free heap, of every malloc arena (malloc_trim);
/// - the page-table entries of the main program's code and constants (the whole CLI's, faulted
///   in by the start): MADV_DONTNEED on its never-writable segments, so that they no longer
///   count in our proportional set size; what runs next faults its pages back from the cache;
/// - the stack below the current frame (a start runs deep; waiting does not).
/// Best effort: a step that fails is skipped.
void shed_memory();

}  // namespace mydocker::sys
