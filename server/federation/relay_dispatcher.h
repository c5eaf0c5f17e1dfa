// The sending end of node-to-node relay: one dispatcher per peer node moves
// the messages of its outbound queue (storage::OutboundQueue(peer)) to that
// node, a batch at a time, in queue order (so first-in-first-out per sender
// and case), and only after the peer's signed receipt for a message takes it
// out of the queue (state RELAYED, receipt kept).
//
// Failures: a transport failure, or a refusal the peer may not repeat
// (UNAVAILABLE, RESOURCE_EXHAUSTED, ...), leaves the batch queued and waits
// a random time in [0, min(max_backoff, base_backoff * 2^failures)) (full
// jitter) before the next try. After `breaker_failures` failures in a row
// the circuit opens: no attempt for `breaker_open`, then one trial batch
// (half-open). While a contingency holds for the route to the peer, the
// urgent protection messages the policy names go first (urgent_first.h).
// A permanent refusal (the peer says the message can never be
// stored: bad signature, unknown recipient, expired, ...) takes that message
// out of the queue into the dead letters with state REJECTED and the peer's
// reason, so one bad message cannot block the queue behind it. A message
// that expires while queued is moved out by the node's expiry sweep.
//
// The same batches carry path notices the other way: what became of
// messages the peer relayed here (delivered, acknowledged, expired), read
// from storage::NoticeQueue(peer), with this node's signed receipts for
// delivery and expiry and the recipient's signed acknowledgement. A notice
// leaves its queue once the peer has recorded it (or refused it for good).
//
// Below the gRPC layer: the transport, the clock and the randomness are
// seams; tests drive Step() by hand.
#ifndef TRM_SERVER_FEDERATION_RELAY_DISPATCHER_H_
#define TRM_SERVER_FEDERATION_RELAY_DISPATCHER_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "server/audit/witness.h"
#include "server/contingency/contingency_book.h"
#include "server/mailbox/org_registry.h"
#include "server/receipts/receipt_signer.h"
#include "server/storage/message_store.h"
#include "trm/v1/federation.pb.h"

namespace trm::federation {

// Sends one batch to a peer and returns its answer.
class PeerTransport {
 public:
  virtual ~PeerTransport() = default;
  virtual absl::StatusOr<v1::RelayAck> Send(const v1::RelayBatch& batch) = 0;
};

inline constexpr size_t kMaxRelayBatchBytes = 4 << 20;

struct RelayPolicy {
  size_t batch = 256;
  // A batch never holds more envelope bytes than this (but always at least
  // one envelope); nodes accept relay messages of kMaxRelayBatchBytes plus
  // one largest envelope.
  size_t max_batch_bytes = kMaxRelayBatchBytes;
  absl::Duration base_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(30);
  // Most path notices in one batch.
  size_t notices = 256;
  int breaker_failures = 5;
  absl::Duration breaker_open = absl::Seconds(30);
  absl::Duration idle_poll = absl::Milliseconds(50);
  // With nothing to send for this long, an empty batch still goes, so that
  // the nodes exchange tree heads (cross-witnessing).
  absl::Duration witness_interval = absl::Seconds(30);
  // One call to the peer (a batch and its answer) fails after this long.
  absl::Duration call_timeout = absl::Seconds(30);
  // While a contingency with urgent types holds for the route: how far into
  // the queue a batch looks for them (urgent_first.h).
  size_t urgent_window = 4096;
};

// What an operator (and `trmctl node status`, later) sees of a peer link.
struct PeerState {
  enum class Breaker { kClosed, kOpen, kHalfOpen };
  Breaker breaker = Breaker::kClosed;
  int consecutive_failures = 0;
  absl::Time next_attempt = absl::InfinitePast();
  absl::Time last_success = absl::InfinitePast();
  // The first failure since the last success (past: not failing).
  absl::Time failing_since = absl::InfinitePast();
  uint64_t relayed = 0, refused = 0, failed_attempts = 0;
  uint64_t notices_sent = 0, notices_refused = 0;
  std::string last_error;
};
absl::string_view BreakerName(PeerState::Breaker b);

class RelayDispatcher {
 public:
  // `random` returns a uniform value in [0, 1). References must outlive it.
  RelayDispatcher(std::string peer, RelayPolicy policy,
                  storage::MessageStore& store,
                  const mailbox::OrgRegistry& registry,
                  receipts::ReceiptSigner& signer, PeerTransport& transport,
                  const Clock& clock, std::function<double()> random);

  // Does what is due now: at most one batch. Returns when the next step is
  // due (now, when more may be queued and the link is healthy).
  absl::Time Step() ABSL_LOCKS_EXCLUDED(mu_);

  PeerState state() const ABSL_LOCKS_EXCLUDED(mu_);
  // Checks the peer's tree heads in its answers (null: not at all).
  void set_witness(audit::Witness* witness) { witness_ = witness; }
  // Carries this node's contingency declarations in every batch (null:
  // none).
  void set_contingencies(contingency::ContingencyBook* book) { book_ = book; }
  const std::string& peer() const { return peer_; }

 private:
  absl::Time Failed(const absl::Status& why, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The peer's receipt for `id` and `envelope`, checked against the
  // directory's key for the peer; OK or why not.
  absl::Status CheckReceipt(const v1::Receipt& receipt, const std::string& id,
                            const std::string& envelope,
                            receipts::VerifiedBatches& verified) const;
  // The policy's urgent types while a contingency holds for the route to
  // the peer; none otherwise.
  std::vector<v1::MessageType> UrgentTypesNow() const;
  // The notices waiting for the peer, with this node's signed receipts.
  absl::StatusOr<std::vector<v1::PathNotice>> Notices(
      const std::vector<storage::PendingNotice>& pending);

  const std::string peer_;
  const std::string queue_;
  const RelayPolicy policy_;
  storage::MessageStore& store_;
  const mailbox::OrgRegistry& registry_;
  receipts::ReceiptSigner& signer_;
  PeerTransport& transport_;
  const Clock& clock_;
  const std::function<double()> random_;
  uint64_t next_batch_id_ = 1;
  audit::Witness* witness_ = nullptr;
  contingency::ContingencyBook* book_ = nullptr;
  // The book's Changes() last carried to the peer.
  uint64_t carried_changes_ = 0;
  absl::Time next_witness_ = absl::InfinitePast();

  mutable absl::Mutex mu_;
  PeerState state_ ABSL_GUARDED_BY(mu_);
};

// Whether a refusal from the peer may go away by itself (retry) or never
// will (dead letter).
bool IsRetriable(absl::StatusCode code);

}  // namespace trm::federation

#endif  // TRM_SERVER_FEDERATION_RELAY_DISPATCHER_H_
