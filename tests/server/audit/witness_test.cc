// Cross-witnessing without a network: a peer's heads that extend each other
// are accepted; a rewritten or forked history raises the alarm with both
// signed heads; heads not signed by the peer are refused. Also the tree
// head signer: on schedule only when the log grew, on demand when asked.
#include "server/audit/witness.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/audit/tree_head.h"
#include "common/crypto/key_files.h"
#include "common/status.h"
#include "server/audit/audit_api.h"
#include "server/storage/rocksdb_store.h"

namespace trm::audit {
namespace {

std::vector<merkle::MerkleHash> Leaves(const std::string& tag, int n) {
  std::vector<merkle::MerkleHash> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(merkle::LeafHash(AsBytes(tag + std::to_string(i))));
  }
  return out;
}

class WitnessTest : public ::testing::Test {
 protected:
  WitnessTest() {
    v1::Directory d;
    d.set_federation("test");
    d.set_serial(3);
    for (auto [id, key] :
         {std::pair{"bg", &bg_key_}, std::pair{"ng", &ng_key_}}) {
      v1::DirectoryNode* n = d.add_nodes();
      n->set_id(id);
      v1::DirectoryKey* k = n->add_signing_keys();
      const crypto::KeyId kid = crypto::KeyIdOf(key->public_key());
      k->set_key_id(kid.data(), kid.size());
      k->set_public_key(key->public_key().raw().data(), 32);
    }
    registry_ = std::make_unique<mailbox::OrgRegistry>(
        "bg", *directory::Directory::FromLocal(d));
    witness_ = std::make_unique<Witness>(nullptr, *registry_,
                                         [this](const v1::AuditEvent& e) {
                                           alarms_.push_back(e);
                                           return absl::OkStatus();
                                         });
  }
  v1::SignedTreeHead Head(const std::vector<merkle::MerkleHash>& leaves,
                          uint64_t size,
                          const crypto::Ed25519PrivateKey* key = nullptr) {
    v1::TreeHead h;
    h.set_node("ng");
    h.set_tree_size(size);
    const merkle::MerkleHash root =
        merkle::RootOf(std::span(leaves).first(size));
    h.set_root_hash(root.data(), 32);
    h.set_timestamp_unix_ms(1'800'000'000'000 + static_cast<int64_t>(size));
    return *SignTreeHead(h, key == nullptr ? ng_key_ : *key);
  }
  static v1::Proof Consistency(const std::vector<merkle::MerkleHash>& leaves,
                               uint64_t first, uint64_t second) {
    auto proof = merkle::ConsistencyProofOf(
        first, second,
        [&](uint64_t start,
            uint64_t size) -> absl::StatusOr<merkle::MerkleHash> {
          return merkle::RootOf(std::span(leaves).subspan(start, size));
        });
    v1::Proof out;
    for (const merkle::MerkleHash& h : *proof) out.add_hashes(h.data(), 32);
    return out;
  }

  crypto::Ed25519PrivateKey bg_key_ = *crypto::Ed25519PrivateKey::Generate();
  crypto::Ed25519PrivateKey ng_key_ = *crypto::Ed25519PrivateKey::Generate();
  std::unique_ptr<mailbox::OrgRegistry> registry_;
  std::unique_ptr<Witness> witness_;
  std::vector<v1::AuditEvent> alarms_;
};

TEST_F(WitnessTest, ExtendingHeadsAreAccepted) {
  const auto leaves = Leaves("a", 20);
  EXPECT_EQ(witness_->KnownSize("ng"), 0u);
  ASSERT_TRUE(witness_->Observe("ng", Head(leaves, 5), v1::Proof()).ok());
  EXPECT_EQ(witness_->KnownSize("ng"), 5u);
  ASSERT_TRUE(
      witness_->Observe("ng", Head(leaves, 13), Consistency(leaves, 5, 13))
          .ok());
  ASSERT_TRUE(witness_->Observe("ng", Head(leaves, 13), v1::Proof()).ok())
      << "the same head again";
  ASSERT_TRUE(
      witness_->Observe("ng", Head(leaves, 20), Consistency(leaves, 13, 20))
          .ok());
  EXPECT_EQ(witness_->View("ng").tree_size, 20u);
  EXPECT_EQ(witness_->View("ng").forks, 0u);
  EXPECT_TRUE(alarms_.empty());
}

TEST_F(WitnessTest, AForkRaisesTheAlarmWithBothHeads) {
  const auto honest = Leaves("a", 20);
  auto forked = honest;
  forked[3] = merkle::LeafHash(AsBytes(std::string("rewritten")));
  ASSERT_TRUE(witness_->Observe("ng", Head(honest, 8), v1::Proof()).ok());
  // A larger head over a rewritten history, with a proof from its own tree.
  const v1::SignedTreeHead later = Head(forked, 12);
  absl::Status s = witness_->Observe("ng", later, Consistency(forked, 8, 12));
  EXPECT_EQ(ErrorReason(s), "TREE_HEAD_FORK") << s;
  ASSERT_EQ(alarms_.size(), 1u);
  EXPECT_EQ(alarms_[0].kind(), v1::TREE_HEAD_FORK);
  EXPECT_EQ(alarms_[0].peer_node(), "ng");
  EXPECT_NE(
      alarms_[0].detail().find(HexEncode(AsBytes(later.SerializeAsString()))),
      std::string::npos)
      << "the later signed head is in the evidence";
  EXPECT_NE(alarms_[0].detail().find(
                HexEncode(AsBytes(Head(honest, 8).SerializeAsString()))),
            std::string::npos)
      << "the earlier signed head is in the evidence";
  EXPECT_EQ(witness_->View("ng").forks, 1u);
  EXPECT_EQ(witness_->KnownSize("ng"), 8u) << "the forked head is not adopted";
  // The same size with another root, and a shrunk log, are forks too.
  EXPECT_EQ(ErrorReason(witness_->Observe("ng", Head(forked, 8), v1::Proof())),
            "TREE_HEAD_FORK");
  EXPECT_EQ(ErrorReason(witness_->Observe("ng", Head(honest, 6),
                                          Consistency(honest, 6, 8))),
            "TREE_HEAD_FORK");
  EXPECT_EQ(alarms_.size(), 3u);
  // The honest continuation is still accepted.
  EXPECT_TRUE(
      witness_->Observe("ng", Head(honest, 12), Consistency(honest, 8, 12))
          .ok());
}

// Found in review: the alarm was raised while holding the witness's lock,
// and a failure to store it was ignored. A fork alarm must never be lost.
TEST_F(WitnessTest, AForkAlarmIsStoredOutsideTheLockAndNeverLost) {
  bool fail = true;
  std::vector<v1::AuditEvent> stored;
  Witness* self = nullptr;
  Witness w(nullptr, *registry_, [&](const v1::AuditEvent& e) {
    // Calls back into the witness: would deadlock under its lock.
    EXPECT_EQ(self->View("ng").forks, 1u);
    if (fail) {
      return Error(absl::StatusCode::kUnavailable, "STORE_UNAVAILABLE",
                   "disk full");
    }
    stored.push_back(e);
    return absl::OkStatus();
  });
  self = &w;
  const auto honest = Leaves("a", 20);
  auto forked = honest;
  forked[3] = merkle::LeafHash(AsBytes(std::string("rewritten")));
  ASSERT_TRUE(w.Observe("ng", Head(honest, 8), v1::Proof()).ok());
  absl::Status s =
      w.Observe("ng", Head(forked, 12), Consistency(forked, 8, 12));
  EXPECT_EQ(ErrorReason(s), "TREE_HEAD_FORK");
  EXPECT_NE(s.message().find("not stored yet"), std::string::npos) << s;
  EXPECT_EQ(w.PendingAlarms(), 1u) << "kept, not dropped";
  fail = false;
  // The next head, even an honest one, stores it.
  EXPECT_TRUE(
      w.Observe("ng", Head(honest, 12), Consistency(honest, 8, 12)).ok());
  EXPECT_EQ(w.PendingAlarms(), 0u);
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].kind(), v1::TREE_HEAD_FORK);
}

TEST_F(WitnessTest, HeadsNotSignedByThePeerAreRefused) {
  const auto leaves = Leaves("a", 5);
  EXPECT_EQ(ErrorReason(witness_->Observe("ng", Head(leaves, 5, &bg_key_),
                                          v1::Proof())),
            "SENDER_KEY_UNKNOWN")
      << "BG's key is not NG's";
  v1::SignedTreeHead bad = Head(leaves, 5);
  std::string sig = bad.signature();
  sig[0] ^= 1;
  bad.set_signature(sig);
  EXPECT_EQ(ErrorReason(witness_->Observe("ng", bad, v1::Proof())),
            "TREE_HEAD_INVALID");
  EXPECT_EQ(witness_->KnownSize("ng"), 0u);
  EXPECT_TRUE(alarms_.empty()) << "a bad signature is not a fork";
}

TEST(TreeHeadSignerTest, SignsOnScheduleOnlyWhenTheLogGrew) {
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("sth-test-" + std::to_string(::getpid())))
                              .string();
  {
    storage::RocksStoreOptions o;
    o.path = dir;
    o.node_id = "bg";
    auto store = storage::RocksMessageStore::Open(o);
    ASSERT_TRUE(store.ok());
    auto key = crypto::Ed25519PrivateKey::Generate();
    SimulatedClock clock(absl::FromUnixMillis(1'800'000'000'000));
    TreeHeadSigner signer(*(*store)->audit(), *key, "bg", clock);
    ASSERT_TRUE(signer.Init().ok());
    v1::AuditEvent e;
    e.set_kind(v1::NODE_STARTED);
    ASSERT_TRUE((*store)->AppendAudit(e).ok());
    ASSERT_TRUE(signer.Tick().ok());
    auto first = signer.Latest(false);
    auto head = VerifyTreeHead(*first, key->public_key());
    ASSERT_TRUE(head.ok());
    EXPECT_EQ(head->tree_size(), 1u);
    clock.Advance(absl::Seconds(10));
    ASSERT_TRUE(signer.Tick().ok());
    EXPECT_EQ(signer.Latest(false)->SerializeAsString(),
              first->SerializeAsString())
        << "nothing new: no new head";
    ASSERT_TRUE((*store)->AppendAudit(e).ok());
    EXPECT_EQ(signer.Latest(false)->SerializeAsString(),
              first->SerializeAsString())
        << "not fresh: the scheduled head";
    auto fresh = signer.Latest(true);
    EXPECT_EQ(ParseTreeHead(*fresh)->tree_size(), 2u);
    EXPECT_EQ(ParseTreeHead(*fresh)->root_hash(),
              std::string(reinterpret_cast<const char*>(
                              (*store)->audit()->Current().root.data()),
                          32));
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace trm::audit
