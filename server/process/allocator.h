// glibc malloc settings for the node's allocation pattern: envelopes of a
// few KiB and batches of up to a few MiB (ReceiveMany answers, relay batches,
// a commit group's WriteBatch), allocated and freed thousands of times a
// second. With glibc's defaults each such batch went to mmap or grew and
// trimmed the heap again. The figures, with glibc's defaults and with these,
// are in docs/benchmarks.md, "Allocator settings".
#ifndef TRM_SERVER_PROCESS_ALLOCATOR_H_
#define TRM_SERVER_PROCESS_ALLOCATOR_H_

#include <cstddef>
#include <optional>

namespace trm::process {

struct AllocatorSettings {
  // Blocks at least this large come from mmap (glibc: 128 KiB, adjusting).
  size_t mmap_threshold = 4 << 20;
  // Free memory at the top of the heap is given back above this.
  size_t trim_threshold = 128 << 20;
  // Extra the heap grows by each time it must grow.
  size_t top_pad = 16 << 20;
};

// The settings to apply, or none when the operator set glibc's malloc
// tunables (GLIBC_TUNABLES with a glibc.malloc. entry): theirs win.
std::optional<AllocatorSettings> ChooseAllocatorSettings(
    const char* glibc_tunables);

// Applies ChooseAllocatorSettings(getenv("GLIBC_TUNABLES")) with mallopt;
// call once, before threads start. Returns whether they were applied.
bool TuneAllocator();

}  // namespace trm::process

#endif  // TRM_SERVER_PROCESS_ALLOCATOR_H_
