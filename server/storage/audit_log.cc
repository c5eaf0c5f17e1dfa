#include "server/storage/audit_log.h"

#include <algorithm>
#include <bit>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/bytes.h"
#include "common/status.h"
#include "common/time_text.h"
#include "server/storage/audit_index.h"
#include "server/storage/store_keys.h"

namespace trm::storage {
namespace {

constexpr char kTreeHeadKey[] = "audit/sth";
constexpr uint64_t kMaxScan = 200'000;  // entries one query call may walk
constexpr int kChunkLevel = 4;          // the lowest stored level
constexpr uint64_t kChunk = uint64_t{1} << kChunkLevel;
constexpr size_t kHash = 32;
constexpr size_t kChunkRecord = kHash * (1 + kChunk);  // root, then leaves

std::string EventKey(uint64_t index) {
  std::string k;
  PutU64BE(k, index);
  return k;
}

std::string NodeKey(int level, uint64_t i) {
  std::string k(1, static_cast<char>(level));
  PutU64BE(k, i);
  return k;
}

absl::Status Unavailable(absl::string_view what, const rocksdb::Status& s) {
  return Error(absl::StatusCode::kUnavailable, "STORE_UNAVAILABLE",
               absl::StrCat(what, ": ", s.ToString()));
}

absl::Status Corrupt(absl::string_view reason, absl::string_view what) {
  return Error(absl::StatusCode::kDataLoss, reason,
               absl::StrCat(what,
                            ". The audit log was altered or damaged; the "
                            "node will not serve from it. Restore the data "
                            "directory from a backup and tell the "
                            "federation's auditors"));
}

absl::Status MissingSubtree(int level, uint64_t i) {
  return Corrupt("AUDIT_LOG_CORRUPT",
                 absl::StrCat("the audit tree's subtree at level ", level,
                              " index ", i, " (leaves ", i << level, " to ",
                              ((i + 1) << level) - 1, ") is missing"));
}

bool Matches(const v1::AuditEvent& e, const v1::TrailQuery& q) {
  if (!q.case_ref().empty() && e.case_ref() != q.case_ref()) return false;
  if (!q.message_id().empty() && e.message_id() != q.message_id()) {
    return false;
  }
  if (!q.organisation().empty() && e.sender_org() != q.organisation() &&
      e.recipient_org() != q.organisation()) {
    return false;
  }
  if (!q.node().empty() && e.peer_node() != q.node()) return false;
  if (q.kind() != v1::AUDIT_EVENT_KIND_UNSPECIFIED && e.kind() != q.kind()) {
    return false;
  }
  if (q.from_unix_ms() != 0 && e.time_unix_ms() < q.from_unix_ms()) {
    return false;
  }
  if (q.to_unix_ms() != 0 && e.time_unix_ms() >= q.to_unix_ms()) return false;
  return true;
}

}  // namespace

merkle::MerkleHash RootFromEdge(const std::map<int, merkle::MerkleHash>& edge) {
  if (edge.empty()) return crypto::Sha256({});
  // The lowest level is the rightmost subtree; higher levels are left of it.
  auto it = edge.begin();
  merkle::MerkleHash root = it->second;
  for (++it; it != edge.end(); ++it) root = merkle::NodeHash(it->second, root);
  return root;
}

AuditLog::AuditLog(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* events,
                   rocksdb::ColumnFamilyHandle* tree,
                   rocksdb::ColumnFamilyHandle* index, std::string node_id)
    : db_(db),
      events_(events),
      tree_(tree),
      index_(index),
      node_id_(std::move(node_id)) {}

absl::StatusOr<merkle::MerkleHash> AuditLog::Node(int level, uint64_t i) const {
  if (level < kChunkLevel) {
    // (Unchecked: a proof or root from a changed record does not verify.)
    ASSIGN_OR_RETURN(std::vector<merkle::MerkleHash> leaves,
                     ChunkLeaves((i << level) >> kChunkLevel, false));
    const uint64_t first = (i << level) % kChunk;
    const uint64_t n = uint64_t{1} << level;
    if (first + n > leaves.size()) return MissingSubtree(level, i);
    return merkle::RootOf(
        std::span<const merkle::MerkleHash>(leaves).subspan(first, n));
  }
  std::string v;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), tree_, NodeKey(level, i), &v);
  const size_t want = level == kChunkLevel ? kChunkRecord : kHash;
  if (s.IsNotFound() || (s.ok() && v.size() != want)) {
    return MissingSubtree(level, i);
  }
  if (!s.ok()) return Unavailable("cannot read the audit tree", s);
  merkle::MerkleHash h;
  std::copy(v.begin(), v.begin() + kHash, h.begin());
  return h;
}

absl::StatusOr<std::vector<merkle::MerkleHash>> AuditLog::ChunkLeaves(
    uint64_t chunk, bool check) const {
  {
    absl::MutexLock lock(&mu_);
    if (chunk == size_ >> kChunkLevel) return tail_;
  }
  std::string v;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), tree_, NodeKey(kChunkLevel, chunk), &v);
  if (s.IsNotFound() || (s.ok() && v.size() != kChunkRecord)) {
    return MissingSubtree(kChunkLevel, chunk);
  }
  if (!s.ok()) return Unavailable("cannot read the audit tree", s);
  std::vector<merkle::MerkleHash> leaves(kChunk);
  for (uint64_t k = 0; k < kChunk; ++k) {
    std::copy(v.begin() + kHash * (1 + k), v.begin() + kHash * (2 + k),
              leaves[k].begin());
  }
  if (check && !SameBytes(AsBytes(absl::string_view(v.data(), kHash)),
                          merkle::RootOf(leaves))) {
    return Corrupt(
        "AUDIT_LOG_CORRUPT",
        absl::StrCat("the audit tree's record of entries ", chunk * kChunk,
                     " to ", chunk * kChunk + kChunk - 1,
                     " does not match its own leaf hashes"));
  }
  return leaves;
}

absl::StatusOr<merkle::MerkleHash> AuditLog::RangeHash(uint64_t start,
                                                       uint64_t size) const {
  if (size == 0) return crypto::Sha256({});
  if ((size & (size - 1)) == 0 && start % size == 0) {
    return Node(std::countr_zero(size), start / size);
  }
  const uint64_t k = merkle::SplitPoint(size);
  ASSIGN_OR_RETURN(merkle::MerkleHash left, RangeHash(start, k));
  ASSIGN_OR_RETURN(merkle::MerkleHash right, RangeHash(start + k, size - k));
  return merkle::NodeHash(left, right);
}

absl::Status AuditLog::Recover() {
  uint64_t size = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), events_));
    it->SeekToLast();
    if (!it->status().ok()) {
      return Unavailable("cannot read the audit log", it->status());
    }
    if (it->Valid()) {
      if (it->key().size() != 8) {
        return Corrupt("AUDIT_LOG_CORRUPT",
                       "an audit log key has the wrong "
                       "layout");
      }
      size = GetU64BE(it->key().data()) + 1;
    }
  }
  // The leaves of the incomplete chunk at the end are not stored: they are
  // computed from the events (the signed tree head below covers them).
  std::vector<merkle::MerkleHash> tail;
  for (uint64_t i = size - size % kChunk; i < size; ++i) {
    std::string v;
    rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(), events_, EventKey(i), &v);
    if (s.IsNotFound()) {
      return Corrupt("AUDIT_ENTRY_CORRUPT",
                     absl::StrCat("audit log entry ", i, " is missing"));
    }
    if (!s.ok()) return Unavailable("cannot read the audit log", s);
    tail.push_back(merkle::LeafHash(AsBytes(v)));
  }
  {
    absl::MutexLock lock(&mu_);
    size_ = size;  // so that the reads below may look at every entry
    tail_ = tail;
  }
  std::map<int, merkle::MerkleHash> edge;
  for (int level = 0; level < 64; ++level) {
    if ((size >> level & 1) == 0) continue;
    ASSIGN_OR_RETURN(edge[level], Node(level, (size >> level) - 1));
  }
  if (size >= kChunk) {
    // The newest stored chunk must match its events (a cheap check of the
    // end; VerifyAll checks everything).
    const uint64_t end = size - size % kChunk;
    RETURN_IF_ERROR(Entries(end - 1, end).status());
  }
  ASSIGN_OR_RETURN(std::optional<v1::SignedTreeHead> sth, LatestTreeHead());
  if (sth.has_value()) {
    v1::TreeHead head;
    head.ParseFromString(sth->tree_head());
    if (head.tree_size() > size) {
      return Corrupt(
          "AUDIT_LOG_TRUNCATED",
          absl::StrCat("the audit log holds ", size,
                       " entries but this node signed a tree head of ",
                       head.tree_size(), " entries at ",
                       IsoMillis(head.timestamp_unix_ms()), ": entries ", size,
                       " to ", head.tree_size() - 1, " were removed"));
    }
    ASSIGN_OR_RETURN(merkle::MerkleHash root, RangeHash(0, head.tree_size()));
    if (!SameBytes(AsBytes(head.root_hash()), root)) {
      return Corrupt(
          "AUDIT_LOG_INCONSISTENT",
          absl::StrCat("the stored audit tree's first ", head.tree_size(),
                       " entries have root ", HexEncode(root),
                       ", not the root ", HexEncode(AsBytes(head.root_hash())),
                       " this node signed at ",
                       IsoMillis(head.timestamp_unix_ms())));
    }
  }
  absl::MutexLock lock(&mu_);
  size_ = size;
  edge_ = edge;
  pending_size_ = size;
  pending_edge_ = std::move(edge);
  pending_tail_ = std::move(tail);
  return absl::OkStatus();
}

void AuditLog::Begin() {
  absl::MutexLock lock(&mu_);
  pending_size_ = size_;
  pending_edge_ = edge_;
  pending_tail_ = tail_;
}

void AuditLog::Add(v1::AuditEvent event, rocksdb::WriteBatch& batch,
                   uint64_t* group) {
  const uint64_t index = pending_size_++;
  event.set_node(node_id_);
  const std::string bytes = event.SerializeAsString();
  batch.Put(events_, EventKey(index), bytes).PermitUncheckedError();
  merkle::MerkleHash h = merkle::LeafHash(AsBytes(bytes));
  pending_tail_.push_back(h);
  int level = 0;
  // Leaf `index` completes one perfect subtree per trailing one bit. Only
  // those of kChunk leaves and more are stored; a chunk's record holds its
  // leaf hashes too.
  while (index >> level & 1) {
    h = merkle::NodeHash(pending_edge_[level], h);
    pending_edge_.erase(level);
    ++level;
    if (level < kChunkLevel) continue;
    std::string value(reinterpret_cast<const char*>(h.data()), kHash);
    if (level == kChunkLevel) {
      for (const merkle::MerkleHash& leaf : pending_tail_) {
        value.append(reinterpret_cast<const char*>(leaf.data()), kHash);
      }
      pending_tail_.clear();
    }
    batch.Put(tree_, NodeKey(level, index >> level), value)
        .PermitUncheckedError();
  }
  pending_edge_[level] = h;
  PutAuditIndexEntries(index_, event, index, group, batch);
}

void AuditLog::Commit() {
  absl::MutexLock lock(&mu_);
  size_ = pending_size_;
  edge_ = pending_edge_;
  tail_ = pending_tail_;
}

void AuditLog::Abort() {
  absl::MutexLock lock(&mu_);
  pending_size_ = size_;
  pending_edge_ = edge_;
  pending_tail_ = tail_;
}

AuditTree AuditLog::Current() const {
  absl::MutexLock lock(&mu_);
  return AuditTree{size_, RootFromEdge(edge_)};
}

absl::StatusOr<merkle::MerkleHash> AuditLog::RootAt(uint64_t size) const {
  if (size > Current().size) {
    return Error(absl::StatusCode::kOutOfRange, "TREE_SIZE_TOO_LARGE",
                 absl::StrCat("the audit log has ", Current().size,
                              " entries, fewer than ", size));
  }
  return RangeHash(0, size);
}

absl::StatusOr<std::vector<merkle::MerkleHash>> AuditLog::InclusionProof(
    uint64_t index, uint64_t tree_size) const {
  if (tree_size > Current().size) {
    return Error(absl::StatusCode::kOutOfRange, "TREE_SIZE_TOO_LARGE",
                 absl::StrCat("the audit log has ", Current().size,
                              " entries, fewer than ", tree_size,
                              "; ask for a tree size it has signed"));
  }
  return merkle::InclusionProofOf(
      index, tree_size,
      [this](uint64_t start, uint64_t size) { return RangeHash(start, size); });
}

absl::StatusOr<std::vector<merkle::MerkleHash>> AuditLog::ConsistencyProof(
    uint64_t first, uint64_t second) const {
  if (second > Current().size) {
    return Error(absl::StatusCode::kOutOfRange, "TREE_SIZE_TOO_LARGE",
                 absl::StrCat("the audit log has ", Current().size,
                              " entries, fewer than ", second));
  }
  return merkle::ConsistencyProofOf(
      first, second,
      [this](uint64_t start, uint64_t size) { return RangeHash(start, size); });
}

absl::StatusOr<std::vector<AuditEntry>> AuditLog::Entries(uint64_t start,
                                                          uint64_t end) const {
  const uint64_t size = Current().size;
  if (start > end || end > size) {
    return Error(
        absl::StatusCode::kOutOfRange, "INDEX_OUT_OF_RANGE",
        absl::StrCat("entries [", start, ", ", end,
                     ") are not all in the audit log of ", size, " entries"));
  }
  std::vector<std::string> event_keys;
  for (uint64_t i = start; i < end; ++i) event_keys.push_back(EventKey(i));
  std::vector<rocksdb::Slice> ek(event_keys.begin(), event_keys.end());
  std::vector<rocksdb::PinnableSlice> ev(ek.size());
  std::vector<rocksdb::Status> es(ek.size());
  db_->MultiGet(rocksdb::ReadOptions(), events_, ek.size(), ek.data(),
                ev.data(), es.data());
  std::vector<AuditEntry> out;
  out.reserve(ek.size());
  std::vector<merkle::MerkleHash> leaves;
  uint64_t chunk = UINT64_MAX;
  for (size_t k = 0; k < ek.size(); ++k) {
    const uint64_t i = start + k;
    if (es[k].IsNotFound()) {
      return Corrupt("AUDIT_ENTRY_CORRUPT",
                     absl::StrCat("audit log entry ", i, " is missing"));
    }
    if (!es[k].ok()) return Unavailable("cannot read the audit log", es[k]);
    if (i / kChunk != chunk) {
      chunk = i / kChunk;
      ASSIGN_OR_RETURN(leaves, ChunkLeaves(chunk, true));
    }
    const merkle::MerkleHash h = merkle::LeafHash(
        ByteView(reinterpret_cast<const uint8_t*>(ev[k].data()), ev[k].size()));
    if (i % kChunk >= leaves.size() || leaves[i % kChunk] != h) {
      return Corrupt(
          "AUDIT_ENTRY_CORRUPT",
          absl::StrCat("audit log entry ", i, " does not match its leaf hash"));
    }
    out.push_back(AuditEntry{i, ev[k].ToString()});
  }
  return out;
}

absl::StatusOr<AuditPage> AuditLog::Query(const v1::TrailQuery& q,
                                          uint64_t limit) const {
  const size_t page =
      q.page_size() == 0 ? 100 : std::min<uint32_t>(q.page_size(), 1000);
  limit = std::min(limit, Current().size);
  AuditPage out;
  ASSIGN_OR_RETURN(
      AuditCandidates found,
      FindAuditCandidates(db_, index_, q, q.page_token(), limit, kMaxScan));
  const std::vector<uint64_t>& candidates = found.indexes;
  // Read candidates in chunks, keep the matches, stop when the page is full.
  for (size_t k = 0; k < candidates.size();) {
    const size_t n = std::min<size_t>(256, candidates.size() - k);
    for (size_t j = 0; j < n; ++j) {
      const uint64_t i = candidates[k + j];
      ASSIGN_OR_RETURN(std::vector<AuditEntry> one, Entries(i, i + 1));
      v1::AuditEvent e;
      e.ParseFromString(one[0].event);
      if (!Matches(e, q)) continue;
      if (out.entries.size() == page) {
        out.more = true;
        out.next = i;
        return out;
      }
      out.entries.push_back(std::move(one[0]));
    }
    k += n;
  }
  out.more = !found.complete;
  out.next = found.next;
  return out;
}

absl::Status AuditLog::StoreTreeHead(const v1::SignedTreeHead& sth) {
  rocksdb::WriteOptions sync;
  sync.sync = true;
  rocksdb::Status s = db_->Put(sync, db_->DefaultColumnFamily(), kTreeHeadKey,
                               sth.SerializeAsString());
  if (!s.ok()) return Unavailable("cannot store the signed tree head", s);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<v1::SignedTreeHead>> AuditLog::LatestTreeHead()
    const {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(),
                               db_->DefaultColumnFamily(), kTreeHeadKey, &v);
  if (s.IsNotFound()) return std::optional<v1::SignedTreeHead>();
  if (!s.ok()) return Unavailable("cannot read the signed tree head", s);
  v1::SignedTreeHead sth;
  if (!sth.ParseFromString(v)) {
    return Corrupt("AUDIT_LOG_CORRUPT",
                   "the stored signed tree head does "
                   "not parse");
  }
  return std::optional<v1::SignedTreeHead>(std::move(sth));
}

absl::Status AuditLog::StorePeerHead(const std::string& peer,
                                     const v1::SignedTreeHead& sth) {
  rocksdb::WriteOptions sync;
  sync.sync = true;
  rocksdb::Status s =
      db_->Put(sync, db_->DefaultColumnFamily(),
               absl::StrCat("audit/peer/", peer), sth.SerializeAsString());
  if (!s.ok()) return Unavailable("cannot store a peer's tree head", s);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<v1::SignedTreeHead>> AuditLog::PeerHead(
    const std::string& peer) const {
  std::string v;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), db_->DefaultColumnFamily(),
               absl::StrCat("audit/peer/", peer), &v);
  if (s.IsNotFound()) return std::optional<v1::SignedTreeHead>();
  if (!s.ok()) return Unavailable("cannot read a peer's tree head", s);
  v1::SignedTreeHead sth;
  if (!sth.ParseFromString(v)) {
    return Corrupt(
        "AUDIT_LOG_CORRUPT",
        absl::StrCat("the stored tree head of node ", peer, " does not parse"));
  }
  return std::optional<v1::SignedTreeHead>(std::move(sth));
}

absl::Status AuditLog::VerifyAll() const {
  const uint64_t size = Current().size;
  std::map<int, merkle::MerkleHash> edge;
  for (uint64_t start = 0; start < size; start += 1024) {
    ASSIGN_OR_RETURN(std::vector<AuditEntry> entries,
                     Entries(start, std::min(size, start + 1024)));
    for (const AuditEntry& e : entries) {
      merkle::MerkleHash h = merkle::LeafHash(AsBytes(e.event));
      int level = 0;
      while (e.index >> level & 1) {
        h = merkle::NodeHash(edge[level], h);
        edge.erase(level);
        ++level;
        if (level < kChunkLevel) continue;  // not stored
        ASSIGN_OR_RETURN(merkle::MerkleHash stored,
                         Node(level, e.index >> level));
        if (stored != h) {
          return Corrupt(
              "AUDIT_LOG_CORRUPT",
              absl::StrCat("the audit tree's subtree at level ", level,
                           " index ", e.index >> level,
                           " does not match the entries below it (entries ",
                           (e.index >> level) << level, " to ", e.index, ")"));
        }
      }
      edge[level] = h;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> ConvertAuditTreeFromFormat1(
    rocksdb::DB* db, rocksdb::ColumnFamilyHandle* tree,
    rocksdb::WriteBatch& last) {
  const std::string lowest(1, '\0'), above_leaves(1, '\1');
  const rocksdb::Slice upper(above_leaves);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, tree));
  rocksdb::WriteBatch batch;
  std::string leaves;
  uint64_t next = 0;
  for (it->Seek(lowest); it->Valid(); it->Next()) {
    const uint64_t index =
        it->key().size() == 9 ? GetU64BE(it->key().data() + 1) : UINT64_MAX;
    if (index != next || it->value().size() != kHash) {
      return Corrupt("AUDIT_LOG_CORRUPT",
                     absl::StrCat("converting the audit tree from format 1: "
                                  "the leaf hash of entry ",
                                  next, " is missing or malformed"));
    }
    ++next;
    leaves.append(it->value().data(), kHash);
    if (leaves.size() < kHash * kChunk) continue;
    const uint64_t chunk = index >> kChunkLevel;
    std::string v;
    rocksdb::Status s =
        db->Get(rocksdb::ReadOptions(), tree, NodeKey(kChunkLevel, chunk), &v);
    if (!s.ok() && !s.IsNotFound()) {
      return Unavailable("cannot read the audit tree", s);
    }
    if (s.IsNotFound() || (v.size() != kHash && v.size() != kChunkRecord)) {
      return MissingSubtree(kChunkLevel, chunk);
    }
    if (v.size() == kHash) {  // not yet converted
      batch.Put(tree, NodeKey(kChunkLevel, chunk), v + leaves)
          .PermitUncheckedError();
    }
    leaves.clear();
    if (batch.Count() >= 1024) {
      s = db->Write(rocksdb::WriteOptions(), &batch);
      if (!s.ok()) return Unavailable("cannot convert the audit tree", s);
      batch.Clear();
    }
  }
  if (!it->status().ok()) {
    return Unavailable("cannot read the audit tree", it->status());
  }
  if (next == 0) return 0;  // a new store, or one without an audit log
  rocksdb::Status s = db->Write(rocksdb::WriteOptions(), &batch);
  if (!s.ok()) return Unavailable("cannot convert the audit tree", s);
  // One range deletion for levels 0 to 3. (Nothing is put under those
  // levels' key prefixes again: RocksDB 7.8's memtable insert hints, which
  // this family uses, would mix a put with the range deletion's position.)
  last.DeleteRange(tree, lowest, std::string(1, char{kChunkLevel}))
      .PermitUncheckedError();
  return next;
}

}  // namespace trm::storage
