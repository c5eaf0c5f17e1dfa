#include "server/storage/store_errors.h"

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace trm::storage {

absl::Status StoreUnavailable(absl::string_view what,
                              const rocksdb::Status& s) {
  return Error(absl::StatusCode::kUnavailable, "STORE_UNAVAILABLE",
               absl::StrCat(what, ": ", s.ToString(),
                            ". Nothing was stored; retry later, and check the "
                            "node's disk"));
}

absl::Status StoreCorrupt(absl::string_view what) {
  return Error(
      absl::StatusCode::kDataLoss, "STORE_CORRUPT",
      absl::StrCat(what, "; restore the data directory from a backup"));
}

}  // namespace trm::storage
