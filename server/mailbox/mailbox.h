// The mailbox of a national node: what organisations do with it, below any
// network layer. The gRPC service translates to and from these calls.
//
// Submit, in order (docs/operations.md lists every refusal):
//   1. parse the envelope within the size limits;
//   2. check the header and the times (expiry ahead, creation within skew);
//   3. the calling organisation must be the header's sender;
//   4. verify the sender's signature with its registered key, once;
//   5. the recipient must be an organisation on this node, with room in its
//      mailbox;
//   6. store durably with deduplication (group commit, synced WAL);
//   7. answer with a signed acceptance receipt (batched signatures).
// While the disk-free alarm is raised, every submission is refused
// (STORE_DISK_LOW) before step 1, and nothing is recorded.
// A refusal after step 1 (so with a message id) is recorded as a REJECTED
// status record for the caller, metadata only, so GetStatus can tell the
// sender later; the envelope itself is never stored.
// Receive leases messages for a visibility timeout; a lease that runs out
// makes the message deliverable again. Ack removes it for good; Release gives
// the lease back early. Leases live in memory: after a restart every
// unacknowledged message is deliverable again (at-least-once delivery;
// recipients deduplicate by message id).
//
// Thread-safe.
#ifndef TRM_SERVER_MAILBOX_MAILBOX_H_
#define TRM_SERVER_MAILBOX_MAILBOX_H_

#include <limits>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/envelope/envelope.h"
#include "server/cases/policy_book.h"
#include "server/contingency/contingency_book.h"
#include "server/mailbox/arrivals.h"
#include "server/mailbox/org_registry.h"
#include "server/receipts/receipt_signer.h"
#include "server/storage/disk_guard.h"
#include "server/storage/message_store.h"

namespace trm::mailbox {

struct MailboxOptions {
  std::string node_id;
  envelope::Limits limits;
  absl::Duration max_clock_skew = absl::Minutes(5);
  // A message that would stay longer is refused (EXPIRY_TOO_FAR); the
  // directory may lower it.
  absl::Duration max_message_lifetime = absl::Hours(24 * 30);
  absl::Duration visibility_timeout = absl::Seconds(30);
  // Payloads of acknowledged messages are deleted after this long.
  absl::Duration retention = absl::Hours(24 * 7);
  // Messages for organisations of other nodes are accepted into outbound
  // queues (relayed by server/federation); off without TLS.
  bool relay_enabled = true;
  // Acknowledgements must carry the recipient's signed acknowledgement
  // (trm.v1.SignedAcknowledgement); when false, unsigned ones are taken too
  // and the sender sees ACKNOWLEDGED without that evidence.
  bool require_signed_acknowledgements = true;
  // The TRM case rules (server/cases), or null to leave them off.
  const cases::PolicyBook* case_policies = nullptr;
  // Declared contingencies: a message on a route one holds for may live
  // the policy's lifetime_extension_seconds longer (null: none).
  contingency::ContingencyBook* contingencies = nullptr;
  // Check each submitted envelope's Ed25519 signature. Off only to measure
  // what verification costs (trm-broker --no-verify-signatures, benchmarks
  // only): the key the envelope names is still looked up.
  bool verify_signatures = true;
  // The disk-free alarm: while it says the disk is low, submissions are
  // refused (STORE_DISK_LOW) before anything is written. Null: no check.
  storage::DiskGuard* disk_guard = nullptr;
  // Refusals recorded one by one (a REJECTED status and an audit event),
  // per organisation: a bucket of `refusal_record_burst` that refills at
  // `refusal_records_per_second`. Beyond it a refusal is still answered
  // but only counted, and the counts go into one REFUSALS_SUMMARIZED audit
  // event per organisation at most every `refusal_summary_interval`.
  // Recorded ones are deleted `retention` after the refusal.
  double refusal_records_per_second = 1;
  double refusal_record_burst = 100;
  absl::Duration refusal_summary_interval = absl::Minutes(1);
};

struct Delivery {
  std::string message_id;
  std::string envelope;
  uint32_t attempt = 0;  // 1 on first delivery
  absl::Time lease_expires;
};

class Mailbox {
 public:
  // All references must outlive the mailbox.
  Mailbox(MailboxOptions options, const OrgRegistry& orgs,
          storage::MessageStore& store, receipts::ReceiptSigner& signer,
          const Clock& clock);

  absl::StatusOr<v1::Receipt> Submit(const std::string& caller,
                                     absl::string_view envelope_bytes);
  // Submit for many envelopes of one caller: signatures checked across the
  // cores, one durable write, one receipt signature. One result each, in
  // the order given.
  std::vector<absl::StatusOr<v1::Receipt>> SubmitMany(
      const std::string& caller,
      const std::vector<absl::string_view>& envelopes);

  // Up to `max` messages for `caller` that are not leased, each now leased.
  // At most `max_bytes` of envelopes in all (at least one message, however
  // large, when any is waiting).
  absl::StatusOr<std::vector<Delivery>> Receive(
      const std::string& caller, size_t max,
      size_t max_bytes = std::numeric_limits<size_t>::max());
  // `acknowledgement`: the caller's serialized SignedAcknowledgement of the
  // message, or empty (refused when signed ones are required).
  absl::Status Ack(const std::string& caller, const std::string& message_id,
                   const std::string& acknowledgement);
  absl::Status Release(const std::string& caller,
                       const std::string& message_id);
  // `refusal`: the caller's serialized SignedRefusal of a message queued for
  // it (checked as an acknowledgement is, always signed). The message leaves
  // the queue; its sender sees REFUSED with the refusal.
  absl::Status Refuse(const std::string& caller, const std::string& message_id,
                      const std::string& refusal);
  // Ack for many in one durable write; one status per acknowledgement.
  // `batch`: empty, or the caller's serialized AcknowledgementBatch over all
  // of `acks` in their order (which then carry no acknowledgement of their
  // own); each message keeps its part of it as its signed acknowledgement.
  // INVALID_ARGUMENT (ACKNOWLEDGEMENTS_MISMATCH) for the whole call when the
  // batch's bodies are not one per ack.
  absl::StatusOr<std::vector<absl::Status>> AckMany(
      const std::string& caller, std::vector<storage::AckRequest> acks,
      const std::string& batch = "");

  // Moves messages whose expiry passed to the dead letters; the node calls
  // this every second. Returns how many.
  absl::StatusOr<size_t> SweepExpired();
  // Deletes payloads acknowledged longer ago than the retention; the node
  // calls this every second. Returns how many.
  absl::StatusOr<size_t> PurgeRetained();
  // Writes the counted refusals (over the record budget) as one
  // REFUSALS_SUMMARIZED audit event per organisation, once the summary
  // interval has passed since the last; the node calls this every second.
  // Returns how many events it wrote.
  absl::StatusOr<size_t> SummarizeRefusals();

  // The status of a message `caller` sent.
  absl::StatusOr<v1::StoredStatus> GetStatus(const std::string& caller,
                                             const std::string& message_id);

  // Notified when messages become deliverable to an organisation (accepted
  // here, released; the relay receiver notifies it too). A lease that runs
  // out is not notified: waiting calls look again every second.
  Arrivals& arrivals() { return arrivals_; }
  // Notified when a delivery to an organisation settles: acknowledged,
  // released or refused. A Receive stream waits on it for room in its
  // window.
  Arrivals& settlements() { return settlements_; }
  // Those of `ids` that are still leased to `caller`: delivered, not yet
  // acknowledged, released or refused, and the lease not run out.
  std::vector<std::string> StillLeased(const std::string& caller,
                                       std::vector<std::string> ids);

 private:
  struct Lease {
    absl::Time expires;
    uint32_t attempts = 0;
  };
  // An organisation of this node, in the directory snapshot it was found in.
  struct Own {
    std::shared_ptr<const directory::Directory> directory;
    const v1::DirectoryOrganisation* org = nullptr;
  };
  absl::StatusOr<Own> Caller(const std::string& caller) const;
  // Steps 2-5 for an envelope that parsed (all but the quota): what to
  // store, or why not.
  absl::StatusOr<storage::AcceptRequest> CheckEnvelope(
      const Own& sender, const envelope::ParsedEnvelope& parsed,
      absl::string_view envelope_bytes, absl::Time now) const;
  // Room for `bytes` more in `queue`, beyond `adding` bytes already on
  // their way there (MAILBOX_FULL).
  absl::Status CheckQuota(const std::string& queue, size_t bytes,
                          uint64_t adding) const;
  // The signed acknowledgement `ack` of message `id` by `me`: well formed,
  // for the envelope it received, recent, and signed with its key valid
  // now. OK for an empty one when unsigned acknowledgements are allowed.
  absl::Status CheckAcknowledgement(const Own& me, const std::string& id,
                                    const std::string& ack,
                                    absl::Time now) const;
  // CheckAcknowledgement for a whole AcknowledgementBatch: one time, key and
  // signature check for all, the message checks for each. Fills `results`
  // and, for each that passes, its evidence into acks[i].acknowledgement.
  absl::Status CheckAcknowledgementBatch(
      const Own& me, const std::string& batch, absl::Time now,
      std::vector<storage::AckRequest>& acks,
      std::vector<absl::Status>& results) const;
  // The SHA-256 of the envelope of message `id` queued for `caller`, or
  // MESSAGE_NOT_FOUND.
  absl::StatusOr<std::string> QueuedEnvelopeHash(const std::string& caller,
                                                 const std::string& id) const;
  // `reason` unless `signed_at` is within the clock skew of `now`.
  absl::Status CheckSigningTime(absl::string_view reason,
                                absl::string_view what, absl::Time signed_at,
                                absl::Time now) const;
  void RecordRejection(const std::string& caller, const v1::Header& header,
                       absl::string_view envelope_bytes, absl::Time now,
                       const absl::Status& refusal);

  const MailboxOptions options_;
  const OrgRegistry& orgs_;
  storage::MessageStore& store_;
  receipts::ReceiptSigner& signer_;
  const Clock& clock_;
  Arrivals arrivals_;
  Arrivals settlements_;

  // The refusal record budget of one organisation.
  struct RefusalBudget {
    double tokens = 0;
    absl::Time refilled = absl::InfinitePast();
    std::map<std::string, uint64_t> unrecorded;  // reason -> count
    absl::Time since = absl::InfinitePast();     // first unrecorded one
  };
  // Takes a token from `caller`'s budget, or counts the refusal.
  bool MayRecordRefusal(const std::string& caller, const std::string& reason,
                        absl::Time now);
  absl::Mutex refusals_mu_;
  absl::flat_hash_map<std::string, RefusalBudget> refusals_
      ABSL_GUARDED_BY(refusals_mu_);
  absl::Time last_summary_ ABSL_GUARDED_BY(refusals_mu_) = absl::InfinitePast();

  // The lock that orders reading `caller`'s queue against settling its
  // messages: Receive holds it shared from its queue read until its leases
  // are taken, an acknowledgement or refusal holds it exclusively from its
  // store write until the lease is gone. Without it a Receive could read a
  // page before an acknowledgement was stored, find the lease erased after,
  // and deliver the acknowledged message again.
  absl::Mutex& QueueLock(const std::string& caller);

  absl::Mutex mu_;
  // recipient -> its QueueLock (node_hash_map: a mutex never moves)
  absl::node_hash_map<std::string, absl::Mutex> queue_locks_
      ABSL_GUARDED_BY(mu_);
  // recipient -> message id -> lease
  absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, Lease>>
      leases_ ABSL_GUARDED_BY(mu_);
};

}  // namespace trm::mailbox

#endif  // TRM_SERVER_MAILBOX_MAILBOX_H_
