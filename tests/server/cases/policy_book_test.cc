// The periods a node applies under each directory it loads: its own, or the
// stricter of its own and the federation's policy.
#include "server/cases/policy_book.h"

#include <gtest/gtest.h>

namespace trm::cases {
namespace {

std::shared_ptr<const directory::Directory> Dir(uint64_t serial,
                                                uint64_t policy_version,
                                                absl::Duration ack_to_ng) {
  v1::Directory d;
  d.set_federation("trm-test");
  d.set_serial(serial);
  for (const char* id : {"bg", "ng"}) {
    v1::DirectoryNode* n = d.add_nodes();
    n->set_id(id);
    n->set_country(id == std::string("bg") ? "BG" : "NG");
  }
  if (policy_version != 0) {
    d.mutable_policy()->set_version(policy_version);
    v1::RoutePeriods* r = d.mutable_policy()->add_routes();
    r->set_route("NG");
    r->mutable_periods()->set_referral_ack_seconds(
        absl::ToInt64Seconds(ack_to_ng));
  }
  auto dir = directory::Directory::FromLocal(std::move(d));
  EXPECT_TRUE(dir.ok()) << dir.status();
  return dir.ok() ? *dir : nullptr;
}

TEST(PolicyBookTest, EachDirectoryBringsItsPolicy) {
  CasePolicies local;
  local.defaults.referral_ack_within = absl::Hours(60);
  const PolicyBook book(local);

  // No federation policy: the node's own periods, version 0.
  auto none = Dir(1, 0, absl::ZeroDuration());
  CasePolicy p = book.For(*none, "bg", "ng");
  EXPECT_EQ(p.referral_ack_within, absl::Hours(60));
  EXPECT_EQ(p.policy_version, 0u);

  // A policy asking 48h to NG: it applies there, the node's 60h elsewhere.
  auto v1 = Dir(2, 1, absl::Hours(48));
  p = book.For(*v1, "bg", "ng");
  EXPECT_EQ(p.referral_ack_within, absl::Hours(48));
  EXPECT_EQ(p.policy_version, 1u);
  EXPECT_FALSE(IsLocal(p, PeriodField::kReferralAck));
  p = book.For(*v1, "ng", "bg");
  EXPECT_EQ(p.referral_ack_within, absl::Hours(60));
  EXPECT_TRUE(IsLocal(p, PeriodField::kReferralAck));

  // The next version loosens NG to 96h: the node's stricter 60h holds.
  auto v2 = Dir(3, 2, absl::Hours(96));
  p = book.For(*v2, "bg", "ng");
  EXPECT_EQ(p.referral_ack_within, absl::Hours(60));
  EXPECT_EQ(p.policy_version, 2u);
  EXPECT_TRUE(IsLocal(p, PeriodField::kReferralAck));
  // And the table of each directory is what the book gives for it.
  EXPECT_EQ(book.Applied(*v2), book.Applied(*v2));
  EXPECT_EQ(book.Applied(*v1)->For("BG", "NG").referral_ack_within,
            absl::Hours(48));
}

}  // namespace
}  // namespace trm::cases
