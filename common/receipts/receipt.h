// A node's signed receipt (proto/trm/v1/receipt.proto): checking one
// against the node's key. Receipts are signed in batches (one Ed25519
// signature over the RFC 9162 Merkle root of the batch's leaves);
// docs/protocol.md gives the layout. Nodes sign them (server/receipts);
// clients and relaying nodes check them.
//
//   RETURN_IF_ERROR(VerifyReceipt(receipt, node_public_key));
#ifndef TRM_COMMON_RECEIPTS_RECEIPT_H_
#define TRM_COMMON_RECEIPTS_RECEIPT_H_

#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/crypto/ed25519.h"
#include "trm/v1/receipt.pb.h"

namespace trm::receipts {

// "trm-broker/v1 receipt-batch" 0x00 || u64be(batch_size) || batch_root.
std::string BatchSignatureInput(uint64_t batch_size,
                                absl::string_view batch_root);

// Checks the inclusion path and the signature. INVALID_ARGUMENT
// (RECEIPT_INVALID) with what failed.
absl::Status VerifyReceipt(const v1::Receipt& receipt,
                           const crypto::Ed25519PublicKey& node_key);

// Batch signatures already checked: the receipts of one batch share one
// signature, so a verifier that meets many of them checks it once. Not
// thread-safe; keep one per batch of work.
class VerifiedBatches {
 public:
  bool Contains(const std::string& key) const { return seen_.contains(key); }
  void Insert(std::string key) { seen_.insert(std::move(key)); }

 private:
  absl::flat_hash_set<std::string> seen_;
};

// VerifyReceipt, checking each distinct batch signature once.
absl::Status VerifyReceipt(const v1::Receipt& receipt,
                           const crypto::Ed25519PublicKey& node_key,
                           VerifiedBatches& verified);

}  // namespace trm::receipts

#endif  // TRM_COMMON_RECEIPTS_RECEIPT_H_
