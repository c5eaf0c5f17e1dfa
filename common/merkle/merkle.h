// Merkle tree hashing of RFC 9162 section 2.1 (Certificate Transparency v2):
// leaf hash SHA-256(0x00 || leaf), interior hash SHA-256(0x01 || left ||
// right), the tree split at the largest power of two below its size.
// Used for batch receipts now and for the audit log later.
//
//   std::vector<MerkleHash> leaves = {LeafHash(a), LeafHash(b), LeafHash(c)};
//   MerkleHash root = RootOf(leaves);
//   std::vector<MerkleHash> path = InclusionPath(leaves, 1);
//   bool ok = VerifyInclusion(1, leaves.size(), leaves[1], path, root);
#ifndef TRM_COMMON_MERKLE_MERKLE_H_
#define TRM_COMMON_MERKLE_MERKLE_H_

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "common/bytes.h"
#include "common/crypto/hash.h"

namespace trm::merkle {

using MerkleHash = crypto::Sha256Digest;

MerkleHash LeafHash(ByteView leaf);
MerkleHash NodeHash(const MerkleHash& left, const MerkleHash& right);

// MTH(D[n]) over leaf hashes; the hash of the empty string for n = 0.
MerkleHash RootOf(std::span<const MerkleHash> leaf_hashes);

// PATH(m, D[n]) of RFC 9162 section 2.1.3.1, nearest sibling first. Empty
// when index is out of range.
std::vector<MerkleHash> InclusionPath(std::span<const MerkleHash> leaf_hashes,
                                      size_t index);

// The verification algorithm of RFC 9162 section 2.1.3.2.
bool VerifyInclusion(uint64_t index, uint64_t tree_size,
                     const MerkleHash& leaf_hash,
                     std::span<const MerkleHash> path, const MerkleHash& root);

// For a log too large to hold: the proofs of RFC 9162 sections 2.1.3 and
// 2.1.4 computed from a function that returns MTH(D[start:start+size]) of
// the log's leaves (a stored subtree, or a combination of them). Each
// proof asks for O(log n) ranges.
using RangeHashFn =
    std::function<absl::StatusOr<MerkleHash>(uint64_t start, uint64_t size)>;

// PATH(index, D[tree_size]), nearest sibling first. INVALID_ARGUMENT when
// index >= tree_size.
absl::StatusOr<std::vector<MerkleHash>> InclusionProofOf(
    uint64_t index, uint64_t tree_size, const RangeHashFn& mth);

// PROOF(first, D[second]) of RFC 9162 section 2.1.4.1. INVALID_ARGUMENT
// unless 0 < first <= second.
absl::StatusOr<std::vector<MerkleHash>> ConsistencyProofOf(
    uint64_t first, uint64_t second, const RangeHashFn& mth);

// The verification algorithm of RFC 9162 section 2.1.4.2: whether the tree
// of size `second` with root `second_root` extends the tree of size `first`
// with root `first_root`.
bool VerifyConsistency(uint64_t first, uint64_t second,
                       const MerkleHash& first_root,
                       const MerkleHash& second_root,
                       std::span<const MerkleHash> proof);

// The largest power of two strictly less than n (n >= 2).
uint64_t SplitPoint(uint64_t n);

// All levels of a tree built bottom-up (a level's odd last node moves up
// unchanged, which gives the RFC 9162 tree), so that the root and every
// inclusion path of a batch cost O(n) and O(log n) instead of recomputing
// subtrees per leaf.
class Tree {
 public:
  explicit Tree(std::vector<MerkleHash> leaf_hashes);
  size_t size() const { return levels_.front().size(); }
  MerkleHash Root() const;
  // Equal to InclusionPath(leaves, index).
  std::vector<MerkleHash> Path(size_t index) const;

 private:
  std::vector<std::vector<MerkleHash>> levels_;  // levels_[0] = leaves
};

}  // namespace trm::merkle

#endif  // TRM_COMMON_MERKLE_MERKLE_H_
