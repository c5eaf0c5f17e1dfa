#include "client/agent/agent_store.h"

#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/bytes.h"
#include "common/status.h"

namespace trm::agent {
namespace {

// Keys: the record, and the indexes that find it.
//   m/<id>                      -> AgentRecord
//   s/<be64 stored_ms><id>      -> ""   (newest first)
//   c/<case_ref>\0<id>          -> ""   (a case's messages)
//   x/<case_ref>                -> be64 time its CASE_CLOSURE was stored
constexpr char kRecord[] = "m/";
constexpr char kByTime[] = "s/";
constexpr char kByCase[] = "c/";
constexpr char kClosed[] = "x/";
constexpr char kWitness[] = "w/";

std::string Be64(int64_t v) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<char>(static_cast<uint64_t>(v) >> (56 - 8 * i));
  }
  return out;
}

int64_t FromBe64(absl::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < s.size(); ++i) {
    v = (v << 8) | static_cast<uint8_t>(s[i]);
  }
  return static_cast<int64_t>(v);
}

std::string TimeKey(const v1::AgentRecord& r) {
  return absl::StrCat(kByTime, Be64(r.stored_unix_ms()), r.message_id());
}

std::string CaseKey(const std::string& case_ref, const std::string& id) {
  return absl::StrCat(kByCase, case_ref, std::string(1, '\0'), id);
}

absl::Status Io(const rocksdb::Status& s, absl::string_view what) {
  return Error(absl::StatusCode::kInternal, "AGENT_STORE_IO",
               absl::StrCat(what, ": ", s.ToString()));
}

absl::Status Corrupt(absl::string_view what) {
  return Error(absl::StatusCode::kDataLoss, "AGENT_STORE_CORRUPT", what);
}

absl::Status NotFound(const std::string& id) {
  return Error(absl::StatusCode::kNotFound, "AGENT_MESSAGE_NOT_FOUND",
               absl::StrCat("no message ", HexEncode(AsBytes(id)),
                            " in the agent's store"));
}

rocksdb::WriteOptions Durable() {
  rocksdb::WriteOptions o;
  o.sync = true;
  return o;
}

}  // namespace

absl::StatusOr<std::unique_ptr<AgentStore>> AgentStore::Open(
    const std::string& dir, const Clock& clock) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.paranoid_checks = true;
  // What it stores is sealed and does not compress; uncompressed, the test
  // that no plaintext reaches the disk reads the files as they are.
  options.compression = rocksdb::kNoCompression;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) {
    return Error(absl::StatusCode::kFailedPrecondition,
                 "AGENT_STORE_OPEN_FAILED",
                 absl::StrCat("cannot open the agent's store in ", dir, ": ",
                              s.ToString()));
  }
  return std::unique_ptr<AgentStore>(
      new AgentStore(std::unique_ptr<rocksdb::DB>(raw), clock));
}

absl::StatusOr<std::optional<v1::AgentRecord>> AgentStore::Read(
    const std::string& message_id) const {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), kRecord + message_id, &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return Io(s, "read");
  v1::AgentRecord r;
  if (!r.ParseFromString(value)) {
    return Corrupt(absl::StrCat(
        "the record of ", HexEncode(AsBytes(message_id)), " does not parse"));
  }
  return r;
}

absl::StatusOr<bool> AgentStore::Put(v1::AgentRecord r) {
  if (r.message_id().size() != 16 || r.envelope().empty()) {
    return Error(absl::StatusCode::kInvalidArgument, "AGENT_RECORD_INVALID",
                 "a record needs its 16-byte message id and its envelope");
  }
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(std::optional<v1::AgentRecord> old, Read(r.message_id()));
  if (old.has_value()) return false;
  r.set_stored_unix_ms(absl::ToUnixMillis(clock_.Now()));
  rocksdb::WriteBatch batch;
  batch.Put(kRecord + r.message_id(), r.SerializeAsString());
  batch.Put(TimeKey(r), "");
  batch.Put(CaseKey(r.header().case_ref(), r.message_id()), "");
  if (r.header().type() == v1::CASE_CLOSURE) {
    batch.Put(kClosed + r.header().case_ref(), Be64(r.stored_unix_ms()));
  }
  rocksdb::Status s = db_->Write(Durable(), &batch);
  if (!s.ok()) return Io(s, "store a message");
  return true;
}

absl::StatusOr<std::optional<v1::AgentWitness>> AgentStore::Witness(
    const std::string& node) const {
  absl::ReaderMutexLock lock(&mu_);
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), kWitness + node, &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return Io(s, "read a witnessed tree head");
  v1::AgentWitness w;
  if (!w.ParseFromString(value)) {
    return Corrupt(absl::StrCat("the witnessed tree head of node ", node,
                                " does not parse"));
  }
  return w;
}

absl::Status AgentStore::PutWitness(const v1::AgentWitness& w) {
  absl::MutexLock lock(&mu_);
  rocksdb::Status s =
      db_->Put(Durable(), kWitness + w.node(), w.SerializeAsString());
  if (!s.ok()) return Io(s, "store a witnessed tree head");
  return absl::OkStatus();
}

absl::StatusOr<v1::AgentRecord> AgentStore::Get(
    const std::string& message_id) const {
  absl::ReaderMutexLock lock(&mu_);
  ASSIGN_OR_RETURN(std::optional<v1::AgentRecord> r, Read(message_id));
  if (!r.has_value()) return NotFound(message_id);
  return *std::move(r);
}

absl::StatusOr<std::vector<v1::AgentRecord>> AgentStore::List(
    const ListFilter& f) const {
  const size_t limit = std::min(f.limit, kMaxList);
  absl::ReaderMutexLock lock(&mu_);
  std::vector<v1::AgentRecord> out;
  auto take = [&](const v1::AgentRecord& r) {
    if (f.type != v1::MESSAGE_TYPE_UNSPECIFIED && r.header().type() != f.type) {
      return;
    }
    if (f.unread_only && r.read()) return;
    if (f.box != ListFilter::Box::kAny &&
        r.outgoing() != (f.box == ListFilter::Box::kOutbox)) {
      return;
    }
    out.push_back(r);
  };
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions()));
  if (!f.case_ref.empty()) {
    // A case holds few messages: all of them, then newest first.
    const std::string prefix = CaseKey(f.case_ref, "");
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
         it->Next()) {
      const std::string id = it->key().ToString().substr(prefix.size());
      ASSIGN_OR_RETURN(std::optional<v1::AgentRecord> r, Read(id));
      if (!r.has_value()) return Corrupt("a case index names no record");
      take(*r);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return a.stored_unix_ms() > b.stored_unix_ms();
    });
    if (out.size() > limit) out.resize(limit);
  } else {
    const std::string prefix = kByTime;
    for (it->SeekForPrev(prefix + std::string(9, '\xff'));
         it->Valid() && it->key().starts_with(prefix) && out.size() < limit;
         it->Prev()) {
      if (it->key().size() != prefix.size() + 8 + 16) {
        return Corrupt("a time index key has the wrong length");
      }
      const std::string id = it->key().ToString().substr(prefix.size() + 8);
      ASSIGN_OR_RETURN(std::optional<v1::AgentRecord> r, Read(id));
      if (!r.has_value()) return Corrupt("a time index names no record");
      take(*r);
    }
  }
  if (!it->status().ok()) return Io(it->status(), "list");
  return out;
}

absl::Status AgentStore::Update(
    const std::string& message_id,
    const std::function<void(v1::AgentRecord&)>& change) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(std::optional<v1::AgentRecord> r, Read(message_id));
  if (!r.has_value()) return NotFound(message_id);
  change(*r);
  rocksdb::Status s =
      db_->Put(Durable(), kRecord + message_id, r->SerializeAsString());
  return s.ok() ? absl::OkStatus() : Io(s, "update a message");
}

absl::StatusOr<std::vector<std::string>> AgentStore::Cases() const {
  ListFilter f;
  f.limit = kMaxList;
  ASSIGN_OR_RETURN(std::vector<v1::AgentRecord> all, List(f));
  std::vector<std::string> cases;
  std::set<std::string> seen;
  for (const auto& r : all) {
    if (seen.insert(r.header().case_ref()).second) {
      cases.push_back(r.header().case_ref());
    }
  }
  return cases;
}

absl::Status AgentStore::SetLastState(const std::string& message_id,
                                      v1::MessageState state) {
  return Update(message_id,
                [state](v1::AgentRecord& r) { r.set_last_state(state); });
}

absl::Status AgentStore::SetRead(const std::string& message_id, bool read) {
  return Update(message_id, [read](v1::AgentRecord& r) { r.set_read(read); });
}

absl::Status AgentStore::AddNote(const std::string& message_id,
                                 v1::AgentNote note) {
  note.set_time_unix_ms(absl::ToUnixMillis(clock_.Now()));
  return Update(message_id, [&note](v1::AgentRecord& r) {
    *r.add_notes() = std::move(note);
  });
}

absl::Status AgentStore::MarkRefused(const std::string& message_id,
                                     const std::string& reason,
                                     const std::string& text,
                                     const std::string& user) {
  const int64_t now = absl::ToUnixMillis(clock_.Now());
  return Update(message_id, [&](v1::AgentRecord& r) {
    r.set_refused_unix_ms(now);
    r.set_refusal_reason(reason);
    r.set_refusal_text(text);
    r.set_refused_by(user);
    r.clear_envelope();
  });
}

absl::StatusOr<size_t> AgentStore::EraseCaseLocked(
    const std::string& case_ref) {
  rocksdb::WriteBatch batch;
  size_t erased = 0;
  const std::string prefix = CaseKey(case_ref, "");
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
       it->Next()) {
    const std::string id = it->key().ToString().substr(prefix.size());
    ASSIGN_OR_RETURN(std::optional<v1::AgentRecord> r, Read(id));
    if (r.has_value()) {
      batch.Delete(kRecord + id);
      batch.Delete(TimeKey(*r));
      ++erased;
    }
    batch.Delete(it->key());
  }
  if (!it->status().ok()) return Io(it->status(), "erase a case");
  batch.Delete(kClosed + case_ref);
  rocksdb::Status s = db_->Write(Durable(), &batch);
  if (!s.ok()) return Io(s, "erase a case");
  return erased;
}

absl::StatusOr<size_t> AgentStore::EraseCase(const std::string& case_ref) {
  absl::MutexLock lock(&mu_);
  return EraseCaseLocked(case_ref);
}

absl::StatusOr<std::vector<std::string>> AgentStore::PurgeClosed(
    absl::Duration retention) {
  absl::MutexLock lock(&mu_);
  const int64_t cutoff = absl::ToUnixMillis(clock_.Now() - retention);
  std::vector<std::string> due;
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(kClosed); it->Valid() && it->key().starts_with(kClosed);
         it->Next()) {
      if (FromBe64(it->value().ToString()) <= cutoff) {
        due.push_back(it->key().ToString().substr(sizeof(kClosed) - 1));
      }
    }
    if (!it->status().ok()) return Io(it->status(), "purge");
  }
  for (const std::string& case_ref : due) {
    RETURN_IF_ERROR(EraseCaseLocked(case_ref).status());
  }
  return due;
}

}  // namespace trm::agent
