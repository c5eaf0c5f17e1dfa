#include "client/agent/stats_view.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "google/protobuf/util/json_util.h"

namespace trm::agent {
namespace {

using Key = std::pair<std::string, std::string>;  // route, period

std::map<Key, const v1::StatisticsFigure*> FiguresOf(
    const v1::StatisticsReport& r, const std::string& measure) {
  std::map<Key, const v1::StatisticsFigure*> out;
  for (const v1::StatisticsFigure& f : r.figures()) {
    if (f.measure() == measure) out[{f.route(), f.period()}] = &f;
  }
  return out;
}

}  // namespace

absl::StatusOr<nlohmann::json> StatsView(const v1::StatisticsReport& r) {
  std::string text;
  google::protobuf::util::JsonPrintOptions o;
  o.always_print_primitive_fields = true;
  o.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(r, &text, o).ok()) {
    return Error(absl::StatusCode::kInternal, "JSON_CONVERSION_FAILED",
                 "the statistics report did not convert to JSON");
  }
  nlohmann::json out;
  out["report"] = nlohmann::json::parse(text);
  out["threshold"] = r.threshold();

  // Referrals per period and route: the published value of each cell, or
  // suppressed ("fewer than the threshold").
  const auto referrals = FiguresOf(r, "referrals");
  std::vector<std::string> periods;
  for (const auto& [key, f] : referrals) {
    if (key.first == "*" || key.second == "*") continue;
    if (std::find(periods.begin(), periods.end(), key.second) ==
        periods.end()) {
      periods.push_back(key.second);
    }
  }
  std::sort(periods.begin(), periods.end());
  nlohmann::json series = nlohmann::json::array();
  nlohmann::json hidden = nlohmann::json::array();
  for (const std::string& route : r.routes()) {
    nlohmann::json points = nlohmann::json::array();
    bool shown = false;
    for (const std::string& p : periods) {
      auto it = referrals.find({route, p});
      // A period's value is the sum of its published months; the months
      // below the threshold are counted apart, never added.
      const uint64_t value = it == referrals.end() ? 0 : it->second->value();
      const uint32_t hidden_cells =
          it == referrals.end() ? 1 : it->second->suppressed_cells();
      shown = shown || value > 0;
      points.push_back({{"period", p},
                        {"value", value},
                        {"suppressed_cells", hidden_cells}});
    }
    if (shown) {
      series.push_back({{"route", route}, {"points", points}});
    } else {
      hidden.push_back(route);
    }
  }
  out["charts"]["referrals"] = {
      {"periods", periods}, {"series", series}, {"hidden", hidden}};

  nlohmann::json ack = nlohmann::json::array();
  for (const v1::StatisticsDuration& d : r.durations()) {
    if (d.period() != "*" || d.route() == "*" || d.count() == 0) continue;
    ack.push_back({{"route", d.route()},
                   {"count", d.count()},
                   {"median_seconds", d.median_ms() / 1000},
                   {"p90_seconds", d.p90_ms() / 1000}});
  }
  out["charts"]["ack_times"] = ack;

  const auto reports = FiguresOf(r, "monitoring_reports");
  const auto late = FiguresOf(r, "monitoring_reports_late");
  const auto missing = FiguresOf(r, "monitoring_reports_missing");
  nlohmann::json monitoring = nlohmann::json::array();
  for (const std::string& route : r.routes()) {
    // A published figure's value and its suppressed month cells.
    auto of = [&route](const std::map<Key, const v1::StatisticsFigure*>& m) {
      auto it = m.find({route, "*"});
      return it == m.end()
                 ? std::pair<uint64_t, uint32_t>{0, 0}
                 : std::pair<uint64_t, uint32_t>{
                       it->second->value(), it->second->suppressed_cells()};
    };
    const auto rep = of(reports), l = of(late), gone = of(missing);
    // A route with reports only missing is drawn: that is what to see.
    if (rep.first == 0 && gone.first == 0) continue;
    monitoring.push_back({{"route", route},
                          {"reports", rep.first},
                          {"reports_suppressed", rep.second},
                          {"late", l.first},
                          {"late_suppressed", l.second},
                          {"missing", gone.first},
                          {"missing_suppressed", gone.second}});
  }
  out["charts"]["monitoring"] = monitoring;
  return out;
}

}  // namespace trm::agent
