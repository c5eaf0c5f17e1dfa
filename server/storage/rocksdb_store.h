// MessageStore on RocksDB, with group commit.
//
// Column families (column_families.h; keys in store_keys.h and
// docs/architecture.md, "Storage"):
//   status    message_id (16 bytes)            -> trm.v1.StoredStatus
//   envelopes message_id (16 bytes)            -> envelope bytes
//   queues    QueueKey(queue, seq)             -> QueueValue(id, size)
//             (also outbound queues ">node" and notice queues "<node")
//   expiry    TimeKey(expires_unix_ms, id)     -> recipient queue
//   dead_letters message_id                    -> envelope bytes (expired)
//   acked     TimeKey(acknowledged_unix_ms, id) -> "" (retention)
//   cases     case_ref                         -> trm.v1.CaseRecord
//   deadlines DeadlineIndexKeys(record)        -> "" (open deadlines)
//
// Writes (Accept, Acknowledge) go through one committer thread. It takes
// every request waiting, checks each against the store and the rest of its
// group (GroupWrite, commit_group.h: one typed operation per kind of
// request), and writes the whole group as one WriteBatch with a synced WAL: one
// fsync for all of them. Nothing is acknowledged before that sync returns.
//
// Queues: sequence numbers are per recipient; each queue remembers the lowest
// sequence number that can still be live and starts its reads there, so acked
// entries (tombstones) in front of the head are never walked. Files with many
// deletions are compacted early (CompactOnDeletionCollector).
#ifndef TRM_SERVER_STORAGE_ROCKSDB_STORE_H_
#define TRM_SERVER_STORAGE_ROCKSDB_STORE_H_

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/db.h"
#include "rocksdb/file_system.h"
#include "server/storage/audit_log.h"
#include "server/storage/column_families.h"
#include "server/storage/commit_group.h"
#include "server/storage/message_store.h"

namespace trm::storage {

struct RocksStoreOptions {
  std::string path;
  // Most requests written in one group commit.
  size_t max_group = 1024;
  // A file system to run on; nullptr for the default. Crash tests pass one
  // that can drop unsynced data.
  std::shared_ptr<rocksdb::FileSystem> file_system;
  // Flush memtables when the store closes, so that the next open is fast.
  // Crash tests set false: the WAL is then the only record, as after a crash.
  bool flush_on_close = true;
  // The node whose log this is (AuditEvent.node).
  std::string node_id;
  // Keep the audit log (always, in a node; benchmarks turn it off to measure
  // its cost).
  bool audit = true;
  // The write-ahead log's bound: past it, the column families holding the
  // oldest log are flushed, so a restart replays at most about this much
  // (and needs about this much free space to do it).
  uint64_t max_wal_bytes = 64ull << 20;
};

// The on-disk format this binary reads and writes (the "store/format"
// record). A store without the record predates it and is format 1; format
// 1 is converted when opened (its audit tree stored every level), and
// format 2 is taken as it is (its audit index entries read the same).
inline constexpr int kStoreFormat = 3;

class RocksMessageStore final : public MessageStore {
 public:
  // Opens or creates the store and recovers queue positions and depths.
  static absl::StatusOr<std::unique_ptr<RocksMessageStore>> Open(
      const RocksStoreOptions& options);
  // Finishes queued writes, stops the committer and closes RocksDB.
  ~RocksMessageStore() override;

  absl::StatusOr<AcceptOutcome> Accept(const AcceptRequest& request) override;
  std::vector<absl::StatusOr<AcceptOutcome>> AcceptMany(
      const std::vector<AcceptRequest>& requests) override;
  absl::StatusOr<std::vector<QueuedMessage>> ReadQueue(
      const std::string& recipient_org, uint64_t from_seq, size_t max) override;
  std::vector<absl::Status> AcknowledgeAll(const std::string& recipient_org,
                                           const std::vector<AckRequest>& acks,
                                           int64_t now_unix_ms) override;
  absl::StatusOr<std::vector<PendingNotice>> ReadNotices(
      const std::string& node, size_t max) override;
  absl::Status RemoveNotices(const std::string& node,
                             const std::vector<uint64_t>& seqs) override;
  std::vector<absl::Status> RecordPath(
      const std::string& peer, const std::vector<v1::PathNotice>& notices,
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
  absl::Status ForEachCase(
      const std::function<absl::Status(const v1::CaseRecord&)>& visit) override;
  absl::Status RecordRejection(const v1::StoredStatus& rejection) override;
  absl::Status RejectQueued(const std::string& queue,
                            const std::string& message_id,
                            const absl::Status& refusal,
                            int64_t now_unix_ms) override;
  std::vector<absl::Status> MarkRelayed(
      const std::string& queue, const std::vector<RelayedMessage>& relayed,
      int64_t now_unix_ms) override;
  absl::StatusOr<uint64_t> QueueDepth(
      const std::string& recipient_org) override;
  absl::StatusOr<uint64_t> QueueBytes(
      const std::string& recipient_org) override;

  // Appends an event that records no state change of its own (a directory
  // change, an administrative action), durably.
  absl::Status AppendAudit(const v1::AuditEvent& event) override;
  absl::StatusOr<bool> PutContingency(const v1::SignedContingency& s,
                                      const v1::Contingency& c,
                                      const v1::AuditEvent& event) override;
  absl::StatusOr<std::vector<v1::SignedContingency>> Contingencies() override;
  absl::Status ReplaceDeadline(const std::string& case_ref,
                               const v1::Deadline& expected,
                               const v1::Deadline& replacement,
                               const v1::AuditEvent* event) override;
  // The audit log; null when turned off.
  AuditLog* audit() const { return audit_.get(); }

  // Synced group commits so far (one fsync each).
  uint64_t commits() const;
  // What the committed write batches held, by the kind of request that
  // wrote it: requests that wrote something, and their share of the
  // batches' RocksDB keys (puts and deletes, audit events and tree nodes
  // included) and bytes. For the keys and bytes written per message.
  enum class WriteKind { kAccept, kAcknowledge, kDelivered, kRelayed, kOther };
  static constexpr int kWriteKinds = 5;
  static const char* WriteKindName(WriteKind kind);
  struct WriteTally {
    uint64_t requests = 0;
    uint64_t keys = 0;
    uint64_t bytes = 0;
  };
  WriteTally written(WriteKind kind) const;
  // Where the committer's time went since the start, in nanoseconds:
  // building groups (reads, encoding, audit hashing, the write batch) and
  // writing them (RocksDB's WAL and memtables, and the sync).
  struct CommitTime {
    uint64_t build_ns = 0;
    uint64_t write_ns = 0;
  };
  CommitTime commit_time() const;
  // A RocksDB integer property summed over the column families (0 when
  // RocksDB does not know it).
  uint64_t IntProperty(const std::string& name) const;

  // A consistent copy of the whole store in `dir` (which must not exist):
  // a RocksDB checkpoint, hard links where the file system allows.
  absl::Status Checkpoint(const std::string& dir);
  // Copies the backup `from` into `to` (which must be missing or empty) and
  // opens it once, so its audit log is checked against its tree head.
  static absl::Status Restore(const std::string& from,
                              const RocksStoreOptions& to);

 private:
  struct Op;

  RocksMessageStore() = default;
  // Refuses a store of an unknown format or of another node; records both
  // on first open.
  absl::Status CheckFormat(const RocksStoreOptions& options);
  absl::Status Recover();
  // Up to `max` entries (seq, message id) of a queue from `from_seq` on.
  absl::StatusOr<std::vector<QueuedMessage>> ScanQueue(const std::string& queue,
                                                       uint64_t from_seq,
                                                       size_t max);
  absl::Status Submit(Op& op);
  // Queues all of `ops` at once (so they share a group) and waits for all.
  void SubmitAll(std::vector<Op>& ops);
  // Submits `requests` as one group and returns them answered.
  std::vector<Op> SubmitGroup(std::vector<StoreRequest> requests);
  static std::vector<absl::Status> Statuses(std::vector<Op>& ops);
  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CommitLoop();
  void CommitGroup(std::vector<Op*>& group);

  std::unique_ptr<rocksdb::Env> env_;  // set when a file system is given
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // owned
  ColumnFamilies cf_;                                  // the same, by name
  std::unique_ptr<AuditLog> audit_;
  size_t max_group_ = 1024;
  bool flush_on_close_ = true;
  std::string path_;  // the data directory

  // Requests waiting for the committer, and its lifecycle.
  mutable absl::Mutex mu_;
  std::vector<Op*> pending_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  // Queue positions, read by readers and changed by the committer.
  mutable absl::Mutex queues_mu_;
  absl::flat_hash_map<std::string, QueueState> queues_
      ABSL_GUARDED_BY(queues_mu_);

  std::atomic<uint64_t> commits_{0};
  std::atomic<uint64_t> build_ns_{0};
  std::atomic<uint64_t> write_ns_{0};
  struct AtomicTally {
    std::atomic<uint64_t> requests{0};
    std::atomic<uint64_t> keys{0};
    std::atomic<uint64_t> bytes{0};
  };
  std::array<AtomicTally, kWriteKinds> written_;
  // Set by the committer after a failed write; only the committer reads it.
  bool needs_resume_ = false;
  std::thread committer_;
};

}  // namespace trm::storage

#endif  // TRM_SERVER_STORAGE_ROCKSDB_STORE_H_
