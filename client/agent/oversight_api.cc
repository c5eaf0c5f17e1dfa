// AgentApi's pages for oversight: the coordinator's node page, the
// auditor's trail, and the statistics for both (agent_api.h). The domain
// work is in node_health.h, audit_view.h and stats_view.h; this checks roles
// and reads the request.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "client/agent/agent_api.h"
#include "client/agent/case_summary.h"
#include "client/agent/node_health.h"
#include "client/agent/stats_view.h"
#include "common/status.h"

namespace trm::agent {
namespace {

constexpr std::initializer_list<Role> kOversight = {Role::kCoordinator,
                                                    Role::kAuditor};

// "2026-12-04" (a whole day, in UTC) or an RFC 3339 time; `end` moves a
// date to the end of its day.
absl::StatusOr<int64_t> TimeOf(const std::string& text, const char* name,
                               bool end) {
  if (text.empty()) return 0;
  absl::Time t;
  std::string err;
  if (absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &t, &err)) {
    return absl::ToUnixMillis(end ? t + absl::Hours(24) : t);
  }
  if (absl::ParseTime(absl::RFC3339_full, text, &t, &err)) {
    return absl::ToUnixMillis(t);
  }
  return AtPath(
      Error(absl::StatusCode::kInvalidArgument, "AGENT_REQUEST_INVALID",
            absl::StrCat(name, " '", text,
                         "' is not a date such as 2026-12-04 or a "
                         "time such as 2026-12-04T09:30:00Z")),
      name);
}

absl::StatusOr<v1::TrailQuery> TrailQueryOf(const AuditQuery& q) {
  v1::TrailQuery t;
  t.set_case_ref(q.case_ref);
  ASSIGN_OR_RETURN(int64_t from, TimeOf(q.from, "from", false));
  ASSIGN_OR_RETURN(int64_t to, TimeOf(q.to, "to", true));
  if (q.case_ref.empty() && from == 0 && to == 0) {
    return AtPath(
        Error(absl::StatusCode::kInvalidArgument, "AGENT_REQUEST_INVALID",
              "give a case (case=BG-2026-0001) or a period "
              "(from=2026-11-01&to=2026-11-30)"),
        "case");
  }
  if (from != 0 && to != 0 && to <= from) {
    return AtPath(
        Error(absl::StatusCode::kInvalidArgument, "AGENT_REQUEST_INVALID",
              "the period's end comes before its start"),
        "to");
  }
  t.set_from_unix_ms(from);
  t.set_to_unix_ms(to);
  t.set_page_size(1000);
  return t;
}

absl::Status AuditConfigured(const AuditView* audit) {
  if (audit != nullptr) return absl::OkStatus();
  return Error(absl::StatusCode::kFailedPrecondition,
               "AGENT_AUDIT_NOT_CONFIGURED",
               "this agent has no audit scope: its configuration needs an "
               "\"audit\" section (docs/console.md, \"For auditors\")");
}

}  // namespace

absl::StatusOr<nlohmann::json> AgentApi::Node(const User& u) {
  RETURN_IF_ERROR(Require(u, {Role::kCoordinator}, "the node's status"));
  ASSIGN_OR_RETURN(v1::NodeStatus status, node_.NodeStatus());
  nlohmann::json out = NodeHealth(status, clock_.Now());
  const std::string& org = node_.identity().org;
  absl::StatusOr<v1::Directory> dir = node_.Directory();
  if (dir.ok()) {
    for (const v1::DirectoryOrganisation& o : dir->organisations()) {
      if (o.id() != org) continue;
      for (nlohmann::json& w : OrgKeyWarnings(o, clock_.Now())) {
        out["warnings"].push_back(std::move(w));
      }
    }
  }
  absl::StatusOr<v1::OverdueList> overdue =
      node_.Overdue(1000, kUpcomingDeadlines);
  nlohmann::json items = nlohmann::json::array();
  nlohmann::json upcoming = nlohmann::json::array();
  if (overdue.ok()) {
    for (auto [from, to] : {std::pair{&overdue->items(), &items},
                            std::pair{&overdue->upcoming(), &upcoming}}) {
      for (const v1::OverdueItem& it : *from) {
        nlohmann::json j = Owed(it.deadline(), org, overdue->now_unix_ms());
        j["case_ref"] = it.case_ref();
        j["state"] = v1::CaseState_Name(it.state());
        j["escalated_unix_ms"] = it.deadline().escalated_unix_ms();
        to->push_back(std::move(j));
      }
    }
    out["escalated_since_start"] = overdue->escalated_since_start();
    out["upcoming_days"] = absl::ToInt64Hours(kUpcomingDeadlines) / 24;
  } else {
    out["overdue_error"] = {
        {"reason", client::ReasonOf(overdue.status())},
        {"message", std::string(overdue.status().message())}};
  }
  out["overdue"] = std::move(items);
  out["upcoming"] = std::move(upcoming);
  return out;
}

absl::StatusOr<nlohmann::json> AgentApi::AuditTrail(const User& u,
                                                    const AuditQuery& q) {
  RETURN_IF_ERROR(Require(u, kOversight, "the audit trail"));
  RETURN_IF_ERROR(AuditConfigured(audit_));
  ASSIGN_OR_RETURN(v1::TrailQuery t, TrailQueryOf(q));
  ASSIGN_OR_RETURN(nlohmann::json out, audit_->Trail(t));
  out["case_ref"] = q.case_ref;
  out["from"] = q.from;
  out["to"] = q.to;
  return out;
}

absl::StatusOr<nlohmann::json> AgentApi::AuditBundle(const User& u,
                                                     const AuditQuery& q) {
  RETURN_IF_ERROR(Require(u, kOversight, "an audit bundle"));
  RETURN_IF_ERROR(AuditConfigured(audit_));
  if (q.node.empty()) {
    return AtPath(
        Error(absl::StatusCode::kInvalidArgument, "AGENT_REQUEST_INVALID",
              "a bundle holds one node's log: give node=bg"),
        "node");
  }
  ASSIGN_OR_RETURN(v1::TrailQuery t, TrailQueryOf(q));
  return audit_->Bundle(t, q.node);
}

absl::StatusOr<nlohmann::json> AgentApi::Statistics(const User& u,
                                                    const StatsQuery& q) {
  RETURN_IF_ERROR(
      Require(u, {Role::kCoordinator, Role::kAuditor}, "the statistics"));
  const absl::CivilMonth now =
      absl::ToCivilMonth(clock_.Now(), absl::UTCTimeZone());
  v1::StatisticsRequest req;
  req.set_to_month(q.to.empty() ? absl::FormatCivilTime(now).substr(0, 7)
                                : q.to);
  req.set_from_month(
      q.from.empty() ? absl::FormatCivilTime(now - 11).substr(0, 7) : q.from);
  req.set_period(q.period.empty() ? "month" : q.period);
  if (u.role == Role::kAuditor) {
    // Any node of the auditor's scope, asked with the auditor's certificate.
    RETURN_IF_ERROR(AuditConfigured(audit_));
    const std::vector<std::string> nodes = audit_->Nodes();
    const std::string node =
        q.node.empty() && !nodes.empty() ? nodes.front() : q.node;
    if (std::find(nodes.begin(), nodes.end(), node) == nodes.end()) {
      return AtPath(
          Error(absl::StatusCode::kInvalidArgument, "AGENT_REQUEST_INVALID",
                absl::StrCat("node '", node,
                             "' is not in this agent's audit scope (",
                             absl::StrJoin(nodes, ", "), ")")),
          "node");
    }
    ASSIGN_OR_RETURN(v1::StatisticsReport report,
                     audit_->Statistics(node, req));
    ASSIGN_OR_RETURN(nlohmann::json out, StatsView(report));
    out["nodes"] = nodes;
    out["node"] = node;
    return out;
  }
  if (!q.node.empty()) {
    return AtPath(
        Error(absl::StatusCode::kInvalidArgument, "AGENT_REQUEST_INVALID",
              "a coordinator reads its own node's statistics: leave node "
              "out"),
        "node");
  }
  ASSIGN_OR_RETURN(v1::StatisticsReport report, node_.Statistics(req));
  return StatsView(report);
}

}  // namespace trm::agent
