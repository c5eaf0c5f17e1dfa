// The process's work pool (common/parallel.h).
#include "common/parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace trm {
namespace {

TEST(WorkPool, EveryItemOnceAndOnTheHelpersForLargeBatches) {
  WorkPool pool(3);
  std::vector<std::atomic<int>> seen(1000);
  const uint64_t before = pool.batches_shared();
  pool.ForEach(seen.size(), [&](size_t i) { seen[i]++; });
  for (const auto& s : seen) ASSERT_EQ(s.load(), 1);
  EXPECT_EQ(pool.batches_shared(), before + 1);
  // A small batch stays on the caller.
  std::atomic<int> small{0};
  pool.ForEach(5, [&](size_t) { small++; });
  EXPECT_EQ(small.load(), 5);
  EXPECT_EQ(pool.batches_shared(), before + 1);
}

TEST(WorkPool, ManyCallersShareTheSameHelpersAndNestedCallsFinish) {
  WorkPool pool(2);
  std::atomic<uint64_t> sum{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 32; ++c) {
    callers.emplace_back([&] {
      pool.ForEach(64, [&](size_t i) {
        // Nested: a helper that runs this item shares again.
        pool.ForEach(16, [&](size_t j) { sum += i * 16 + j; });
      });
    });
  }
  for (std::thread& t : callers) t.join();
  const uint64_t per_caller = (64 * 16) * (64 * 16 - 1) / 2;
  EXPECT_EQ(sum.load(), 32 * per_caller);
  EXPECT_EQ(pool.helpers(), 2u) << "no thread per batch";
}

TEST(WorkPool, ForEachOnCoresUsesTheSharedPool) {
  const uint64_t before = WorkPool::Shared().batches_shared();
  std::vector<int> out(256);
  ForEachOnCores(out.size(), [&](size_t i) { out[i] = static_cast<int>(i); });
  for (size_t i = 0; i < out.size(); ++i)
    ASSERT_EQ(out[i], static_cast<int>(i));
  EXPECT_EQ(WorkPool::Shared().batches_shared(), before + 1);
  EXPECT_GE(WorkPool::Shared().helpers(), 1u);
}

}  // namespace
}  // namespace trm
