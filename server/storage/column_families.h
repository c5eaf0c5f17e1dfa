// The store's RocksDB column families: their names, their options, and the
// handles of an open store by name (docs/architecture.md, "Storage").
//
//   std::vector<rocksdb::ColumnFamilyDescriptor> d = FamilyDescriptors();
//   ... rocksdb::DB::Open(options, path, d, &handles, &db) ...
//   ASSIGN_OR_RETURN(ColumnFamilies cf, ColumnFamilies::Of(handles));
//   batch.Put(cf.status, id, record);
#ifndef TRM_SERVER_STORAGE_COLUMN_FAMILIES_H_
#define TRM_SERVER_STORAGE_COLUMN_FAMILIES_H_

#include <vector>

#include "absl/status/statusor.h"
#include "rocksdb/db.h"

namespace trm::storage {

// Every family of the store, with the options its use needs (memtable
// representation, bloom filters, blob files, compaction triggers).
std::vector<rocksdb::ColumnFamilyDescriptor> FamilyDescriptors();

// The handles of an open store, each by its family's name. The store owns
// them (it destroys them before it closes the database).
struct ColumnFamilies {
  rocksdb::ColumnFamilyHandle* meta = nullptr;       // the default family
  rocksdb::ColumnFamilyHandle* status = nullptr;     // id -> StoredStatus
  rocksdb::ColumnFamilyHandle* envelopes = nullptr;  // id -> envelope
  rocksdb::ColumnFamilyHandle* queues = nullptr;     // QueueKey -> QueueValue
  rocksdb::ColumnFamilyHandle* expiry = nullptr;     // TimeKey -> queue
  rocksdb::ColumnFamilyHandle* dead_letters = nullptr;  // id -> envelope
  rocksdb::ColumnFamilyHandle* acked = nullptr;         // TimeKey -> ""
  rocksdb::ColumnFamilyHandle* audit = nullptr;         // the audit log's
  rocksdb::ColumnFamilyHandle* audit_tree = nullptr;
  rocksdb::ColumnFamilyHandle* audit_index = nullptr;
  rocksdb::ColumnFamilyHandle* cases = nullptr;      // case_ref -> CaseRecord
  rocksdb::ColumnFamilyHandle* deadlines = nullptr;  // DeadlineIndexKeys

  // Finds each family among `handles` by name: STORE_OPEN_FAILED naming
  // the family when one is not there.
  static absl::StatusOr<ColumnFamilies> Of(
      const std::vector<rocksdb::ColumnFamilyHandle*>& handles);
};

}  // namespace trm::storage

#endif  // TRM_SERVER_STORAGE_COLUMN_FAMILIES_H_
