// RFC 9162 Merkle hashing against the Certificate Transparency reference
// test tree (the eight leaves of RFC 6962's reference implementation tests),
// and inclusion proofs for every leaf of every tree size up to 40.
#include "common/merkle/merkle.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <random>

namespace trm::merkle {
namespace {

std::vector<MerkleHash> ReferenceLeaves() {
  const char* hex[] = {"",
                       "00",
                       "10",
                       "2021",
                       "3031",
                       "40414243",
                       "5051525354555657",
                       "606162636465666768696a6b6c6d6e6f"};
  std::vector<MerkleHash> out;
  for (const char* h : hex) out.push_back(LeafHash(*HexDecode(h)));
  return out;
}

TEST(Merkle, EmptyTreeAndLeafHash) {
  EXPECT_EQ(HexEncode(RootOf({})),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HexEncode(LeafHash({})),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
}

TEST(Merkle, ReferenceRoots) {
  const char* roots[] = {
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
  std::vector<MerkleHash> leaves = ReferenceLeaves();
  for (size_t n = 1; n <= leaves.size(); ++n) {
    EXPECT_EQ(HexEncode(RootOf(std::span(leaves).first(n))), roots[n - 1])
        << "tree size " << n;
  }
}

TEST(Merkle, ReferenceInclusionPath) {
  // RFC 6962 reference: leaf 0 of the 8-leaf tree.
  std::vector<MerkleHash> leaves = ReferenceLeaves();
  std::vector<MerkleHash> path = InclusionPath(leaves, 0);
  ASSERT_EQ(path.size(), 3u);
  EXPECT_EQ(HexEncode(path[0]),
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7");
  EXPECT_EQ(HexEncode(path[1]),
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e");
  EXPECT_EQ(HexEncode(path[2]),
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4");
}

TEST(Merkle, EveryInclusionProofVerifiesAndOnlyForItsLeaf) {
  std::vector<MerkleHash> leaves;
  for (int i = 0; i < 40; ++i) {
    uint8_t b = static_cast<uint8_t>(i);
    leaves.push_back(LeafHash(ByteView(&b, 1)));
  }
  for (size_t n = 1; n <= leaves.size(); ++n) {
    std::span<const MerkleHash> tree = std::span(leaves).first(n);
    const MerkleHash root = RootOf(tree);
    for (size_t i = 0; i < n; ++i) {
      std::vector<MerkleHash> path = InclusionPath(tree, i);
      ASSERT_TRUE(VerifyInclusion(i, n, tree[i], path, root))
          << "leaf " << i << " of " << n;
      EXPECT_FALSE(VerifyInclusion(i, n, tree[(i + 1) % n], path, root) &&
                   n > 1);
      if (n < leaves.size()) {
        const MerkleHash other = RootOf(std::span(leaves).first(n + 1));
        EXPECT_FALSE(VerifyInclusion(i, n, tree[i], path, other));
      }
      EXPECT_FALSE(VerifyInclusion(n, n, tree[i], path, root));
      if (!path.empty()) {
        path[0][0] ^= 1;
        EXPECT_FALSE(VerifyInclusion(i, n, tree[i], path, root));
      }
    }
  }
}

TEST(Merkle, BottomUpTreeEqualsTheRecursiveDefinition) {
  std::vector<MerkleHash> leaves;
  for (int i = 0; i < 70; ++i) {
    uint8_t b = static_cast<uint8_t>(i);
    leaves.push_back(LeafHash(ByteView(&b, 1)));
  }
  for (size_t n = 1; n <= leaves.size(); ++n) {
    std::vector<MerkleHash> first(leaves.begin(), leaves.begin() + n);
    Tree tree(first);
    ASSERT_EQ(tree.Root(), RootOf(first)) << "size " << n;
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(tree.Path(i), InclusionPath(first, i)) << i << " of " << n;
    }
  }
}

// RFC 9162 section 2.1.4.1, transcribed literally: the naive reference.
std::vector<MerkleHash> SubProof(uint64_t m, std::span<const MerkleHash> d,
                                 bool b) {
  const uint64_t n = d.size();
  if (m == n) {
    if (b) return {};
    return {RootOf(d)};
  }
  const uint64_t k = SplitPoint(n);
  std::vector<MerkleHash> out;
  if (m <= k) {
    out = SubProof(m, d.first(k), b);
    out.push_back(RootOf(d.subspan(k)));
  } else {
    out = SubProof(m - k, d.subspan(k), false);
    out.push_back(RootOf(d.first(k)));
  }
  return out;
}

RangeHashFn NaiveRanges(std::span<const MerkleHash> leaves) {
  return [leaves](uint64_t start, uint64_t size) -> absl::StatusOr<MerkleHash> {
    return RootOf(leaves.subspan(start, size));
  };
}

std::vector<std::string> Hex(const std::vector<MerkleHash>& hashes) {
  std::vector<std::string> out;
  for (const MerkleHash& h : hashes) out.push_back(HexEncode(h));
  return out;
}

// The consistency proofs of the Certificate Transparency reference tests
// (RFC 6962 reference implementation, merkle_tree_test) on the 8-leaf tree.
TEST(Merkle, ReferenceConsistencyProofs) {
  std::vector<MerkleHash> leaves = ReferenceLeaves();
  struct Case {
    uint64_t m, n;
    std::vector<std::string> proof;
  } cases[] = {
      {1, 1, {}},
      {1,
       8,
       {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {6,
       8,
       {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2,
       5,
       {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
  };
  for (const Case& c : cases) {
    auto proof = ConsistencyProofOf(c.m, c.n, NaiveRanges(leaves));
    ASSERT_TRUE(proof.ok());
    EXPECT_EQ(Hex(*proof), c.proof) << c.m << " -> " << c.n;
    const MerkleHash first = RootOf(std::span(leaves).first(c.m));
    const MerkleHash second = RootOf(std::span(leaves).first(c.n));
    EXPECT_TRUE(VerifyConsistency(c.m, c.n, first, second, *proof));
  }
}

std::vector<MerkleHash> RandomLeaves(size_t n) {
  std::mt19937_64 rng(std::random_device{}());
  std::vector<MerkleHash> leaves;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t r = rng();
    leaves.push_back(
        LeafHash(ByteView(reinterpret_cast<const uint8_t*>(&r), sizeof r)));
  }
  return leaves;
}

// Every (m, n) pair up to 130 random leaves: the proof equals the naive
// definition, verifies, and fails for the wrong roots or a changed hash.
TEST(Merkle, EveryConsistencyPairAgainstTheNaiveDefinition) {
  const std::vector<MerkleHash> leaves = RandomLeaves(130);
  std::vector<MerkleHash> roots = {RootOf({})};
  for (size_t n = 1; n <= leaves.size(); ++n) {
    roots.push_back(RootOf(std::span(leaves).first(n)));
  }
  const RangeHashFn mth = NaiveRanges(leaves);
  for (uint64_t n = 1; n <= leaves.size(); ++n) {
    for (uint64_t m = 1; m <= n; ++m) {
      auto proof = ConsistencyProofOf(m, n, mth);
      ASSERT_TRUE(proof.ok());
      ASSERT_EQ(*proof, SubProof(m, std::span(leaves).first(n), true))
          << m << " -> " << n;
      ASSERT_TRUE(VerifyConsistency(m, n, roots[m], roots[n], *proof))
          << m << " -> " << n;
      if (m < n) {
        EXPECT_FALSE(VerifyConsistency(m, n, roots[m - 1 > 0 ? m - 1 : n],
                                       roots[n], *proof))
            << "a wrong first root, " << m << " -> " << n;
        EXPECT_FALSE(VerifyConsistency(m, n, roots[m], roots[n - 1], *proof))
            << "a wrong second root, " << m << " -> " << n;
        std::vector<MerkleHash> bad = *proof;
        bad.back()[5] ^= 1;
        EXPECT_FALSE(VerifyConsistency(m, n, roots[m], roots[n], bad));
        bad = *proof;
        bad.pop_back();
        EXPECT_FALSE(VerifyConsistency(m, n, roots[m], roots[n], bad));
      }
    }
  }
  EXPECT_FALSE(ConsistencyProofOf(0, 5, mth).ok());
  EXPECT_FALSE(ConsistencyProofOf(6, 5, mth).ok());
}

// Every (m, n) pair up to 300 random leaves, with range hashes memoised:
// each proof verifies against the recursive roots and only against them.
TEST(Merkle, EveryConsistencyPairUpTo300Verifies) {
  const std::vector<MerkleHash> leaves = RandomLeaves(300);
  std::map<std::pair<uint64_t, uint64_t>, MerkleHash> memo;
  std::function<MerkleHash(uint64_t, uint64_t)> range = [&](uint64_t start,
                                                            uint64_t size) {
    if (size == 1) return leaves[start];
    auto it = memo.find({start, size});
    if (it != memo.end()) return it->second;
    const uint64_t k = SplitPoint(size);
    const MerkleHash h = NodeHash(range(start, k), range(start + k, size - k));
    memo[{start, size}] = h;
    return h;
  };
  const RangeHashFn mth = [&](uint64_t start,
                              uint64_t size) -> absl::StatusOr<MerkleHash> {
    return range(start, size);
  };
  for (uint64_t n = 1; n <= leaves.size(); ++n) {
    const MerkleHash second = range(0, n);
    for (uint64_t m = 1; m <= n; ++m) {
      auto proof = ConsistencyProofOf(m, n, mth);
      ASSERT_TRUE(proof.ok());
      const MerkleHash first = range(0, m);
      ASSERT_TRUE(VerifyConsistency(m, n, first, second, *proof))
          << m << " -> " << n;
      if (m < n) {
        ASSERT_FALSE(VerifyConsistency(m, n, second, second, *proof) &&
                     first != second);
      }
    }
  }
}

TEST(Merkle, InclusionProofFromRangesEqualsThePath) {
  std::vector<MerkleHash> leaves;
  for (int i = 0; i < 130; ++i) {
    uint8_t b = static_cast<uint8_t>(i);
    leaves.push_back(LeafHash(ByteView(&b, 1)));
  }
  const RangeHashFn mth = NaiveRanges(leaves);
  for (uint64_t n = 1; n <= leaves.size(); ++n) {
    for (uint64_t i = 0; i < n; ++i) {
      auto proof = InclusionProofOf(i, n, mth);
      ASSERT_TRUE(proof.ok());
      ASSERT_EQ(*proof, InclusionPath(std::span(leaves).first(n), i))
          << i << " of " << n;
    }
  }
  EXPECT_FALSE(InclusionProofOf(5, 5, mth).ok());
}

}  // namespace
}  // namespace trm::merkle
