// What an ERASURE_OR_RECTIFICATION_NOTICE does to the agent's own copies:
// an erasure deletes every local copy of the case but the notice itself
// (which says what was erased, and when); a rectification adds a note to
// each local message of the case naming the fields to correct. The notice
// is opened in memory to read which it is.
//
//   ASSIGN_OR_RETURN(size_t n, ApplyNotice(store, node, record));
#ifndef TRM_CLIENT_AGENT_ERASURE_H_
#define TRM_CLIENT_AGENT_ERASURE_H_

#include "absl/status/statusor.h"
#include "client/agent/agent_api.h"
#include "client/agent/agent_store.h"

namespace trm::agent {

// How many local messages were erased or marked; 0 for a record of another
// type.
absl::StatusOr<size_t> ApplyNotice(AgentStore& store, const NodeApi& node,
                                   const v1::AgentRecord& notice);

}  // namespace trm::agent

#endif  // TRM_CLIENT_AGENT_ERASURE_H_
