#include "server/receipts/receipt_signer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/crypto/key_files.h"
#include "common/merkle/merkle.h"
#include "common/status.h"

namespace trm::receipts {
namespace {

std::string AsString(const merkle::MerkleHash& h) {
  return std::string(reinterpret_cast<const char*>(h.data()), h.size());
}

}  // namespace

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
