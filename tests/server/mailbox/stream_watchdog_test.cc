// The watchdog that ends stalled streams (server/mailbox/stream_watchdog.h),
// on a simulated clock.
#include "server/mailbox/stream_watchdog.h"

#include <gtest/gtest.h>

#include <optional>

namespace trm::mailbox {
namespace {

TEST(StreamWatchdog, CancelsOnlyWhatMadeNoProgressForTheLimitOnce) {
  SimulatedClock clock(absl::FromUnixSeconds(1700000000));
  StreamWatchdog dog(absl::Seconds(30), clock);
  int a_cancelled = 0, b_cancelled = 0;
  std::optional<StreamWatchdog::Watch> a(dog.Start([&] { ++a_cancelled; }));
  std::optional<StreamWatchdog::Watch> b(dog.Start([&] { ++b_cancelled; }));
  EXPECT_EQ(dog.watched(), 2u);
  clock.Advance(absl::Seconds(20));
  b->Progress();  // b's client reads
  clock.Advance(absl::Seconds(10));
  EXPECT_EQ(dog.Tick(), 1u);
  EXPECT_EQ(a_cancelled, 1);
  EXPECT_EQ(b_cancelled, 0);
  clock.Advance(absl::Seconds(60));
  EXPECT_EQ(dog.Tick(), 1u) << "b now stalled; a is not cancelled twice";
  EXPECT_EQ(a_cancelled, 1);
  EXPECT_EQ(b_cancelled, 1);
  EXPECT_EQ(dog.cancelled(), 2u);
  a.reset();
  b.reset();
  EXPECT_EQ(dog.watched(), 0u);
  EXPECT_EQ(dog.Tick(), 0u);
}

}  // namespace
}  // namespace trm::mailbox
