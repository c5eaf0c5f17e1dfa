// MessageStore in memory, for unit tests of the layers above the store. Same
// contract as RocksMessageStore (the same tests run against both), plus a
// switch that makes writes fail as a full disk would.
#ifndef TRM_SERVER_STORAGE_MEMORY_STORE_H_
#define TRM_SERVER_STORAGE_MEMORY_STORE_H_

#include <map>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "server/storage/message_store.h"

namespace trm::storage {

class MemoryMessageStore final : public MessageStore {
 public:
  absl::StatusOr<AcceptOutcome> Accept(const AcceptRequest& request) override;
  std::vector<absl::StatusOr<AcceptOutcome>> AcceptMany(
      const std::vector<AcceptRequest>& requests) override;
  absl::StatusOr<std::vector<QueuedMessage>> ReadQueue(
      const std::string& recipient_org, uint64_t from_seq, size_t max) override;
  std::vector<absl::Status> AcknowledgeAll(const std::string& recipient_org,
                                           const std::vector<AckRequest>& acks,
                                           int64_t now_unix_ms) override;
  absl::Status MarkDeliveredMany(const std::vector<std::string>& ids,
                                 int64_t now_unix_ms) override;
  absl::Status MarkDelivered(const std::string& message_id,
                             int64_t now_unix_ms) override;
  absl::StatusOr<size_t> ExpireDue(int64_t now_unix_ms, size_t max) override;
  absl::StatusOr<size_t> PurgeAcknowledged(int64_t acknowledged_before_unix_ms,
                                           int64_t now_unix_ms,
                                           size_t max) override;
  absl::StatusOr<std::string> GetDeadLetter(
      const std::string& message_id) override;
  absl::StatusOr<v1::StoredStatus> GetStatus(
      const std::string& message_id) override;
  absl::StatusOr<v1::CaseRecord> GetCase(const std::string& case_ref) override;
  absl::StatusOr<std::vector<std::string>> DueCases(int64_t now_unix_ms,
                                                    size_t max) override;
  absl::StatusOr<std::vector<std::string>> OverdueCases(size_t max) override;
  absl::StatusOr<uint64_t> QueueDepth(
      const std::string& recipient_org) override;
  absl::StatusOr<uint64_t> QueueBytes(
      const std::string& recipient_org) override;

  absl::Status RecordRejection(const v1::StoredStatus& rejection) override;
  // Kept in memory, for tests to read (audit_events()).
  absl::Status AppendAudit(const v1::AuditEvent& event) override;
  std::vector<v1::AuditEvent> audit_events() const;
  absl::Status RejectQueued(const std::string& queue,
                            const std::string& message_id,
                            const absl::Status& refusal,
                            int64_t now_unix_ms) override;
  std::vector<absl::Status> MarkRelayed(
      const std::string& queue, const std::vector<RelayedMessage>& relayed,
      int64_t now_unix_ms) override;

  absl::StatusOr<std::vector<PendingNotice>> ReadNotices(
      const std::string& node, size_t max) override;
  absl::Status RemoveNotices(const std::string& node,
                             const std::vector<uint64_t>& seqs) override;
  std::vector<absl::Status> RecordPath(
      const std::string& peer, const std::vector<v1::PathNotice>& notices,
      int64_t now_unix_ms) override;

  // While set, every write fails with UNAVAILABLE and changes nothing.
  void FailWrites(bool fail);

 private:
  absl::Status AcknowledgeLocked(const std::string& recipient_org,
                                 const AckRequest& ack, int64_t now_unix_ms)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues a notice of `status` for its origin node, if a peer relayed it.
  void NotifyOriginLocked(const v1::StoredStatus& status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::vector<v1::AuditEvent> audit_ ABSL_GUARDED_BY(mu_);
  bool fail_writes_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t commits_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, v1::StoredStatus> status_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::string> envelopes_ ABSL_GUARDED_BY(mu_);
  // recipient -> seq -> message id
  absl::flat_hash_map<std::string, std::map<uint64_t, std::string>> queues_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, uint64_t> next_seq_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, uint64_t> queued_bytes_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::string> dead_letters_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, v1::CaseRecord> cases_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> deadline_index_ ABSL_GUARDED_BY(mu_);
};

}  // namespace trm::storage

#endif  // TRM_SERVER_STORAGE_MEMORY_STORE_H_
