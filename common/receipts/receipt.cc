#include "common/receipts/receipt.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/crypto/key_files.h"
#include "common/merkle/merkle.h"
#include "common/status.h"

namespace trm::receipts {
namespace {

constexpr absl::string_view kBatchContext = "trm-broker/v1 receipt-batch";

absl::Status Invalid(absl::string_view what) {
  return Error(absl::StatusCode::kInvalidArgument, "RECEIPT_INVALID", what);
}

}  // namespace

std::string BatchSignatureInput(uint64_t batch_size,
                                absl::string_view batch_root) {
  std::string out(kBatchContext.data(), kBatchContext.size());
  out.push_back('\0');
  for (int i = 7; i >= 0; --i) {
    out.push_back(static_cast<char>(batch_size >> (8 * i)));
  }
  out.append(batch_root.data(), batch_root.size());
  return out;
}

absl::Status VerifyReceipt(const v1::Receipt& r,
                           const crypto::Ed25519PublicKey& node_key) {
  VerifiedBatches none;
  return VerifyReceipt(r, node_key, none);
}

absl::Status VerifyReceipt(const v1::Receipt& r,
                           const crypto::Ed25519PublicKey& node_key,
                           VerifiedBatches& verified) {
  if (r.batch_root().size() != 32 || r.signature().size() != 64) {
    return Invalid("batch_root must be 32 bytes and signature 64");
  }
  const crypto::KeyId id = crypto::KeyIdOf(node_key);
  if (!SameBytes(AsBytes(r.node_key_id()), id)) {
    return Invalid(absl::StrCat("signed by node key ",
                                HexEncode(AsBytes(r.node_key_id())),
                                ", not by the given key ", HexEncode(id)));
  }
  std::vector<merkle::MerkleHash> path;
  for (const std::string& p : r.inclusion_path()) {
    if (p.size() != 32)
      return Invalid("an inclusion path entry is not 32 bytes");
    merkle::MerkleHash h;
    std::copy(p.begin(), p.end(), h.begin());
    path.push_back(h);
  }
  merkle::MerkleHash root;
  std::copy(r.batch_root().begin(), r.batch_root().end(), root.begin());
  if (!merkle::VerifyInclusion(r.leaf_index(), r.batch_size(),
                               merkle::LeafHash(AsBytes(r.leaf())), path,
                               root)) {
    return Invalid("the leaf is not in the signed batch");
  }
  std::string input = BatchSignatureInput(r.batch_size(), r.batch_root());
  // The key id, the signed input and the signature: the same three were
  // checked before.
  std::string seen = absl::StrCat(r.node_key_id(), input, r.signature());
  if (verified.Contains(seen)) return absl::OkStatus();
  if (!node_key.Verify(AsBytes(input), AsBytes(r.signature()))) {
    return Invalid("the node's signature over the batch does not verify");
  }
  verified.Insert(std::move(seen));
  return absl::OkStatus();
}

}  // namespace trm::receipts
