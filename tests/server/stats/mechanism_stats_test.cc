// Mechanism statistics: what is counted from a case record's metadata, and
// the privacy rule: no suppressed count can be derived from a report, from
// its totals, or from two reports over overlapping periods or of another
// granularity.
#include "server/stats/mechanism_stats.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <tuple>

#include "absl/strings/str_format.h"
#include "common/status.h"

namespace trm::stats {
namespace {

using Key = std::tuple<std::string, std::string, absl::CivilMonth>;

MonthCells Build(const std::map<Key, uint64_t>& counts,
                 const std::map<std::pair<std::string, absl::CivilMonth>,
                                std::vector<int64_t>>& acks = {}) {
  MonthCells c;
  for (const auto& [k, n] : counts) {
    c.Add(std::get<0>(k), std::get<1>(k), std::get<2>(k), n);
  }
  for (const auto& [k, times] : acks) {
    for (int64_t t : times) c.AddAckTime(k.first, k.second, t);
  }
  return c;
}

v1::StatisticsReport Report(const MonthCells& cells, absl::CivilMonth from,
                            absl::CivilMonth to, const std::string& period,
                            std::vector<std::string> routes = {"BG>IT", "BG>NG",
                                                               "NG>BG"}) {
  ReportSpec spec{from, to, period, 5, std::move(routes)};
  absl::StatusOr<v1::StatisticsReport> r = BuildReport(cells, spec);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : v1::StatisticsReport();
}

const v1::StatisticsFigure* Find(const v1::StatisticsReport& r,
                                 const std::string& measure,
                                 const std::string& route,
                                 const std::string& period) {
  for (const v1::StatisticsFigure& f : r.figures()) {
    if (f.measure() == measure && f.route() == route && f.period() == period) {
      return &f;
    }
  }
  return nullptr;
}

v1::CaseStep Step(v1::MessageType type, const std::string& from,
                  const std::string& to, absl::CivilSecond at,
                  uint32_t outcome = 0) {
  v1::CaseStep s;
  s.set_type(type);
  s.set_sender_org(from);
  s.set_recipient_org(to);
  s.set_unix_ms(absl::ToUnixMillis(absl::FromCivil(at, absl::UTCTimeZone())));
  s.set_outcome(outcome);
  return s;
}

// A case owned by bg-ngo, with ng-naptip: route BG>NG.
v1::CaseRecord BgToNg() {
  v1::CaseRecord rec;
  rec.set_owner_org("bg-ngo");
  rec.add_participants("bg-ngo");
  rec.add_participants("ng-naptip");
  return rec;
}

TEST(MechanismStatsTest, ACaseCountsItsStepsOnItsRouteByMonth) {
  v1::CaseRecord rec = BgToNg();
  *rec.add_steps() =
      Step(v1::CONSENT_RECORD, "bg-ngo", "ng-naptip",
           absl::CivilSecond(2026, 3, 2, 9, 0, 0), v1::CONSENT_GRANTED);
  *rec.add_steps() = Step(v1::REFERRAL_REQUEST, "bg-ngo", "ng-naptip",
                          absl::CivilSecond(2026, 3, 2, 10, 0, 0));
  *rec.add_steps() =
      Step(v1::REFERRAL_ACK, "ng-naptip", "bg-ngo",
           absl::CivilSecond(2026, 3, 4, 10, 0, 0), v1::REFERRAL_ACCEPTED);
  // One escalation, told to three organisations: counted once.
  for (const char* to : {"bg-ngo", "bg-nrm", "ng-naptip"}) {
    *rec.add_steps() =
        Step(v1::DEADLINE_NOTICE, "bg", to,
             absl::CivilSecond(2026, 4, 1, 0, 0, 0), v1::MONITORING_REPORT_DUE);
  }
  *rec.add_steps() = Step(v1::ARRIVAL_CONFIRMATION, "ng-naptip", "bg-ngo",
                          absl::CivilSecond(2026, 4, 20, 0, 0, 0));
  MonthCells cells;
  cells.AddCase(rec, [](const std::string& org) {
    return org.substr(0, 2) == "bg"   ? "BG"
           : org.substr(0, 2) == "ng" ? "NG"
                                      : "";
  });
  const absl::CivilMonth march(2026, 3), april(2026, 4);
  EXPECT_EQ(cells.Count("consents_granted", "BG>NG", march), 1u);
  EXPECT_EQ(cells.Count("referrals", "BG>NG", march), 1u);
  EXPECT_EQ(cells.Count("referrals_accepted", "BG>NG", march), 1u);
  EXPECT_EQ(cells.Count("monitoring_reports_late", "BG>NG", april), 1u);
  EXPECT_EQ(cells.Count("returns_completed", "BG>NG", april), 1u);
  EXPECT_EQ(cells.Count("referrals", "NG>BG", march), 0u);
  ASSERT_EQ(cells.AckTimes("BG>NG", march).size(), 1u);
  EXPECT_EQ(cells.AckTimes("BG>NG", march)[0], 48 * 3600 * 1000LL);
}

std::string CountryOf(const std::string& org) {
  return org.substr(0, 2) == "bg" ? "BG" : org.substr(0, 2) == "ng" ? "NG" : "";
}

TEST(MechanismStatsTest,
     TravelAfterAnAcceptableRiskAssessmentAndMissingReports) {
  v1::CaseRecord rec = BgToNg();
  // Unsafe first: a travel then is not counted as assessed; after an
  // acceptable assessment it is.
  *rec.add_steps() =
      Step(v1::RISK_ASSESSMENT, "bg-ngo", "ng-naptip",
           absl::CivilSecond(2026, 3, 2, 9, 0, 0), v1::RISK_UNSAFE);
  *rec.add_steps() = Step(v1::TRAVEL_ARRANGEMENT, "bg-ngo", "ng-naptip",
                          absl::CivilSecond(2026, 3, 3, 9, 0, 0));
  *rec.add_steps() =
      Step(v1::RISK_ASSESSMENT, "bg-ngo", "ng-naptip",
           absl::CivilSecond(2026, 3, 20, 9, 0, 0), v1::RISK_ACCEPTABLE);
  *rec.add_steps() = Step(v1::TRAVEL_ARRANGEMENT, "bg-ngo", "ng-naptip",
                          absl::CivilSecond(2026, 4, 2, 9, 0, 0));
  // A monitoring report due in June, escalated and still open: missing;
  // one due in July, not passed yet: not missing.
  v1::Deadline* d = rec.add_deadlines();
  d->set_kind(v1::MONITORING_REPORT_DUE);
  d->set_due_unix_ms(absl::ToUnixMillis(absl::FromCivil(
      absl::CivilSecond(2026, 6, 30, 0, 0, 0), absl::UTCTimeZone())));
  d->set_escalated_unix_ms(d->due_unix_ms() + 1);
  v1::Deadline* open = rec.add_deadlines();
  *open = *d;
  open->set_due_unix_ms(d->due_unix_ms() + 20LL * 86400 * 1000);
  open->set_escalated_unix_ms(0);
  v1::Deadline* ack = rec.add_deadlines();
  *ack = *d;
  ack->set_kind(v1::REFERRAL_ACK_DUE);  // escalated, but not a report
  MonthCells cells;
  cells.AddCase(rec, CountryOf);
  EXPECT_EQ(
      cells.Count("travel_arrangements", "BG>NG", absl::CivilMonth(2026, 3)),
      1u);
  EXPECT_EQ(cells.Count("travel_after_risk_assessment", "BG>NG",
                        absl::CivilMonth(2026, 3)),
            0u);
  EXPECT_EQ(cells.Count("travel_after_risk_assessment", "BG>NG",
                        absl::CivilMonth(2026, 4)),
            1u);
  EXPECT_EQ(cells.Count("monitoring_reports_missing", "BG>NG",
                        absl::CivilMonth(2026, 6)),
            1u);
  EXPECT_EQ(cells.Count("monitoring_reports_missing", "BG>NG",
                        absl::CivilMonth(2026, 7)),
            0u);
}

TEST(MechanismStatsTest, AReportIsOnTimeUnlessItsPeriodWasEscalated) {
  v1::CaseRecord rec = BgToNg();
  *rec.add_steps() = Step(v1::MONITORING_REPORT, "ng-naptip", "bg-ngo",
                          absl::CivilSecond(2026, 5, 20, 0, 0, 0));
  // June's period passes unreported: one escalation, told to two.
  for (const char* to : {"bg-ngo", "ng-naptip"}) {
    *rec.add_steps() = Step(v1::DEADLINE_NOTICE, "bg", to,
                            absl::CivilSecond(2026, 6, 30, 0, 0, 0),
                            v1::MONITORING_REPORT_DUE);
  }
  // July's report answers June's late; August's is on time again.
  *rec.add_steps() = Step(v1::MONITORING_REPORT, "ng-naptip", "bg-ngo",
                          absl::CivilSecond(2026, 7, 3, 0, 0, 0));
  *rec.add_steps() = Step(v1::MONITORING_REPORT, "ng-naptip", "bg-ngo",
                          absl::CivilSecond(2026, 8, 20, 0, 0, 0));
  MonthCells cells;
  cells.AddCase(rec, CountryOf);
  auto count = [&](const char* measure, int month) {
    return cells.Count(measure, "BG>NG", absl::CivilMonth(2026, month));
  };
  EXPECT_EQ(count("monitoring_reports_on_time", 5), 1u);
  EXPECT_EQ(count("monitoring_reports_late", 6), 1u);
  EXPECT_EQ(count("monitoring_reports", 7), 1u);
  EXPECT_EQ(count("monitoring_reports_on_time", 7), 0u);
  EXPECT_EQ(count("monitoring_reports_on_time", 8), 1u);
}

TEST(MechanismStatsTest, RefusalsAreCountedByCaseRuleOnly) {
  MonthCells cells;
  auto refusal = [](const std::string& reason, const std::string& from,
                    const std::string& to, int day) {
    v1::AuditEvent e;
    e.set_kind(v1::MESSAGE_REJECTED);
    e.set_reason_code(reason);
    e.set_sender_org(from);
    e.set_recipient_org(to);
    e.set_time_unix_ms(absl::ToUnixMillis(absl::FromCivil(
        absl::CivilSecond(2026, 5, day, 0, 0, 0), absl::UTCTimeZone())));
    return e;
  };
  for (int day = 1; day <= 6; ++day) {
    cells.AddRefusal(refusal("CONSENT_REQUIRED", "bg-ngo", "ng-naptip", day),
                     CountryOf);
  }
  cells.AddRefusal(
      refusal("RISK_ASSESSMENT_REQUIRED", "ng-naptip", "bg-ngo", 9), CountryOf);
  // Not a case rule, and not a refusal: left out.
  cells.AddRefusal(refusal("SIGNATURE_INVALID", "bg-ngo", "ng-naptip", 2),
                   CountryOf);
  v1::AuditEvent accepted =
      refusal("CONSENT_REQUIRED", "bg-ngo", "ng-naptip", 3);
  accepted.set_kind(v1::MESSAGE_ACCEPTED);
  cells.AddRefusal(accepted, CountryOf);
  EXPECT_EQ(cells.Count("refused_consent_required", "BG>NG",
                        absl::CivilMonth(2026, 5)),
            6u);
  EXPECT_EQ(cells.Count("refused_risk_assessment_required", "NG>BG",
                        absl::CivilMonth(2026, 5)),
            1u);
  EXPECT_EQ(cells.Count("refused_signature_invalid", "BG>NG",
                        absl::CivilMonth(2026, 5)),
            0u);
  // Every case rule has its measure in a report, and nothing else does.
  const std::vector<std::string>& m = Measures();
  size_t rules = 0;
  for (const std::string& name : m) rules += name.rfind("refused_", 0) == 0;
  EXPECT_EQ(rules, 17u);
  EXPECT_NE(std::find(m.begin(), m.end(), "refused_consent_required"), m.end());
  EXPECT_EQ(std::find(m.begin(), m.end(), "refused_signature_invalid"),
            m.end());
  // Published like any other measure: 6 shows, the single one does not.
  v1::StatisticsReport r = Report(cells, absl::CivilMonth(2026, 5),
                                  absl::CivilMonth(2026, 5), "month");
  EXPECT_EQ(Find(r, "refused_consent_required", "BG>NG", "2026-05")->value(),
            6u);
  const v1::StatisticsFigure* one =
      Find(r, "refused_risk_assessment_required", "NG>BG", "2026-05");
  EXPECT_EQ(one->value(), 0u);
  EXPECT_EQ(one->suppressed_cells(), 1u);
}

TEST(MechanismStatsTest, SmallCellsAreShownAsFewerThanAndTotalsLeaveThemOut) {
  const absl::CivilMonth jan(2026, 1), feb(2026, 2), mar(2026, 3);
  const MonthCells cells = Build({{{"referrals", "BG>NG", jan}, 7},
                                  {{"referrals", "BG>NG", feb}, 2},
                                  {{"referrals", "BG>NG", mar}, 9},
                                  {{"referrals", "NG>BG", jan}, 5}});
  const v1::StatisticsReport r = Report(cells, jan, mar, "month");
  EXPECT_EQ(r.threshold(), 5u);
  const v1::StatisticsFigure* f = Find(r, "referrals", "BG>NG", "2026-02");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->value(), 0u);
  EXPECT_EQ(f->suppressed_cells(), 1u) << "2 is shown as fewer than 5";
  f = Find(r, "referrals", "BG>NG", "2026-01");
  EXPECT_EQ(f->value(), 7u);
  EXPECT_EQ(f->suppressed_cells(), 0u);
  f = Find(r, "referrals", "BG>NG", "*");
  EXPECT_EQ(f->value(), 16u) << "the row total leaves the 2 out";
  EXPECT_EQ(f->suppressed_cells(), 1u);
  f = Find(r, "referrals", "*", "2026-01");
  EXPECT_EQ(f->value(), 12u);
  EXPECT_EQ(f->suppressed_cells(), 1u) << "BG>IT's 0 in January";
  // By quarter: the quarter is the sum of its published months.
  const v1::StatisticsReport q = Report(cells, jan, mar, "quarter");
  f = Find(q, "referrals", "BG>NG", "2026-Q1");
  EXPECT_EQ(f->value(), 16u);
  EXPECT_EQ(f->suppressed_cells(), 1u);
  EXPECT_EQ(
      ErrorReason(BuildReport(cells, {mar, jan, "month", 5, {}}).status()),
      "STATS_REQUEST_INVALID");
  EXPECT_EQ(ErrorReason(BuildReport(cells, {jan, mar, "week", 5, {}}).status()),
            "STATS_REQUEST_INVALID");
  EXPECT_EQ(ErrorReason(ParseMonth("2026-3x", "from").status()),
            "STATS_REQUEST_INVALID");
}

TEST(MechanismStatsTest, TimesToAcknowledgeOnlyForGroupsAtTheThreshold) {
  const absl::CivilMonth jan(2026, 1), feb(2026, 2);
  const int64_t h = 3600 * 1000;
  const MonthCells cells = Build(
      {{{"referrals", "BG>NG", jan}, 6}, {{"referrals", "BG>NG", feb}, 3}},
      {{{"BG>NG", jan}, {10 * h, 20 * h, 30 * h, 40 * h, 50 * h}},
       {{"BG>NG", feb}, {1 * h, 2 * h, 3 * h}}});
  const v1::StatisticsReport r = Report(cells, jan, feb, "month");
  for (const v1::StatisticsDuration& d : r.durations()) {
    if (d.route() == "BG>NG" && d.period() == "2026-01") {
      EXPECT_EQ(d.count(), 5u);
      EXPECT_EQ(d.median_ms(), 30 * h);
      EXPECT_EQ(d.p90_ms(), 50 * h);
    } else if (d.route() == "BG>NG" && d.period() == "*") {
      EXPECT_EQ(d.count(), 5u) << "February's three are in a suppressed cell";
    } else if (d.route() == "BG>NG" && d.period() == "2026-02") {
      EXPECT_EQ(d.count(), 0u);
      EXPECT_EQ(d.median_ms(), 0);
    }
  }
}

// The privacy property. Crafted small data over three routes and nine
// months; three reports an attacker could ask for: January to June by
// month, April to September by quarter, the year. For every month cell
// below the threshold, every other value it could have (0 to 4), with
// acknowledgement times of its own, gives the very same three reports. So
// nothing in them, nor their totals, nor the overlap of the periods, tells
// the cell's value: it cannot be derived.
TEST(MechanismStatsTest, NoSuppressedCellCanBeDerivedFromTheReports) {
  const absl::CivilMonth jan(2026, 1), apr(2026, 4), jun(2026, 6), sep(2026, 9),
      dec(2026, 12);
  std::map<Key, uint64_t> data;
  std::map<std::pair<std::string, absl::CivilMonth>, std::vector<int64_t>> acks;
  std::mt19937 rng(7);
  for (const char* route : {"BG>IT", "BG>NG", "NG>BG"}) {
    for (absl::CivilMonth m = jan; m <= sep; ++m) {
      for (const std::string& measure :
           {std::string("referrals"), std::string("returns_completed")}) {
        // Mostly around the threshold: 0 to 9.
        data[{measure, route, m}] = rng() % 10;
      }
      for (uint64_t i = 0; i < data[{"referrals", route, m}]; ++i) {
        acks[{route, m}].push_back(3'600'000LL * (1 + rng() % 100));
      }
    }
  }
  auto reports = [&](const std::map<Key, uint64_t>& d,
                     const std::map<std::pair<std::string, absl::CivilMonth>,
                                    std::vector<int64_t>>& a) {
    const MonthCells cells = Build(d, a);
    return Report(cells, jan, jun, "month").SerializeAsString() + "|" +
           Report(cells, apr, sep, "quarter").SerializeAsString() + "|" +
           Report(cells, jan, dec, "year").SerializeAsString();
  };
  const std::string published = reports(data, acks);
  int suppressed = 0;
  for (const auto& [key, value] : data) {
    if (value >= 5) continue;
    ++suppressed;
    for (uint64_t other = 0; other < 5; ++other) {
      if (other == value) continue;
      std::map<Key, uint64_t> d = data;
      d[key] = other;
      auto a = acks;
      if (std::get<0>(key) == "referrals") {
        a[{std::get<1>(key), std::get<2>(key)}] =
            std::vector<int64_t>(other, 7'200'000LL * (1 + other));
      }
      ASSERT_EQ(reports(d, a), published)
          << "the reports change with the suppressed cell " << std::get<0>(key)
          << " " << std::get<1>(key) << " " << std::get<2>(key) << " = "
          << value << " -> " << other;
    }
  }
  EXPECT_GT(suppressed, 20) << "the data must have suppressed cells to test";

  // What this rule prevents: had the quarter been the plain sum of its
  // months, the quarter minus the published months would give a suppressed
  // month exactly. Find such a month and show the attack works on it.
  const MonthCells cells = Build(data, acks);
  const v1::StatisticsReport months = Report(cells, jan, jun, "month");
  bool shown = false;
  for (const char* route : {"BG>IT", "BG>NG", "NG>BG"}) {
    uint64_t plain_q2 = 0, published_sum = 0;
    int hidden = 0;
    uint64_t hidden_value = 0;
    for (absl::CivilMonth m = apr; m <= jun; ++m) {
      const uint64_t n = data[{"referrals", route, m}];
      plain_q2 += n;
      const v1::StatisticsFigure* f =
          Find(months, "referrals", route,
               absl::StrFormat("%04d-%02d", m.year(), m.month()));
      ASSERT_NE(f, nullptr);
      published_sum += f->value();
      if (f->suppressed_cells() == 1) {
        ++hidden;
        hidden_value = n;
      }
    }
    if (hidden != 1) continue;
    EXPECT_EQ(plain_q2 - published_sum, hidden_value)
        << "a plain total would reveal it";
    const v1::StatisticsReport q = Report(cells, apr, jun, "quarter");
    const v1::StatisticsFigure* f = Find(q, "referrals", route, "2026-Q2");
    EXPECT_EQ(f->value(), published_sum) << "ours does not";
    shown = true;
  }
  EXPECT_TRUE(shown) << "the data should have a quarter with one hidden month";
}

}  // namespace
}  // namespace trm::stats
