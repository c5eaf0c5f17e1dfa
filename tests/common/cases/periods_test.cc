#include "common/cases/periods.h"

#include <gtest/gtest.h>

#include <random>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace trm::cases {
namespace {

using nlohmann::json;

const jsonio::JsonErrors kErrors{"TEST_INVALID", "test.json", ""};

v1::FederationPolicy Rules(const json& j, uint64_t version = 0) {
  v1::FederationPolicy p;
  p.set_version(version);
  const absl::Status s =
      RulesFromJson(jsonio::JsonReader(j, "rules", kErrors), &p);
  EXPECT_TRUE(s.ok()) << s;
  return p;
}

CasePolicies Resolved(const v1::FederationPolicy& p) {
  absl::StatusOr<CasePolicies> r = Resolve(p, "rules", "TEST_INVALID");
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : CasePolicies{};
}

TEST(PeriodsTest, TheJsonFormReadsAndWritesBack) {
  const json in = {
      {"periods",
       {{"referral_ack", "48h"}, {"travel_notice_working_days", 7u}}},
      {"countries", {{"NG", {{"arrival_confirmation", "24h"}}}}},
      {"pairs", {{"IT>NG", {{"referral_ack", "4s"}}}}}};
  const v1::FederationPolicy p = Rules(in);
  EXPECT_EQ(p.defaults().referral_ack_seconds(), 48 * 3600u);
  EXPECT_EQ(p.defaults().travel_notice_working_days(), 7u);
  EXPECT_EQ(p.defaults().reflection_seconds(), 0u);  // left to the TRM default
  ASSERT_EQ(p.routes_size(), 2);
  EXPECT_EQ(RulesToJson(p), in);
}

TEST(PeriodsTest, BadValuesNameTheKey) {
  struct Case {
    json rules;
    std::string named;
  } cases[] = {
      {{{"periods", {{"referral_ack", "soon"}}}},
       "\"referral_ack\" must be a positive duration"},
      {{{"periods", {{"referral_ack", "0s"}}}}, "positive duration"},
      {{{"periods", {{"referral_ack", "1.5s"}}}}, "whole"},
      {{{"periods", {{"travel_notice_working_days", 61u}}}}, "at most 60"},
      {{{"periods", {{"travel_notice_working_days", 0u}}}}, "at least 1"},
      {{{"periods", {{"reflexion", "720h"}}}}, "unknown key \"reflexion\""},
      {{{"countries", {{"BG>NG", json::object()}}}}, "a country such as"},
      {{{"pairs", {{"NG", json::object()}}}}, "a pair such as"},
      {{{"pairs", {{"BG>", json::object()}}}}, "a pair such as"},
      {{{"pairs", {{"A>B>C", json::object()}}}}, "a pair such as"},
  };
  for (const Case& c : cases) {
    v1::FederationPolicy p;
    const absl::Status s =
        RulesFromJson(jsonio::JsonReader(c.rules, "rules", kErrors), &p);
    ASSERT_FALSE(s.ok()) << c.rules;
    EXPECT_NE(s.message().find(c.named), std::string::npos)
        << c.rules << " -> " << s;
  }
}

TEST(PeriodsTest, APairBuildsOnItsCountryWhichBuildsOnTheDefaults) {
  const CasePolicies p = Resolved(Rules({
      {"periods", {{"referral_ack", "48h"}}},
      {"countries", {{"NG", {{"arrival_confirmation", "24h"}}}}},
      {"pairs", {{"IT>NG", {{"referral_ack", "4s"}}}}},
  }));
  EXPECT_EQ(p.For("BG", "IT").referral_ack_within, absl::Hours(48));
  EXPECT_EQ(p.For("BG", "IT").arrival_confirmation_within, absl::Hours(48));
  EXPECT_EQ(p.For("BG", "NG").arrival_confirmation_within, absl::Hours(24));
  EXPECT_EQ(p.For("BG", "NG").referral_ack_within, absl::Hours(48));
  EXPECT_EQ(p.For("IT", "NG").referral_ack_within, absl::Seconds(4));
  EXPECT_EQ(p.For("IT", "NG").arrival_confirmation_within, absl::Hours(24));
  EXPECT_EQ(p.For("NG", "IT").referral_ack_within, absl::Hours(48));
}

TEST(PeriodsTest, EveryResolvedRouteKeepsTheLimits) {
  struct Case {
    json rules;
    std::string named;
  } cases[] = {
      {{{"periods", {{"reflection", "240h"}}}},
       "rules.periods: \"reflection\" must be at least 720h"},
      {{{"pairs", {{"BG>NG", {{"reflection", "24h"}}}}}},
       "rules.pairs.BG>NG: \"reflection\""},
      {{{"countries", {{"NG", {{"monitoring_for", "30000h"}}}}}},
       "rules.countries.NG: \"monitoring_for\""},
      // Longer reports than the whole monitoring time.
      {{{"periods", {{"monitoring_every", "9000h"}}}},
       "between \"monitoring_every\""},
  };
  for (const Case& c : cases) {
    absl::StatusOr<CasePolicies> r =
        Resolve(Rules(c.rules), "rules", "TEST_INVALID");
    ASSERT_FALSE(r.ok()) << c.rules;
    EXPECT_EQ(ErrorReason(r.status()), "TEST_INVALID");
    EXPECT_NE(r.status().message().find(c.named), std::string::npos)
        << c.rules << " -> " << r.status();
  }
  v1::FederationPolicy twice = Rules({{"countries", {{"NG", json::object()}}}});
  *twice.add_routes() = twice.routes(0);
  absl::StatusOr<CasePolicies> r = Resolve(twice, "rules", "TEST_INVALID");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("countries.NG: given twice"),
            std::string::npos)
      << r.status();
}

TEST(PeriodsTest, MergeTakesTheStricterOfEachPeriodAndMarksTheLocalOnes) {
  // The federation: ack 72h, arrival 48h, 5 days notice, except to NG.
  const CasePolicies federation = Resolved(Rules({
      {"countries",
       {{"NG", {{"referral_ack", "48h"}, {"travel_notice_working_days", 8u}}}}},
  }));
  // This node: a shorter acknowledgement everywhere, more notice, and a
  // looser arrival period for IT>NG (which must not apply).
  const CasePolicies local = Resolved(Rules({
      {"periods",
       {{"referral_ack", "60h"}, {"travel_notice_working_days", 6u}}},
      {"pairs", {{"IT>NG", {{"arrival_confirmation", "96h"}}}}},
  }));
  const CasePolicies m = Merge(local, federation, 3);
  const CasePolicy& bg_it = m.For("BG", "IT");
  EXPECT_EQ(bg_it.referral_ack_within, absl::Hours(60));
  EXPECT_EQ(bg_it.travel_notice_working_days, 6);
  EXPECT_TRUE(IsLocal(bg_it, PeriodField::kReferralAck));
  EXPECT_TRUE(IsLocal(bg_it, PeriodField::kTravelNotice));
  EXPECT_FALSE(IsLocal(bg_it, PeriodField::kArrivalConfirmation));
  EXPECT_EQ(bg_it.policy_version, 3u);
  const CasePolicy& bg_ng = m.For("BG", "NG");
  EXPECT_EQ(bg_ng.referral_ack_within, absl::Hours(48));  // the federation's
  EXPECT_FALSE(IsLocal(bg_ng, PeriodField::kReferralAck));
  EXPECT_EQ(bg_ng.travel_notice_working_days, 8);
  const CasePolicy& it_ng = m.For("IT", "NG");
  EXPECT_EQ(it_ng.arrival_confirmation_within, absl::Hours(48));
  EXPECT_EQ(it_ng.referral_ack_within, absl::Hours(48));
  EXPECT_EQ(it_ng.policy_version, 3u);
}

// Whatever either side sets, no route of the merged table is looser than
// the federation's or than the node's own, in any period.
TEST(PeriodsTest, MergedRoutesAreNeverLooserThanEitherSide) {
  std::mt19937 rng(19);
  const char* countries[] = {"BG", "NG", "IT"};
  auto random_rules = [&] {
    v1::FederationPolicy p;
    auto periods = [&](v1::CasePeriods* c) {
      std::uniform_int_distribution<int> coin(0, 2);
      if (coin(rng) == 0) c->set_reflection_seconds((720 + rng() % 500) * 3600);
      if (coin(rng) == 0) c->set_referral_ack_seconds(1 + rng() % 500000);
      if (coin(rng) == 0) c->set_travel_notice_working_days(1 + rng() % 20);
      if (coin(rng) == 0)
        c->set_arrival_confirmation_seconds(1 + rng() % 500000);
      if (coin(rng) == 0)
        c->set_monitoring_every_seconds((100 + rng() % 2000) * 3600);
      c->set_monitoring_for_seconds((2200 + rng() % 20000) * 3600);
    };
    periods(p.mutable_defaults());
    for (const char* to : countries) {
      if (rng() % 2) {
        v1::RoutePeriods* r = p.add_routes();
        r->set_route(to);
        periods(r->mutable_periods());
      }
      for (const char* from : countries) {
        if (rng() % 3 == 0) {
          v1::RoutePeriods* r = p.add_routes();
          r->set_route(absl::StrCat(from, ">", to));
          periods(r->mutable_periods());
        }
      }
    }
    return p;
  };
  for (int round = 0; round < 300; ++round) {
    const CasePolicies local = Resolved(random_rules());
    const CasePolicies fed = Resolved(random_rules());
    const CasePolicies m = Merge(local, fed, 1);
    for (const char* from : countries) {
      for (const char* to : countries) {
        const CasePolicy &x = m.For(from, to), &l = local.For(from, to),
                         &f = fed.For(from, to);
        for (const CasePolicy* side : {&l, &f}) {
          EXPECT_GE(x.reflection_min, side->reflection_min);
          EXPECT_LE(x.referral_ack_within, side->referral_ack_within);
          EXPECT_GE(x.travel_notice_working_days,
                    side->travel_notice_working_days);
          EXPECT_LE(x.arrival_confirmation_within,
                    side->arrival_confirmation_within);
          EXPECT_LE(x.monitoring_every, side->monitoring_every);
          EXPECT_GE(x.monitoring_for, side->monitoring_for);
        }
        // And each period is one side's: nothing made up.
        EXPECT_TRUE(x.referral_ack_within == l.referral_ack_within ||
                    x.referral_ack_within == f.referral_ack_within);
        EXPECT_EQ(IsLocal(x, PeriodField::kReferralAck),
                  l.referral_ack_within < f.referral_ack_within);
      }
    }
    if (HasFailure()) return;
  }
}

TEST(PeriodsTest, ALooserSettingIsNamedWithBothValuesAndTheFix) {
  const v1::FederationPolicy fed =
      Rules({{"periods", {{"referral_ack", "72h"}}},
             {"countries", {{"NG", {{"travel_notice_working_days", 8u}}}}},
             {"pairs", {{"IT>NG", {{"referral_ack", "24h"}}}}}},
            4);
  struct Case {
    json local;
    std::string named;  // empty: accepted
  } cases[] = {
      {{{"periods", {{"referral_ack", "48h"}}}}, ""},
      {{{"periods", {{"referral_ack", "96h"}}}},
       "case_rules.periods.referral_ack is 96h, looser than the federation's "
       "72h (policy version 4"},
      {{{"periods", {{"travel_notice_working_days", 6u}}}}, ""},
      // The federation asks 8 days' notice for NG: 6 is looser there.
      {{{"countries", {{"NG", {{"travel_notice_working_days", 6u}}}}}},
       "case_rules.countries.NG.travel_notice_working_days is 6 working days, "
       "looser than the "
       "federation's 8 working days"},
      {{{"pairs", {{"IT>NG", {{"referral_ack", "48h"}}}}}},
       "case_rules.pairs.IT>NG.referral_ack is 48h"},
      {{{"pairs", {{"BG>NG", {{"referral_ack", "48h"}}}}}}, ""},
      {{{"periods", {{"reflection", "700h"}}}},
       "case_rules.periods.reflection is 700h"},
      {{{"periods", {{"reflection", "1000h"}}}}, ""},
      {{{"periods", {{"monitoring_for", "4000h"}}}}, "or longer"},
      {{{"periods", {{"monitoring_every", "3000h"}}}}, "or shorter"},
  };
  for (const Case& c : cases) {
    const absl::Status s = CheckNotLooser(Rules(c.local), fed, "case_rules");
    if (c.named.empty()) {
      EXPECT_TRUE(s.ok()) << c.local << " -> " << s;
      continue;
    }
    ASSERT_FALSE(s.ok()) << c.local;
    EXPECT_EQ(ErrorReason(s), "POLICY_LOOSER_THAN_FEDERATION");
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(s.message().find(c.named), std::string::npos)
        << c.local << " -> " << s;
  }
  // Without a federation policy the node's own settings are all there is.
  EXPECT_TRUE(CheckNotLooser(Rules({{"periods", {{"referral_ack", "960h"}}}}),
                             v1::FederationPolicy(), "case_rules")
                  .ok());
}

TEST(PeriodsTest, TheDiffNamesEachChangedPeriod) {
  const v1::FederationPolicy a =
      Rules({{"pairs", {{"IT>NG", {{"referral_ack", "4s"}}}}},
             {"countries", {{"NG", {{"arrival_confirmation", "24h"}}}}}},
            1);
  v1::FederationPolicy b =
      Rules({{"periods", {{"referral_ack", "48h"}}},
             {"pairs",
              {{"IT>NG", {{"referral_ack", "48h"}}},
               {"BG>NG", {{"travel_notice_working_days", 7u}}}}}},
            2);
  b.set_max_retention_seconds(3 * 24 * 3600);
  const std::vector<std::string> want = {
      "~ policy version 1 -> 2",
      "~ policy periods.referral_ack: (not set) -> 48h",
      "- policy countries.NG",
      "~ policy pairs.IT>NG.referral_ack: 4s -> 48h",
      "+ policy pairs.BG>NG",
      "~ policy pairs.BG>NG.travel_notice_working_days: (not set) -> 7 working "
      "days",
      "~ policy max_retention: (each node's own) -> 72h",
  };
  EXPECT_EQ(DiffPolicy(a, b), want);
  EXPECT_TRUE(DiffPolicy(a, a).empty());
}

}  // namespace
}  // namespace trm::cases
