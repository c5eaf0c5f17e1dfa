// The node's malloc settings, and the operator's GLIBC_TUNABLES winning
// over them.
#include "server/process/allocator.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace trm::process {
namespace {

TEST(AllocatorTest, AppliesItsSettingsWithoutTunables) {
  std::optional<AllocatorSettings> s = ChooseAllocatorSettings(nullptr);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->mmap_threshold, 4u << 20);
  EXPECT_EQ(s->trim_threshold, 128u << 20);
  EXPECT_EQ(s->top_pad, 16u << 20);
  // Tunables for something else than malloc leave them on.
  EXPECT_TRUE(ChooseAllocatorSettings("glibc.pthread.mutex_spin_count=10"));
}

TEST(AllocatorTest, TheOperatorsMallocTunablesWin) {
  EXPECT_FALSE(ChooseAllocatorSettings("glibc.malloc.trim_threshold=1"));
  EXPECT_FALSE(ChooseAllocatorSettings(
      "glibc.pthread.mutex_spin_count=10:glibc.malloc.arena_max=2"));
}

#if defined(__SANITIZE_ADDRESS__)
#define TRM_OWN_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TRM_OWN_MALLOC 1
#endif
#endif

TEST(AllocatorTest, MalloptTakesTheSettings) {
#ifdef TRM_OWN_MALLOC
  GTEST_SKIP() << "AddressSanitizer replaces malloc; mallopt has no effect";
#endif
  // In this test process nothing set GLIBC_TUNABLES for malloc (ctest does
  // not), so the settings apply, and glibc accepts each one.
  if (!ChooseAllocatorSettings(std::getenv("GLIBC_TUNABLES"))) {
    GTEST_SKIP() << "GLIBC_TUNABLES sets malloc tunables here";
  }
  EXPECT_TRUE(TuneAllocator());
}

}  // namespace
}  // namespace trm::process
