// The auditor page below HTTP over fake nodes that keep real RFC 9162 logs
// and sign real tree heads: a case's trail merged across nodes with every
// proof verified here, the flows between nodes, a rewritten history found
// by the consistency check and kept across a restart, a tampered entry or
// a wrong key shown as failed, and an unreachable node named.
#include "client/agent/audit_view.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>

#include "common/audit/bundle.h"
#include "common/audit/tree_head.h"
#include "common/crypto/ed25519.h"
#include "common/merkle/merkle.h"
#include "common/status.h"

namespace trm::agent {
namespace {

constexpr int64_t kNow = 1'800'000'000'000;  // ms

// One node's audit log, as its audit API answers.
struct FakeLog {
  std::string node;
  crypto::Ed25519PrivateKey key = *crypto::Ed25519PrivateKey::Generate();
  std::vector<std::string> leaves;  // serialized AuditEvents
  int64_t signed_at = kNow;
  std::string tamper_leaf;  // when set, the answer's first entry is this

  void Add(v1::AuditEventKind kind, int64_t t, std::string id,
           std::string case_ref, std::string peer = "") {
    v1::AuditEvent e;
    e.set_kind(kind);
    e.set_time_unix_ms(t);
    e.set_node(node);
    e.set_message_id(std::move(id));
    e.set_case_ref(std::move(case_ref));
    e.set_peer_node(std::move(peer));
    e.set_sender_org("bg-ngo");
    e.set_recipient_org("ng-naptip");
    leaves.push_back(e.SerializeAsString());
  }
  std::vector<merkle::MerkleHash> Hashes() const {
    std::vector<merkle::MerkleHash> h;
    for (const std::string& l : leaves)
      h.push_back(merkle::LeafHash(AsBytes(l)));
    return h;
  }
  v1::Trail Trail(const v1::TrailQuery& q) const {
    const std::vector<merkle::MerkleHash> h = Hashes();
    v1::TreeHead head;
    head.set_node(node);
    head.set_tree_size(leaves.size());
    const merkle::MerkleHash root = merkle::RootOf(h);
    head.set_root_hash(root.data(), root.size());
    head.set_timestamp_unix_ms(signed_at);
    v1::Trail t;
    *t.mutable_tree_head() = *audit::SignTreeHead(head, key);
    for (size_t i = 0; i < leaves.size(); ++i) {
      v1::AuditEvent e;
      e.ParseFromString(leaves[i]);
      if (!q.case_ref().empty() && e.case_ref() != q.case_ref()) continue;
      if (q.kind() != 0 && e.kind() != q.kind()) continue;
      v1::Entry* entry = t.add_entries();
      entry->set_leaf_index(i);
      entry->set_event(leaves[i]);
      for (const merkle::MerkleHash& p : merkle::InclusionPath(h, i)) {
        entry->add_inclusion_proof(p.data(), p.size());
      }
    }
    if (!tamper_leaf.empty() && t.entries_size() > 0) {
      t.mutable_entries(0)->set_event(tamper_leaf);
    }
    return t;
  }
  v1::Proof Consistency(uint64_t first, uint64_t second) const {
    const std::vector<merkle::MerkleHash> h = Hashes();
    auto mth = [&](uint64_t start,
                   uint64_t size) -> absl::StatusOr<merkle::MerkleHash> {
      return merkle::RootOf(std::span(h).subspan(start, size));
    };
    v1::Proof p;
    absl::StatusOr<std::vector<merkle::MerkleHash>> proof =
        merkle::ConsistencyProofOf(first, second, mth);
    EXPECT_TRUE(proof.ok()) << proof.status();
    if (!proof.ok()) return p;
    for (const merkle::MerkleHash& x : *proof) p.add_hashes(x.data(), x.size());
    return p;
  }
};

class FakeSource final : public AuditSource {
 public:
  std::vector<std::string> Nodes() const override { return order; }
  absl::StatusOr<v1::Trail> Trail(const std::string& node,
                                  const v1::TrailQuery& q) override {
    if (down.count(node)) {
      return Error(absl::StatusCode::kUnavailable, "NODE_UNAVAILABLE",
                   "node " + node + " did not answer");
    }
    return logs.at(answered_by.count(node) ? answered_by.at(node) : node)
        .Trail(q);
  }
  absl::StatusOr<v1::Proof> Consistency(const std::string& node, uint64_t first,
                                        uint64_t second) override {
    return logs.at(node).Consistency(first, second);
  }
  absl::StatusOr<std::string> NodeKey(
      const v1::SignedTreeHead& sth) const override {
    v1::TreeHead h;
    h.ParseFromString(sth.tree_head());
    const auto& raw =
        (trusted.count(h.node()) ? trusted.at(h.node()) : logs.at(h.node()).key)
            .public_key()
            .raw();
    return std::string(raw.begin(), raw.end());
  }

  absl::StatusOr<v1::StatisticsReport> Statistics(
      const std::string& node, const v1::StatisticsRequest&) override {
    v1::StatisticsReport r;
    r.set_node(node);
    return r;
  }

  std::vector<std::string> order = {"bg", "ng"};
  std::map<std::string, FakeLog> logs;
  std::map<std::string, crypto::Ed25519PrivateKey> trusted;
  std::set<std::string> down;
  std::map<std::string, std::string> answered_by;  // a misconfigured address
};

class AuditViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/trm-audit-view-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    store_ = *AgentStore::Open(dir_, clock_);
    view_ = std::make_unique<AuditView>(source_, *store_, clock_);
    source_.logs["bg"].node = "bg";
    source_.logs["ng"].node = "ng";
    FakeLog& bg = source_.logs["bg"];
    FakeLog& ng = source_.logs["ng"];
    bg.Add(v1::NODE_STARTED, kNow - 9000, "", "");
    bg.Add(v1::MESSAGE_ACCEPTED, kNow - 5000, kId1, "BG-1");
    bg.Add(v1::MESSAGE_RELAYED, kNow - 4000, kId1, "BG-1", "ng");
    bg.Add(v1::MESSAGE_ACCEPTED, kNow - 3500, kId2, "BG-2");
    ng.Add(v1::NODE_STARTED, kNow - 9500, "", "");
    ng.Add(v1::MESSAGE_RECEIVED, kNow - 4500, kId1, "BG-1", "bg");
    ng.Add(v1::MESSAGE_DELIVERED, kNow - 3000, kId1, "BG-1");
  }
  void TearDown() override {
    view_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  nlohmann::json Case(const std::string& ref) {
    v1::TrailQuery q;
    q.set_case_ref(ref);
    absl::StatusOr<nlohmann::json> out = view_->Trail(q);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : nlohmann::json();
  }
  static nlohmann::json NodeOf(const nlohmann::json& t, const std::string& n) {
    for (const nlohmann::json& j : t["nodes"]) {
      if (j["node"] == n) return j;
    }
    return {};
  }

  const std::string kId1 = std::string(16, '\x01');
  const std::string kId2 = std::string(16, '\x02');
  SimulatedClock clock_{absl::FromUnixMillis(kNow)};
  std::string dir_;
  std::unique_ptr<AgentStore> store_;
  FakeSource source_;
  std::unique_ptr<AuditView> view_;
};

TEST_F(AuditViewTest, ACaseIsMergedAcrossNodesInTimeOrderAndEveryProofHolds) {
  nlohmann::json t = Case("BG-1");
  EXPECT_TRUE(t["verified"]);
  ASSERT_EQ(t["entries"].size(), 4u);
  std::vector<std::string> seen;
  for (const nlohmann::json& e : t["entries"]) {
    seen.push_back(e["node"].get<std::string>() + " " +
                   e["kind"].get<std::string>());
    EXPECT_EQ(e["proof"], "verified");
    EXPECT_EQ(e["case_ref"], "BG-1");
  }
  EXPECT_EQ(seen, (std::vector<std::string>{
                      "bg MESSAGE_ACCEPTED", "ng MESSAGE_RECEIVED",
                      "bg MESSAGE_RELAYED", "ng MESSAGE_DELIVERED"}));
  EXPECT_EQ(NodeOf(t, "bg")["state"], "verified");
  EXPECT_EQ(NodeOf(t, "bg")["tree_size"], 4);
  EXPECT_EQ(NodeOf(t, "ng")["entries"], 2);
  EXPECT_FALSE(NodeOf(t, "ng")["stale"]);
  // One message went from BG to NG; BG-2 stayed out of this case.
  ASSERT_EQ(t["flows"].size(), 1u);
  EXPECT_EQ(t["flows"][0]["from"], "bg");
  EXPECT_EQ(t["flows"][0]["to"], "ng");
  EXPECT_EQ(t["flows"][0]["messages"], 1);
}

TEST_F(AuditViewTest, ARewrittenHistoryIsAForkKeptAcrossARestart) {
  EXPECT_TRUE(Case("BG-1")["verified"]);
  // NG grows honestly: the next head extends the one seen.
  source_.logs["ng"].Add(v1::MESSAGE_ACKNOWLEDGED, kNow - 1000, kId1, "BG-1");
  EXPECT_TRUE(Case("BG-1")["verified"]);
  // NG loses its log and starts again with another, longer history.
  FakeLog& ng = source_.logs["ng"];
  ng.leaves.clear();
  for (int i = 0; i < 6; ++i) ng.Add(v1::NODE_STARTED, kNow, "", "");
  ng.Add(v1::MESSAGE_RECEIVED, kNow, kId1, "BG-1", "bg");
  nlohmann::json t = Case("BG-1");
  EXPECT_FALSE(t["verified"]);
  EXPECT_EQ(NodeOf(t, "ng")["state"], "fork");
  EXPECT_EQ(NodeOf(t, "ng")["reason"], "TREE_HEAD_FORK");
  EXPECT_EQ(NodeOf(t, "bg")["state"], "verified");
  for (const nlohmann::json& e : t["entries"]) {
    EXPECT_EQ(e["proof"], e["node"] == "ng" ? "failed" : "verified") << e;
  }
  // The agent restarts: the fork is still there, and still names both heads.
  view_.reset();
  store_.reset();
  store_ = *AgentStore::Open(dir_, clock_);
  view_ = std::make_unique<AuditView>(source_, *store_, clock_);
  t = Case("BG-1");
  EXPECT_EQ(NodeOf(t, "ng")["state"], "fork");
  const std::string why = NodeOf(t, "ng")["fork"];
  EXPECT_NE(why.find("7 entries"), std::string::npos) << why;
  EXPECT_NE(why.find("4 entries"), std::string::npos) << why;
}

TEST_F(AuditViewTest, AShorterLogIsAFork) {
  EXPECT_TRUE(Case("BG-1")["verified"]);
  source_.logs["ng"].leaves.pop_back();
  EXPECT_EQ(NodeOf(Case("BG-1"), "ng")["state"], "fork");
}

TEST_F(AuditViewTest, ATamperedEntryOrAWrongKeyFails) {
  v1::AuditEvent forged;
  forged.set_kind(v1::MESSAGE_DELIVERED);
  forged.set_node("ng");
  forged.set_case_ref("BG-1");
  source_.logs["ng"].tamper_leaf = forged.SerializeAsString();
  nlohmann::json t = Case("BG-1");
  EXPECT_FALSE(t["verified"]);
  EXPECT_EQ(NodeOf(t, "ng")["state"], "failed");
  EXPECT_EQ(NodeOf(t, "ng")["reason"], "AUDIT_PROOF_INVALID");
  source_.logs["ng"].tamper_leaf.clear();
  source_.trusted.emplace("bg", *crypto::Ed25519PrivateKey::Generate());
  t = Case("BG-1");
  EXPECT_EQ(NodeOf(t, "bg")["state"], "failed");
  EXPECT_EQ(NodeOf(t, "bg")["reason"], "TREE_HEAD_INVALID");
  EXPECT_EQ(NodeOf(t, "ng")["state"], "verified");
}

TEST_F(AuditViewTest, AnUnreachableNodeIsNamedAndAnOldHeadIsStale) {
  source_.down.insert("ng");
  source_.logs["bg"].signed_at = kNow - 3'600'000;
  nlohmann::json t = Case("BG-1");
  EXPECT_FALSE(t["verified"]);
  EXPECT_EQ(NodeOf(t, "ng")["state"], "unreachable");
  EXPECT_EQ(NodeOf(t, "ng")["reason"], "NODE_UNAVAILABLE");
  EXPECT_TRUE(NodeOf(t, "bg")["stale"]);
  EXPECT_EQ(NodeOf(t, "bg")["age_ms"], 3'600'000);
}

TEST_F(AuditViewTest, AnAddressThatAnswersForAnotherNodeFails) {
  source_.answered_by["ng"] = "bg";
  nlohmann::json t = Case("BG-1");
  EXPECT_EQ(NodeOf(t, "ng")["state"], "failed");
  EXPECT_EQ(NodeOf(t, "ng")["reason"], "TREE_HEAD_INVALID");
  const std::string why = NodeOf(t, "ng")["message"];
  EXPECT_NE(why.find("answered with node bg"), std::string::npos) << why;
}

TEST_F(AuditViewTest, ABundleIsOneNodesVerifiedTrailAndOnlyInScope) {
  v1::TrailQuery q;
  q.set_case_ref("BG-1");
  absl::StatusOr<nlohmann::json> b = view_->Bundle(q, "ng");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ((*b)["format"], audit::kBundleFormat);
  EXPECT_EQ((*b)["node"], "ng");
  EXPECT_EQ((*b)["entries"].size(), 2u);
  EXPECT_EQ(ErrorReason(view_->Bundle(q, "it").status()),
            "AGENT_REQUEST_INVALID");
  source_.logs["ng"].tamper_leaf = "x";
  EXPECT_FALSE(view_->Bundle(q, "ng").ok());
}

}  // namespace
}  // namespace trm::agent
