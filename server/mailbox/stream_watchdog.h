// Ends server streams whose client stopped reading (docs/operations.md,
// "Limits"). A Receive stream registers while it writes deliveries and
// reports each write that completes; a stream with no completed write for
// the stall limit is cancelled (grpc::ServerContext::TryCancel), so its
// blocked write returns and its leases are given back, instead of holding
// a window of messages in memory for as long as the client likes.
//
//   StreamWatchdog::Watch w = watchdog.Start([ctx] { ctx->TryCancel(); });
//   ... writer->Write(...) ... w.Progress();
//
// The node calls Tick() every second. Thread-safe.
#ifndef TRM_SERVER_MAILBOX_STREAM_WATCHDOG_H_
#define TRM_SERVER_MAILBOX_STREAM_WATCHDOG_H_

#include <cstdint>
#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace trm::mailbox {

class StreamWatchdog {
 public:
  // A registered stream; unregisters when destroyed.
  class Watch {
   public:
    Watch(Watch&& other) noexcept : dog_(other.dog_), id_(other.id_) {
      other.dog_ = nullptr;
    }
    Watch& operator=(Watch&&) = delete;
    ~Watch();
    // The client settled a delivery: it is reading.
    void Progress();

   private:
    friend class StreamWatchdog;
    Watch(StreamWatchdog* dog, uint64_t id) : dog_(dog), id_(id) {}
    StreamWatchdog* dog_;
    uint64_t id_;
  };

  StreamWatchdog(absl::Duration stall_limit, const Clock& clock)
      : limit_(stall_limit), clock_(clock) {}

  Watch Start(std::function<void()> cancel);
  // Cancels every stream without progress for the stall limit (once each);
  // returns how many it cancelled now.
  size_t Tick();
  size_t watched() const;
  uint64_t cancelled() const;

 private:
  struct Entry {
    absl::Time last_progress;
    std::function<void()> cancel;
    bool cancelled = false;
  };
  const absl::Duration limit_;
  const Clock& clock_;
  mutable absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t cancelled_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<uint64_t, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace trm::mailbox

#endif  // TRM_SERVER_MAILBOX_STREAM_WATCHDOG_H_
