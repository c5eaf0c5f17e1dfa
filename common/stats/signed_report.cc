#include "common/stats/signed_report.h"

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/bytes.h"
#include "common/crypto/key_files.h"
#include "common/crypto/signature_input.h"
#include "common/status.h"

namespace trm::stats {
namespace {

absl::Status Invalid(absl::string_view what) {
  return Error(absl::StatusCode::kInvalidArgument,
               "STATISTICS_SIGNATURE_INVALID", what);
}

absl::Status Differ(absl::string_view what) {
  return Error(absl::StatusCode::kInvalidArgument, "STATS_REPORTS_DIFFER",
               what);
}

}  // namespace

std::string StatisticsSignatureInput(absl::string_view report) {
  return crypto::SignatureInput(kStatisticsLabel, report);
}

absl::StatusOr<v1::SignedStatistics> SignStatistics(
    const v1::StatisticsReport& report, const crypto::Ed25519PrivateKey& key) {
  v1::SignedStatistics s;
  s.set_report(report.SerializeAsString());
  const crypto::KeyId id = crypto::KeyIdOf(key.public_key());
  s.set_node_key_id(id.data(), id.size());
  ASSIGN_OR_RETURN(crypto::Ed25519Signature sig,
                   key.Sign(AsBytes(StatisticsSignatureInput(s.report()))));
  s.set_signature(sig.data(), sig.size());
  return s;
}

absl::StatusOr<v1::StatisticsReport> VerifyStatistics(
    const v1::SignedStatistics& s, const directory::Directory& dir) {
  v1::StatisticsReport report;
  if (!report.ParseFromString(s.report()) || report.node().empty()) {
    return Invalid("the statistics report does not parse or names no node");
  }
  absl::StatusOr<crypto::Ed25519PublicKey> key =
      dir.NodeSigningKey(report.node(), s.node_key_id(),
                         absl::FromUnixMillis(report.generated_unix_ms()));
  if (!key.ok()) {
    return Invalid(absl::StrCat("node ", report.node(),
                                "'s statistics: ", key.status().message()));
  }
  if (!key->Verify(AsBytes(StatisticsSignatureInput(s.report())),
                   AsBytes(s.signature()))) {
    return Invalid(absl::StrCat("node ", report.node(),
                                "'s statistics are not signed by its key ",
                                HexEncode(AsBytes(s.node_key_id())),
                                ": the file was altered or is not the "
                                "node's"));
  }
  return report;
}

absl::StatusOr<v1::StatisticsReport> Aggregate(
    const std::vector<v1::StatisticsReport>& reports,
    const directory::Directory& dir) {
  if (reports.empty()) return Differ("give at least one report");
  const v1::StatisticsReport& first = reports[0];
  auto country = [&](const std::string& node) {
    const v1::DirectoryNode* n = dir.FindNode(node);
    return n == nullptr || n->country().empty() ? node : n->country();
  };
  // The report of each country's node.
  std::map<std::string, const v1::StatisticsReport*> by_country;
  for (const v1::StatisticsReport& r : reports) {
    if (r.from_month() != first.from_month() ||
        r.to_month() != first.to_month() || r.period() != first.period()) {
      return Differ(absl::StrCat(
          "node ", r.node(), "'s report covers ", r.from_month(), " to ",
          r.to_month(), " by ", r.period(), ", node ", first.node(), "'s ",
          first.from_month(), " to ", first.to_month(), " by ", first.period(),
          "; ask every node for the same months and period"));
    }
    if (!by_country.emplace(country(r.node()), &r).second) {
      return Differ(absl::StrCat("two reports of country ", country(r.node()),
                                 " (node ", r.node(),
                                 "); give one report per node"));
    }
  }
  // Each route from the node of its first country, else of its second.
  std::map<std::string, const v1::StatisticsReport*> source;
  for (const v1::StatisticsReport& r : reports) {
    for (const std::string& route : r.routes()) {
      const std::string from = route.substr(0, route.find('>'));
      auto owner = by_country.find(from);
      source[route] = owner != by_country.end() ? owner->second : &r;
    }
  }
  v1::StatisticsReport out;
  out.set_node("*");
  out.set_from_month(first.from_month());
  out.set_to_month(first.to_month());
  out.set_period(first.period());
  uint32_t threshold = 0;
  for (const v1::StatisticsReport& r : reports) {
    threshold = std::max(threshold, r.threshold());
  }
  out.set_threshold(threshold);
  out.set_policy_version(first.policy_version());
  *out.mutable_measures() = first.measures();
  for (const auto& [route, unused] : source) out.add_routes(route);
  // (measure, period) -> the sum over routes; in the first report's order.
  std::map<std::pair<std::string, std::string>, v1::StatisticsFigure> totals;
  std::vector<std::pair<std::string, std::string>> order;
  for (const auto& [route, r] : source) {
    for (const v1::StatisticsFigure& f : r->figures()) {
      if (f.route() != route) continue;
      *out.add_figures() = f;
      auto [it, added] = totals.try_emplace({f.measure(), f.period()});
      if (added) {
        order.push_back({f.measure(), f.period()});
        it->second.set_measure(f.measure());
        it->second.set_route("*");
        it->second.set_period(f.period());
      }
      it->second.set_value(it->second.value() + f.value());
      it->second.set_suppressed_cells(it->second.suppressed_cells() +
                                      f.suppressed_cells());
    }
    for (const v1::StatisticsDuration& d : r->durations()) {
      if (d.route() == route) *out.add_durations() = d;
    }
  }
  for (const auto& key : order) *out.add_figures() = totals[key];
  return out;
}

}  // namespace trm::stats
