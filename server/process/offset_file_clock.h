// A clock for tests of whole nodes over days (tests/server/netns_test.sh):
// the wall clock plus an offset in seconds read from a file, re-read at
// most every 100 ms, so a test moves a running federation forward by
// writing the file. Only the test build of the node (trm-broker-testclock,
// never installed) uses it; trm-broker itself always runs on the wall
// clock.
#ifndef TRM_SERVER_PROCESS_OFFSET_FILE_CLOCK_H_
#define TRM_SERVER_PROCESS_OFFSET_FILE_CLOCK_H_

#include <fstream>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"

namespace trm::process {

class OffsetFileClock final : public Clock {
 public:
  explicit OffsetFileClock(std::string path) : path_(std::move(path)) {}

  absl::Time Now() const override {
    const absl::Time wall = absl::Now();
    absl::MutexLock lock(&mu_);
    if (wall - read_at_ >= absl::Milliseconds(100)) {
      read_at_ = wall;
      std::ifstream in(path_);
      std::string text;
      int64_t seconds = 0;
      // A file being written, or none: the offset stays as it was.
      if (in && std::getline(in, text) &&
          absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &seconds)) {
        offset_ = absl::Seconds(seconds);
      }
    }
    // Never backwards, even if the file says so.
    const absl::Time now = wall + offset_;
    if (now > last_) last_ = now;
    return last_;
  }

 private:
  const std::string path_;
  mutable absl::Mutex mu_;
  mutable absl::Time read_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  mutable absl::Duration offset_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
  mutable absl::Time last_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace trm::process

#endif  // TRM_SERVER_PROCESS_OFFSET_FILE_CLOCK_H_
