#include "server/stats/mechanism_stats.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/reasons.h"
#include "common/status.h"

namespace trm::stats {
namespace {

absl::Status Bad(absl::string_view what) {
  return Error(absl::StatusCode::kInvalidArgument, "STATS_REQUEST_INVALID",
               what);
}

absl::CivilMonth MonthOf(int64_t unix_ms) {
  return absl::CivilMonth(
      absl::ToCivilSecond(absl::FromUnixMillis(unix_ms), absl::UTCTimeZone()));
}

// The measure a step counts for, or "" for none.
std::string MeasureOf(const v1::CaseStep& s) {
  switch (s.type()) {
    case v1::REFERRAL_REQUEST:
      return "referrals";
    case v1::REFERRAL_ACK:
      return s.outcome() == v1::REFERRAL_ACCEPTED ? "referrals_accepted"
                                                  : "referrals_declined";
    case v1::CONSENT_RECORD:
      return s.outcome() == v1::CONSENT_GRANTED ? "consents_granted"
                                                : "consents_withdrawn";
    case v1::RISK_ASSESSMENT:
      return "risk_assessments";
    case v1::TRAVEL_ARRANGEMENT:
      return "travel_arrangements";
    case v1::ARRIVAL_CONFIRMATION:
      return "returns_completed";
    case v1::MONITORING_REPORT:
      return "monitoring_reports";
    case v1::DEADLINE_NOTICE:
      return s.outcome() == v1::MONITORING_REPORT_DUE
                 ? "monitoring_reports_late"
                 : "deadlines_escalated";
    case v1::ERASURE_OR_RECTIFICATION_NOTICE:
      return "erasure_notices";
    case v1::CASE_CLOSURE:
      return "cases_closed";
    default:
      return "";
  }
}

// The label of the period holding `m`.
std::string PeriodLabel(absl::CivilMonth m, const std::string& period) {
  if (period == "year") return absl::StrCat(m.year());
  if (period == "quarter") {
    return absl::StrCat(m.year(), "-Q", (m.month() - 1) / 3 + 1);
  }
  return absl::StrFormat("%04d-%02d", m.year(), m.month());
}

// Nearest rank: the smallest value with at least `p` of them at or below.
int64_t Percentile(std::vector<int64_t> v, double p) {
  std::sort(v.begin(), v.end());
  size_t rank =
      static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::max<size_t>(rank, 1) - 1];
}

std::string RefusalMeasure(absl::string_view token) {
  return absl::AsciiStrToLower(absl::StrCat("refused_", token));
}

}  // namespace

const std::vector<std::string>& Measures() {
  static const std::vector<std::string> kMeasures = [] {
    std::vector<std::string> m = {"referrals",
                                  "referrals_accepted",
                                  "referrals_declined",
                                  "consents_granted",
                                  "consents_withdrawn",
                                  "risk_assessments",
                                  "travel_arrangements",
                                  "travel_after_risk_assessment",
                                  "returns_completed",
                                  "monitoring_reports",
                                  "monitoring_reports_on_time",
                                  "monitoring_reports_late",
                                  "monitoring_reports_missing",
                                  "deadlines_escalated",
                                  "erasure_notices",
                                  "cases_closed"};
    for (const ReasonInfo& r : Reasons()) {
      if (IsCaseRule(r)) m.push_back(RefusalMeasure(r.token));
    }
    return m;
  }();
  return kMeasures;
}

void MonthCells::AddCase(
    const v1::CaseRecord& rec,
    const std::function<std::string(const std::string&)>& country_of) {
  auto country = [&](const std::string& org) {
    std::string c = country_of(org);
    return c.empty() ? std::string("??") : c;
  };
  const std::string owner = rec.owner_org().empty() && rec.participants_size()
                                ? rec.participants(0)
                                : rec.owner_org();
  std::string partner;
  for (const std::string& p : rec.participants()) {
    if (p != owner) {
      partner = p;
      break;
    }
  }
  const std::string route = absl::StrCat(
      country(owner), ">", partner.empty() ? country(owner) : country(partner));
  // A deadline notice goes to several organisations: count it once.
  std::set<std::pair<uint32_t, int64_t>> notices;
  int64_t referral_ms = 0;
  uint32_t last_risk = 0;  // the outcome of the latest risk assessment
  // Monitoring periods whose deadline passed with no report since: the
  // next report answers one of them late; with none, a report is on time.
  int overdue_reports = 0;
  for (const v1::CaseStep& s : rec.steps()) {
    if (s.type() == v1::RISK_ASSESSMENT) last_risk = s.outcome();
    if (s.type() == v1::TRAVEL_ARRANGEMENT &&
        last_risk == v1::RISK_ACCEPTABLE) {
      Add("travel_after_risk_assessment", route, MonthOf(s.unix_ms()), 1);
    }
    const std::string measure = MeasureOf(s);
    if (measure.empty()) continue;
    if (s.type() == v1::DEADLINE_NOTICE &&
        !notices.emplace(s.outcome(), s.unix_ms()).second) {
      continue;
    }
    if (s.type() == v1::DEADLINE_NOTICE &&
        s.outcome() == v1::MONITORING_REPORT_DUE) {
      ++overdue_reports;
    } else if (s.type() == v1::MONITORING_REPORT) {
      if (overdue_reports > 0) {
        --overdue_reports;
      } else {
        Add("monitoring_reports_on_time", route, MonthOf(s.unix_ms()), 1);
      }
    }
    Add(measure, route, MonthOf(s.unix_ms()), 1);
    if (s.type() == v1::REFERRAL_REQUEST) {
      referral_ms = s.unix_ms();
    } else if (s.type() == v1::REFERRAL_ACK && referral_ms != 0) {
      AddAckTime(route, MonthOf(referral_ms), s.unix_ms() - referral_ms);
      referral_ms = 0;
    }
  }
  // A report still missing: its deadline passed (and was escalated) and
  // no report has come; counted in the month it was due.
  for (const v1::Deadline& d : rec.deadlines()) {
    if (d.kind() == v1::MONITORING_REPORT_DUE && d.escalated_unix_ms() != 0) {
      Add("monitoring_reports_missing", route, MonthOf(d.due_unix_ms()), 1);
    }
  }
}

void MonthCells::AddRefusal(
    const v1::AuditEvent& event,
    const std::function<std::string(const std::string&)>& country_of) {
  if (event.kind() != v1::MESSAGE_REJECTED) return;
  const ReasonInfo* reason = FindReason(event.reason_code());
  if (reason == nullptr || !IsCaseRule(*reason)) return;
  auto country = [&](const std::string& org) {
    std::string c = country_of(org);
    return c.empty() ? std::string("??") : c;
  };
  Add(RefusalMeasure(reason->token),
      absl::StrCat(country(event.sender_org()), ">",
                   country(event.recipient_org())),
      MonthOf(event.time_unix_ms()), 1);
}

void MonthCells::Add(const std::string& measure, const std::string& route,
                     absl::CivilMonth month, uint64_t n) {
  counts_[{measure, route, month}] += n;
}

void MonthCells::AddAckTime(const std::string& route, absl::CivilMonth month,
                            int64_t ms) {
  ack_ms_[{route, month}].push_back(ms);
}

uint64_t MonthCells::Count(const std::string& measure, const std::string& route,
                           absl::CivilMonth month) const {
  auto it = counts_.find({measure, route, month});
  return it == counts_.end() ? 0 : it->second;
}

const std::vector<int64_t>& MonthCells::AckTimes(const std::string& route,
                                                 absl::CivilMonth month) const {
  static const std::vector<int64_t> kNone;
  auto it = ack_ms_.find({route, month});
  return it == ack_ms_.end() ? kNone : it->second;
}

absl::StatusOr<absl::CivilMonth> ParseMonth(const std::string& text,
                                            const std::string& what) {
  absl::CivilMonth m;
  if (!absl::ParseCivilTime(text, &m) || text.size() != 7) {
    return Bad(
        absl::StrCat(what, " '", text, "' is not a month such as 2026-03"));
  }
  return m;
}

absl::StatusOr<v1::StatisticsReport> BuildReport(const MonthCells& cells,
                                                 const ReportSpec& spec) {
  if (spec.period != "month" && spec.period != "quarter" &&
      spec.period != "year") {
    return Bad(absl::StrCat("the period '", spec.period,
                            "' is not month, quarter or year"));
  }
  if (spec.to < spec.from || spec.to - spec.from >= 120) {
    return Bad(
        "give a range of months from the first to the last, at most "
        "ten years");
  }
  const uint32_t k = std::max<uint32_t>(spec.threshold, 1);
  v1::StatisticsReport out;
  out.set_from_month(PeriodLabel(spec.from, "month"));
  out.set_to_month(PeriodLabel(spec.to, "month"));
  out.set_period(spec.period);
  out.set_threshold(k);
  for (const std::string& m : Measures()) out.add_measures(m);
  for (const std::string& r : spec.routes) out.add_routes(r);
  // The periods in order, each with its months.
  std::vector<std::pair<std::string, std::vector<absl::CivilMonth>>> periods;
  for (absl::CivilMonth m = spec.from; m <= spec.to; ++m) {
    const std::string label = PeriodLabel(m, spec.period);
    if (periods.empty() || periods.back().first != label) {
      periods.push_back({label, {}});
    }
    periods.back().second.push_back(m);
  }
  // A figure over some routes and months: the published cells' sum.
  struct Sum {
    uint64_t value = 0;
    uint32_t suppressed = 0;
    void Take(uint64_t count, uint32_t threshold) {
      if (count >= threshold) {
        value += count;
      } else {
        ++suppressed;
      }
    }
  };
  auto add = [&](const std::string& measure, const std::string& route,
                 const std::string& period, const Sum& s) {
    v1::StatisticsFigure* f = out.add_figures();
    f->set_measure(measure);
    f->set_route(route);
    f->set_period(period);
    f->set_value(s.value);
    f->set_suppressed_cells(s.suppressed);
  };
  for (const std::string& measure : Measures()) {
    Sum all;
    std::vector<Sum> by_period(periods.size());
    for (const std::string& route : spec.routes) {
      Sum route_all;
      for (size_t i = 0; i < periods.size(); ++i) {
        Sum s;
        for (absl::CivilMonth m : periods[i].second) {
          const uint64_t c = cells.Count(measure, route, m);
          s.Take(c, k);
          route_all.Take(c, k);
          by_period[i].Take(c, k);
          all.Take(c, k);
        }
        add(measure, route, periods[i].first, s);
      }
      add(measure, route, "*", route_all);
    }
    for (size_t i = 0; i < periods.size(); ++i) {
      add(measure, "*", periods[i].first, by_period[i]);
    }
    add(measure, "*", "*", all);
  }
  // Acknowledgement times, over the referrals of published month cells.
  auto duration = [&](const std::string& route, const std::string& period,
                      const std::vector<int64_t>& times) {
    v1::StatisticsDuration* d = out.add_durations();
    d->set_route(route);
    d->set_period(period);
    if (times.size() < k) return;
    d->set_count(static_cast<uint32_t>(times.size()));
    d->set_median_ms(Percentile(times, 0.5));
    d->set_p90_ms(Percentile(times, 0.9));
  };
  std::vector<int64_t> every;
  for (const std::string& route : spec.routes) {
    std::vector<int64_t> route_all;
    for (const auto& [label, months] : periods) {
      std::vector<int64_t> times;
      for (absl::CivilMonth m : months) {
        if (cells.Count("referrals", route, m) < k) continue;
        const std::vector<int64_t>& t = cells.AckTimes(route, m);
        times.insert(times.end(), t.begin(), t.end());
      }
      route_all.insert(route_all.end(), times.begin(), times.end());
      duration(route, label, times);
    }
    every.insert(every.end(), route_all.begin(), route_all.end());
    duration(route, "*", route_all);
  }
  duration("*", "*", every);
  return out;
}

}  // namespace trm::stats
