// The receiving end of node-to-node relay (docs/protocol.md section 14):
// what a node does with a batch of envelopes a peer node relays to it.
//
// For each envelope, in order:
//   1. parse within the limits; check the times;
//   2. the sender organisation's home node (in the directory) must be the
//      calling node, and so must the header's sender_node: a node relays
//      only its own organisations' messages;
//   3. verify the sender's signature with the directory key valid at the
//      envelope's creation time (the origin node checked revocation at
//      submission; each node verifies a signature once);
//   4. the recipient must be an organisation of this node;
//   5. then the whole batch is stored in one durable write, deduplicated by
//      message id (a resent envelope gets its original receipt again), and
//      answered with RECEIPT_RELAYED receipts under one signature.
// Path notices (section 15) come the other way: the node a message was
// relayed to reports its delivery, acknowledgement or expiry. For each:
//   1. the message must have been relayed from this node to the calling
//      node;
//   2. delivery and expiry come with the calling node's signed receipt for
//      this message and envelope (one signature check per batch);
//   3. an acknowledgement must name this message, its envelope and its
//      recipient (the recipient's node verified its signature; the sender
//      can check it again with trmctl status);
//   4. then the notices are recorded in one durable write; steps only move
//      forward, so a repeated notice changes nothing.
// Below the gRPC layer: tested without a network.
#ifndef TRM_SERVER_FEDERATION_RELAY_RECEIVER_H_
#define TRM_SERVER_FEDERATION_RELAY_RECEIVER_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/clock.h"
#include "common/envelope/envelope.h"
#include "server/audit/audit_api.h"
#include "server/cases/policy_book.h"
#include "server/contingency/contingency_book.h"
#include "server/mailbox/arrivals.h"
#include "server/mailbox/org_registry.h"
#include "server/receipts/receipt_signer.h"
#include "server/storage/disk_guard.h"
#include "server/storage/message_store.h"
#include "trm/v1/federation.pb.h"

namespace trm::federation {

struct RelayReceiverOptions {
  std::string node_id;
  envelope::Limits limits;
  absl::Duration max_clock_skew = absl::Minutes(5);
  absl::Duration max_message_lifetime = absl::Hours(24 * 30);
  // The TRM case rules, applied by this node too, or null.
  const cases::PolicyBook* case_policies = nullptr;
  // As MailboxOptions::contingencies.
  contingency::ContingencyBook* contingencies = nullptr;
  // While the disk-free alarm is raised, relayed envelopes are refused
  // (STORE_DISK_LOW, retried by the peer); path notices are still taken.
  storage::DiskGuard* disk_guard = nullptr;
  // Told when a relayed message is stored for an organisation of this node,
  // to wake its waiting Receive calls; or null.
  mailbox::Arrivals* arrivals = nullptr;
};

class RelayReceiver {
 public:
  // References must outlive the receiver.
  RelayReceiver(RelayReceiverOptions options,
                const mailbox::OrgRegistry& registry,
                storage::MessageStore& store, receipts::ReceiptSigner& signer,
                const Clock& clock);

  // `peer`: the calling node, from its certificate. One result per envelope,
  // in order.
  std::vector<v1::RelayResult> Receive(
      const std::string& peer, const std::vector<std::string>& envelopes);

  // Cross-witnessing: this node's newest signed tree head, and the
  // consistency proof from `known_tree_size` to it, into `ack`.
  void set_tree_heads(audit::TreeHeadSigner* signer, storage::AuditLog* log) {
    head_signer_ = signer;
    audit_log_ = log;
  }
  void AddTreeHead(uint64_t known_tree_size, v1::RelayAck& ack) const;

  // One result per notice, in order.
  std::vector<v1::NoticeResult> ReceiveNotices(
      const std::string& peer, const std::vector<v1::PathNotice>& notices);

 private:
  // Steps 1-4 for one envelope; the request to store on success.
  absl::StatusOr<storage::AcceptRequest> Check(const directory::Directory& dir,
                                               const std::string& peer,
                                               const std::string& bytes,
                                               absl::Time now) const;
  // Steps 1-3 for one notice.
  absl::Status CheckNotice(const directory::Directory& dir,
                           const std::string& peer, const v1::PathNotice& n,
                           receipts::VerifiedBatches& verified) const;

  audit::TreeHeadSigner* head_signer_ = nullptr;
  storage::AuditLog* audit_log_ = nullptr;
  const RelayReceiverOptions options_;
  const mailbox::OrgRegistry& registry_;
  storage::MessageStore& store_;
  receipts::ReceiptSigner& signer_;
  const Clock& clock_;
};

// Sets the error fields of `result` from `status`.
void SetError(const absl::Status& status, v1::RelayResult* result);

}  // namespace trm::federation

#endif  // TRM_SERVER_FEDERATION_RELAY_RECEIVER_H_
