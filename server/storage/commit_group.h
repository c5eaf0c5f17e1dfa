// One group commit of the RocksDB store, built request by request: the typed
// requests the committer takes, and GroupWrite, which checks each against
// the store and the requests before it in the group and adds its writes
// (status record, envelope, queue and index entries, case record, audit
// events) to one WriteBatch.
//
// Requests in a group see each other: a status record, queue position or
// case record changed by an earlier request is what a later one reads. A
// refused request writes nothing; a request that finds nothing to do (a
// repeat) writes nothing and succeeds.
//
//   GroupWrite group(db, families, audit, current_queue);
//   group.Prefetch(requests);
//   for (...) if (group.Add(request, result)) writers.push_back(...);
//   db->Write(sync, &group.batch());  // then publish group.queues_after()
//
// Thread safety: none; the store's single committer owns a GroupWrite.
#ifndef TRM_SERVER_STORAGE_COMMIT_GROUP_H_
#define TRM_SERVER_STORAGE_COMMIT_GROUP_H_

#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "rocksdb/db.h"
#include "server/storage/audit_log.h"
#include "server/storage/column_families.h"
#include "server/storage/message_store.h"

namespace trm::storage {

// A queue's positions, as the store keeps them in memory.
struct QueueState {
  uint64_t next_seq = 1;  // next sequence number to hand out
  uint64_t head_seq = 1;  // no live entry below this
  uint64_t depth = 0;     // live entries
  uint64_t bytes = 0;     // envelope bytes of live entries
};

// The requests. Pointers are the caller's, alive until it is answered.
struct AcceptOp {  // a new message into its queue
  const AcceptRequest* request;
};
struct AcknowledgeOp {  // the recipient acknowledges or refuses
  const std::string* queue;
  const AckRequest* ack;
  int64_t now_unix_ms;
};
struct RelayedOp {  // a peer node stored a message of an outbound queue
  const std::string* queue;
  const RelayedMessage* relayed;
  int64_t now_unix_ms;
};
struct RejectQueuedOp {  // a peer node refused a message for good
  const std::string* queue;
  const std::string* message_id;
  const absl::Status* refusal;
  int64_t now_unix_ms;
};
struct DeliveredOp {  // first delivery to the recipient
  const std::string* message_id;
  int64_t now_unix_ms;
};
struct ExpireOp {  // queued messages past their expiry become dead letters
  int64_t now_unix_ms;
  size_t max;
};
struct PurgeOp {  // retention: envelopes of acknowledged messages go
  int64_t before_unix_ms;
  int64_t now_unix_ms;
  size_t max;
};
struct RejectionOp {  // a refused submission's record
  const v1::StoredStatus* rejection;
};
struct PathOp {  // a peer's notice about a message relayed to it
  const std::string* peer;
  const v1::PathNotice* notice;
  int64_t now_unix_ms;
};
struct NoticesDoneOp {  // notices the origin node has recorded
  const std::string* queue;
  const std::vector<uint64_t>* seqs;
};
struct AuditOp {  // an audit event of its own
  const v1::AuditEvent* event;
};
struct DeadlineOp {  // one deadline of a case record replaced
  const std::string* case_ref;
  const v1::Deadline* expected;
  const v1::Deadline* replacement;
  const v1::AuditEvent* event;  // may be null
};
struct ContingencyOp {  // a contingency declared or ended (checked)
  const v1::SignedContingency* signed_contingency;
  const v1::Contingency* contingency;
  const v1::AuditEvent* event;
};
using StoreRequest =
    std::variant<AcceptOp, AcknowledgeOp, RelayedOp, RejectQueuedOp,
                 DeliveredOp, ExpireOp, PurgeOp, RejectionOp, PathOp,
                 NoticesDoneOp, AuditOp, DeadlineOp, ContingencyOp>;

// The answer to one request.
struct StoreResult {
  absl::Status status;
  AcceptOutcome outcome;  // AcceptOp
  size_t count = 0;       // ExpireOp, PurgeOp: messages handled;
                          // ContingencyOp: 1 when it was new
};

// The message whose status record a request reads first (null: none).
const std::string* MessageIdOf(const StoreRequest& request);

class GroupWrite {
 public:
  // `audit` may be null (no audit log). `current_queue` returns a queue's
  // positions as the store has them before this group.
  GroupWrite(rocksdb::DB* db, const ColumnFamilies& families, AuditLog* audit,
             std::function<QueueState(const std::string&)> current_queue);

  // Reads the status records `requests` will look at in one batched lookup
  // (a drain acknowledges hundreds at once).
  void Prefetch(const std::vector<const StoreRequest*>& requests);

  // Checks `request` and adds its writes to the batch. Returns true when it
  // is part of the commit (it succeeds once the batch is durable); false
  // when it wrote nothing, `result.status` then saying whether it was
  // refused.
  bool Add(const StoreRequest& request, StoreResult& result);

  rocksdb::WriteBatch& batch() { return batch_; }
  // Every queue the group touched, as the group leaves it.
  const absl::flat_hash_map<std::string, QueueState>& queues_after() const {
    return queue_after_;
  }

 private:
  bool Apply(const AcceptOp& op, StoreResult& result);
  bool Apply(const AcknowledgeOp& op, StoreResult& result);
  bool Apply(const RelayedOp& op, StoreResult& result);
  bool Apply(const RejectQueuedOp& op, StoreResult& result);
  bool Apply(const DeliveredOp& op, StoreResult& result);
  bool Apply(const ExpireOp& op, StoreResult& result);
  bool Apply(const PurgeOp& op, StoreResult& result);
  bool Apply(const RejectionOp& op, StoreResult& result);
  bool Apply(const PathOp& op, StoreResult& result);
  bool Apply(const NoticesDoneOp& op, StoreResult& result);
  bool Apply(const AuditOp& op, StoreResult& result);
  bool Apply(const DeadlineOp& op, StoreResult& result);
  bool Apply(const ContingencyOp& op, StoreResult& result);

  // Takes the entries of time index `index` (expiry or acknowledged) up to
  // `upto_unix_ms`, while result.count < max: each is deleted and `visit`ed
  // with its message's status record (`found` false when there is none).
  // False, with result.status set, when the index or a record could not be
  // read.
  bool ScanTimeIndex(
      rocksdb::ColumnFamilyHandle* index, int64_t upto_unix_ms,
      absl::string_view what, StoreResult& result, size_t max,
      const std::function<void(const std::string& id, v1::StoredStatus& st,
                               bool found)>& visit);
  // The status record of `id` as this group leaves it: true when found;
  // false with `*error` OK when unknown, or set when it could not be read.
  bool Lookup(const std::string& id, v1::StoredStatus* out,
              absl::Status* error);
  // Stores `status` (the record of its message) in the batch and for later
  // requests of the group.
  void PutStatus(v1::StoredStatus status);
  QueueState& Queue(const std::string& queue);
  absl::Status CaseRecord(const std::string& case_ref, v1::CaseRecord* out);
  void Log(v1::AuditEvent event);
  // An event of the message of `st`, made from it by EventOf: indexed in the
  // message's group, which `st` keeps (server/storage/audit_index.h). Call
  // it before PutStatus(st).
  void Log(v1::AuditEvent event, v1::StoredStatus& st);
  // A relayed message's step: a notice for the node it came from.
  void NotifyOrigin(const v1::StoredStatus& status);
  // Takes the message of `existing` out of `queue`'s live entries.
  void RemoveFromQueue(const std::string& queue,
                       const v1::StoredStatus& existing);
  // RemoveFromQueue, and the message no longer expires.
  void Dequeue(const std::string& queue, const v1::StoredStatus& existing);
  // Retention purges the message's envelope and status later (PurgeOp).
  void RetainUntilPurged(const std::string& id, int64_t now_unix_ms);
  // Moves a message's envelope to the dead letters, when it is still there.
  void DeadLetter(const std::string& id);
  // The message of `id`, queued in `queue`: found, or the refusal that says
  // it is not.
  absl::Status FindQueued(const std::string& queue, const std::string& id,
                          v1::StoredStatus* existing);

  rocksdb::DB* const db_;
  const ColumnFamilies cf_;
  AuditLog* const audit_;
  const std::function<QueueState(const std::string&)> current_queue_;

  rocksdb::WriteBatch batch_;
  // Status records, queues and case records as this group leaves them.
  absl::flat_hash_map<std::string, v1::StoredStatus> touched_;
  absl::flat_hash_map<std::string, QueueState> queue_after_;
  absl::flat_hash_map<std::string, v1::CaseRecord> cases_after_;
  absl::flat_hash_map<std::string, std::string> contingencies_after_;
  // Status records read by Prefetch: the read's status and the value.
  absl::flat_hash_map<std::string, std::pair<rocksdb::Status, std::string>>
      prefetched_;
};

}  // namespace trm::storage

#endif  // TRM_SERVER_STORAGE_COMMIT_GROUP_H_
