// The agent's event stream (GET /api/v1/events): "message" when one
// arrives, "refused" when one arriving was refused for good (it cannot open
// or its header and payload disagree), "sent" when one is accepted, "status"
// when the node's evidence of a sent message changed, "deadline" when one the
// organisation owes is near. An event carries ids, types and times only, never
// personal data. A bounded ring: a listener that falls more than kCapacity
// behind is told how many it missed and reads the lists again.
//
//   hub.Publish({"message", id_hex, "REFERRAL_REQUEST", case_ref});
//   std::vector<Event> next = hub.Wait(last_seq, absl::Seconds(15), &missed);
//
// Thread-safe.
#ifndef TRM_CLIENT_AGENT_EVENT_HUB_H_
#define TRM_CLIENT_AGENT_EVENT_HUB_H_

#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace trm::agent {

struct Event {
  Event() = default;
  Event(std::string k, std::string id, std::string t, std::string c)
      : kind(std::move(k)),
        message_id(std::move(id)),
        type(std::move(t)),
        case_ref(std::move(c)) {}

  std::string kind;        // message, refused, sent, status, deadline
  std::string message_id;  // hex, or ""
  std::string type;        // MessageType name, or DeadlineKind name
  std::string case_ref;    // pseudonymous
  uint64_t seq = 0;        // set by Publish, from 1
  std::string state;       // "status": the new MessageState name
  std::string due;         // "deadline": when it is due, RFC 3339
};

class EventHub {
 public:
  static constexpr size_t kCapacity = 1024;

  void Publish(Event e) ABSL_LOCKS_EXCLUDED(mu_);
  // The events after `after`, waiting up to `wait` (real time: the HTTP
  // layer's keep-alive) for one; `missed` is how many fell out of the ring.
  std::vector<Event> Wait(uint64_t after, absl::Duration wait, uint64_t* missed)
      ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t last() const ABSL_LOCKS_EXCLUDED(mu_);
  // Wakes every waiter for good (the agent is stopping).
  void Close() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  std::deque<Event> ring_ ABSL_GUARDED_BY(mu_);
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 1;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace trm::agent

#endif  // TRM_CLIENT_AGENT_EVENT_HUB_H_
