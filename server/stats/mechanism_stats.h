// How the referral mechanism performed, from the metadata of a node's case
// records (never a payload): per country route and period, referrals,
// acknowledgements, consents, risk assessments, returns, monitoring reports,
// escalated deadlines, erasures and closures, and the time from a referral
// to its acknowledgement (docs/workflow.md, "Statistics").
//
// No figure may single out a person. Every count is first kept per month
// ("month cell"); a month cell below the threshold (the federation policy's
// statistics_min_cell, 5 by default) is never published, and every
// published figure (a quarter, a year, a total over routes) is the sum of
// the published month cells only, with the number of suppressed ones. So no
// published figure, in one report or across reports for overlapping periods
// or other granularities, depends on the value of a suppressed cell: they
// cannot be derived from it (tests/server/stats/mechanism_stats_test.cc).
//
//   MonthCells cells;
//   store.ForEachCase([&](const v1::CaseRecord& r) {
//     cells.AddCase(r, country_of);
//     return absl::OkStatus();
//   });
//   ASSIGN_OR_RETURN(v1::StatisticsReport report, BuildReport(cells, spec));
#ifndef TRM_SERVER_STATS_MECHANISM_STATS_H_
#define TRM_SERVER_STATS_MECHANISM_STATS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "trm/v1/audit.pb.h"
#include "trm/v1/case.pb.h"

namespace trm::stats {

// The measures, in the order of a report: the steps of cases, then one
// per case rule, "refused_" + its reason token in lower case.
const std::vector<std::string>& Measures();

// The counts of one node's cases per (measure, route, month), and the
// referral-to-acknowledgement times per (route, month of the referral).
class MonthCells {
 public:
  // Adds the steps of `rec`. A case's route is "OWNER>PARTNER": the country
  // of the organisation that owns it, and of the first other participant
  // (`country_of` maps an organisation to its country; "" counts as "??").
  void AddCase(
      const v1::CaseRecord& rec,
      const std::function<std::string(const std::string&)>& country_of);
  // Adds a refusal by a case rule from the node's audit log (a
  // MESSAGE_REJECTED event whose reason is a case rule; others are left
  // out): measure "refused_" + the rule's token in lower case, on the route
  // SENDER>RECIPIENT.
  void AddRefusal(
      const v1::AuditEvent& event,
      const std::function<std::string(const std::string&)>& country_of);
  // Adds `n` to a cell directly (tests).
  void Add(const std::string& measure, const std::string& route,
           absl::CivilMonth month, uint64_t n);
  void AddAckTime(const std::string& route, absl::CivilMonth month, int64_t ms);

  uint64_t Count(const std::string& measure, const std::string& route,
                 absl::CivilMonth month) const;
  const std::vector<int64_t>& AckTimes(const std::string& route,
                                       absl::CivilMonth month) const;

 private:
  std::map<std::tuple<std::string, std::string, absl::CivilMonth>, uint64_t>
      counts_;
  std::map<std::pair<std::string, absl::CivilMonth>, std::vector<int64_t>>
      ack_ms_;
};

struct ReportSpec {
  absl::CivilMonth from, to;  // inclusive
  std::string period;         // "month", "quarter" or "year"
  uint32_t threshold = 5;
  // Every route reported, zero or not: listing only the routes with cases
  // would tell that a case exists.
  std::vector<std::string> routes;
};

// Parses "2026-03"; STATS_REQUEST_INVALID naming `what` otherwise.
absl::StatusOr<absl::CivilMonth> ParseMonth(const std::string& text,
                                            const std::string& what);

// The report; STATS_REQUEST_INVALID for a range backwards or over ten
// years, or an unknown period.
absl::StatusOr<v1::StatisticsReport> BuildReport(const MonthCells& cells,
                                                 const ReportSpec& spec);

}  // namespace trm::stats

#endif  // TRM_SERVER_STATS_MECHANISM_STATS_H_
