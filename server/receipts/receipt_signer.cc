#include "server/receipts/receipt_signer.h"

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

std::string AsString(const merkle::MerkleHash& h) {
  return std::string(reinterpret_cast<const char*>(h.data()), h.size());
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

struct ReceiptSigner::Waiter {
  std::string leaf;
  v1::Receipt receipt;
  absl::Status status;
  bool done = false;
};

ReceiptSigner::ReceiptSigner(const crypto::Ed25519PrivateKey& key,
                             size_t max_batch)
    : key_(key), max_batch_(std::max<size_t>(1, max_batch)) {
  const crypto::KeyId id = crypto::KeyIdOf(key.public_key());
  key_id_.assign(id.begin(), id.end());
}

bool ReceiptSigner::Released(Waiter* w) const { return w->done || !signing_; }

absl::StatusOr<v1::Receipt> ReceiptSigner::Sign(const v1::ReceiptLeaf& leaf) {
  Waiter me;
  leaf.SerializeToString(&me.leaf);
  absl::MutexLock lock(&mu_);
  queue_.push_back(&me);
  while (!me.done) {
    if (signing_) {
      struct Args {
        const ReceiptSigner* signer;
        Waiter* waiter;
      } args{this, &me};
      mu_.Await(absl::Condition(
          +[](Args* a) {
            a->signer->mu_.AssertReaderHeld();
            return a->signer->Released(a->waiter);
          },
          &args));
      continue;
    }
    // Lead one round: take what is queued (this caller included, unless an
    // earlier round already served it).
    signing_ = true;
    const size_t n = std::min(queue_.size(), max_batch_);
    std::vector<Waiter*> batch(queue_.begin(), queue_.begin() + n);
    queue_.erase(queue_.begin(), queue_.begin() + n);
    mu_.Unlock();
    SignBatch(batch);
    mu_.Lock();
    ++signatures_;
    for (Waiter* w : batch) w->done = true;
    signing_ = false;
  }
  if (!me.status.ok()) return me.status;
  return std::move(me.receipt);
}

void ReceiptSigner::SignBatch(std::vector<Waiter*>& batch) {
  std::vector<merkle::MerkleHash> leaves;
  leaves.reserve(batch.size());
  for (Waiter* w : batch) leaves.push_back(merkle::LeafHash(AsBytes(w->leaf)));
  const merkle::Tree tree(std::move(leaves));
  const std::string root = AsString(tree.Root());
  absl::StatusOr<crypto::Ed25519Signature> sig =
      key_.Sign(AsBytes(BatchSignatureInput(batch.size(), root)));
  for (size_t i = 0; i < batch.size(); ++i) {
    Waiter* w = batch[i];
    if (!sig.ok()) {
      w->status = sig.status();
      continue;
    }
    v1::Receipt& r = w->receipt;
    r.set_leaf(w->leaf);
    r.set_leaf_index(i);
    r.set_batch_size(batch.size());
    for (const merkle::MerkleHash& h : tree.Path(i)) {
      r.add_inclusion_path(AsString(h));
    }
    r.set_batch_root(root);
    r.set_node_key_id(key_id_);
    r.set_signature(sig->data(), sig->size());
  }
}

absl::StatusOr<std::vector<v1::Receipt>> ReceiptSigner::SignMany(
    const std::vector<v1::ReceiptLeaf>& leaves) {
  std::vector<Waiter> waiters(leaves.size());
  std::vector<Waiter*> batch;
  for (size_t i = 0; i < leaves.size(); ++i) {
    waiters[i].leaf = leaves[i].SerializeAsString();
    batch.push_back(&waiters[i]);
  }
  std::vector<v1::Receipt> out;
  if (batch.empty()) return out;
  SignBatch(batch);
  {
    absl::MutexLock lock(&mu_);
    ++signatures_;
  }
  for (Waiter& w : waiters) {
    RETURN_IF_ERROR(w.status);
    out.push_back(std::move(w.receipt));
  }
  return out;
}

uint64_t ReceiptSigner::signatures() const {
  absl::MutexLock lock(&mu_);
  return signatures_;
}

}  // namespace trm::receipts
