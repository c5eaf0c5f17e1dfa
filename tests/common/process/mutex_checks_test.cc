#include "common/process/mutex_checks.h"

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace trm::process {
namespace {

// Takes two locks in both orders: a cycle in the lock-order graph.
void LockInBothOrders() {
  absl::Mutex a;
  absl::Mutex b;
  {
    absl::MutexLock first(&a);
    absl::MutexLock second(&b);
  }
  {
    absl::MutexLock first(&b);
    absl::MutexLock second(&a);
  }
}

TEST(MutexChecks, OffWithNdebugOnWithout) {
#ifdef NDEBUG
  EXPECT_FALSE(MutexChecksWanted());
#else
  EXPECT_TRUE(MutexChecksWanted());
#endif
}

// Debian's Abseil checks by default, whatever this build's NDEBUG: a build
// that wants no checks must turn them off, and one that wants them must
// still abort on a cycle after ConfigureMutexChecks.
TEST(MutexChecks, TheSettingIsWhatAbseilDoes) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  if (MutexChecksWanted()) {
    EXPECT_DEATH(
        {
          ConfigureMutexChecks();
          LockInBothOrders();
        },
        "Potential Mutex deadlock");
  } else {
    EXPECT_EXIT(
        {
          ConfigureMutexChecks();
          LockInBothOrders();
          std::exit(0);
        },
        testing::ExitedWithCode(0), "");
    // And without it, Debian's default aborts: the call is what turns the
    // check off.
    EXPECT_DEATH(LockInBothOrders(), "Potential Mutex deadlock");
  }
}

}  // namespace
}  // namespace trm::process
