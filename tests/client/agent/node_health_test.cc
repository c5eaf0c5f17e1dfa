// The coordinator page's warnings: each from the status field it concerns,
// none for a healthy node.
#include "client/agent/node_health.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace trm::agent {
namespace {

constexpr int64_t kNow = 1'800'000'000'000;
constexpr int64_t kDay = 86'400'000;
const absl::Time now = absl::FromUnixMillis(kNow);

std::set<std::string> Codes(const nlohmann::json& warnings) {
  std::set<std::string> out;
  for (const nlohmann::json& w : warnings) out.insert(w["code"]);
  return out;
}

v1::NodeStatus Healthy() {
  v1::NodeStatus s;
  s.set_node_id("ng");
  s.set_relay_enabled(true);
  s.set_tls_cert_not_after_unix_ms(kNow + 200 * kDay);
  s.set_node_key_valid_until_unix_ms(0);
  v1::PeerLink* p = s.add_peers();
  p->set_node("bg");
  p->set_breaker("closed");
  p->set_last_success_unix_ms(kNow - 1000);
  return s;
}

TEST(NodeHealthTest, AHealthyNodeHasNoWarning) {
  nlohmann::json j = NodeHealth(Healthy(), now);
  EXPECT_TRUE(j["warnings"].empty()) << j["warnings"];
  EXPECT_EQ(j["node_id"], "ng");
  ASSERT_EQ(j["peers"].size(), 1u);
  EXPECT_TRUE(j["peers"][0]["reachable"]);
}

TEST(NodeHealthTest, EachProblemIsNamedWithItsFigures) {
  v1::NodeStatus s = Healthy();
  s.set_tls_cert_not_after_unix_ms(kNow + 12 * kDay + 1000);
  s.set_node_key_valid_until_unix_ms(kNow - kDay);
  s.set_disk_low(true);
  s.set_overdue_deadlines(3);
  s.mutable_peers(0)->set_forks(1);
  s.mutable_peers(0)->set_breaker("open");
  s.mutable_peers(0)->set_consecutive_failures(4);
  s.mutable_peers(0)->set_outbound_queued(7);
  s.mutable_peers(0)->set_last_success_unix_ms(kNow - 3'600'000);
  nlohmann::json w = NodeHealth(s, now)["warnings"];
  EXPECT_EQ(Codes(w), (std::set<std::string>{
                          "TLS_CERT_EXPIRES", "NODE_KEY_EXPIRED", "DISK_LOW",
                          "DEADLINES_OVERDUE", "PEER_FORK", "PEER_BREAKER_OPEN",
                          "PEER_BACKLOG_WAITING"}));
  for (const nlohmann::json& x : w) {
    if (x["code"] == "TLS_CERT_EXPIRES") {
      EXPECT_EQ(x["days"], 12);
    } else if (x["code"] == "PEER_BREAKER_OPEN") {
      EXPECT_EQ(x["queued"], 7);
    } else if (x["code"] == "DEADLINES_OVERDUE") {
      EXPECT_EQ(x["count"], 3);
    }
  }
  s.mutable_peers(0)->set_breaker("half-open");
  EXPECT_TRUE(Codes(NodeHealth(s, now)["warnings"]).count("PEER_UNREACHABLE"));
  // The directory, by the node's own standing.
  s = Healthy();
  s.set_directory_valid_until_unix_ms(kNow + 9 * kDay + 1000);
  s.set_directory_grace_ends_unix_ms(kNow + 16 * kDay);
  for (auto [standing, code] : {std::pair{"valid", ""}, std::pair{"no end", ""},
                                std::pair{"expiring", "DIRECTORY_EXPIRES"},
                                std::pair{"grace", "DIRECTORY_IN_GRACE"},
                                std::pair{"lapsed", "DIRECTORY_LAPSED"}}) {
    s.set_directory_standing(standing);
    w = NodeHealth(s, now)["warnings"];
    EXPECT_EQ(Codes(w), std::string(code).empty() ? std::set<std::string>{}
                                                  : std::set<std::string>{code})
        << standing;
    if (standing == std::string("expiring")) {
      EXPECT_EQ(w[0]["days"], 9);
    }
  }
}

TEST(NodeHealthTest, AnOrganisationsKeysWarnOnlyWhenEveryValidKeyEnds) {
  v1::DirectoryOrganisation o;
  o.set_id("ng-naptip");
  v1::DirectoryKey* a = o.add_signing_keys();
  a->set_valid_until_unix_ms(kNow + 5 * kDay);
  v1::DirectoryKey* e = o.add_encryption_keys();
  e->set_valid_until_unix_ms(kNow - kDay);
  EXPECT_EQ(
      Codes(OrgKeyWarnings(o, now)),
      (std::set<std::string>{"ORG_SIGN_KEY_EXPIRES", "ORG_ENC_KEY_EXPIRED"}));
  // A rolled-over key that lasts: no warning for signing.
  o.add_signing_keys()->set_valid_until_unix_ms(kNow + 400 * kDay);
  o.add_encryption_keys();  // no end
  EXPECT_TRUE(OrgKeyWarnings(o, now).empty());
}

}  // namespace
}  // namespace trm::agent
