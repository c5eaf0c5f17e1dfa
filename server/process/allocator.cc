#include "server/process/allocator.h"

#include <malloc.h>

#include <cstdlib>
#include <cstring>

namespace trm::process {

std::optional<AllocatorSettings> ChooseAllocatorSettings(
    const char* glibc_tunables) {
  if (glibc_tunables != nullptr &&
      std::strstr(glibc_tunables, "glibc.malloc.") != nullptr) {
    return std::nullopt;
  }
  return AllocatorSettings{};
}

bool TuneAllocator() {
  const std::optional<AllocatorSettings> s =
      ChooseAllocatorSettings(std::getenv("GLIBC_TUNABLES"));
  if (!s) return false;
  // mallopt returns 1 on success; a fixed threshold turns off glibc's
  // dynamic one, which is the point.
  return mallopt(M_MMAP_THRESHOLD, static_cast<int>(s->mmap_threshold)) == 1 &&
         mallopt(M_TRIM_THRESHOLD, static_cast<int>(s->trim_threshold)) == 1 &&
         mallopt(M_TOP_PAD, static_cast<int>(s->top_pad)) == 1;
}

}  // namespace trm::process
