// The node's audit log (docs/protocol.md section 16): an append-only RFC 9162
// Merkle log of AuditEvents in the node's RocksDB, written in the same
// WriteBatch as the state change each event records, so that the log and
// the state cannot disagree after a crash.
//
// Storage (column families):
//   audit       u64be(index)                    -> serialized AuditEvent
//   audit_tree  u8 level || u64be(i)            -> 32-byte hash of the perfect
//               subtree of 2^level leaves starting at leaf i * 2^level, for
//               levels above 4; at level 4 (a chunk of 16 leaves) that
//               hash followed by the chunk's 16 leaf hashes (544 bytes)
//   audit_index the trail queries' indexes (server/storage/audit_index.h)
//   default     "audit/sth"                     -> the newest SignedTreeHead
// An append writes the event and the stored subtrees it completes (one per
// 8 events on average), from the right edge kept in memory: about one key
// per event. The leaf hashes of the last, incomplete chunk are kept in
// memory only, and computed from the events when the log is opened. Roots
// and proofs read O(log n) stored subtrees; a subtree below level 4 is
// computed from its chunk's leaf hashes.
//
// Thread safety: Begin/Commit/Abort from one writer (the store's committer);
// everything else from any thread. Readers see an append only after Commit,
// which the committer calls once the batch is durable.
#ifndef TRM_SERVER_STORAGE_AUDIT_LOG_H_
#define TRM_SERVER_STORAGE_AUDIT_LOG_H_

#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/merkle/merkle.h"
#include "rocksdb/db.h"
#include "trm/v1/audit.pb.h"

namespace trm::storage {

struct AuditTree {
  uint64_t size = 0;
  merkle::MerkleHash root{};
};

struct AuditEntry {
  uint64_t index = 0;
  std::string event;  // serialized AuditEvent
};

struct AuditPage {
  std::vector<AuditEntry> entries;
  bool more = false;
  uint64_t next = 0;  // where to continue
};

class AuditLog {
 public:
  AuditLog(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* events,
           rocksdb::ColumnFamilyHandle* tree,
           rocksdb::ColumnFamilyHandle* index, std::string node_id);

  // Loads the size and the right edge, and checks the stored tree against
  // the newest signed tree head: DATA_LOSS (AUDIT_LOG_TRUNCATED,
  // AUDIT_LOG_INCONSISTENT, AUDIT_LOG_CORRUPT) naming what is wrong.
  absl::Status Recover();

  // The writer's side. Begin() starts a group; Add() appends an event to the
  // batch; after the batch is written, Commit() publishes it, or Abort()
  // forgets it.
  void Begin();
  // `group`, when given, is the message group the event's status record
  // keeps for its index entries (PutAuditIndexEntries); Add updates it on
  // the message's first event.
  void Add(v1::AuditEvent event, rocksdb::WriteBatch& batch,
           uint64_t* group = nullptr);
  void Commit();
  void Abort();

  AuditTree Current() const ABSL_LOCKS_EXCLUDED(mu_);
  // MTH of the first `size` leaves (size <= Current().size).
  absl::StatusOr<merkle::MerkleHash> RootAt(uint64_t size) const;
  absl::StatusOr<std::vector<merkle::MerkleHash>> InclusionProof(
      uint64_t index, uint64_t tree_size) const;
  absl::StatusOr<std::vector<merkle::MerkleHash>> ConsistencyProof(
      uint64_t first, uint64_t second) const;
  // Entries [start, end) of the committed log, each checked against its
  // leaf hash (DATA_LOSS AUDIT_ENTRY_CORRUPT naming the index).
  absl::StatusOr<std::vector<AuditEntry>> Entries(uint64_t start,
                                                  uint64_t end) const;
  // Events matching every filter of `query` among the first `limit`
  // entries, oldest first, at most page_size (default 100, at most 1000).
  absl::StatusOr<AuditPage> Query(const v1::TrailQuery& query,
                                  uint64_t limit) const;

  // The newest signed tree head, durably; and the one stored.
  absl::Status StoreTreeHead(const v1::SignedTreeHead& sth);
  absl::StatusOr<std::optional<v1::SignedTreeHead>> LatestTreeHead() const;

  // The newest tree head of `peer`'s log this node has checked
  // (cross-witnessing), durably.
  absl::Status StorePeerHead(const std::string& peer,
                             const v1::SignedTreeHead& sth);
  absl::StatusOr<std::optional<v1::SignedTreeHead>> PeerHead(
      const std::string& peer) const;

  // Rehashes every leaf and every stored subtree: OK, or DATA_LOSS naming
  // the first index or subtree that does not match.
  absl::Status VerifyAll() const;

 private:
  absl::StatusOr<merkle::MerkleHash> Node(int level, uint64_t i) const;
  // The 16 leaf hashes of a stored chunk, checked against its hash if
  // `check`; or the committed leaves of the incomplete chunk at the end.
  absl::StatusOr<std::vector<merkle::MerkleHash>> ChunkLeaves(uint64_t chunk,
                                                              bool check) const
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<merkle::MerkleHash> RangeHash(uint64_t start,
                                               uint64_t size) const;

  rocksdb::DB* const db_;
  rocksdb::ColumnFamilyHandle* const events_;
  rocksdb::ColumnFamilyHandle* const tree_;
  rocksdb::ColumnFamilyHandle* const index_;
  const std::string node_id_;

  // The writer's working state: size and the roots of the perfect subtrees
  // on the right edge (level -> hash, one per set bit of the size).
  uint64_t pending_size_ = 0;
  std::map<int, merkle::MerkleHash> pending_edge_;
  std::vector<merkle::MerkleHash> pending_tail_;  // leaves of the last chunk

  mutable absl::Mutex mu_;
  uint64_t size_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<int, merkle::MerkleHash> edge_ ABSL_GUARDED_BY(mu_);
  std::vector<merkle::MerkleHash> tail_ ABSL_GUARDED_BY(mu_);
};

// Store format 1 kept every leaf hash and every subtree of the audit tree.
// Rewrites it as format 2 does: each complete chunk's record gets its leaf
// hashes (written at once), and the removal of levels 0 to 3 is added to
// `last`, which the caller writes, with the new format record, in one
// synced write. A conversion cut short is done again from the start.
// Returns the number of leaf hashes found (0: nothing to convert).
absl::StatusOr<uint64_t> ConvertAuditTreeFromFormat1(
    rocksdb::DB* db, rocksdb::ColumnFamilyHandle* tree,
    rocksdb::WriteBatch& last);

// The root of a tree from its right edge (level -> perfect subtree root).
merkle::MerkleHash RootFromEdge(const std::map<int, merkle::MerkleHash>& edge);

}  // namespace trm::storage

#endif  // TRM_SERVER_STORAGE_AUDIT_LOG_H_
