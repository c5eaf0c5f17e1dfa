// Signs receipts in batches: callers that ask at the same time share one
// Ed25519 signature over the RFC 9162 Merkle root of their leaves, and each
// gets its leaf's inclusion path. One caller at a time signs (the leader);
// the others wait and are served by it or by the next round. No thread of
// its own; thread-safe.
//
//   ReceiptSigner signer(node_key, "bg");
//   ASSIGN_OR_RETURN(v1::Receipt r, signer.Sign(leaf));
//   RETURN_IF_ERROR(VerifyReceipt(r, node_public_key));
#ifndef TRM_SERVER_RECEIPTS_RECEIPT_SIGNER_H_
#define TRM_SERVER_RECEIPTS_RECEIPT_SIGNER_H_

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/crypto/ed25519.h"
#include "common/receipts/receipt.h"
#include "trm/v1/receipt.pb.h"

namespace trm::receipts {

class ReceiptSigner {
 public:
  ReceiptSigner(const crypto::Ed25519PrivateKey& key, size_t max_batch = 4096);

  absl::StatusOr<v1::Receipt> Sign(const v1::ReceiptLeaf& leaf);
  // One batch of its own for `leaves`: one signature, a receipt each.
  absl::StatusOr<std::vector<v1::Receipt>> SignMany(
      const std::vector<v1::ReceiptLeaf>& leaves);

  // Signatures made so far (one per batch).
  uint64_t signatures() const;

 private:
  struct Waiter;
  void SignBatch(std::vector<Waiter*>& batch);
  bool Released(Waiter* w) const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const crypto::Ed25519PrivateKey& key_;
  const size_t max_batch_;
  std::string key_id_;

  mutable absl::Mutex mu_;
  std::vector<Waiter*> queue_ ABSL_GUARDED_BY(mu_);
  bool signing_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t signatures_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace trm::receipts

#endif  // TRM_SERVER_RECEIPTS_RECEIPT_SIGNER_H_
