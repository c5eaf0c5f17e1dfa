#include "common/merkle/merkle.h"

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace trm::merkle {
uint64_t SplitPoint(uint64_t n) {
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

MerkleHash LeafHash(ByteView leaf) {
  static constexpr uint8_t kLeafPrefix = 0x00;
  return crypto::Sha256({ByteView(&kLeafPrefix, 1), leaf});
}

MerkleHash NodeHash(const MerkleHash& left, const MerkleHash& right) {
  static constexpr uint8_t kNodePrefix = 0x01;
  return crypto::Sha256({ByteView(&kNodePrefix, 1), left, right});
}

MerkleHash RootOf(std::span<const MerkleHash> leaves) {
  if (leaves.empty()) return crypto::Sha256({});
  if (leaves.size() == 1) return leaves[0];
  const size_t k = SplitPoint(leaves.size());
  return NodeHash(RootOf(leaves.first(k)), RootOf(leaves.subspan(k)));
}

std::vector<MerkleHash> InclusionPath(std::span<const MerkleHash> leaves,
                                      size_t index) {
  std::vector<MerkleHash> path;
  if (index >= leaves.size()) return path;
  // Walk down from the root, collecting the sibling subtree roots; reverse at
  // the end so the nearest sibling comes first.
  std::span<const MerkleHash> d = leaves;
  size_t m = index;
  while (d.size() > 1) {
    const size_t k = SplitPoint(d.size());
    if (m < k) {
      path.push_back(RootOf(d.subspan(k)));
      d = d.first(k);
    } else {
      path.push_back(RootOf(d.first(k)));
      d = d.subspan(k);
      m -= k;
    }
  }
  return std::vector<MerkleHash>(path.rbegin(), path.rend());
}

bool VerifyInclusion(uint64_t index, uint64_t tree_size,
                     const MerkleHash& leaf_hash,
                     std::span<const MerkleHash> path, const MerkleHash& root) {
  if (index >= tree_size) return false;
  uint64_t fn = index, sn = tree_size - 1;
  MerkleHash r = leaf_hash;
  for (const MerkleHash& p : path) {
    if (sn == 0) return false;
    if ((fn & 1) == 1 || fn == sn) {
      r = NodeHash(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

Tree::Tree(std::vector<MerkleHash> leaf_hashes) {
  levels_.push_back(std::move(leaf_hashes));
  while (levels_.back().size() > 1) {
    const std::vector<MerkleHash>& below = levels_.back();
    std::vector<MerkleHash> up;
    up.reserve((below.size() + 1) / 2);
    for (size_t i = 0; i + 1 < below.size(); i += 2) {
      up.push_back(NodeHash(below[i], below[i + 1]));
    }
    if (below.size() % 2 == 1) up.push_back(below.back());
    levels_.push_back(std::move(up));
  }
}

MerkleHash Tree::Root() const {
  return levels_.back().empty() ? crypto::Sha256({}) : levels_.back()[0];
}

std::vector<MerkleHash> Tree::Path(size_t index) const {
  std::vector<MerkleHash> path;
  if (index >= size()) return path;
  for (size_t level = 0; level + 1 < levels_.size(); ++level) {
    const size_t sibling = index ^ 1;
    if (sibling < levels_[level].size())
      path.push_back(levels_[level][sibling]);
    index /= 2;
  }
  return path;
}

absl::StatusOr<std::vector<MerkleHash>> InclusionProofOf(
    uint64_t index, uint64_t tree_size, const RangeHashFn& mth) {
  if (index >= tree_size) {
    return Error(
        absl::StatusCode::kInvalidArgument, "INDEX_OUT_OF_RANGE",
        absl::StrCat("leaf ", index, " is not in a tree of size ", tree_size));
  }
  std::vector<MerkleHash> path;
  uint64_t start = 0, size = tree_size, m = index;
  while (size > 1) {
    const uint64_t k = SplitPoint(size);
    if (m < k) {
      ASSIGN_OR_RETURN(MerkleHash h, mth(start + k, size - k));
      path.push_back(h);
      size = k;
    } else {
      ASSIGN_OR_RETURN(MerkleHash h, mth(start, k));
      path.push_back(h);
      start += k;
      size -= k;
      m -= k;
    }
  }
  return std::vector<MerkleHash>(path.rbegin(), path.rend());
}

absl::StatusOr<std::vector<MerkleHash>> ConsistencyProofOf(
    uint64_t first, uint64_t second, const RangeHashFn& mth) {
  if (first == 0 || first > second) {
    return Error(
        absl::StatusCode::kInvalidArgument, "INDEX_OUT_OF_RANGE",
        absl::StrCat("no consistency proof from size ", first, " to size ",
                     second, "; give 0 < first <= second"));
  }
  // SUBPROOF(m, D[start:start+size], b), unrolled: each step appends one
  // hash, and the recursion's results come first, so collect in reverse.
  std::vector<MerkleHash> reversed;
  uint64_t start = 0, size = second, m = first;
  bool b = true;
  while (m != size) {
    const uint64_t k = SplitPoint(size);
    if (m <= k) {
      ASSIGN_OR_RETURN(MerkleHash h, mth(start + k, size - k));
      reversed.push_back(h);
      size = k;
    } else {
      ASSIGN_OR_RETURN(MerkleHash h, mth(start, k));
      reversed.push_back(h);
      start += k;
      size -= k;
      m -= k;
      b = false;
    }
  }
  if (!b) {
    ASSIGN_OR_RETURN(MerkleHash h, mth(start, size));
    reversed.push_back(h);
  }
  return std::vector<MerkleHash>(reversed.rbegin(), reversed.rend());
}

bool VerifyConsistency(uint64_t first, uint64_t second,
                       const MerkleHash& first_root,
                       const MerkleHash& second_root,
                       std::span<const MerkleHash> proof) {
  if (first == 0 || first > second) return false;
  if (first == second) return proof.empty() && first_root == second_root;
  if (proof.empty()) return false;
  std::vector<MerkleHash> path(proof.begin(), proof.end());
  // A first tree that is a complete subtree is its own first node.
  if ((first & (first - 1)) == 0) path.insert(path.begin(), first_root);
  uint64_t fn = first - 1, sn = second - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  MerkleHash fr = path[0], sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const MerkleHash& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) == 1 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && fr == first_root && sr == second_root;
}

}  // namespace trm::merkle
