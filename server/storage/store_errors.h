// The errors the RocksDB store reports, with their reason tokens, so that
// each is worded once.
//
//   if (!s.ok()) return StoreUnavailable("cannot read a queue", s);
#ifndef TRM_SERVER_STORAGE_STORE_ERRORS_H_
#define TRM_SERVER_STORAGE_STORE_ERRORS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "rocksdb/status.h"

namespace trm::storage {

// UNAVAILABLE STORE_UNAVAILABLE: `what` failed with RocksDB's `s`; nothing
// was stored.
absl::Status StoreUnavailable(absl::string_view what, const rocksdb::Status& s);
// DATA_LOSS STORE_CORRUPT: `what` (a record's description) does not parse.
absl::Status StoreCorrupt(absl::string_view what);

}  // namespace trm::storage

#endif  // TRM_SERVER_STORAGE_STORE_ERRORS_H_
