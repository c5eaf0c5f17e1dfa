// Wakes the calls that wait for messages (a Receive or ReceiveMany with
// wait_ms) when something arrives for their organisation, instead of each
// call polling the store on a timer.
//
//   uint64_t seen = arrivals.Generation(org);
//   ... look for messages; none ...
//   arrivals.WaitForChange(org, seen, deadline);  // Notify(org) wakes it
//
// Thread-safe. One counter per organisation that was ever notified or
// waited for (the organisations of the node).
#ifndef TRM_SERVER_MAILBOX_ARRIVALS_H_
#define TRM_SERVER_MAILBOX_ARRIVALS_H_

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace trm::mailbox {

class Arrivals {
 public:
  // Something may have become deliverable to `org`.
  void Notify(const std::string& org);
  uint64_t Generation(const std::string& org) const;
  // Until Notify(org) was called after `seen` was read, or `deadline`
  // passes (wall clock). True when woken by a notification.
  bool WaitForChange(const std::string& org, uint64_t seen,
                     absl::Time deadline) const;

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, uint64_t> generation_ ABSL_GUARDED_BY(mu_);
};

}  // namespace trm::mailbox

#endif  // TRM_SERVER_MAILBOX_ARRIVALS_H_
