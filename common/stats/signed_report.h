// Statistics reports signed by their node, and what a regional secretariat
// does with them: verify each against the signed directory, and combine the
// nodes' reports into one (docs/workflow.md, "Statistics").
//
//   ASSIGN_OR_RETURN(v1::SignedStatistics s, SignStatistics(report, key));
//   ASSIGN_OR_RETURN(v1::StatisticsReport r, VerifyStatistics(s, dir));
//   ASSIGN_OR_RETURN(v1::StatisticsReport all, Aggregate({r1, r2, r3}, dir));
#ifndef TRM_COMMON_STATS_SIGNED_REPORT_H_
#define TRM_COMMON_STATS_SIGNED_REPORT_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/crypto/ed25519.h"
#include "common/directory/directory.h"
#include "trm/v1/case.pb.h"

namespace trm::stats {

inline constexpr absl::string_view kStatisticsLabel =
    "trm-broker/v1 statistics";

// kStatisticsLabel || 0x00 || report.
std::string StatisticsSignatureInput(absl::string_view report);

absl::StatusOr<v1::SignedStatistics> SignStatistics(
    const v1::StatisticsReport& report, const crypto::Ed25519PrivateKey& key);

// The report, once it parses and its signature checks with the key the
// directory lists for its node (valid when the report was made);
// STATISTICS_SIGNATURE_INVALID otherwise.
absl::StatusOr<v1::StatisticsReport> VerifyStatistics(
    const v1::SignedStatistics& signed_report, const directory::Directory& dir);

// One report of the federation from the reports of several nodes, over the
// same months and period (STATS_REPORTS_DIFFER otherwise; one per node).
// A case between two countries is in both nodes' reports: each route
// "A>B" is taken from the node of country A only (B's when A's is
// missing), so nothing is counted twice. Totals over routes are the sums of
// those figures (values and suppressed cells); times to acknowledge are
// given per route only. The result's node is "*".
absl::StatusOr<v1::StatisticsReport> Aggregate(
    const std::vector<v1::StatisticsReport>& reports,
    const directory::Directory& dir);

}  // namespace trm::stats

#endif  // TRM_COMMON_STATS_SIGNED_REPORT_H_
