// What trm-agent watches besides its inbox: the node's status of each
// message the organisation sent, and the deadlines the organisation owes.
// Each Sweep publishes a "status" event when a sent message's state at the
// node changed since the last look (kept in the store, so a restart does
// not repeat it), and a "deadline" event once per run of the agent when a
// deadline the organisation must meet falls due within `warning`.
//
//   Watcher w(store, node, hub, absl::Hours(48));
//   ASSIGN_OR_RETURN(SweepResult r, w.Sweep());  // every watch_seconds
//
// A sweep asks the node about at most kMaxStatusPerSweep sent messages,
// taking up where the last one stopped, so a long outbox is covered over
// several sweeps rather than flooding the node.
//
// One thread calls Sweep.
#ifndef TRM_CLIENT_AGENT_WATCHER_H_
#define TRM_CLIENT_AGENT_WATCHER_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/agent/agent_api.h"
#include "client/agent/agent_store.h"
#include "client/agent/event_hub.h"

namespace trm::agent {

struct SweepResult {
  size_t status_events = 0;
  size_t deadline_events = 0;
  absl::Status first_error;  // the first status or case the node refused
};

class Watcher {
 public:
  static constexpr size_t kMaxStatusPerSweep = 100;

  Watcher(AgentStore& store, NodeApi& node, EventHub& hub,
          absl::Duration warning)
      : store_(store), node_(node), hub_(hub), warning_(warning) {}

  // Fails only when the store cannot be read.
  absl::StatusOr<SweepResult> Sweep();

 private:
  AgentStore& store_;
  NodeApi& node_;
  EventHub& hub_;
  const absl::Duration warning_;
  size_t next_ = 0;  // where the next sweep starts among the open sent ones
  // Each upcoming deadline warned (case, kind, due) and when it is due;
  // forgotten once due, so it is bounded by the open deadlines.
  absl::flat_hash_map<std::string, int64_t> warned_;
};

// A state after which a sent message's status no longer changes.
bool FinalState(v1::MessageState s);

}  // namespace trm::agent

#endif  // TRM_CLIENT_AGENT_WATCHER_H_
