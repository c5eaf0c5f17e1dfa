#include "server/storage/audit_index.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "server/storage/store_keys.h"

namespace trm::storage {
namespace {

constexpr char kGroupTag = 'f';

// tag || u8 len || field: the prefix of one field's keys.
std::string FieldPrefix(char tag, absl::string_view field) {
  std::string k(1, tag);
  k.push_back(static_cast<char>(std::min<size_t>(field.size(), 255)));
  k.append(field.data(), std::min<size_t>(field.size(), 255));
  return k;
}

std::string GroupPrefix(uint64_t first) {
  std::string k(1, kGroupTag);
  PutU64BE(k, first);
  return k;
}

absl::Status Unavailable(const rocksdb::Status& s) {
  return Error(absl::StatusCode::kUnavailable, "STORE_UNAVAILABLE",
               absl::StrCat("cannot read the audit index: ", s.ToString()));
}

// Calls visit(index) for the keys prefix || u64be(i), from <= i < limit,
// ascending, at most `max` of them. Returns whether the range ended before
// `max` was reached.
absl::StatusOr<bool> Scan(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                          const std::string& prefix, uint64_t from,
                          uint64_t limit, uint64_t max,
                          const std::function<void(uint64_t)>& visit) {
  if (from >= limit) return true;
  std::string lower = prefix;
  PutU64BE(lower, from);
  std::string upper = prefix;
  PutU64BE(upper, limit);
  rocksdb::Slice lo(lower), up(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_lower_bound = &lo;
  ro.iterate_upper_bound = &up;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, cf));
  uint64_t n = 0;
  for (it->Seek(lower); it->Valid(); it->Next()) {
    if (n == max) return false;
    visit(GetU64BE(it->key().data() + it->key().size() - 8));
    ++n;
  }
  if (!it->status().ok()) return Unavailable(it->status());
  return true;
}

// Every entry from `from` on: for queries no index narrows.
AuditCandidates AllFrom(uint64_t from, uint64_t limit, uint64_t max) {
  AuditCandidates out;
  out.next = limit;
  for (uint64_t i = from; i < limit; ++i) {
    if (out.indexes.size() == max) {
      out.complete = false;
      out.next = i;
      break;
    }
    out.indexes.push_back(i);
  }
  return out;
}

// The candidates of a message id or case reference: each group's first
// event and its later ones. A field with more groups or entries than `max`
// (a flood of messages under one case reference) is answered as a query
// without an index, which pages through the log in steps of `max`.
absl::StatusOr<AuditCandidates> GroupCandidates(rocksdb::DB* db,
                                                rocksdb::ColumnFamilyHandle* cf,
                                                const std::string& prefix,
                                                uint64_t from, uint64_t limit,
                                                uint64_t max) {
  std::vector<uint64_t> firsts;
  // Groups begun at or after `limit` hold nothing below it.
  ASSIGN_OR_RETURN(bool all_groups,
                   Scan(db, cf, prefix, 0, limit, max,
                        [&](uint64_t first) { firsts.push_back(first); }));
  if (!all_groups) return AllFrom(from, limit, max);
  AuditCandidates out;
  out.next = limit;
  for (uint64_t first : firsts) {
    if (first >= from) out.indexes.push_back(first);
    if (out.indexes.size() > max) return AllFrom(from, limit, max);
    ASSIGN_OR_RETURN(bool whole,
                     Scan(db, cf, GroupPrefix(first), std::max(from, first + 1),
                          limit, max - out.indexes.size(),
                          [&](uint64_t i) { out.indexes.push_back(i); }));
    if (!whole) return AllFrom(from, limit, max);
  }
  std::sort(out.indexes.begin(), out.indexes.end());
  return out;
}

}  // namespace

void PutAuditIndexEntries(rocksdb::ColumnFamilyHandle* cf,
                          const v1::AuditEvent& event, uint64_t index,
                          uint64_t* group, rocksdb::WriteBatch& batch) {
  std::string suffix;
  PutU64BE(suffix, index);
  auto put = [&](char tag, absl::string_view field) {
    if (field.empty()) return;
    batch.Put(cf, FieldPrefix(tag, field) + suffix, "").PermitUncheckedError();
  };
  if (group != nullptr && *group != 0) {
    batch.Put(cf, GroupPrefix(*group - 1) + suffix, "").PermitUncheckedError();
  } else {
    put('m', event.message_id());
    put('c', event.case_ref());
    if (group != nullptr) *group = index + 1;
  }
  put('o', event.sender_org());
  if (event.recipient_org() != event.sender_org()) {
    put('o', event.recipient_org());
  }
  put('n', event.peer_node());
  const char kind = static_cast<char>(event.kind());
  put('k', absl::string_view(&kind, 1));
}

absl::StatusOr<AuditCandidates> FindAuditCandidates(
    rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const v1::TrailQuery& q,
    uint64_t from, uint64_t limit, uint64_t max) {
  AuditCandidates out;
  out.next = limit;
  if (!q.message_id().empty()) {
    return GroupCandidates(db, cf, FieldPrefix('m', q.message_id()), from,
                           limit, max);
  }
  if (!q.case_ref().empty()) {
    return GroupCandidates(db, cf, FieldPrefix('c', q.case_ref()), from, limit,
                           max);
  }
  std::string prefix;
  if (!q.organisation().empty()) {
    prefix = FieldPrefix('o', q.organisation());
  } else if (!q.node().empty()) {
    prefix = FieldPrefix('n', q.node());
  } else if (q.kind() != v1::AUDIT_EVENT_KIND_UNSPECIFIED) {
    const char kind = static_cast<char>(q.kind());
    prefix = FieldPrefix('k', absl::string_view(&kind, 1));
  }
  if (prefix.empty()) return AllFrom(from, limit, max);
  ASSIGN_OR_RETURN(out.complete,
                   Scan(db, cf, prefix, from, limit, max,
                        [&](uint64_t i) { out.indexes.push_back(i); }));
  if (!out.complete) out.next = out.indexes.back() + 1;
  return out;
}

}  // namespace trm::storage
