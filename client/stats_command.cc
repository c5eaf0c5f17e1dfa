#include "client/stats_command.h"

#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "client/node_commands.h"
#include "common/stats/signed_report.h"
#include "common/status.h"
#include "google/protobuf/util/json_util.h"

namespace trm::client {
namespace {

using nlohmann::json;

struct StatsFlags {
  NodeFlags node;
  std::string from, to, period = "month";
  bool csv = false;
  std::string export_to;  // a signed report file
  // aggregate
  std::vector<std::string> files;
  std::string directory, authority_pub;
};

// A figure in words: "12", "fewer than 5", or "at least 12 (+3 cells of
// fewer than 5)".
std::string Shown(const v1::StatisticsFigure& f, uint32_t threshold) {
  if (f.suppressed_cells() == 0) return absl::StrCat(f.value());
  if (f.value() == 0 && f.suppressed_cells() == 1) {
    return absl::StrCat("<", threshold);
  }
  return absl::StrCat(">=", f.value(), " (+", f.suppressed_cells(), "x<",
                      threshold, ")");
}

// CSV with one row per figure: what a spreadsheet or a secretariat reads.
void PrintCsv(const v1::StatisticsReport& r) {
  std::cout << "node,measure,route,period,value,suppressed_cells,shown\n";
  for (const v1::StatisticsFigure& f : r.figures()) {
    std::cout << r.node() << "," << f.measure() << "," << f.route() << ","
              << f.period() << "," << f.value() << "," << f.suppressed_cells()
              << "," << Shown(f, r.threshold()) << "\n";
  }
  std::cout << "\nnode,route,period,acknowledged,median_hours,p90_hours\n";
  for (const v1::StatisticsDuration& d : r.durations()) {
    if (d.count() == 0) continue;
    std::cout << r.node() << "," << d.route() << "," << d.period() << ","
              << d.count() << "," << d.median_ms() / 3.6e6 << ","
              << d.p90_ms() / 3.6e6 << "\n";
  }
}

// A table per measure: routes down, periods across, totals last.
void PrintTable(const v1::StatisticsReport& r) {
  std::cout << (r.node() == "*" ? std::string("every node")
                                : "node " + r.node())
            << ", " << r.from_month() << " to " << r.to_month() << " by "
            << r.period() << "; counts below " << r.threshold()
            << " are not shown (<" << r.threshold()
            << "), and a total over them says how many it leaves out\n";
  std::map<std::string,
           std::map<std::string, std::map<std::string, std::string>>>
      cells;
  std::vector<std::string> periods;
  for (const v1::StatisticsFigure& f : r.figures()) {
    cells[f.measure()][f.route()][f.period()] = Shown(f, r.threshold());
    if (f.period() != "*" && std::find(periods.begin(), periods.end(),
                                       f.period()) == periods.end()) {
      periods.push_back(f.period());
    }
  }
  periods.push_back("*");
  std::vector<std::string> routes(r.routes().begin(), r.routes().end());
  routes.push_back("*");
  for (const std::string& m : r.measures()) {
    std::cout << "\n" << m << "\n  " << std::string(8, ' ');
    for (const std::string& p : periods) {
      std::cout << " " << std::setw(12) << (p == "*" ? "all" : p);
    }
    std::cout << "\n";
    for (const std::string& route : routes) {
      std::cout << "  " << std::setw(8) << std::left
                << (route == "*" ? "all" : route) << std::right;
      for (const std::string& p : periods) {
        std::cout << " " << std::setw(12) << cells[m][route][p];
      }
      std::cout << "\n";
    }
  }
  std::cout << "\ntime from referral to acknowledgement (groups of at least "
            << r.threshold() << ")\n";
  bool any = false;
  for (const v1::StatisticsDuration& d : r.durations()) {
    if (d.count() == 0) continue;
    any = true;
    std::cout << "  " << (d.route() == "*" ? "all" : d.route()) << " "
              << (d.period() == "*" ? "all" : d.period()) << ": " << d.count()
              << " acknowledged, median " << d.median_ms() / 3.6e6
              << " h, 90th percentile " << d.p90_ms() / 3.6e6 << " h\n";
  }
  if (!any) std::cout << "  no group large enough\n";
}

// The report on stdout as JSON, CSV or a table.
absl::Status Print(const v1::StatisticsReport& report, const StatsFlags& f,
                   const Output& out) {
  if (out.json) {
    std::string text;
    google::protobuf::util::JsonPrintOptions o;
    o.always_print_primitive_fields = true;
    o.preserve_proto_field_names = true;
    if (!google::protobuf::util::MessageToJsonString(report, &text, o).ok()) {
      return absl::InternalError("the report did not convert to JSON");
    }
    std::cout << json{{"ok", true}, {"report", json::parse(text)}}.dump()
              << "\n";
  } else if (f.csv) {
    PrintCsv(report);
  } else {
    PrintTable(report);
  }
  return absl::OkStatus();
}

absl::Status Run(const StatsFlags& f, const Output& out) {
  if (f.from.empty() || f.to.empty()) {
    return UsageError("give --from and --to, e.g. --from 2026-01 --to 2026-12");
  }
  ASSIGN_OR_RETURN(Connection c, Connect(f.node));
  v1::StatisticsRequest req;
  req.set_from_month(f.from);
  req.set_to_month(f.to);
  req.set_period(f.period);
  if (!f.export_to.empty()) {
    ASSIGN_OR_RETURN(v1::SignedStatistics s, c.client->ExportStatistics(req));
    RETURN_IF_ERROR(
        WriteOutput(f.export_to, AsBytes(s.SerializeAsString()), 0644));
    v1::StatisticsReport report;
    report.ParseFromString(s.report());
    if (out.json) {
      std::cout << json{{"ok", true}, {"out", f.export_to}}.dump() << "\n";
    } else {
      std::cout << "wrote " << f.export_to << ": node " << report.node()
                << "'s statistics, " << report.from_month() << " to "
                << report.to_month() << " by " << report.period()
                << ", signed by the node (trmctl stats aggregate checks it)\n";
    }
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(v1::StatisticsReport report, c.client->Statistics(req));
  return Print(report, f, out);
}

// A secretariat's view: every node's signed report checked against the
// signed directory, then one report of the federation.
absl::Status Aggregate(const StatsFlags& f, const Output& out) {
  ASSIGN_OR_RETURN(std::shared_ptr<const directory::Directory> dir,
                   LoadSignedDirectory(f.directory, f.authority_pub));
  std::vector<v1::StatisticsReport> reports;
  for (const std::string& file : f.files) {
    ASSIGN_OR_RETURN(std::string bytes, ReadInput(file));
    v1::SignedStatistics s;
    if (!s.ParseFromString(bytes)) {
      return Error(absl::StatusCode::kInvalidArgument,
                   "STATISTICS_SIGNATURE_INVALID",
                   absl::StrCat(file,
                                " is not a signed statistics report "
                                "(trmctl stats --export writes one)"));
    }
    absl::StatusOr<v1::StatisticsReport> r = stats::VerifyStatistics(s, *dir);
    if (!r.ok()) {
      return absl::Status(r.status().code(),
                          absl::StrCat(file, ": ", r.status().message()));
    }
    if (!out.json && !f.csv) {
      std::cout << "verified " << file << ": node " << r->node()
                << ", signed by its key in directory serial " << dir->serial()
                << "\n";
    }
    reports.push_back(*std::move(r));
  }
  ASSIGN_OR_RETURN(v1::StatisticsReport all, stats::Aggregate(reports, *dir));
  return Print(all, f, out);
}

}  // namespace

std::function<absl::Status(const Output&)> AddStatsCommand(CLI::App& app) {
  auto f = std::make_shared<StatsFlags>();
  CLI::App* cmd = app.add_subcommand(
      "stats",
      "how the referral mechanism performed at your node, per country route "
      "and period, from metadata only (the node's coordinator)");
  AddNodeFlags(cmd, &f->node);
  cmd->add_option("--from", f->from, "first month, e.g. 2026-01");
  cmd->add_option("--to", f->to, "last month, e.g. 2026-12");
  cmd->add_option("--period", f->period, "month (default), quarter or year")
      ->check(CLI::IsMember({"month", "quarter", "year"}));
  cmd->add_flag("--csv", f->csv, "one CSV row per figure");
  cmd->add_option("--export", f->export_to,
                  "write the report signed by the node to this file, for a "
                  "regional secretariat");
  CLI::App* aggregate = cmd->add_subcommand(
      "aggregate",
      "check each node's signed report against the signed directory and "
      "combine them into one report of the federation");
  aggregate->add_option("FILES", f->files, "signed reports (stats --export)")
      ->required();
  aggregate->add_option("--directory", f->directory, "directory.signed")
      ->required();
  aggregate
      ->add_option("--authority-pub", f->authority_pub,
                   "the federation authority's public key")
      ->required();
  aggregate->add_flag("--csv", f->csv, "one CSV row per figure");
  return [f, cmd, aggregate](const Output& out) -> absl::Status {
    if (!*cmd) return absl::OkStatus();
    if (*aggregate) return Aggregate(*f, out);
    return Run(*f, out);
  };
}

}  // namespace trm::client
