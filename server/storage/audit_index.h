// The audit log's indexes for trail queries (docs/protocol.md section 16.4),
// in the audit_index column family (docs/architecture.md, "Storage"). Every
// key's value is empty:
//
//   'o' u8 len || org     || u64be(index)   sender or recipient organisation
//   'n' u8 len || node    || u64be(index)   peer node
//   'k' u8 1   || kind    || u64be(index)   event kind
//   'm' u8 len || id      || u64be(first)   message id  (a message's group)
//   'c' u8 len || case    || u64be(first)   case reference (ditto)
//   'f' u64be(first)      || u64be(index)   a later event of that group
//
// A message's first event is indexed under its message id and case
// reference; its later events (delivered, acknowledged, relayed...) are
// indexed once, under the index of that first event (the group), which the
// message's status record keeps. Message ids and case references are
// random, so their keys land anywhere in the index; the later events' keys
// follow the order messages arrived in and land near each other. A query by
// message id or case reference reads the groups under it, then each
// group's later events. An 'm' or 'c' entry whose index has no 'f' entries
// is simply one event, as every entry was before store format 3.
//
// Thread safety: stateless; Put* from the store's committer, FindCandidates
// from any thread.
#ifndef TRM_SERVER_STORAGE_AUDIT_INDEX_H_
#define TRM_SERVER_STORAGE_AUDIT_INDEX_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "rocksdb/db.h"
#include "trm/v1/audit.pb.h"

namespace trm::storage {

// Adds the index entries of `event`, the audit log's entry `index`, to
// `batch`. `group`, when given, is the event's message group: 0 when the
// message has none yet (this event becomes its first: indexed under its
// message id and case reference, and *group is set to 1 + index), else 1 +
// the index of the group's first event, whose message id and case reference
// must be this event's (the caller's status record guarantees it).
void PutAuditIndexEntries(rocksdb::ColumnFamilyHandle* cf,
                          const v1::AuditEvent& event, uint64_t index,
                          uint64_t* group, rocksdb::WriteBatch& batch);

// The entries among [from, limit) that may match `query`, ascending: those
// of the most selective index the query names, or every entry. The caller
// reads each and applies every filter. At most `max`; `complete` says
// whether every candidate below `limit` is there, and if not the next call
// continues from `next`.
struct AuditCandidates {
  std::vector<uint64_t> indexes;
  bool complete = true;
  uint64_t next = 0;
};
absl::StatusOr<AuditCandidates> FindAuditCandidates(
    rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
    const v1::TrailQuery& query, uint64_t from, uint64_t limit, uint64_t max);

}  // namespace trm::storage

#endif  // TRM_SERVER_STORAGE_AUDIT_INDEX_H_
