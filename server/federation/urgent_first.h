// The order of a relay batch while a contingency holds for the route to the
// peer (docs/workflow.md, "Contingency"): the urgent protection messages
// the federation policy names (ContingencyRules.urgent_types) go before the
// rest of the queue, and so do the earlier messages of their own case,
// which they may never overtake. Everything else keeps its queue order, so
// every case's (and, for messages without a case, every sender's) messages
// keep theirs.
//
//   std::vector<storage::QueuedMessage> window = ...;  // queue order
//   size_t ahead = UrgentFirst(window, {v1::RISK_FEEDBACK});
#ifndef TRM_SERVER_FEDERATION_URGENT_FIRST_H_
#define TRM_SERVER_FEDERATION_URGENT_FIRST_H_

#include <cstddef>
#include <vector>

#include "server/storage/message_store.h"
#include "trm/v1/envelope.pb.h"

namespace trm::federation {

// Reorders `window` (in queue order) so that each urgent message, with the
// messages of its case queued before it, comes first, in queue order; the
// rest follow in queue order. An envelope whose header does not parse
// counts as not urgent. Returns how many messages were moved ahead of one
// queued before them (0: the order is unchanged).
size_t UrgentFirst(std::vector<storage::QueuedMessage>& window,
                   const std::vector<v1::MessageType>& urgent_types);

}  // namespace trm::federation

#endif  // TRM_SERVER_FEDERATION_URGENT_FIRST_H_
