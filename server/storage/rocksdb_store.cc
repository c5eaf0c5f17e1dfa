#include "server/storage/rocksdb_store.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/bytes.h"
#include "common/log.h"
#include "common/process/thread_name.h"
#include "common/status.h"
#include "rocksdb/utilities/checkpoint.h"
#include "server/storage/store_errors.h"
#include "server/storage/store_keys.h"

namespace trm::storage {
namespace {

// In the default column family: the on-disk format and the owning node.
constexpr char kFormatKey[] = "store/format";
constexpr char kNodeKey[] = "store/node";

absl::string_view View(const rocksdb::Slice& s) {
  return absl::string_view(s.data(), s.size());
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

// The kind of request an operation is, for the write counts.
RocksMessageStore::WriteKind KindOf(const StoreRequest& request) {
  using Kind = RocksMessageStore::WriteKind;
  if (std::holds_alternative<AcceptOp>(request)) return Kind::kAccept;
  if (std::holds_alternative<AcknowledgeOp>(request)) return Kind::kAcknowledge;
  if (std::holds_alternative<DeliveredOp>(request)) return Kind::kDelivered;
  if (std::holds_alternative<RelayedOp>(request)) return Kind::kRelayed;
  return Kind::kOther;
}

}  // namespace

struct RocksMessageStore::Op {
  Op() = default;
  explicit Op(StoreRequest r) : request(std::move(r)) {}
  StoreRequest request;
  StoreResult result;
  bool done = false;
};

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
  // One committer thread writes; hash memtables (column_families.cc) need this
  // off.
  db_options.allow_concurrent_memtable_write = false;
  if (options.file_system) {
    store->env_ = rocksdb::NewCompositeEnv(options.file_system);
    db_options.env = store->env_.get();
  }
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(
      db_options, options.path, FamilyDescriptors(), &store->handles_, &db);
  if (!s.ok()) {
    return Error(absl::StatusCode::kFailedPrecondition, "STORE_OPEN_FAILED",
                 absl::StrCat("cannot open the store at ", options.path, ": ",
                              s.ToString(),
                              ". Check the data directory's path and "
                              "permissions, and that no other trm-broker "
                              "process uses it"));
  }
  store->db_.reset(db);
  ASSIGN_OR_RETURN(store->cf_, ColumnFamilies::Of(store->handles_));
  RETURN_IF_ERROR(store->CheckFormat(options));
  RETURN_IF_ERROR(store->Recover());
  if (options.audit) {
    store->audit_ =
        std::make_unique<AuditLog>(db, store->cf_.audit, store->cf_.audit_tree,
                                   store->cf_.audit_index, options.node_id);
    RETURN_IF_ERROR(store->audit_->Recover());
  }
  store->committer_ = std::thread([s = store.get()] {
    process::NameThisThread("trm-commit");
    s->CommitLoop();
  });
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
  rocksdb::ColumnFamilyHandle* meta = cf_.meta;
  std::string format, node;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), meta, kFormatKey, &format);
  if (!s.ok() && !s.IsNotFound()) {
    return StoreUnavailable("cannot read the store's format record", s);
  }
  // A store without the record was written before it existed: format 1.
  if (s.IsNotFound()) format = "1";
  const bool convert = format == "1";
  // Format 3 indexes a message's later audit events under its first one
  // (server/storage/audit_index.h); format 2's entries read the same, so
  // it needs no conversion, only the new record.
  const bool upgrade = format == "2";
  if (!convert && !upgrade && format != std::to_string(kStoreFormat)) {
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
    return StoreUnavailable("cannot read the store's node record", s);
  }
  if (s.ok() && !options.node_id.empty() && node != options.node_id) {
    return Error(
        absl::StatusCode::kFailedPrecondition, "STORE_OF_OTHER_NODE",
        absl::StrCat("the store at ", options.path, " belongs to node '", node,
                     "', not '", options.node_id,
                     "'; point data_dir at this node's own data"));
  }
  rocksdb::WriteBatch batch;
  uint64_t converted = 0;
  if (convert) {
    // Format 2 stores the audit tree from its chunks of 16 leaves up
    // (server/storage/audit_log.h).
    ASSIGN_OR_RETURN(converted, ConvertAuditTreeFromFormat1(
                                    db_.get(), cf_.audit_tree, batch));
  }
  batch.Put(meta, kFormatKey, std::to_string(kStoreFormat))
      .PermitUncheckedError();
  if (s.IsNotFound() && !options.node_id.empty()) {
    batch.Put(meta, kNodeKey, options.node_id).PermitUncheckedError();
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  s = db_->Write(wo, &batch);
  if (!s.ok())
    return StoreUnavailable("cannot write the store's format record", s);
  if (converted > 0 || upgrade) {
    log::Info("store.converted",
              absl::StrCat("converted the store at ", options.path,
                           " from on-disk format ", format, " to format ",
                           kStoreFormat,
                           converted > 0
                               ? absl::StrCat(" (the audit tree of ", converted,
                                              " entries no longer stores its "
                                              "lowest levels)")
                               : std::string(),
                           "; an older trm-broker cannot open it now"));
  }
  return absl::OkStatus();
}

absl::Status RocksMessageStore::Recover() {
  absl::flat_hash_map<std::string, QueueState> queues;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), cf_.queues));
  std::string org;
  uint64_t seq = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!DecodeQueueKey(View(it->key()), &org, &seq)) {
      return StoreCorrupt("a queue key has the wrong layout");
    }
    QueueState& q = queues[org];
    if (q.depth == 0) q.head_seq = seq;
    q.depth++;
    q.bytes += QueueValueSize(View(it->value()));
    q.next_seq = seq + 1;
  }
  if (!it->status().ok()) {
    return StoreUnavailable("cannot read the queues", it->status());
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
  return op.result.status;
}

void RocksMessageStore::SubmitAll(std::vector<Op>& ops) {
  absl::MutexLock lock(&mu_);
  if (stopping_) {
    for (Op& op : ops) {
      op.result.status = Error(absl::StatusCode::kUnavailable, "STORE_CLOSING",
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
  using SteadyClock = std::chrono::steady_clock;
  const SteadyClock::time_point build_start = SteadyClock::now();
  auto nanos_since = [](SteadyClock::time_point t) {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(
            SteadyClock::now() - t)
            .count());
  };
  GroupWrite write(db_.get(), cf_, audit_.get(), [this](const std::string& q) {
    absl::MutexLock lock(&queues_mu_);
    auto it = queues_.find(q);
    return it == queues_.end() ? QueueState() : it->second;
  });
  // Each state change appends its audit event to the same batch.
  if (audit_) audit_->Begin();
  {
    std::vector<const StoreRequest*> requests;
    requests.reserve(group.size());
    for (Op* op : group) requests.push_back(&op->request);
    write.Prefetch(requests);
  }
  // Each request's share of the batch: what the batch grew by while it was
  // handled (its audit events and tree nodes included).
  rocksdb::WriteBatch& batch = write.batch();
  std::array<WriteTally, kWriteKinds> tally{};
  std::vector<Op*> writers;
  for (Op* op : group) {
    const uint32_t keys_before = batch.Count();
    const size_t bytes_before = batch.GetDataSize();
    if (!write.Add(op->request, op->result)) continue;
    writers.push_back(op);
    WriteTally& w = tally[static_cast<int>(KindOf(op->request))];
    w.requests++;
    w.keys += batch.Count() - keys_before;
    w.bytes += batch.GetDataSize() - bytes_before;
  }
  // A group that writes nothing (duplicates, refusals) was built all the same.
  build_ns_ += nanos_since(build_start);
  if (writers.empty()) {
    if (audit_) audit_->Abort();
    return;
  }

  const SteadyClock::time_point write_start = SteadyClock::now();
  rocksdb::WriteOptions sync;
  sync.sync = true;
  // After a failed write (a full disk, say) RocksDB refuses writes until it
  // is resumed; try that first, so the node heals once space is back.
  rocksdb::Status s = needs_resume_ ? db_->Resume() : rocksdb::Status::OK();
  if (s.ok()) {
    needs_resume_ = false;
    s = db_->Write(sync, &batch);
  }
  write_ns_ += nanos_since(write_start);
  if (!s.ok()) {
    needs_resume_ = true;
    for (Op* op : writers) {
      op->result.status = StoreUnavailable("cannot write to the store", s);
      op->result.outcome = AcceptOutcome();
    }
    if (audit_) audit_->Abort();
    return;
  }
  if (audit_) audit_->Commit();
  const uint64_t commit_id = ++commits_;
  for (int k = 0; k < kWriteKinds; ++k) {
    written_[k].requests += tally[k].requests;
    written_[k].keys += tally[k].keys;
    written_[k].bytes += tally[k].bytes;
  }
  for (Op* op : writers) op->result.outcome.commit_id = commit_id;
  absl::MutexLock lock(&queues_mu_);
  for (const auto& [queue, after] : write.queues_after()) {
    QueueState& q = queues_[queue];
    q.next_seq = std::max(q.next_seq, after.next_seq);
    q.depth = after.depth;
    q.bytes = after.bytes;
  }
}

std::vector<RocksMessageStore::Op> RocksMessageStore::SubmitGroup(
    std::vector<StoreRequest> requests) {
  std::vector<Op> ops(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    ops[i].request = std::move(requests[i]);
  }
  SubmitAll(ops);
  return ops;
}

std::vector<absl::Status> RocksMessageStore::Statuses(std::vector<Op>& ops) {
  std::vector<absl::Status> out;
  out.reserve(ops.size());
  for (Op& op : ops) out.push_back(std::move(op.result.status));
  return out;
}

std::vector<absl::StatusOr<AcceptOutcome>> RocksMessageStore::AcceptMany(
    const std::vector<AcceptRequest>& requests) {
  std::vector<StoreRequest> r;
  r.reserve(requests.size());
  for (const AcceptRequest& a : requests) r.push_back(AcceptOp{&a});
  std::vector<Op> ops = SubmitGroup(std::move(r));
  std::vector<absl::StatusOr<AcceptOutcome>> out;
  out.reserve(ops.size());
  for (Op& op : ops) {
    if (op.result.status.ok()) {
      out.push_back(std::move(op.result.outcome));
    } else {
      out.push_back(std::move(op.result.status));
    }
  }
  return out;
}

absl::Status RocksMessageStore::RejectQueued(const std::string& queue,
                                             const std::string& message_id,
                                             const absl::Status& refusal,
                                             int64_t now_unix_ms) {
  Op op(RejectQueuedOp{&queue, &message_id, &refusal, now_unix_ms});
  return Submit(op);
}

absl::Status RocksMessageStore::RecordRejection(
    const v1::StoredStatus& rejection) {
  Op op(RejectionOp{&rejection});
  return Submit(op);
}

absl::Status RocksMessageStore::AppendAudit(const v1::AuditEvent& event) {
  if (!audit_) return absl::OkStatus();
  Op op(AuditOp{&event});
  return Submit(op);
}

absl::StatusOr<bool> RocksMessageStore::PutContingency(
    const v1::SignedContingency& s, const v1::Contingency& c,
    const v1::AuditEvent& event) {
  Op op(ContingencyOp{&s, &c, &event});
  RETURN_IF_ERROR(Submit(op));
  return op.result.count == 1;
}

absl::StatusOr<std::vector<v1::SignedContingency>>
RocksMessageStore::Contingencies() {
  std::vector<v1::SignedContingency> out;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), cf_.meta));
  for (it->Seek(rocksdb::Slice(kContingencyPrefix.data(),
                               kContingencyPrefix.size()));
       it->Valid() &&
       it->key().starts_with(rocksdb::Slice(kContingencyPrefix.data(),
                                            kContingencyPrefix.size()));
       it->Next()) {
    if (!out.emplace_back().ParseFromArray(
            it->value().data(), static_cast<int>(it->value().size()))) {
      return StoreCorrupt("a contingency record does not parse");
    }
  }
  if (!it->status().ok()) {
    return StoreUnavailable("cannot read the contingencies", it->status());
  }
  return out;
}

absl::Status RocksMessageStore::ReplaceDeadline(const std::string& case_ref,
                                                const v1::Deadline& expected,
                                                const v1::Deadline& replacement,
                                                const v1::AuditEvent* event) {
  Op op(DeadlineOp{&case_ref, &expected, &replacement, event});
  return Submit(op);
}

absl::StatusOr<AcceptOutcome> RocksMessageStore::Accept(
    const AcceptRequest& request) {
  Op op(AcceptOp{&request});
  RETURN_IF_ERROR(Submit(op));
  return std::move(op.result.outcome);
}

absl::StatusOr<size_t> RocksMessageStore::ExpireDue(int64_t now_unix_ms,
                                                    size_t max) {
  Op op(ExpireOp{now_unix_ms, max});
  RETURN_IF_ERROR(Submit(op));
  return op.result.count;
}

absl::StatusOr<size_t> RocksMessageStore::PurgeAcknowledged(
    int64_t acknowledged_before_unix_ms, int64_t now_unix_ms, size_t max) {
  Op op(PurgeOp{acknowledged_before_unix_ms, now_unix_ms, max});
  RETURN_IF_ERROR(Submit(op));
  return op.result.count;
}

absl::StatusOr<std::string> RocksMessageStore::GetDeadLetter(
    const std::string& message_id) {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), cf_.dead_letters, message_id, &value);
  if (s.IsNotFound()) {
    return Error(absl::StatusCode::kNotFound, "MESSAGE_NOT_FOUND",
                 absl::StrCat("no dead-letter record for ",
                              HexEncode(AsBytes(message_id))));
  }
  if (!s.ok()) return StoreUnavailable("cannot read a dead-letter record", s);
  return value;
}

absl::Status RocksMessageStore::MarkDelivered(const std::string& message_id,
                                              int64_t now_unix_ms) {
  Op op(DeliveredOp{&message_id, now_unix_ms});
  return Submit(op);
}

absl::Status RocksMessageStore::MarkDeliveredMany(
    const std::vector<std::string>& ids, int64_t now_unix_ms) {
  std::vector<StoreRequest> r;
  r.reserve(ids.size());
  for (const std::string& id : ids) r.push_back(DeliveredOp{&id, now_unix_ms});
  std::vector<Op> ops = SubmitGroup(std::move(r));
  for (Op& op : ops) RETURN_IF_ERROR(op.result.status);
  return absl::OkStatus();
}

std::vector<absl::Status> RocksMessageStore::MarkRelayed(
    const std::string& queue, const std::vector<RelayedMessage>& relayed,
    int64_t now_unix_ms) {
  std::vector<StoreRequest> r;
  r.reserve(relayed.size());
  for (const RelayedMessage& m : relayed) {
    r.push_back(RelayedOp{&queue, &m, now_unix_ms});
  }
  std::vector<Op> ops = SubmitGroup(std::move(r));
  return Statuses(ops);
}

std::vector<absl::Status> RocksMessageStore::AcknowledgeAll(
    const std::string& recipient_org, const std::vector<AckRequest>& acks,
    int64_t now_unix_ms) {
  std::vector<StoreRequest> r;
  r.reserve(acks.size());
  for (const AckRequest& a : acks) {
    r.push_back(AcknowledgeOp{&recipient_org, &a, now_unix_ms});
  }
  std::vector<Op> ops = SubmitGroup(std::move(r));
  return Statuses(ops);
}

std::vector<absl::Status> RocksMessageStore::RecordPath(
    const std::string& peer, const std::vector<v1::PathNotice>& notices,
    int64_t now_unix_ms) {
  std::vector<StoreRequest> r;
  r.reserve(notices.size());
  for (const v1::PathNotice& n : notices) {
    r.push_back(PathOp{&peer, &n, now_unix_ms});
  }
  std::vector<Op> ops = SubmitGroup(std::move(r));
  return Statuses(ops);
}

absl::Status RocksMessageStore::RemoveNotices(
    const std::string& node, const std::vector<uint64_t>& seqs) {
  const std::string queue = NoticeQueue(node);
  Op op(NoticesDoneOp{&queue, &seqs});
  return Submit(op);
}

absl::StatusOr<std::vector<PendingNotice>> RocksMessageStore::ReadNotices(
    const std::string& node, size_t max) {
  ASSIGN_OR_RETURN(std::vector<QueuedMessage> found,
                   ScanQueue(NoticeQueue(node), 0, max));
  auto [values, statuses] = MultiGetByIds(db_.get(), cf_.status, found);
  std::vector<PendingNotice> out;
  out.reserve(found.size());
  for (size_t i = 0; i < found.size(); ++i) {
    if (!statuses[i].ok()) {
      return StoreUnavailable("cannot read a status record", statuses[i]);
    }
    PendingNotice n;
    n.seq = found[i].seq;
    if (!n.status.ParseFromArray(values[i].data(),
                                 static_cast<int>(values[i].size()))) {
      return StoreCorrupt("a status record does not parse");
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
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_.queues));
  std::vector<QueuedMessage> found;
  std::string org;
  for (it->Seek(lower); it->Valid() && found.size() < max; it->Next()) {
    QueuedMessage m;
    if (!DecodeQueueKey(View(it->key()), &org, &m.seq)) {
      return StoreCorrupt("a queue key has the wrong layout");
    }
    m.message_id = std::string(QueueValueId(View(it->value())));
    found.push_back(std::move(m));
  }
  if (!it->status().ok())
    return StoreUnavailable("cannot read a queue", it->status());
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
  auto [values, statuses] = MultiGetByIds(db_.get(), cf_.envelopes, found);
  std::vector<QueuedMessage> out;
  out.reserve(found.size());
  for (size_t i = 0; i < found.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;  // acknowledged meanwhile
    if (!statuses[i].ok()) {
      return StoreUnavailable("cannot read an envelope", statuses[i]);
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
      db_->Get(rocksdb::ReadOptions(), cf_.status, message_id, &value);
  if (s.IsNotFound()) {
    return Error(absl::StatusCode::kNotFound, "MESSAGE_NOT_FOUND",
                 absl::StrCat("no message ", HexEncode(AsBytes(message_id)),
                              " is known to this node"));
  }
  if (!s.ok()) return StoreUnavailable("cannot read a status record", s);
  v1::StoredStatus status;
  if (!status.ParseFromString(value)) {
    return StoreCorrupt("a status record does not parse");
  }
  return status;
}

absl::StatusOr<v1::CaseRecord> RocksMessageStore::GetCase(
    const std::string& case_ref) {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), cf_.cases, case_ref, &value);
  if (s.IsNotFound()) return v1::CaseRecord();
  if (!s.ok()) return StoreUnavailable("cannot read a case record", s);
  v1::CaseRecord rec;
  if (!rec.ParseFromString(value)) {
    return StoreCorrupt("a case record does not parse");
  }
  return rec;
}

absl::Status RocksMessageStore::ForEachCase(
    const std::function<absl::Status(const v1::CaseRecord&)>& visit) {
  // The family is keyed for point reads (column_families.cc): a scan of
  // all of it needs total order, which the hash memtable gives by copying
  // its keys into one sorted list for this iterator.
  rocksdb::ReadOptions ro;
  ro.total_order_seek = true;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_.cases));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    v1::CaseRecord rec;
    if (!rec.ParseFromArray(it->value().data(),
                            static_cast<int>(it->value().size()))) {
      return StoreCorrupt("a case record does not parse");
    }
    RETURN_IF_ERROR(visit(rec));
  }
  if (!it->status().ok()) {
    return StoreUnavailable("cannot read the case records", it->status());
  }
  return absl::OkStatus();
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
    return StoreUnavailable("cannot read the deadline index", it->status());
  }
  return out;
}
}  // namespace

absl::StatusOr<std::vector<std::string>> RocksMessageStore::DueCases(
    int64_t now_unix_ms, size_t max) {
  return ScanDeadlines(db_.get(), cf_.deadlines, "p", DueBound(now_unix_ms),
                       max);
}

absl::StatusOr<std::vector<std::string>> RocksMessageStore::OverdueCases(
    size_t max) {
  return ScanDeadlines(db_.get(), cf_.deadlines, "o", "p", max);
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

RocksMessageStore::CommitTime RocksMessageStore::commit_time() const {
  return CommitTime{build_ns_.load(), write_ns_.load()};
}

const char* RocksMessageStore::WriteKindName(WriteKind kind) {
  switch (kind) {
    case WriteKind::kAccept:
      return "accept";
    case WriteKind::kAcknowledge:
      return "acknowledge";
    case WriteKind::kDelivered:
      return "delivered";
    case WriteKind::kRelayed:
      return "relayed";
    case WriteKind::kOther:
      break;
  }
  return "other";
}

RocksMessageStore::WriteTally RocksMessageStore::written(WriteKind kind) const {
  const AtomicTally& a = written_[static_cast<int>(kind)];
  return WriteTally{a.requests.load(), a.keys.load(), a.bytes.load()};
}

}  // namespace trm::storage
