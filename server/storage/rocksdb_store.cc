#include "server/storage/rocksdb_store.h"

#include <algorithm>
#include <atomic>
#include <filesystem>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/bytes.h"
#include "common/crypto/hash.h"
#include "common/log.h"
#include "common/status.h"
#include "rocksdb/cache.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/memtablerep.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/utilities/table_properties_collectors.h"

namespace trm::storage {
namespace {

constexpr char kStatusCf[] = "status";
constexpr char kEnvelopesCf[] = "envelopes";
constexpr char kQueuesCf[] = "queues";
constexpr char kExpiryCf[] = "expiry";
constexpr char kDeadLettersCf[] = "dead_letters";
constexpr char kAckedCf[] = "acked";
constexpr char kAuditCf[] = "audit";
constexpr char kAuditTreeCf[] = "audit_tree";
constexpr char kAuditIndexCf[] = "audit_index";
constexpr char kCasesCf[] = "cases";
constexpr char kDeadlinesCf[] = "deadlines";
// In the default column family: the on-disk format and the owning node.
constexpr char kFormatKey[] = "store/format";
constexpr char kNodeKey[] = "store/node";

// The audit event of a step taken for the message of `st`.
v1::AuditEvent EventOf(v1::AuditEventKind kind, const v1::StoredStatus& st,
                       int64_t time_unix_ms) {
  v1::AuditEvent e;
  e.set_kind(kind);
  e.set_time_unix_ms(time_unix_ms);
  e.set_message_id(st.message_id());
  e.set_case_ref(st.case_ref());
  e.set_message_type(st.message_type());
  e.set_sender_org(st.sender_org());
  e.set_recipient_org(st.recipient_org());
  e.set_envelope_sha256(st.envelope_sha256());
  return e;
}

std::string Sha256Of(absl::string_view bytes) {
  if (bytes.empty()) return "";
  const crypto::Sha256Digest d = crypto::Sha256({AsBytes(bytes)});
  return std::string(d.begin(), d.end());
}

// u64be(expires_unix_ms) || message id: queued messages in expiry order.
std::string ExpiryKey(int64_t expires_unix_ms, const std::string& id) {
  std::string key;
  const uint64_t t =
      static_cast<uint64_t>(std::max<int64_t>(0, expires_unix_ms));
  for (int i = 7; i >= 0; --i) key.push_back(static_cast<char>(t >> (8 * i)));
  key.append(id);
  return key;
}

// One batched lookup in `cf` of the message ids of `found`.
struct Lookup {
  std::vector<rocksdb::PinnableSlice> values;
  std::vector<rocksdb::Status> statuses;
};
Lookup MultiGetByIds(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                     const std::vector<QueuedMessage>& found) {
  std::vector<rocksdb::Slice> keys;
  keys.reserve(found.size());
  for (const QueuedMessage& m : found) keys.emplace_back(m.message_id);
  Lookup out{std::vector<rocksdb::PinnableSlice>(found.size()),
             std::vector<rocksdb::Status>(found.size())};
  db->MultiGet(rocksdb::ReadOptions(), cf, keys.size(), keys.data(),
               out.values.data(), out.statuses.data());
  return out;
}

absl::Status Unavailable(absl::string_view what, const rocksdb::Status& s) {
  return Error(absl::StatusCode::kUnavailable, "STORE_UNAVAILABLE",
               absl::StrCat(what, ": ", s.ToString(),
                            ". Nothing was stored; retry later, and check the "
                            "node's disk"));
}

// A queue entry's value: message id (16 bytes) || u32be(envelope size), so
// that recovery counts queued bytes in one scan without reading envelopes.
std::string QueueValue(const std::string& id, size_t size) {
  std::string v = id;
  const uint32_t n = static_cast<uint32_t>(size);
  for (int i = 3; i >= 0; --i) v.push_back(static_cast<char>(n >> (8 * i)));
  return v;
}

uint64_t QueueValueSize(const rocksdb::Slice& v) {
  if (v.size() != 16 + 4) return 0;
  uint64_t n = 0;
  for (size_t i = 16; i < 20; ++i) n = n << 8 | static_cast<uint8_t>(v[i]);
  return n;
}

// Decodes a queue key; false when it is not one.
bool DecodeQueueKey(const rocksdb::Slice& key, std::string* org,
                    uint64_t* seq) {
  if (key.size() < 1 + 8) return false;
  const size_t len = static_cast<uint8_t>(key[0]);
  if (key.size() != 1 + len + 8) return false;
  org->assign(key.data() + 1, len);
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) {
    v = v << 8 | static_cast<uint8_t>(key[1 + len + i]);
  }
  *seq = v;
  return true;
}

}  // namespace

struct RocksMessageStore::Op {
  enum class Kind {
    kAccept,
    kAcknowledge,
    kDelivered,
    kExpire,
    kPurge,
    kReject,
    kPath,        // a peer's notice about a message relayed to it
    kNoticeDone,  // notices the origin node has recorded
    kAudit,       // an audit event of its own
  };
  Kind kind = Kind::kAccept;
  const AcceptRequest* accept = nullptr;
  const v1::StoredStatus* rejection = nullptr;  // kReject
  const RelayedMessage* relayed = nullptr;      // kAcknowledge of a relay
  const absl::Status* refusal = nullptr;        // kAcknowledge: reject instead
  const AckRequest* ack = nullptr;              // kAcknowledge by the recipient
  const v1::PathNotice* notice = nullptr;       // kPath
  const std::vector<uint64_t>* seqs = nullptr;  // kNoticeDone
  const v1::AuditEvent* event = nullptr;        // kAudit
  const std::string* org = nullptr;
  const std::string* message_id = nullptr;
  int64_t now_unix_ms = 0;
  size_t max = 0;              // kExpire, kPurge: most messages to handle
  int64_t before_unix_ms = 0;  // kPurge: acknowledged at or before

  absl::Status status;
  size_t expired = 0;
  AcceptOutcome outcome;
  bool done = false;
};

std::string RocksMessageStore::QueueKey(const std::string& org, uint64_t seq) {
  std::string key;
  key.reserve(1 + org.size() + 8);
  key.push_back(static_cast<char>(org.size()));
  key.append(org);
  for (int i = 7; i >= 0; --i) key.push_back(static_cast<char>(seq >> (8 * i)));
  return key;
}

absl::StatusOr<std::unique_ptr<RocksMessageStore>> RocksMessageStore::Open(
    const RocksStoreOptions& options) {
  std::unique_ptr<RocksMessageStore> store(new RocksMessageStore());
  store->max_group_ = std::max<size_t>(1, options.max_group);

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  // A graceful stop flushes memtables so the next start replays no WAL
  // (the destructor; RocksDB's own shutdown flush covers only writes made
  // without a WAL); crash tests turn that off to leave the WAL as the only
  // record.
  store->flush_on_close_ = options.flush_on_close;
  store->path_ = options.path;
  db_options.avoid_flush_during_shutdown = !options.flush_on_close;
  // Small column families (status, queues) would otherwise pin every WAL
  // file until they flush, and a restart would replay all of them, needing
  // that much free space on a disk that may be nearly full.
  db_options.max_total_wal_size = options.max_wal_bytes;
  // The committer resumes after write errors itself (see CommitGroup), so
  // that recovery happens exactly when a write needs it.
  db_options.max_bgerror_resume_count = 0;
  db_options.create_missing_column_families = true;
  // One committer thread writes; hash memtables (below) need this off.
  db_options.allow_concurrent_memtable_write = false;
  if (options.file_system) {
    store->env_ = rocksdb::NewCompositeEnv(options.file_system);
    db_options.env = store->env_.get();
  }
  // Point lookups (the dedup check on every submit, status reads on every
  // delivery and acknowledgement) must not read a data block from every
  // level: bloom filters, and one block cache for all families, bounded so
  // resident memory stays small with millions of messages stored.
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(64 << 20);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions plain;
  plain.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // Append-mostly families (queue positions, expiry times, the audit log's
  // events, tree nodes and indexes) insert keys in order: a memtable insert
  // that starts from the previous one's position skips most of the skip
  // list's comparisons, which were a fifth of a submit's CPU.
  rocksdb::ColumnFamilyOptions appended = plain;
  appended.memtable_insert_with_hint_prefix_extractor.reset(
      rocksdb::NewFixedPrefixTransform(1));
  rocksdb::ColumnFamilyOptions queue = appended;
  // Families read only by key, never iterated (status records, envelopes,
  // case records, dead letters), with random keys (message ids, case
  // references): a hash of skip lists keyed by the whole key makes a
  // memtable insert a bucket lookup instead of a search through one big
  // skip list, whose cache misses were a third of a submit's CPU. (A
  // prefix extractor covering the whole key; an iterator on these families
  // would see one key per seek, and none is made.)
  auto by_key = [](rocksdb::ColumnFamilyOptions o) {
    o.prefix_extractor.reset(rocksdb::NewCappedPrefixTransform(64));
    o.memtable_factory.reset(rocksdb::NewHashSkipListRepFactory(1 << 16));
    return o;
  };
  // Compact files early once acknowledgements leave many tombstones in them.
  queue.table_properties_collector_factories.push_back(
      rocksdb::NewCompactOnDeletionCollectorFactory(1024, 512, 0.5));
  // Envelopes are large, written once, read once and deleted: keep them out
  // of the LSM tree (blob files), so compactions move small keys only and a
  // deep backlog does not slow submits. They are ciphertext, so compressing
  // them only costs CPU.
  rocksdb::ColumnFamilyOptions blobs = plain;
  blobs.compression = rocksdb::kNoCompression;
  blobs.enable_blob_files = true;
  blobs.min_blob_size = 256;
  blobs.blob_compression_type = rocksdb::kNoCompression;
  blobs.enable_blob_garbage_collection = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, plain},
      {kStatusCf, by_key(plain)},
      {kEnvelopesCf, by_key(blobs)},
      {kQueuesCf, queue},
      {kExpiryCf, queue},
      {kDeadLettersCf, by_key(blobs)},
      {kAckedCf, queue},
      {kAuditCf, appended},
      {kAuditTreeCf, appended},
      {kAuditIndexCf, appended},
      {kCasesCf, by_key(plain)},
      {kDeadlinesCf, plain}};
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, families,
                                        &store->handles_, &db);
  if (!s.ok()) {
    return Error(absl::StatusCode::kFailedPrecondition, "STORE_OPEN_FAILED",
                 absl::StrCat("cannot open the store at ", options.path, ": ",
                              s.ToString(),
                              ". Check the data directory's path and "
                              "permissions, and that no other trm-broker "
                              "process uses it"));
  }
  store->db_.reset(db);
  store->status_cf_ = store->handles_[1];
  store->envelopes_cf_ = store->handles_[2];
  store->queues_cf_ = store->handles_[3];
  store->expiry_cf_ = store->handles_[4];
  store->dead_letters_cf_ = store->handles_[5];
  store->acked_cf_ = store->handles_[6];
  store->cases_cf_ = store->handles_[10];
  store->deadlines_cf_ = store->handles_[11];
  RETURN_IF_ERROR(store->CheckFormat(options));
  RETURN_IF_ERROR(store->Recover());
  if (options.audit) {
    store->audit_ =
        std::make_unique<AuditLog>(db, store->handles_[7], store->handles_[8],
                                   store->handles_[9], options.node_id);
    RETURN_IF_ERROR(store->audit_->Recover());
  }
  store->committer_ = std::thread([s = store.get()] { s->CommitLoop(); });
  return store;
}

RocksMessageStore::~RocksMessageStore() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (committer_.joinable()) committer_.join();
  if (db_) {
    if (flush_on_close_) {
      rocksdb::FlushOptions flush;
      flush.wait = true;
      rocksdb::Status s = db_->Flush(flush, handles_);
      if (!s.ok()) {
        // Nothing is lost: the write-ahead log is replayed at the next start.
        log::Warn("store.flush_on_close",
                  absl::StrCat("could not flush the memtables at shutdown: ",
                               s.ToString(),
                               "; the next start replays the "
                               "write-ahead log"));
      }
    }
    for (rocksdb::ColumnFamilyHandle* h : handles_) {
      db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    }
    db_->Close().PermitUncheckedError();
  }
}

uint64_t RocksMessageStore::IntProperty(const std::string& name) const {
  uint64_t total = 0;
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    uint64_t v = 0;
    if (db_->GetIntProperty(h, name, &v)) total += v;
  }
  return total;
}

absl::Status RocksMessageStore::Checkpoint(const std::string& dir) {
  if (dir.empty() || dir[0] != '/') {
    return Error(absl::StatusCode::kInvalidArgument, "BACKUP_DIR_INVALID",
                 absl::StrCat("the backup directory '", dir,
                              "' must be an absolute path on the node's "
                              "host"));
  }
  std::error_code ec;
  // A backup inside the live store would be copied into itself by the next
  // backup and lost with the store's own disk.
  namespace fs = std::filesystem;
  const fs::path data = fs::weakly_canonical(fs::absolute(path_), ec);
  const fs::path target = fs::weakly_canonical(fs::path(dir), ec);
  const auto [d, t] =
      std::mismatch(data.begin(), data.end(), target.begin(), target.end());
  if (!ec && d == data.end()) {
    return Error(
        absl::StatusCode::kInvalidArgument, "BACKUP_DIR_INVALID",
        absl::StrCat("the backup directory ", dir,
                     " is inside the node's data directory ", data.string(),
                     "; put it outside, on another disk if "
                     "you can"));
  }
  if (std::filesystem::exists(dir, ec)) {
    return Error(absl::StatusCode::kAlreadyExists, "BACKUP_DIR_EXISTS",
                 absl::StrCat(dir,
                              " already exists; a backup goes into a new "
                              "directory (a backup is never overwritten)"));
  }
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(db_.get(), &raw);
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  if (s.ok()) s = checkpoint->CreateCheckpoint(dir);
  if (!s.ok()) {
    return Error(
        absl::StatusCode::kUnavailable, "BACKUP_FAILED",
        absl::StrCat("cannot write the backup to ", dir, ": ", s.ToString(),
                     ". Check that the node may write to its parent "
                     "directory (systemd: ReadWritePaths) and that "
                     "there is space"));
  }
  return absl::OkStatus();
}

absl::Status RocksMessageStore::Restore(const std::string& from,
                                        const RocksStoreOptions& to) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(fs::path(from) / "CURRENT", ec)) {
    return Error(absl::StatusCode::kNotFound, "BACKUP_NOT_FOUND",
                 absl::StrCat(from,
                              " is not a trm-broker backup (no RocksDB "
                              "CURRENT file); give the directory `trmctl "
                              "admin backup` wrote"));
  }
  if (fs::exists(to.path, ec) && !fs::is_empty(to.path, ec)) {
    return Error(absl::StatusCode::kFailedPrecondition,
                 "RESTORE_TARGET_NOT_EMPTY",
                 absl::StrCat("the data directory ", to.path,
                              " is not empty; move it away first (nothing "
                              "is overwritten), then restore"));
  }
  fs::create_directories(to.path, ec);
  fs::copy(from, to.path, fs::copy_options::recursive, ec);
  if (ec) {
    return Error(absl::StatusCode::kUnavailable, "RESTORE_FAILED",
                 absl::StrCat("cannot copy ", from, " to ", to.path, ": ",
                              ec.message()));
  }
  // Opening checks the format, the node, and the audit log against the
  // tree head the backup holds.
  ASSIGN_OR_RETURN(std::unique_ptr<RocksMessageStore> store, Open(to));
  if (store->audit() != nullptr) RETURN_IF_ERROR(store->audit()->VerifyAll());
  return absl::OkStatus();
}

absl::Status RocksMessageStore::CheckFormat(const RocksStoreOptions& options) {
  rocksdb::ColumnFamilyHandle* meta = handles_[0];
  std::string format, node;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), meta, kFormatKey, &format);
  if (!s.ok() && !s.IsNotFound()) {
    return Unavailable("cannot read the store's format record", s);
  }
  // A store without the record was written before it existed: format 1.
  if (s.IsNotFound()) format = "1";
  if (format != std::to_string(kStoreFormat)) {
    return Error(
        absl::StatusCode::kFailedPrecondition, "STORE_FORMAT_UNKNOWN",
        absl::StrCat("the store at ", options.path, " has on-disk format ",
                     format, ", and this trm-broker knows format ",
                     kStoreFormat,
                     " only: run the trm-broker release that wrote "
                     "it, or restore a backup taken with this "
                     "release (docs/operations.md, \"Upgrades\")"));
  }
  s = db_->Get(rocksdb::ReadOptions(), meta, kNodeKey, &node);
  if (!s.ok() && !s.IsNotFound()) {
    return Unavailable("cannot read the store's node record", s);
  }
  if (s.ok() && !options.node_id.empty() && node != options.node_id) {
    return Error(
        absl::StatusCode::kFailedPrecondition, "STORE_OF_OTHER_NODE",
        absl::StrCat("the store at ", options.path, " belongs to node '", node,
                     "', not '", options.node_id,
                     "'; point data_dir at this node's own data"));
  }
  rocksdb::WriteBatch batch;
  batch.Put(meta, kFormatKey, std::to_string(kStoreFormat))
      .PermitUncheckedError();
  if (s.IsNotFound() && !options.node_id.empty()) {
    batch.Put(meta, kNodeKey, options.node_id).PermitUncheckedError();
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  s = db_->Write(wo, &batch);
  if (!s.ok()) return Unavailable("cannot write the store's format record", s);
  return absl::OkStatus();
}

absl::Status RocksMessageStore::Recover() {
  absl::flat_hash_map<std::string, QueueState> queues;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), queues_cf_));
  std::string org;
  uint64_t seq = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!DecodeQueueKey(it->key(), &org, &seq)) {
      return Error(absl::StatusCode::kDataLoss, "STORE_CORRUPT",
                   "a queue key has the wrong layout; restore the data "
                   "directory from a backup");
    }
    QueueState& q = queues[org];
    if (q.depth == 0) q.head_seq = seq;
    q.depth++;
    q.bytes += QueueValueSize(it->value());
    q.next_seq = seq + 1;
  }
  if (!it->status().ok()) {
    return Unavailable("cannot read the queues", it->status());
  }
  // A queue with no live entry starts again at 1. Sequence numbers are
  // positions in a queue, not identities: status records of acknowledged
  // messages keep their old numbers and are never looked up by them.
  absl::MutexLock lock(&queues_mu_);
  queues_ = std::move(queues);
  return absl::OkStatus();
}

bool RocksMessageStore::HasWork() const {
  return stopping_ || !pending_.empty();
}

absl::Status RocksMessageStore::Submit(Op& op) {
  absl::MutexLock lock(&mu_);
  if (stopping_) {
    return Error(absl::StatusCode::kUnavailable, "STORE_CLOSING",
                 "the node is shutting down; retry against the restarted node");
  }
  pending_.push_back(&op);
  mu_.Await(absl::Condition(&op.done));
  return op.status;
}

void RocksMessageStore::SubmitAll(std::vector<Op>& ops) {
  absl::MutexLock lock(&mu_);
  if (stopping_) {
    for (Op& op : ops) {
      op.status = Error(absl::StatusCode::kUnavailable, "STORE_CLOSING",
                        "the node is shutting down; retry against the "
                        "restarted node");
    }
    return;
  }
  for (Op& op : ops) pending_.push_back(&op);
  for (Op& op : ops) mu_.Await(absl::Condition(&op.done));
}

void RocksMessageStore::CommitLoop() {
  for (;;) {
    std::vector<Op*> group;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &RocksMessageStore::HasWork));
      if (pending_.empty()) return;  // stopping, and nothing left to write
      const size_t n = std::min(pending_.size(), max_group_);
      group.assign(pending_.begin(), pending_.begin() + n);
      pending_.erase(pending_.begin(), pending_.begin() + n);
    }
    CommitGroup(group);
    absl::MutexLock lock(&mu_);
    for (Op* op : group) op->done = true;
  }
}

void RocksMessageStore::CommitGroup(std::vector<Op*>& group) {
  rocksdb::WriteBatch batch;
  // Each state change appends its audit event to the same batch.
  if (audit_) audit_->Begin();
  auto log = [&](v1::AuditEvent event) {
    if (audit_) audit_->Add(std::move(event), batch);
  };
  // Status records as they will be once this batch is written, so requests
  // in one group see each other.
  absl::flat_hash_map<std::string, v1::StoredStatus> touched;
  absl::flat_hash_map<std::string, QueueState> queue_after;
  auto queue_state = [&](const std::string& org) -> QueueState& {
    auto it = queue_after.find(org);
    if (it != queue_after.end()) return it->second;
    absl::MutexLock lock(&queues_mu_);
    auto q = queues_.find(org);
    return queue_after[org] = q == queues_.end() ? QueueState() : q->second;
  };
  std::vector<Op*> writers;
  // Case records as this group leaves them.
  absl::flat_hash_map<std::string, v1::CaseRecord> cases_after;
  auto case_record = [&](const std::string& ref,
                         v1::CaseRecord* out) -> absl::Status {
    if (auto it = cases_after.find(ref); it != cases_after.end()) {
      *out = it->second;
      return absl::OkStatus();
    }
    std::string v;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cases_cf_, ref, &v);
    if (s.IsNotFound()) {
      *out = v1::CaseRecord();
      return absl::OkStatus();
    }
    if (!s.ok()) return Unavailable("cannot read a case record", s);
    if (!out->ParseFromString(v)) {
      return Error(absl::StatusCode::kDataLoss, "STORE_CORRUPT",
                   "a case record does not parse; restore the data "
                   "directory from a backup");
    }
    return absl::OkStatus();
  };
  // A relayed message's step: a notice for the node it came from.
  auto notify_origin = [&](const v1::StoredStatus& st) {
    if (st.origin_node().empty()) return;
    const std::string queue = NoticeQueue(st.origin_node());
    QueueState& q = queue_state(queue);
    batch
        .Put(queues_cf_, QueueKey(queue, q.next_seq++),
             QueueValue(st.message_id(), 0))
        .PermitUncheckedError();
    q.depth++;
  };

  // The status records the group will look at, read in one batched lookup
  // (a drain acknowledges hundreds at once; one Get each would walk the LSM
  // tree hundreds of times in this single thread).
  absl::flat_hash_map<std::string, std::pair<rocksdb::Status, std::string>>
      prefetched;
  {
    std::vector<const std::string*> ids;
    for (Op* op : group) {
      if (op->kind == Op::Kind::kAccept) {
        ids.push_back(&op->accept->message_id);
      } else if (op->kind == Op::Kind::kReject) {
        ids.push_back(&op->rejection->message_id());
      } else if (op->message_id != nullptr) {
        ids.push_back(op->message_id);
      }
    }
    std::vector<rocksdb::Slice> keys;
    keys.reserve(ids.size());
    for (const std::string* id : ids) keys.emplace_back(*id);
    std::vector<rocksdb::PinnableSlice> values(keys.size());
    std::vector<rocksdb::Status> statuses(keys.size());
    if (!keys.empty()) {
      db_->MultiGet(rocksdb::ReadOptions(), status_cf_, keys.size(),
                    keys.data(), values.data(), statuses.data());
    }
    for (size_t i = 0; i < keys.size(); ++i) {
      prefetched[*ids[i]] = {statuses[i], values[i].ToString()};
    }
  }
  auto lookup = [&](const std::string& id, v1::StoredStatus* out,
                    absl::Status* error) -> bool {
    if (auto it = touched.find(id); it != touched.end()) {
      *out = it->second;
      return true;
    }
    rocksdb::Status s;
    std::string value;
    if (auto it = prefetched.find(id); it != prefetched.end()) {
      s = it->second.first;
      value = it->second.second;
    } else {
      s = db_->Get(rocksdb::ReadOptions(), status_cf_, id, &value);
    }
    if (s.IsNotFound()) return false;
    if (!s.ok()) {
      *error = Unavailable("cannot read a status record", s);
      return false;
    }
    if (!out->ParseFromString(value)) {
      *error = Error(absl::StatusCode::kDataLoss, "STORE_CORRUPT",
                     "a status record does not parse; restore the data "
                     "directory from a backup");
      return false;
    }
    return true;
  };

  for (Op* op : group) {
    v1::StoredStatus existing;
    absl::Status error;
    if (op->kind == Op::Kind::kAccept) {
      const AcceptRequest& r = *op->accept;
      // An earlier refusal of the same id does not count as a duplicate.
      if (lookup(r.message_id, &existing, &error) &&
          existing.state() != v1::REJECTED) {
        if (existing.envelope_sha256() == r.envelope_sha256) {
          op->outcome = AcceptOutcome{existing, true, 0};
        } else {
          op->status = Error(
              absl::StatusCode::kAlreadyExists, "DUPLICATE_MESSAGE_ID",
              absl::StrCat("message id ", HexEncode(AsBytes(r.message_id)),
                           " was already accepted with different content; "
                           "give a new message a new id"));
        }
        continue;
      }
      if (!error.ok()) {
        op->status = error;
        continue;
      }
      if (r.policy != nullptr) {
        // The case rules, against the record as this group leaves it.
        v1::CaseRecord before;
        if (absl::Status s = case_record(r.case_ref, &before); !s.ok()) {
          op->status = s;
          continue;
        }
        absl::StatusOr<v1::CaseRecord> next = cases::ApplyToCase(
            before, r.header, absl::FromUnixMillis(r.now_unix_ms), *r.policy);
        if (!next.ok()) {
          op->status = next.status();
          continue;
        }
        batch.Put(cases_cf_, r.case_ref, next->SerializeAsString())
            .PermitUncheckedError();
        for (const std::string& k : DeadlineIndexKeys(before)) {
          batch.Delete(deadlines_cf_, k).PermitUncheckedError();
        }
        for (const std::string& k : DeadlineIndexKeys(*next)) {
          batch.Put(deadlines_cf_, k, "").PermitUncheckedError();
        }
        for (v1::AuditEvent& e : DeadlineEvents(before, *next, r.now_unix_ms)) {
          log(std::move(e));
        }
        cases_after[r.case_ref] = std::move(*next);
      }
      QueueState& q = queue_state(QueueOf(r));
      v1::StoredStatus st = NewStatusRecord(r, q.next_seq++);
      q.depth++;
      q.bytes += r.envelope.size();
      batch.Put(status_cf_, r.message_id, st.SerializeAsString())
          .PermitUncheckedError();
      batch.Put(envelopes_cf_, r.message_id, r.envelope).PermitUncheckedError();
      batch
          .Put(expiry_cf_, ExpiryKey(r.expires_unix_ms, r.message_id),
               QueueOf(r))
          .PermitUncheckedError();
      batch
          .Put(queues_cf_, QueueKey(QueueOf(r), st.queue_seq()),
               QueueValue(r.message_id, r.envelope.size()))
          .PermitUncheckedError();
      v1::AuditEvent accepted = EventOf(
          r.origin_node.empty() ? v1::MESSAGE_ACCEPTED : v1::MESSAGE_RECEIVED,
          st, r.now_unix_ms);
      accepted.set_peer_node(r.origin_node);
      log(std::move(accepted));
      op->outcome = AcceptOutcome{st, false, 0};
      touched[r.message_id] = std::move(st);
      writers.push_back(op);
    } else if (op->kind == Op::Kind::kExpire) {
      // Queued messages whose expiry has passed move to a dead-letter record.
      const std::string upper = ExpiryKey(op->now_unix_ms + 1, "");
      rocksdb::Slice upper_slice(upper);
      rocksdb::ReadOptions ro;
      ro.iterate_upper_bound = &upper_slice;
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, expiry_cf_));
      for (it->SeekToFirst(); it->Valid() && op->expired < op->max;
           it->Next()) {
        const std::string id = it->key().ToString().substr(8);
        // Read first: an entry is removed only once its status is known,
        // so a failed read leaves it for the next run (and is reported).
        v1::StoredStatus st;
        const bool found = lookup(id, &st, &error);
        if (!error.ok()) break;
        batch.Delete(expiry_cf_, it->key()).PermitUncheckedError();
        if (found && st.state() == v1::REJECTED && st.forget_unix_ms() != 0 &&
            st.forget_unix_ms() <= op->now_unix_ms) {
          // A refused submission's record, past its retention. (Its
          // MESSAGE_REJECTED audit event stays.)
          batch.Delete(status_cf_, id).PermitUncheckedError();
          ++op->expired;
          continue;
        }
        if (!found ||
            (st.state() != v1::ACCEPTED && st.state() != v1::DELIVERED)) {
          continue;  // acknowledged or expired in this very group
        }
        if (st.expires_unix_ms() > op->now_unix_ms) {
          continue;  // a stale entry (a refusal's, for an id accepted later)
        }
        std::string envelope;
        rocksdb::Status got =
            db_->Get(rocksdb::ReadOptions(), envelopes_cf_, id, &envelope);
        if (got.ok()) {
          batch.Put(dead_letters_cf_, id, envelope).PermitUncheckedError();
          batch.Delete(envelopes_cf_, id).PermitUncheckedError();
        }
        QueueState& q = queue_state(QueueOf(st));
        if (q.depth > 0) q.depth--;
        q.bytes -= std::min(q.bytes, st.envelope_size());
        batch.Delete(queues_cf_, QueueKey(QueueOf(st), st.queue_seq()))
            .PermitUncheckedError();
        MarkExpired(st, op->now_unix_ms);
        log(EventOf(v1::MESSAGE_EXPIRED, st, op->now_unix_ms));
        notify_origin(st);
        batch.Put(status_cf_, id, st.SerializeAsString())
            .PermitUncheckedError();
        touched[id] = std::move(st);
        ++op->expired;
      }
      if (!error.ok() || !it->status().ok()) {
        // What was done before the failure is whole and is written.
        op->status = !error.ok() ? error
                                 : Unavailable("cannot read the expiry index",
                                               it->status());
        continue;
      }
      writers.push_back(op);
    } else if (op->kind == Op::Kind::kPurge) {
      // Retention: payloads of acknowledged messages go; metadata stays.
      const std::string upper = ExpiryKey(op->before_unix_ms + 1, "");
      rocksdb::Slice upper_slice(upper);
      rocksdb::ReadOptions ro;
      ro.iterate_upper_bound = &upper_slice;
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, acked_cf_));
      for (it->SeekToFirst(); it->Valid() && op->expired < op->max;
           it->Next()) {
        const std::string id = it->key().ToString().substr(8);
        v1::StoredStatus st;
        const bool found = lookup(id, &st, &error);
        if (!error.ok()) break;  // read first, as for expiry
        batch.Delete(acked_cf_, it->key()).PermitUncheckedError();
        batch.Delete(envelopes_cf_, id).PermitUncheckedError();
        if (found) {
          st.set_purged_unix_ms(op->now_unix_ms);
          log(EventOf(v1::MESSAGE_PURGED, st, op->now_unix_ms));
          batch.Put(status_cf_, id, st.SerializeAsString())
              .PermitUncheckedError();
          touched[id] = std::move(st);
        }
        ++op->expired;
      }
      if (!error.ok() || !it->status().ok()) {
        op->status =
            !error.ok()
                ? error
                : Unavailable("cannot read the retention index", it->status());
        continue;
      }
      writers.push_back(op);
    } else if (op->kind == Op::Kind::kReject) {
      const v1::StoredStatus& r = *op->rejection;
      if (lookup(r.message_id(), &existing, &error) &&
          existing.state() != v1::REJECTED) {
        continue;  // never over a real message
      }
      if (!error.ok()) {
        op->status = error;
        continue;
      }
      batch.Put(status_cf_, r.message_id(), r.SerializeAsString())
          .PermitUncheckedError();
      if (r.forget_unix_ms() != 0) {
        // Forgotten after the retention, through the expiry index.
        batch.Put(expiry_cf_, ExpiryKey(r.forget_unix_ms(), r.message_id()), "")
            .PermitUncheckedError();
      }
      v1::AuditEvent rejected =
          EventOf(v1::MESSAGE_REJECTED, r, r.rejected_unix_ms());
      rejected.set_reason_code(r.reason_code());
      log(std::move(rejected));
      touched[r.message_id()] = r;
      writers.push_back(op);
    } else if (op->kind == Op::Kind::kDelivered) {
      const std::string& id = *op->message_id;
      if (!lookup(id, &existing, &error)) {
        op->status = error;  // OK when unknown: nothing to record
        continue;
      }
      if (existing.state() != v1::ACCEPTED) continue;
      existing.set_state(v1::DELIVERED);
      existing.set_delivered_unix_ms(op->now_unix_ms);
      log(EventOf(v1::MESSAGE_DELIVERED, existing, op->now_unix_ms));
      notify_origin(existing);
      batch.Put(status_cf_, id, existing.SerializeAsString())
          .PermitUncheckedError();
      touched[id] = std::move(existing);
      writers.push_back(op);
    } else if (op->kind == Op::Kind::kPath) {
      const std::string& id = *op->message_id;
      if (!lookup(id, &existing, &error)) {
        op->status =
            error.ok()
                ? Error(absl::StatusCode::kNotFound,
                        "MESSAGE_NOT_RELAYED_TO_PEER",
                        absl::StrCat("no message ", HexEncode(AsBytes(id)),
                                     " is known to this node"))
                : error;
        continue;
      }
      const v1::StoredStatus before = existing;
      absl::StatusOr<bool> changed =
          MergePathNotice(existing, *op->org, *op->notice);
      if (!changed.ok()) {
        op->status = changed.status();
        continue;
      }
      if (!*changed) continue;
      auto remote = [&](v1::AuditEventKind kind, int64_t at,
                        const std::string& evidence) {
        v1::AuditEvent e = EventOf(kind, existing, at);
        e.set_peer_node(*op->org);
        if (kind == v1::REMOTE_REFUSED)
          e.set_reason_code(existing.reason_code());
        e.set_evidence_sha256(Sha256Of(evidence));
        log(std::move(e));
      };
      if (before.delivered_unix_ms() == 0 && existing.delivered_unix_ms()) {
        remote(v1::REMOTE_DELIVERED, existing.delivered_unix_ms(),
               existing.delivery_receipt());
      }
      if (before.acknowledged_unix_ms() == 0 &&
          existing.acknowledged_unix_ms()) {
        remote(v1::REMOTE_ACKNOWLEDGED, existing.acknowledged_unix_ms(),
               existing.acknowledgement());
      }
      if (before.refused_unix_ms() == 0 && existing.refused_unix_ms()) {
        remote(v1::REMOTE_REFUSED, existing.refused_unix_ms(),
               existing.refusal());
      }
      if (before.expired_unix_ms() == 0 && existing.expired_unix_ms()) {
        remote(v1::REMOTE_EXPIRED, existing.expired_unix_ms(),
               existing.expiry_receipt());
      }
      batch.Put(status_cf_, id, existing.SerializeAsString())
          .PermitUncheckedError();
      touched[id] = std::move(existing);
      writers.push_back(op);
    } else if (op->kind == Op::Kind::kNoticeDone) {
      QueueState& q = queue_state(*op->org);
      for (uint64_t seq : *op->seqs) {
        const std::string key = QueueKey(*op->org, seq);
        std::string ignored;
        rocksdb::Status got =
            db_->Get(rocksdb::ReadOptions(), queues_cf_, key, &ignored);
        if (!got.ok()) continue;  // removed before
        batch.Delete(queues_cf_, key).PermitUncheckedError();
        if (q.depth > 0) q.depth--;
      }
      writers.push_back(op);
    } else if (op->kind == Op::Kind::kAudit) {
      log(*op->event);
      writers.push_back(op);
    } else {
      const std::string& id = *op->message_id;
      if (!lookup(id, &existing, &error) || QueueOf(existing) != *op->org) {
        op->status =
            error.ok()
                ? Error(absl::StatusCode::kNotFound, "MESSAGE_NOT_FOUND",
                        absl::StrCat("no message ", HexEncode(AsBytes(id)),
                                     " is queued for ", *op->org,
                                     " on this node; acknowledge only ids "
                                     "you received"))
                : error;
        continue;
      }
      if (op->relayed != nullptr || op->refusal != nullptr) {
        if (existing.state() == v1::ACKNOWLEDGED ||
            existing.relayed_unix_ms() != 0) {
          continue;  // idempotent
        }
        if (existing.state() != v1::ACCEPTED &&
            existing.state() != v1::DELIVERED) {
          op->status = NotAcknowledgeable(existing);
          continue;
        }
      } else {
        bool repeat = false;
        op->status = CheckAcknowledgeable(existing, *op->ack, &repeat);
        if (repeat || !op->status.ok()) continue;
      }
      // A refusal after the acknowledgement: the message left the queue
      // then, and retention already purges it.
      const bool after_ack =
          op->ack != nullptr && RefusesAfterAcknowledgement(existing, *op->ack);
      if (!after_ack) {
        QueueState& q = queue_state(*op->org);
        if (q.depth > 0) q.depth--;
        q.bytes -= std::min(q.bytes, existing.envelope_size());
        batch.Delete(queues_cf_, QueueKey(*op->org, existing.queue_seq()))
            .PermitUncheckedError();
        batch.Delete(expiry_cf_, ExpiryKey(existing.expires_unix_ms(), id))
            .PermitUncheckedError();
      }
      if (op->refusal == nullptr && !after_ack) {  // retention purges later
        batch.Put(acked_cf_, ExpiryKey(op->now_unix_ms, id), "")
            .PermitUncheckedError();
      }
      if (op->refusal != nullptr) {
        std::string envelope;
        if (db_->Get(rocksdb::ReadOptions(), envelopes_cf_, id, &envelope)
                .ok()) {
          batch.Put(dead_letters_cf_, id, envelope).PermitUncheckedError();
          batch.Delete(envelopes_cf_, id).PermitUncheckedError();
        }
        MarkRejected(existing, *op->refusal, op->now_unix_ms);
        v1::AuditEvent e =
            EventOf(v1::MESSAGE_REJECTED, existing, op->now_unix_ms);
        e.set_reason_code(existing.reason_code());
        if (absl::StartsWith(*op->org, ">"))
          e.set_peer_node(op->org->substr(1));
        log(std::move(e));
      } else if (op->relayed != nullptr) {
        existing.set_state(v1::RELAYED);
        existing.set_relayed_unix_ms(op->now_unix_ms);
        existing.set_relayed_to(op->relayed->node);
        existing.set_relay_receipt(op->relayed->receipt);
        v1::AuditEvent e =
            EventOf(v1::MESSAGE_RELAYED, existing, op->now_unix_ms);
        e.set_peer_node(op->relayed->node);
        e.set_evidence_sha256(Sha256Of(op->relayed->receipt));
        log(std::move(e));
      } else if (!op->ack->refusal.empty()) {
        MarkRefused(existing, op->ack->refusal, op->now_unix_ms);
        v1::AuditEvent e =
            EventOf(v1::MESSAGE_REFUSED, existing, op->now_unix_ms);
        e.set_reason_code(existing.reason_code());
        e.set_evidence_sha256(Sha256Of(existing.refusal()));
        log(std::move(e));
        notify_origin(existing);
      } else {
        existing.set_state(v1::ACKNOWLEDGED);
        existing.set_acknowledged_unix_ms(op->now_unix_ms);
        if (!op->ack->acknowledgement.empty()) {
          existing.set_acknowledgement(op->ack->acknowledgement);
        }
        v1::AuditEvent e =
            EventOf(v1::MESSAGE_ACKNOWLEDGED, existing, op->now_unix_ms);
        e.set_evidence_sha256(Sha256Of(existing.acknowledgement()));
        log(std::move(e));
        notify_origin(existing);
      }
      batch.Put(status_cf_, id, existing.SerializeAsString())
          .PermitUncheckedError();
      touched[id] = std::move(existing);
      writers.push_back(op);
    }
  }
  if (writers.empty()) {
    if (audit_) audit_->Abort();
    return;
  }

  rocksdb::WriteOptions sync;
  sync.sync = true;
  // After a failed write (a full disk, say) RocksDB refuses writes until it
  // is resumed; try that first, so the node heals once space is back.
  rocksdb::Status s = needs_resume_ ? db_->Resume() : rocksdb::Status::OK();
  if (s.ok()) {
    needs_resume_ = false;
    s = db_->Write(sync, &batch);
  }
  if (!s.ok()) {
    needs_resume_ = true;
    for (Op* op : writers) {
      op->status = Unavailable("cannot write to the store", s);
      op->outcome = AcceptOutcome();
    }
    if (audit_) audit_->Abort();
    return;
  }
  if (audit_) audit_->Commit();
  const uint64_t commit_id = ++commits_;
  for (Op* op : writers) op->outcome.commit_id = commit_id;
  absl::MutexLock lock(&queues_mu_);
  for (auto& [org, after] : queue_after) {
    QueueState& q = queues_[org];
    q.next_seq = std::max(q.next_seq, after.next_seq);
    q.depth = after.depth;
    q.bytes = after.bytes;
  }
}

template <typename Fill>
std::vector<RocksMessageStore::Op> RocksMessageStore::SubmitGroup(size_t n,
                                                                  Fill fill) {
  std::vector<Op> ops(n);
  for (size_t i = 0; i < n; ++i) fill(i, ops[i]);
  SubmitAll(ops);
  return ops;
}

std::vector<absl::Status> RocksMessageStore::Statuses(std::vector<Op>& ops) {
  std::vector<absl::Status> out;
  out.reserve(ops.size());
  for (Op& op : ops) out.push_back(std::move(op.status));
  return out;
}

std::vector<absl::StatusOr<AcceptOutcome>> RocksMessageStore::AcceptMany(
    const std::vector<AcceptRequest>& requests) {
  std::vector<Op> ops = SubmitGroup(requests.size(), [&](size_t i, Op& op) {
    op.kind = Op::Kind::kAccept;
    op.accept = &requests[i];
  });
  std::vector<absl::StatusOr<AcceptOutcome>> out;
  out.reserve(ops.size());
  for (Op& op : ops) {
    if (op.status.ok()) {
      out.push_back(std::move(op.outcome));
    } else {
      out.push_back(std::move(op.status));
    }
  }
  return out;
}

absl::Status RocksMessageStore::RejectQueued(const std::string& queue,
                                             const std::string& message_id,
                                             const absl::Status& refusal,
                                             int64_t now_unix_ms) {
  Op op;
  op.kind = Op::Kind::kAcknowledge;
  op.org = &queue;
  op.message_id = &message_id;
  op.refusal = &refusal;
  op.now_unix_ms = now_unix_ms;
  return Submit(op);
}

absl::Status RocksMessageStore::RecordRejection(
    const v1::StoredStatus& rejection) {
  Op op;
  op.kind = Op::Kind::kReject;
  op.rejection = &rejection;
  return Submit(op);
}

absl::Status RocksMessageStore::AppendAudit(const v1::AuditEvent& event) {
  if (!audit_) return absl::OkStatus();
  Op op;
  op.kind = Op::Kind::kAudit;
  op.event = &event;
  return Submit(op);
}

absl::StatusOr<AcceptOutcome> RocksMessageStore::Accept(
    const AcceptRequest& request) {
  Op op;
  op.kind = Op::Kind::kAccept;
  op.accept = &request;
  RETURN_IF_ERROR(Submit(op));
  return std::move(op.outcome);
}

absl::StatusOr<size_t> RocksMessageStore::ExpireDue(int64_t now_unix_ms,
                                                    size_t max) {
  Op op;
  op.kind = Op::Kind::kExpire;
  op.now_unix_ms = now_unix_ms;
  op.max = max;
  RETURN_IF_ERROR(Submit(op));
  return op.expired;
}

absl::StatusOr<size_t> RocksMessageStore::PurgeAcknowledged(
    int64_t acknowledged_before_unix_ms, int64_t now_unix_ms, size_t max) {
  Op op;
  op.kind = Op::Kind::kPurge;
  op.before_unix_ms = acknowledged_before_unix_ms;
  op.now_unix_ms = now_unix_ms;
  op.max = max;
  RETURN_IF_ERROR(Submit(op));
  return op.expired;
}

absl::StatusOr<std::string> RocksMessageStore::GetDeadLetter(
    const std::string& message_id) {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), dead_letters_cf_, message_id, &value);
  if (s.IsNotFound()) {
    return Error(absl::StatusCode::kNotFound, "MESSAGE_NOT_FOUND",
                 absl::StrCat("no dead-letter record for ",
                              HexEncode(AsBytes(message_id))));
  }
  if (!s.ok()) return Unavailable("cannot read a dead-letter record", s);
  return value;
}

absl::Status RocksMessageStore::MarkDelivered(const std::string& message_id,
                                              int64_t now_unix_ms) {
  Op op;
  op.kind = Op::Kind::kDelivered;
  op.message_id = &message_id;
  op.now_unix_ms = now_unix_ms;
  return Submit(op);
}

absl::Status RocksMessageStore::MarkDeliveredMany(
    const std::vector<std::string>& ids, int64_t now_unix_ms) {
  std::vector<Op> ops = SubmitGroup(ids.size(), [&](size_t i, Op& op) {
    op.kind = Op::Kind::kDelivered;
    op.message_id = &ids[i];
    op.now_unix_ms = now_unix_ms;
  });
  for (Op& op : ops) RETURN_IF_ERROR(op.status);
  return absl::OkStatus();
}

std::vector<absl::Status> RocksMessageStore::MarkRelayed(
    const std::string& queue, const std::vector<RelayedMessage>& relayed,
    int64_t now_unix_ms) {
  std::vector<Op> ops = SubmitGroup(relayed.size(), [&](size_t i, Op& op) {
    op.kind = Op::Kind::kAcknowledge;
    op.org = &queue;
    op.message_id = &relayed[i].message_id;
    op.relayed = &relayed[i];
    op.now_unix_ms = now_unix_ms;
  });
  return Statuses(ops);
}

std::vector<absl::Status> RocksMessageStore::AcknowledgeAll(
    const std::string& recipient_org, const std::vector<AckRequest>& acks,
    int64_t now_unix_ms) {
  std::vector<Op> ops = SubmitGroup(acks.size(), [&](size_t i, Op& op) {
    op.kind = Op::Kind::kAcknowledge;
    op.org = &recipient_org;
    op.message_id = &acks[i].message_id;
    op.ack = &acks[i];
    op.now_unix_ms = now_unix_ms;
  });
  return Statuses(ops);
}

std::vector<absl::Status> RocksMessageStore::RecordPath(
    const std::string& peer, const std::vector<v1::PathNotice>& notices,
    int64_t now_unix_ms) {
  std::vector<Op> ops = SubmitGroup(notices.size(), [&](size_t i, Op& op) {
    op.kind = Op::Kind::kPath;
    op.org = &peer;
    op.message_id = &notices[i].message_id();
    op.notice = &notices[i];
    op.now_unix_ms = now_unix_ms;
  });
  return Statuses(ops);
}

absl::Status RocksMessageStore::RemoveNotices(
    const std::string& node, const std::vector<uint64_t>& seqs) {
  const std::string queue = NoticeQueue(node);
  Op op;
  op.kind = Op::Kind::kNoticeDone;
  op.org = &queue;
  op.seqs = &seqs;
  return Submit(op);
}

absl::StatusOr<std::vector<PendingNotice>> RocksMessageStore::ReadNotices(
    const std::string& node, size_t max) {
  ASSIGN_OR_RETURN(std::vector<QueuedMessage> found,
                   ScanQueue(NoticeQueue(node), 0, max));
  auto [values, statuses] = MultiGetByIds(db_.get(), status_cf_, found);
  std::vector<PendingNotice> out;
  out.reserve(found.size());
  for (size_t i = 0; i < found.size(); ++i) {
    if (!statuses[i].ok()) {
      return Unavailable("cannot read a status record", statuses[i]);
    }
    PendingNotice n;
    n.seq = found[i].seq;
    if (!n.status.ParseFromArray(values[i].data(),
                                 static_cast<int>(values[i].size()))) {
      return Error(absl::StatusCode::kDataLoss, "STORE_CORRUPT",
                   "a status record does not parse; restore the data "
                   "directory from a backup");
    }
    out.push_back(std::move(n));
  }
  return out;
}

absl::StatusOr<std::vector<QueuedMessage>> RocksMessageStore::ScanQueue(
    const std::string& recipient_org, uint64_t from_seq, size_t max) {
  QueueState snapshot;
  {
    absl::MutexLock lock(&queues_mu_);
    auto it = queues_.find(recipient_org);
    if (it == queues_.end()) return std::vector<QueuedMessage>();
    snapshot = it->second;
  }
  const uint64_t start = std::max(from_seq, snapshot.head_seq);
  const std::string lower = QueueKey(recipient_org, start);
  const std::string upper = QueueKey(recipient_org, UINT64_MAX);
  rocksdb::Slice lower_slice(lower), upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_lower_bound = &lower_slice;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, queues_cf_));
  std::vector<QueuedMessage> found;
  std::string org;
  for (it->Seek(lower); it->Valid() && found.size() < max; it->Next()) {
    QueuedMessage m;
    if (!DecodeQueueKey(it->key(), &org, &m.seq)) {
      return Error(absl::StatusCode::kDataLoss, "STORE_CORRUPT",
                   "a queue key has the wrong layout; restore the data "
                   "directory from a backup");
    }
    m.message_id = it->value().ToString().substr(0, 16);
    found.push_back(std::move(m));
  }
  if (!it->status().ok())
    return Unavailable("cannot read a queue", it->status());
  // Entries acknowledged meanwhile may still be found here; the head moves
  // only up to the first entry seen, never past a live one.
  const uint64_t first_seq =
      found.empty() ? snapshot.next_seq : found.front().seq;
  if (start == snapshot.head_seq) {
    // Nothing live lies below the first entry found (or below next_seq when
    // the queue is empty): later reads start there.
    absl::MutexLock lock(&queues_mu_);
    QueueState& q = queues_[recipient_org];
    q.head_seq = std::max(q.head_seq, first_seq);
  }
  return found;
}

absl::StatusOr<std::vector<QueuedMessage>> RocksMessageStore::ReadQueue(
    const std::string& recipient_org, uint64_t from_seq, size_t max) {
  ASSIGN_OR_RETURN(std::vector<QueuedMessage> found,
                   ScanQueue(recipient_org, from_seq, max));
  // One batched lookup for the page's envelopes.
  auto [values, statuses] = MultiGetByIds(db_.get(), envelopes_cf_, found);
  std::vector<QueuedMessage> out;
  out.reserve(found.size());
  for (size_t i = 0; i < found.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;  // acknowledged meanwhile
    if (!statuses[i].ok()) {
      return Unavailable("cannot read an envelope", statuses[i]);
    }
    found[i].envelope = values[i].ToString();
    out.push_back(std::move(found[i]));
  }
  return out;
}

absl::StatusOr<v1::StoredStatus> RocksMessageStore::GetStatus(
    const std::string& message_id) {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), status_cf_, message_id, &value);
  if (s.IsNotFound()) {
    return Error(absl::StatusCode::kNotFound, "MESSAGE_NOT_FOUND",
                 absl::StrCat("no message ", HexEncode(AsBytes(message_id)),
                              " is known to this node"));
  }
  if (!s.ok()) return Unavailable("cannot read a status record", s);
  v1::StoredStatus status;
  if (!status.ParseFromString(value)) {
    return Error(absl::StatusCode::kDataLoss, "STORE_CORRUPT",
                 "a status record does not parse; restore the data directory "
                 "from a backup");
  }
  return status;
}

absl::StatusOr<v1::CaseRecord> RocksMessageStore::GetCase(
    const std::string& case_ref) {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), cases_cf_, case_ref, &value);
  if (s.IsNotFound()) return v1::CaseRecord();
  if (!s.ok()) return Unavailable("cannot read a case record", s);
  v1::CaseRecord rec;
  if (!rec.ParseFromString(value)) {
    return Error(absl::StatusCode::kDataLoss, "STORE_CORRUPT",
                 "a case record does not parse; restore the data directory "
                 "from a backup");
  }
  return rec;
}

namespace {
// Case references of the deadline index entries in [from, to), deduplicated.
absl::StatusOr<std::vector<std::string>> ScanDeadlines(
    rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const std::string& from,
    const std::string& to, size_t max) {
  rocksdb::Slice upper(to);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, cf));
  std::vector<std::string> out;
  absl::flat_hash_set<std::string> seen;
  for (it->Seek(from); it->Valid() && out.size() < max; it->Next()) {
    std::string ref = CaseOfDeadlineKey(
        absl::string_view(it->key().data(), it->key().size()));
    if (!ref.empty() && seen.insert(ref).second) out.push_back(std::move(ref));
  }
  if (!it->status().ok()) {
    return Unavailable("cannot read the deadline index", it->status());
  }
  return out;
}
}  // namespace

absl::StatusOr<std::vector<std::string>> RocksMessageStore::DueCases(
    int64_t now_unix_ms, size_t max) {
  return ScanDeadlines(db_.get(), deadlines_cf_, "p", DueBound(now_unix_ms),
                       max);
}

absl::StatusOr<std::vector<std::string>> RocksMessageStore::OverdueCases(
    size_t max) {
  return ScanDeadlines(db_.get(), deadlines_cf_, "o", "p", max);
}

absl::StatusOr<uint64_t> RocksMessageStore::QueueDepth(
    const std::string& recipient_org) {
  absl::MutexLock lock(&queues_mu_);
  auto it = queues_.find(recipient_org);
  return it == queues_.end() ? 0 : it->second.depth;
}

absl::StatusOr<uint64_t> RocksMessageStore::QueueBytes(
    const std::string& recipient_org) {
  absl::MutexLock lock(&queues_mu_);
  auto it = queues_.find(recipient_org);
  return it == queues_.end() ? 0 : it->second.bytes;
}

uint64_t RocksMessageStore::commits() const { return commits_.load(); }

}  // namespace trm::storage
