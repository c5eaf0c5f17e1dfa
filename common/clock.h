// The clock seam. Production code asks a Clock for the time; tests hand it a
// SimulatedClock and move time explicitly, never sleeping and never reading
// the wall clock.
//
//   SimulatedClock clock(absl::FromUnixSeconds(1700000000));
//   clock.Advance(absl::Hours(73));
//   policy.CheckDeadlines(clock.Now());
#ifndef TRM_COMMON_CLOCK_H_
#define TRM_COMMON_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace trm {

// Thread-safe source of the current time.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The wall clock.
class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  // A process-wide instance; never destroyed.
  static const SystemClock& Get() {
    static const SystemClock* clock = new SystemClock();
    return *clock;
  }
};

// A clock that moves only when told to. Thread-safe.
class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(absl::Time start) : now_(start) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }
  void Set(absl::Time t) {
    absl::MutexLock lock(&mu_);
    now_ = t;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace trm

#endif  // TRM_COMMON_CLOCK_H_
