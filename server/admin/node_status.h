// What a node's national coordinator sees of it (trmctl node status): the
// link to each peer node with its retry schedule and backlog, and the
// mailboxes of the node's organisations. Below the gRPC layer.
#ifndef TRM_SERVER_ADMIN_NODE_STATUS_H_
#define TRM_SERVER_ADMIN_NODE_STATUS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/audit/audit_api.h"
#include "server/audit/witness.h"
#include "server/federation/relay_dispatcher.h"
#include "server/mailbox/org_registry.h"
#include "server/storage/message_store.h"
#include "server/storage/rocksdb_store.h"
#include "trm/v1/admin.pb.h"

namespace trm::admin {

// The relay links of a node (the RelayRunner), as a seam for tests.
class PeerLinks {
 public:
  virtual ~PeerLinks() = default;
  // Each peer node's id and the state of its link, ordered by id.
  virtual std::vector<std::pair<std::string, federation::PeerState>> Links()
      const = 0;
};

// PERMISSION_DENIED (NOT_COORDINATOR) unless `caller` is an organisation of
// this node with the NATIONAL_COORDINATOR role in the directory.
absl::Status CheckCoordinator(const mailbox::OrgRegistry& registry,
                              const std::string& caller);

// The status now. `links` is null when the node does not relay.
// A backup of `store` into `dir` (trm.v1.NodeAdmin.Backup): first a tree
// head signed now (stored in the store, so the backup holds it and every
// entry it covers), then the checkpoint. `signer` null: no audit log.
absl::StatusOr<v1::BackupResponse> TakeBackup(storage::RocksMessageStore& store,
                                              audit::TreeHeadSigner* signer,
                                              const std::string& dir,
                                              absl::Time now);

// The link to peer `node` as the relay sees it at `now` (no queue depths).
v1::PeerLink LinkOf(const std::string& node, const federation::PeerState& s,
                    absl::Time now);

absl::StatusOr<v1::NodeStatus> BuildNodeStatus(
    const mailbox::OrgRegistry& registry, storage::MessageStore& store,
    const PeerLinks* links, audit::Witness* witness, absl::Time now);

}  // namespace trm::admin

#endif  // TRM_SERVER_ADMIN_NODE_STATUS_H_
