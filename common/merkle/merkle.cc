#include "common/merkle/merkle.h"

namespace trm::merkle {
namespace {

// The largest power of two strictly less than n (n >= 2).
size_t SplitPoint(size_t n) {
  size_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

}  // namespace

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

}  // namespace trm::merkle
