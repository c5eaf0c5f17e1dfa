#include "server/storage/column_families.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "rocksdb/cache.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/memtablerep.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/table_properties_collectors.h"

namespace trm::storage {
namespace {

constexpr char kStatus[] = "status";
constexpr char kEnvelopes[] = "envelopes";
constexpr char kQueues[] = "queues";
constexpr char kExpiry[] = "expiry";
constexpr char kDeadLetters[] = "dead_letters";
constexpr char kAcked[] = "acked";
constexpr char kAudit[] = "audit";
constexpr char kAuditTree[] = "audit_tree";
constexpr char kAuditIndex[] = "audit_index";
constexpr char kCases[] = "cases";
constexpr char kDeadlines[] = "deadlines";

}  // namespace

std::vector<rocksdb::ColumnFamilyDescriptor> FamilyDescriptors() {
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
  // would see one key per seek. The one scan, of the case records for
  // statistics, asks for total order.)
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
  return {{rocksdb::kDefaultColumnFamilyName, plain},
          {kStatus, by_key(plain)},
          {kEnvelopes, by_key(blobs)},
          {kQueues, queue},
          {kExpiry, queue},
          {kDeadLetters, by_key(blobs)},
          {kAcked, queue},
          {kAudit, appended},
          {kAuditTree, appended},
          {kAuditIndex, appended},
          {kCases, by_key(plain)},
          {kDeadlines, plain}};
}

absl::StatusOr<ColumnFamilies> ColumnFamilies::Of(
    const std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
  ColumnFamilies cf;
  const std::pair<const char*, rocksdb::ColumnFamilyHandle**> wanted[] = {
      {rocksdb::kDefaultColumnFamilyName.c_str(), &cf.meta},
      {kStatus, &cf.status},
      {kEnvelopes, &cf.envelopes},
      {kQueues, &cf.queues},
      {kExpiry, &cf.expiry},
      {kDeadLetters, &cf.dead_letters},
      {kAcked, &cf.acked},
      {kAudit, &cf.audit},
      {kAuditTree, &cf.audit_tree},
      {kAuditIndex, &cf.audit_index},
      {kCases, &cf.cases},
      {kDeadlines, &cf.deadlines}};
  for (const auto& [name, slot] : wanted) {
    for (rocksdb::ColumnFamilyHandle* h : handles) {
      if (h->GetName() == name) *slot = h;
    }
    if (*slot == nullptr) {
      return Error(absl::StatusCode::kFailedPrecondition, "STORE_OPEN_FAILED",
                   absl::StrCat("the store has no column family '", name,
                                "'; restore the data directory from a "
                                "backup"));
    }
  }
  return cf;
}

}  // namespace trm::storage
