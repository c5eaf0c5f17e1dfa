// The console's statistics page (GET /api/v1/stats): the node's report
// (Cases.GetStatistics, docs/workflow.md "Statistics") as JSON, with the
// series its three charts draw. Every number comes from a published figure:
// a suppressed month cell stays suppressed, and nothing is derived from two
// figures (monitoring reports and late ones are two bars, not "on time").
//
//   nlohmann::json page = StatsView(report);
//   page["charts"]["referrals"]["series"][0]["route"]  -> "BG>NG"
#ifndef TRM_CLIENT_AGENT_STATS_VIEW_H_
#define TRM_CLIENT_AGENT_STATS_VIEW_H_

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "trm/v1/case.pb.h"

namespace trm::agent {

// {report: the report in protobuf's JSON mapping (field names as in
// case.proto), threshold, charts: {
//   referrals: {periods: ["2026-11", ...], series: [{route, points:
//     [{period, value, suppressed_cells}]}], hidden: [routes with nothing
//     published]}: value sums the period's published months,
//     suppressed_cells counts its months below the threshold,
//   ack_times: [{route, count, median_seconds, p90_seconds}] (period "*",
//     routes with enough acknowledged referrals),
//   monitoring: [{route, reports, reports_suppressed, late,
//     late_suppressed}] (period "*", routes with any report published)}}
absl::StatusOr<nlohmann::json> StatsView(const v1::StatisticsReport& report);

}  // namespace trm::agent

#endif  // TRM_CLIENT_AGENT_STATS_VIEW_H_
