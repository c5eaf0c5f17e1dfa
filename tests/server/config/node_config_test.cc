// The node configuration's case rules: periods by default, per country and
// per pair, and the refusals that name what is wrong.
#include "server/config/node_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "common/status.h"

namespace trm::config {
namespace {

namespace fs = std::filesystem;

class NodeConfigTest : public ::testing::Test {
 protected:
  NodeConfigTest() {
    dir_ = (fs::temp_directory_path() / "trm-config-XXXXXX").string();
    EXPECT_NE(mkdtemp(dir_.data()), nullptr);
  }
  ~NodeConfigTest() override { fs::remove_all(dir_); }
  absl::StatusOr<NodeConfig> Load(const std::string& case_rules) {
    const std::string path = dir_ + "/node.json";
    std::ofstream(path) << R"({"node_id": "bg", "data_dir": "d",
      "node_signing_key": "k", "directory": "dir.signed",
      "authority_public_key": "authority.pub", "case_rules": )"
                        << case_rules << "}";
    return LoadNodeConfig(path);
  }
  std::string dir_;
};

TEST_F(NodeConfigTest, RulesAreOnByDefaultWithTheTrmPeriods) {
  auto c = Load("{}");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->case_rules);
  const cases::CasePolicy& p = c->case_policies.For("BG", "NG");
  EXPECT_EQ(p.reflection_min, absl::Hours(24 * 30));
  EXPECT_EQ(p.referral_ack_within, absl::Hours(72));
  EXPECT_EQ(p.travel_notice_working_days, 5);
  EXPECT_EQ(p.arrival_confirmation_within, absl::Hours(48));
  EXPECT_EQ(c->deadline_check_interval, absl::Seconds(1));
}

TEST_F(NodeConfigTest, DiskLimitsHaveDefaultsAndRefuseAReserveTooSmall) {
  auto c = Load("{}");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->disk_min_free_bytes, 128u << 20);
  EXPECT_EQ(c->disk_reserve_bytes, 64u << 20);
  EXPECT_EQ(c->disk_max_wal_bytes, 64u << 20);
  c = Load(R"({}, "disk": {"min_free_bytes": 16777216, "reserve_bytes": 0,
               "max_wal_bytes": 4194304})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->disk_min_free_bytes, 16u << 20);
  EXPECT_EQ(c->disk_reserve_bytes, 0u);
  EXPECT_EQ(c->disk_max_wal_bytes, 4u << 20);
  c = Load(R"({}, "disk": {"reserve_bytes": 1048576})");
  EXPECT_EQ(ErrorReason(c.status()), "CONFIG_INVALID") << c.status();
  EXPECT_NE(c.status().message().find("at least \"max_wal_bytes\""),
            std::string::npos)
      << c.status();
  c = Load(R"({}, "disk": {"min_free_bytes": 0})");
  EXPECT_NE(c.status().message().find("at least 1048576"), std::string::npos)
      << c.status();
  c = Load(R"({}, "disk": {"min_free": 1})");
  EXPECT_NE(c.status().message().find("unknown key \"min_free\""),
            std::string::npos)
      << c.status();
}

TEST_F(NodeConfigTest, RelayCallTimeoutHasADefaultAndABound) {
  auto c = Load("{}");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->relay_call_timeout_seconds, 30u);
  c = Load(R"({}, "relay": {"call_timeout_seconds": 3})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->relay_call_timeout_seconds, 3u);
  c = Load(R"({}, "relay": {"call_timeout_seconds": 0})");
  EXPECT_EQ(ErrorReason(c.status()), "CONFIG_INVALID") << c.status();
  EXPECT_NE(c.status().message().find("\"call_timeout_seconds\" 1..3600"),
            std::string::npos)
      << c.status();
}

TEST_F(NodeConfigTest, PeriodsPerCountryAndPair) {
  auto c = Load(R"({"enforce": true, "deadline_check_seconds": 5,
    "periods": {"referral_ack": "48h", "monitoring_for": "26280h"},
    "countries": {"NG": {"referral_ack": "96h", "travel_notice_working_days": 7}},
    "pairs": {"BG>NG": {"arrival_confirmation": "24h"}}})");
  ASSERT_TRUE(c.ok()) << c.status();
  const cases::CasePolicies& p = c->case_policies;
  EXPECT_EQ(p.For("IT", "BG").referral_ack_within, absl::Hours(48));
  EXPECT_EQ(p.For("IT", "BG").monitoring_for, absl::Hours(26280));
  EXPECT_EQ(p.For("IT", "NG").referral_ack_within, absl::Hours(96));
  EXPECT_EQ(p.For("IT", "NG").travel_notice_working_days, 7);
  // The pair builds on NG's entry, which builds on the defaults.
  const cases::CasePolicy& pair = p.For("BG", "NG");
  EXPECT_EQ(pair.arrival_confirmation_within, absl::Hours(24));
  EXPECT_EQ(pair.referral_ack_within, absl::Hours(96));
  EXPECT_EQ(pair.travel_notice_working_days, 7);
  EXPECT_EQ(pair.monitoring_for, absl::Hours(26280));
  EXPECT_EQ(c->deadline_check_interval, absl::Seconds(5));
}

// The federation's policy in the directory bounds what the file may set:
// stricter is fine, looser stops the node before it starts.
TEST_F(NodeConfigTest, NothingLooserThanTheFederationsPolicy) {
  v1::Directory dir;
  dir.set_serial(5);
  dir.set_max_message_lifetime_seconds(14 * 24 * 3600);
  v1::FederationPolicy& p = *dir.mutable_policy();
  p.set_version(2);
  p.set_max_retention_seconds(3 * 24 * 3600);
  p.mutable_defaults()->set_referral_ack_seconds(72 * 3600);
  auto check = [&](const std::string& rules, const std::string& top) {
    const std::string path = dir_ + "/node.json";
    std::ofstream(path) << R"({"node_id": "bg", "data_dir": "d",
      "node_signing_key": "k", "directory": "dir.signed",
      "authority_public_key": "authority.pub", "case_rules": )"
                        << rules << top << "}";
    absl::StatusOr<NodeConfig> c = LoadNodeConfig(path);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? CheckNodeAgainstPolicy(*c, dir) : c.status();
  };
  EXPECT_TRUE(check("{}", "").ok()) << "the defaults are not settings";
  EXPECT_TRUE(check(R"({"periods": {"referral_ack": "24h"}})",
                    R"(, "retention_seconds": 3600,
                       "max_message_lifetime_seconds": 86400)")
                  .ok());
  struct Case {
    std::string rules, top, named;
  } cases[] = {
      {R"({"periods": {"referral_ack": "96h"}})", "",
       "case_rules.periods.referral_ack is 96h, looser than the federation's "
       "72h (policy version 2"},
      {"{}", R"(, "retention_seconds": 604800)",
       "\"retention_seconds\" is 604800, longer than the federation's 259200 "
       "(policy version 2, max_retention_seconds"},
      {"{}", R"(, "max_message_lifetime_seconds": 2592000)",
       "\"max_message_lifetime_seconds\" is 2592000, longer than the "
       "federation's 1209600"},
  };
  for (const Case& c : cases) {
    const absl::Status s = check(c.rules, c.top);
    EXPECT_EQ(ErrorReason(s), "POLICY_LOOSER_THAN_FEDERATION") << s;
    EXPECT_NE(s.message().find(c.named), std::string::npos) << s;
  }
  // With case rules off the periods do not apply, so neither does the check.
  EXPECT_TRUE(
      check(R"({"enforce": false, "periods": {"referral_ack": "96h"}})", "")
          .ok());
}

TEST_F(NodeConfigTest, RefusalsNameTheProblem) {
  struct Case {
    const char* json;
    const char* named;
  } cases[] = {
      {R"({"periods": {"reflection": "240h"}})", "Convention art. 13"},
      {R"({"periods": {"referral_ack": "three days"}})", "positive duration"},
      {R"({"periods": {"referral_ack": "-1h"}})", "positive duration"},
      {R"({"periods": {"monitoring_for": "30000h"}})", "36 months"},
      {R"({"periods": {"referal_ack": "72h"}})", "\"referal_ack\""},
      {R"({"pairs": {"BG-NG": {}}})", "a pair such as"},
      {R"({"countries": {"B>G": {}}})", "a country such as"},
      {R"({"enforce": "yes"})", "true or false"},
      {R"({"deadline_check_seconds": 0})", ">= 1"},
      {R"({"periods": {"travel_notice_working_days": 100}})", "at most 60"},
      // Two readers could disagree on which of two equal keys counts.
      {R"({"enforce": true, "enforce": false})",
       "the key \"enforce\" appears twice"},
      {R"({"periods": {"reflection": "720h", "reflection": "1h"}})",
       "appears twice"},
  };
  for (const Case& k : cases) {
    auto c = Load(k.json);
    ASSERT_FALSE(c.ok()) << k.json;
    EXPECT_EQ(ErrorReason(c.status()), "CONFIG_INVALID");
    EXPECT_NE(c.status().message().find(k.named), std::string::npos)
        << k.json << " -> " << c.status().message();
  }
}

}  // namespace
}  // namespace trm::config
