// A bound on the calls one organisation may have open at its node at once
// (docs/operations.md, "Limits"): every Mailbox call takes a slot for as long
// as it runs, and a call past the limit is refused with RESOURCE_EXHAUSTED
// TOO_MANY_CALLS, which names the limit. So one organisation's streams and
// waiting calls cannot take the node's threads from the others.
//
//   absl::StatusOr<CallLimiter::Slot> slot = limiter.Acquire(org);
//   if (!slot.ok()) return ToGrpcStatus(slot.status());
//
// Thread-safe.
#ifndef TRM_SERVER_MAILBOX_CALL_LIMITER_H_
#define TRM_SERVER_MAILBOX_CALL_LIMITER_H_

#include <cstddef>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace trm::mailbox {

class CallLimiter {
 public:
  // An open call; gives its slot back when destroyed.
  class Slot {
   public:
    Slot(Slot&& other) noexcept : limiter_(other.limiter_), org_(other.org_) {
      other.limiter_ = nullptr;
    }
    Slot& operator=(Slot&&) = delete;
    ~Slot();

   private:
    friend class CallLimiter;
    Slot(CallLimiter* limiter, std::string org)
        : limiter_(limiter), org_(std::move(org)) {}
    CallLimiter* limiter_;
    std::string org_;
  };

  explicit CallLimiter(size_t max_per_organisation)
      : max_(max_per_organisation) {}

  absl::StatusOr<Slot> Acquire(const std::string& org);
  // Calls `org` has open now.
  size_t Open(const std::string& org) const;
  size_t max_per_organisation() const { return max_; }
  // Calls refused since the start.
  uint64_t refused() const;

 private:
  void Release(const std::string& org);

  const size_t max_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, size_t> open_ ABSL_GUARDED_BY(mu_);
  uint64_t refused_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace trm::mailbox

#endif  // TRM_SERVER_MAILBOX_CALL_LIMITER_H_
