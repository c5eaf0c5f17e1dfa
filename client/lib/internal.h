// The client library's own helpers, shared by its files; not installed.
#ifndef TRM_CLIENT_LIB_INTERNAL_H_
#define TRM_CLIENT_LIB_INTERNAL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/crypto/ed25519.h"
#include "common/directory/directory.h"
#include "trm/client/client.h"
#include "trm/v1/mailbox.pb.h"

namespace trm::client::internal {

// A file's bytes; FILE_IO (NOT_FOUND) naming the path when it cannot be
// read.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// USAGE: what the profile lacks, as its JSON key and as trmctl's flag.
absl::Status Missing(absl::string_view what, absl::string_view key,
                     absl::string_view flag);

// The signed directory `t` names, checked against its authority key; null
// when `t` names none.
absl::StatusOr<std::shared_ptr<const directory::Directory>> LoadDirectory(
    const Trust& t);

// Seal with the signing key and directory already loaded (dir null:
// offline keys only).
absl::StatusOr<Sealed> SealWith(const Message& m, const Identity& me,
                                const crypto::Ed25519PrivateKey& sign,
                                const directory::Directory* dir);

// The evidence in `s`, each piece checked against `dir` (null: each is
// listed as not checked).
absl::StatusOr<Evidence> CheckEvidence(const v1::StoredStatus& s,
                                       const directory::Directory* dir);

}  // namespace trm::client::internal

#endif  // TRM_CLIENT_LIB_INTERNAL_H_
