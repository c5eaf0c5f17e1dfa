// Signed statistics reports and their aggregation by a regional
// secretariat: a report verifies only with its node's key in the directory,
// and each route is counted once, from the node of its first country.
#include "common/stats/signed_report.h"

#include <gtest/gtest.h>

#include "common/crypto/key_files.h"
#include "common/status.h"

namespace trm::stats {
namespace {

class SignedReportTest : public ::testing::Test {
 protected:
  SignedReportTest() {
    v1::Directory d;
    d.set_federation("trm-test");
    d.set_serial(1);
    for (auto [id, country, key] :
         {std::tuple{"bg", "BG", &bg_key_}, std::tuple{"ng", "NG", &ng_key_}}) {
      v1::DirectoryNode* n = d.add_nodes();
      n->set_id(id);
      n->set_country(country);
      v1::DirectoryKey* k = n->add_signing_keys();
      const crypto::KeyId kid = crypto::KeyIdOf(key->public_key());
      k->set_key_id(kid.data(), kid.size());
      k->set_public_key(key->public_key().raw().data(), 32);
    }
    dir_ = *directory::Directory::FromLocal(d);
  }

  // A report of `node` with one figure per route: `values` in route order.
  static v1::StatisticsReport Report(const std::string& node,
                                     std::vector<std::string> routes,
                                     std::vector<uint64_t> values) {
    v1::StatisticsReport r;
    r.set_node(node);
    r.set_from_month("2026-01");
    r.set_to_month("2026-03");
    r.set_period("quarter");
    r.set_threshold(5);
    r.add_measures("referrals");
    for (size_t i = 0; i < routes.size(); ++i) {
      r.add_routes(routes[i]);
      v1::StatisticsFigure* f = r.add_figures();
      f->set_measure("referrals");
      f->set_route(routes[i]);
      f->set_period("2026-Q1");
      f->set_value(values[i]);
      f->set_suppressed_cells(values[i] == 0 ? 1 : 0);
    }
    return r;
  }

  crypto::Ed25519PrivateKey bg_key_ = *crypto::Ed25519PrivateKey::Generate();
  crypto::Ed25519PrivateKey ng_key_ = *crypto::Ed25519PrivateKey::Generate();
  std::shared_ptr<const directory::Directory> dir_;
};

TEST_F(SignedReportTest, AReportVerifiesOnlyWithItsNodesKey) {
  const v1::StatisticsReport r = Report("bg", {"BG>NG"}, {12});
  absl::StatusOr<v1::SignedStatistics> s = SignStatistics(r, bg_key_);
  ASSERT_TRUE(s.ok()) << s.status();
  absl::StatusOr<v1::StatisticsReport> back = VerifyStatistics(*s, *dir_);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->figures(0).value(), 12u);
  // Altered: one figure raised.
  v1::StatisticsReport more = r;
  more.mutable_figures(0)->set_value(120);
  v1::SignedStatistics altered = *s;
  altered.set_report(more.SerializeAsString());
  EXPECT_EQ(ErrorReason(VerifyStatistics(altered, *dir_).status()),
            "STATISTICS_SIGNATURE_INVALID");
  // Signed by another node's key, claiming to be bg's.
  absl::StatusOr<v1::SignedStatistics> forged = SignStatistics(r, ng_key_);
  ASSERT_TRUE(forged.ok());
  const absl::Status f = VerifyStatistics(*forged, *dir_).status();
  EXPECT_EQ(ErrorReason(f), "STATISTICS_SIGNATURE_INVALID") << f;
  EXPECT_EQ(StatisticsSignatureInput("x"),
            std::string("trm-broker/v1 statistics\0x", 26));
}

TEST_F(SignedReportTest, EachRouteIsCountedOnceFromItsFirstCountrysNode) {
  // BG and NG both hold the cases between them.
  const v1::StatisticsReport bg = Report("bg", {"BG>NG", "NG>BG"}, {12, 0});
  const v1::StatisticsReport ng = Report("ng", {"BG>NG", "NG>BG"}, {11, 7});
  absl::StatusOr<v1::StatisticsReport> all = Aggregate({bg, ng}, *dir_);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->node(), "*");
  std::map<std::string, const v1::StatisticsFigure*> by_route;
  for (const v1::StatisticsFigure& f : all->figures()) {
    by_route[f.route()] = &f;
  }
  ASSERT_EQ(by_route.size(), 3u);
  EXPECT_EQ(by_route["BG>NG"]->value(), 12u) << "BG's count of BG>NG";
  EXPECT_EQ(by_route["NG>BG"]->value(), 7u) << "NG's count of NG>BG";
  EXPECT_EQ(by_route["*"]->value(), 19u);
  EXPECT_EQ(by_route["*"]->suppressed_cells(), 0u);

  v1::StatisticsReport other = ng;
  other.set_period("year");
  EXPECT_EQ(ErrorReason(Aggregate({bg, other}, *dir_).status()),
            "STATS_REPORTS_DIFFER");
  EXPECT_EQ(ErrorReason(Aggregate({bg, bg}, *dir_).status()),
            "STATS_REPORTS_DIFFER");
}

}  // namespace
}  // namespace trm::stats
