// The node's durable store: per-recipient queues of accepted envelopes, the
// per-message status that doubles as the deduplication record, and the
// envelopes themselves.
//
// Contract (both implementations):
// - Accept and Acknowledge return only after their effect is durable (the
//   RocksDB store syncs its WAL; concurrent calls share one sync).
// - Accept deduplicates by message id: the same id with the same envelope
//   hash returns the original record with `duplicate` set; the same id with a
//   different hash fails with ALREADY_EXISTS. Nothing is written then.
// - A failed write fails the call with UNAVAILABLE and leaves no partial
//   state; reads keep working.
// - All methods are thread-safe.
//
//   ASSIGN_OR_RETURN(AcceptOutcome out, store.Accept(request));
//   ASSIGN_OR_RETURN(std::vector<QueuedMessage> batch,
//                    store.ReadQueue("ng-naptip", 0, 64));
//   RETURN_IF_ERROR(store.Acknowledge("ng-naptip", batch[0].message_id, now));
#ifndef TRM_SERVER_STORAGE_MESSAGE_STORE_H_
#define TRM_SERVER_STORAGE_MESSAGE_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/cases/case_policy.h"
#include "trm/v1/audit.pb.h"
#include "trm/v1/federation.pb.h"
#include "trm/v1/receipt.pb.h"
#include "trm/v1/store.pb.h"

namespace trm::storage {

struct AcceptRequest {
  std::string message_id;  // 16 bytes
  std::string sender_org;
  std::string recipient_org;
  std::string envelope;         // the envelope bytes as submitted
  std::string envelope_sha256;  // 32 bytes
  int64_t expires_unix_ms = 0;
  int64_t now_unix_ms = 0;
  // The queue to put it in; empty: the recipient's mailbox. A message for
  // another node waits in that node's outbound queue, OutboundQueue(node).
  std::string queue;
  // A message a peer relayed: that node. Its delivery, acknowledgement and
  // expiry here are then queued as notices for it (NoticeQueue).
  std::string origin_node;
  // From the header, for the audit log.
  std::string case_ref;
  v1::MessageType message_type = v1::MESSAGE_TYPE_UNSPECIFIED;
  // With case rules on: the header and the policy. The store applies the
  // rules to the case record as it is in the same write (so concurrent
  // messages of one case are judged one after the other), refuses with the
  // rule's FAILED_PRECONDITION, or stores the new record with the message.
  // (no `policy`: case rules off.)
  v1::Header header;
  std::optional<cases::CasePolicy> policy;
};

// The outbound queue of messages for node `node`: ">" + node (organisation
// ids cannot start with '>').
std::string OutboundQueue(absl::string_view node);
// The queue of path notices for node `node` ("<" + node): messages it relayed
// here whose delivery, acknowledgement or expiry it has not been told of.
std::string NoticeQueue(absl::string_view node);
// The queue a message waits in.
const std::string& QueueOf(const AcceptRequest& request);
const std::string& QueueOf(const v1::StoredStatus& status);

// A relayed message and the receipt of the node that stored it.
struct RelayedMessage {
  std::string message_id;
  std::string node;     // the recipient's node, which signed the receipt
  std::string receipt;  // serialized trm.v1.Receipt
};

// One acknowledgement: the message and, when the recipient signed it, its
// serialized trm.v1.SignedAcknowledgement (checked by the caller). Or, with
// `refusal` set, the recipient's serialized trm.v1.SignedRefusal (checked by
// the caller): the message leaves the queue as REFUSED.
struct AckRequest {
  std::string message_id;
  std::string acknowledgement;
  std::string refusal;
};

// A notice waiting in a notice queue: its position and the message's status
// now (the notice tells the origin node the status as it is when sent).
struct PendingNotice {
  uint64_t seq = 0;
  v1::StoredStatus status;
};

struct AcceptOutcome {
  v1::StoredStatus status;
  bool duplicate = false;
  // Identifies the durable write (group commit) that stored it; requests
  // that share a commit share one fsync. 0 for duplicates.
  uint64_t commit_id = 0;
};

struct QueuedMessage {
  uint64_t seq = 0;
  std::string message_id;
  std::string envelope;
};

// The status record of a message just accepted at queue position `seq`.
v1::StoredStatus NewStatusRecord(const AcceptRequest& request, uint64_t seq);
// The receipt leaf (docs/protocol.md section 12) of `kind` for a request the
// store accepted on `node`: a resubmission gets its first acceptance time.
v1::ReceiptLeaf AcceptanceLeaf(v1::ReceiptKind kind,
                               const AcceptRequest& request,
                               const AcceptOutcome& outcome,
                               const std::string& node);
// The refusal of Acknowledge for a message that is no longer (EXPIRED,
// REFUSED) or never was (REJECTED) in a queue.
absl::Status NotAcknowledgeable(const v1::StoredStatus& status);
// Whether `ack` may take the message of `status` out of its queue: OK, or
// its refusal. `*repeat` is set when it was done before (acknowledging an
// acknowledged message, refusing a refused one): OK, and nothing to do.
// Refusing an acknowledged message is OK (docs/protocol.md section 15.3).
absl::Status CheckAcknowledgeable(const v1::StoredStatus& status,
                                  const AckRequest& ack, bool* repeat);
// Whether `ack` refuses a message its recipient acknowledged before: it left
// the queue then, so only its status changes.
bool RefusesAfterAcknowledgement(const v1::StoredStatus& status,
                                 const AckRequest& ack);
// State REFUSED at `now_unix_ms` with the recipient's signed refusal (its
// reason as reason_code "REFUSED_<REASON>", its text as reason).
void MarkRefused(v1::StoredStatus& status, const std::string& refusal,
                 int64_t now_unix_ms);
// Turns a queued message's record into a dead letter's, at `now_unix_ms`.
void MarkExpired(v1::StoredStatus& status, int64_t now_unix_ms);
// On the origin node of a relayed message: merges what `peer` (the node the
// message was relayed to) reports of it. Steps only move forward (delivered,
// then acknowledged or expired), so a repeated or stale notice changes
// nothing. Returns whether `status` changed; NOT_FOUND when the message was
// not relayed to `peer`. The caller has checked the notice's evidence.
absl::StatusOr<bool> MergePathNotice(v1::StoredStatus& status,
                                     const std::string& peer,
                                     const v1::PathNotice& notice);
// A path notice for the status of a message relayed here (evidence not yet
// signed: the sending dispatcher adds the receipts).
v1::PathNotice NoticeOf(const v1::StoredStatus& status);
// State REJECTED with the refusal's reason, code, message and time.
void MarkRejected(v1::StoredStatus& status, const absl::Status& refusal,
                  int64_t now_unix_ms);

// The deadline index entries of a case record: "p" || u64be(due) ||
// case_ref || 0x00 || kind for a deadline not yet passed, "o" || case_ref ||
// 0x00 || kind for one passed and escalated. A store replaces a record's
// entries in the write that replaces the record.
std::vector<std::string> DeadlineIndexKeys(const v1::CaseRecord& record);
// The case reference of an index entry (empty when it is not one).
std::string CaseOfDeadlineKey(absl::string_view key);
// The upper bound of pending entries due at or before `now_unix_ms`.
std::string DueBound(int64_t now_unix_ms);
// DEADLINE_MISSED audit events for the deadlines `after` escalates.
std::vector<v1::AuditEvent> DeadlineEvents(const v1::CaseRecord& before,
                                           const v1::CaseRecord& after,
                                           int64_t now_unix_ms);

class MessageStore {
 public:
  virtual ~MessageStore() = default;

  virtual absl::StatusOr<AcceptOutcome> Accept(
      const AcceptRequest& request) = 0;
  // Accept for each request, sharing one durable write; one result each.
  virtual std::vector<absl::StatusOr<AcceptOutcome>> AcceptMany(
      const std::vector<AcceptRequest>& requests) = 0;

  // Up to `max` queued (unacknowledged) messages of `recipient_org` with
  // seq >= `from_seq`, in queue order.
  virtual absl::StatusOr<std::vector<QueuedMessage>> ReadQueue(
      const std::string& recipient_org, uint64_t from_seq, size_t max) = 0;

  // Removes each message from `recipient_org`'s queue and records the
  // acknowledgement (with the signed one, when given), sharing one durable
  // write; one status per message. NOT_FOUND when a message is not
  // addressed to `recipient_org`; acknowledging twice is OK. A message a
  // peer relayed here gets a notice queued for its origin node in the same
  // write.
  virtual std::vector<absl::Status> AcknowledgeAll(
      const std::string& recipient_org, const std::vector<AckRequest>& acks,
      int64_t now_unix_ms) = 0;
  // AcknowledgeAll without signed acknowledgements.
  absl::Status Acknowledge(const std::string& recipient_org,
                           const std::string& message_id, int64_t now_unix_ms);
  std::vector<absl::Status> AcknowledgeMany(const std::string& recipient_org,
                                            const std::vector<std::string>& ids,
                                            int64_t now_unix_ms);

  // Records the first delivery of a message to its recipient (state
  // ACCEPTED -> DELIVERED); later states are left alone. A relayed
  // message's first delivery (and its expiry, in ExpireDue) queues a notice
  // for its origin node in the same write.
  // MarkDelivered for each id, sharing one durable write.
  virtual absl::Status MarkDeliveredMany(const std::vector<std::string>& ids,
                                         int64_t now_unix_ms) = 0;
  virtual absl::Status MarkDelivered(const std::string& message_id,
                                     int64_t now_unix_ms) = 0;

  // Moves up to `max` queued messages whose expiry is at or before `now`
  // out of their queues into dead-letter records (status EXPIRED, with the
  // reason). Returns how many.
  virtual absl::StatusOr<size_t> ExpireDue(int64_t now_unix_ms, size_t max) = 0;
  // Deletes the envelopes of up to `max` messages acknowledged (or refused)
  // at or before `acknowledged_before_unix_ms`; their status records stay
  // (metadata only) with purged_unix_ms set. Returns how many.
  virtual absl::StatusOr<size_t> PurgeAcknowledged(
      int64_t acknowledged_before_unix_ms, int64_t now_unix_ms, size_t max) = 0;

  // The envelope of an expired message.
  virtual absl::StatusOr<std::string> GetDeadLetter(
      const std::string& message_id) = 0;

  virtual absl::StatusOr<v1::StoredStatus> GetStatus(
      const std::string& message_id) = 0;
  // The case record of `case_ref` (empty when the case is not known here).
  virtual absl::StatusOr<v1::CaseRecord> GetCase(
      const std::string& case_ref) = 0;
  // Up to `max` case references with a deadline due at or before
  // `now_unix_ms` that has not been escalated, soonest first.
  virtual absl::StatusOr<std::vector<std::string>> DueCases(int64_t now_unix_ms,
                                                            size_t max) = 0;
  // Up to `max` case references with an escalated deadline still open.
  virtual absl::StatusOr<std::vector<std::string>> OverdueCases(size_t max) = 0;
  // Calls `visit` with every case record, in case reference order, one at a
  // time (the records are not all held at once); stops at the first error
  // `visit` returns and returns it.
  virtual absl::Status ForEachCase(
      const std::function<absl::Status(const v1::CaseRecord&)>& visit) = 0;

  // Takes relayed messages out of outbound queue `queue` (state RELAYED,
  // with the receipt), sharing one durable write; one status per message.
  // Relaying twice is OK; NOT_FOUND when the message is not in `queue`.
  virtual std::vector<absl::Status> MarkRelayed(
      const std::string& queue, const std::vector<RelayedMessage>& relayed,
      int64_t now_unix_ms) = 0;

  // Takes a message out of `queue` into the dead letters, state REJECTED
  // with `refusal`'s reason token, code and message (for a message a peer
  // node refused for good). NOT_FOUND when it is not in `queue`.
  virtual absl::Status RejectQueued(const std::string& queue,
                                    const std::string& message_id,
                                    const absl::Status& refusal,
                                    int64_t now_unix_ms) = 0;

  // Records that a submission was refused: `rejection` is a status record in
  // state REJECTED (no envelope, nothing queued). Written only when the
  // message id has no record or only an earlier rejection, so a refusal can
  // never overwrite an accepted message; an accepted submission of the same
  // id later replaces it.
  virtual absl::Status RecordRejection(const v1::StoredStatus& rejection) = 0;

  // Appends an event of the node's own to the audit log (durably), or does
  // nothing when the store keeps no log.
  virtual absl::Status AppendAudit(const v1::AuditEvent& event) = 0;

  // Replaces the deadline of `expected`'s kind in the record of `case_ref`
  // with `replacement`, re-indexed, and logs `event` (when not null) in the
  // same write. ABORTED (DEADLINE_CHANGED) when the record's deadline is no
  // longer `expected`: it was met, escalated or changed meanwhile.
  // Keeps a contingency declaration `s` (already verified; `c` is its
  // content) and logs `event` in the same write, when it is new or ends a
  // known one; returns whether it did (a repeat writes nothing).
  virtual absl::StatusOr<bool> PutContingency(const v1::SignedContingency& s,
                                              const v1::Contingency& c,
                                              const v1::AuditEvent& event) = 0;
  // Every contingency kept, in id order.
  virtual absl::StatusOr<std::vector<v1::SignedContingency>>
  Contingencies() = 0;

  virtual absl::Status ReplaceDeadline(const std::string& case_ref,
                                       const v1::Deadline& expected,
                                       const v1::Deadline& replacement,
                                       const v1::AuditEvent* event) = 0;

  // Up to `max` notices waiting in NoticeQueue(`node`), oldest first.
  virtual absl::StatusOr<std::vector<PendingNotice>> ReadNotices(
      const std::string& node, size_t max) = 0;
  // Takes notices the node has recorded out of its notice queue.
  virtual absl::Status RemoveNotices(const std::string& node,
                                     const std::vector<uint64_t>& seqs) = 0;
  // On the origin node: records what `peer` reports of messages relayed to
  // it (MergePathNotice), sharing one durable write; one status each.
  virtual std::vector<absl::Status> RecordPath(
      const std::string& peer, const std::vector<v1::PathNotice>& notices,
      int64_t now_unix_ms) = 0;

  // Number of queued (unacknowledged) messages for `recipient_org`.
  virtual absl::StatusOr<uint64_t> QueueDepth(
      const std::string& recipient_org) = 0;
  // Envelope bytes queued (unacknowledged) for `recipient_org`.
  virtual absl::StatusOr<uint64_t> QueueBytes(
      const std::string& recipient_org) = 0;
};

}  // namespace trm::storage

#endif  // TRM_SERVER_STORAGE_MESSAGE_STORE_H_
