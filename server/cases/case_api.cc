#include "server/cases/case_api.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "server/stats/mechanism_stats.h"

namespace trm::cases {

absl::StatusOr<v1::CaseView> CaseApi::GetCase(
    const std::string& org, const std::string& case_ref) const {
  if (case_ref.empty()) {
    return Error(absl::StatusCode::kInvalidArgument, "CASE_REF_MISSING",
                 "give the case reference to show");
  }
  ASSIGN_OR_RETURN(v1::CaseRecord rec, store_.GetCase(case_ref));
  const bool coordinator = registry_.IsCoordinator(org);
  const bool took_part =
      std::find(rec.participants().begin(), rec.participants().end(), org) !=
      rec.participants().end();
  // Unknown and foreign cases answer alike, so the answer does not tell
  // whether a case exists.
  if (!coordinator && !took_part) {
    return Error(absl::StatusCode::kPermissionDenied, "NOT_YOUR_CASE",
                 absl::StrCat("'", org,
                              "' has sent or received no message of "
                              "case ",
                              case_ref, " through node ", registry_.node_id(),
                              ", or the case is not known here; only the "
                              "organisations of the case and the node's "
                              "coordinator may see it"));
  }
  if (rec.case_ref().empty()) {
    return Error(
        absl::StatusCode::kNotFound, "CASE_NOT_FOUND",
        absl::StrCat("node ", registry_.node_id(), " has no case ", case_ref,
                     " (case rules record cases only while "
                     "\"case_rules\".\"enforce\" is on)"));
  }
  v1::CaseView view;
  view.set_node(registry_.node_id());
  view.set_now_unix_ms(absl::ToUnixMillis(clock_.Now()));
  if (!coordinator) {
    auto* steps = rec.mutable_steps();
    for (int i = steps->size() - 1; i >= 0; --i) {
      const v1::CaseStep& s = steps->Get(i);
      if (s.sender_org() != org && s.recipient_org() != org) {
        steps->DeleteSubrange(i, 1);
      }
    }
    view.set_steps_filtered(true);
  }
  *view.mutable_record() = std::move(rec);
  return view;
}

absl::StatusOr<v1::StatisticsReport> CaseApi::Statistics(
    const directory::Principal& who, const v1::StatisticsRequest& req) const {
  const std::shared_ptr<const directory::Directory> dir = registry_.directory();
  if (who.kind == directory::PrincipalKind::kAuditor) {
    if (!dir->AuditorCovers(who.id, registry_.node_id())) {
      return Error(absl::StatusCode::kPermissionDenied, "OUT_OF_SCOPE",
                   absl::StrCat("auditor '", who.id, "' may not audit node ",
                                registry_.node_id(),
                                " (its scope in the directory does not list "
                                "it), so it may not read its statistics"));
    }
  } else if (who.kind != directory::PrincipalKind::kOrganisation ||
             !registry_.IsCoordinator(who.id)) {
    return Error(
        absl::StatusCode::kPermissionDenied, "NOT_COORDINATOR",
        absl::StrCat("'", who.id, "' is not the national coordinator of node ",
                     registry_.node_id(),
                     "; only the coordinator and the auditors in scope read "
                     "the node's statistics"));
  }
  stats::ReportSpec spec;
  ASSIGN_OR_RETURN(spec.from, stats::ParseMonth(req.from_month(), "from"));
  ASSIGN_OR_RETURN(spec.to, stats::ParseMonth(req.to_month(), "to"));
  spec.period = req.period().empty() ? "month" : req.period();
  const uint32_t min_cell = dir->doc().policy().statistics_min_cell();
  spec.threshold = min_cell == 0 ? 5 : min_cell;
  // Every route from or to this node's country, to every country listed.
  auto country_of_node = [&](const std::string& node) {
    const v1::DirectoryNode* n = dir->FindNode(node);
    return n == nullptr || n->country().empty() ? node : n->country();
  };
  const std::string here = country_of_node(registry_.node_id());
  std::set<std::string> countries;
  for (const v1::DirectoryNode& n : dir->doc().nodes()) {
    countries.insert(country_of_node(n.id()));
  }
  for (const std::string& c : countries) {
    spec.routes.push_back(absl::StrCat(here, ">", c));
    if (c != here) spec.routes.push_back(absl::StrCat(c, ">", here));
  }
  std::sort(spec.routes.begin(), spec.routes.end());
  auto country_of = [&](const std::string& organisation) -> std::string {
    const v1::DirectoryOrganisation* o = dir->FindOrganisation(organisation);
    return o == nullptr ? "" : country_of_node(o->home_node());
  };
  stats::MonthCells cells;
  RETURN_IF_ERROR(store_.ForEachCase([&](const v1::CaseRecord& rec) {
    cells.AddCase(rec, country_of);
    return absl::OkStatus();
  }));
  if (audit_ != nullptr) {
    // Refusals by case rule, from the audit log's index of refusals.
    auto start_of = [](absl::CivilMonth m) {
      return absl::ToUnixMillis(absl::FromCivil(m, absl::UTCTimeZone()));
    };
    v1::TrailQuery q;
    q.set_kind(v1::MESSAGE_REJECTED);
    q.set_from_unix_ms(start_of(spec.from));
    q.set_to_unix_ms(start_of(spec.to + 1));
    q.set_page_size(1000);
    const uint64_t limit = audit_->Current().size;
    for (;;) {
      ASSIGN_OR_RETURN(storage::AuditPage page, audit_->Query(q, limit));
      for (const storage::AuditEntry& e : page.entries) {
        v1::AuditEvent event;
        if (!event.ParseFromString(e.event)) {
          return Error(absl::StatusCode::kDataLoss, "AUDIT_ENTRY_CORRUPT",
                       absl::StrCat("audit entry ", e.index,
                                    " does not parse; check the log with "
                                    "trm-broker --verify-audit"));
        }
        cells.AddRefusal(event, country_of);
      }
      if (!page.more) break;
      q.set_page_token(page.next);
    }
  }
  ASSIGN_OR_RETURN(v1::StatisticsReport report,
                   stats::BuildReport(cells, spec));
  report.set_node(registry_.node_id());
  report.set_generated_unix_ms(absl::ToUnixMillis(clock_.Now()));
  report.set_policy_version(dir->doc().policy().version());
  return report;
}

absl::StatusOr<v1::OverdueList> CaseApi::ListOverdue(
    const std::string& org, size_t max, absl::Duration upcoming) const {
  if (!registry_.IsCoordinator(org)) {
    return Error(absl::StatusCode::kPermissionDenied, "NOT_COORDINATOR",
                 absl::StrCat("'", org,
                              "' is not the national coordinator of "
                              "node ",
                              registry_.node_id(),
                              "; only the coordinator sees what is overdue "
                              "across the node (an organisation sees its own "
                              "cases with `trmctl case show`)"));
  }
  if (max == 0) max = 1000;
  v1::OverdueList list;
  list.set_now_unix_ms(absl::ToUnixMillis(clock_.Now()));
  if (scheduler_ != nullptr) {
    list.set_escalated_since_start(scheduler_->escalated_total());
  }
  ASSIGN_OR_RETURN(std::vector<std::string> refs, store_.OverdueCases(max));
  for (const std::string& ref : refs) {
    ASSIGN_OR_RETURN(v1::CaseRecord rec, store_.GetCase(ref));
    for (const v1::Deadline& d : rec.deadlines()) {
      if (d.escalated_unix_ms() == 0) continue;
      v1::OverdueItem& item = *list.add_items();
      item.set_case_ref(ref);
      *item.mutable_deadline() = d;
      item.set_state(rec.state());
    }
  }
  auto soonest = [](const v1::OverdueItem& a, const v1::OverdueItem& b) {
    return a.deadline().due_unix_ms() < b.deadline().due_unix_ms();
  };
  std::sort(list.mutable_items()->begin(), list.mutable_items()->end(),
            soonest);
  if (upcoming > absl::ZeroDuration()) {
    upcoming = std::min(upcoming, absl::Hours(24 * 366));
    const int64_t until = absl::ToUnixMillis(clock_.Now() + upcoming);
    ASSIGN_OR_RETURN(std::vector<std::string> due, store_.DueCases(until, max));
    for (const std::string& ref : due) {
      ASSIGN_OR_RETURN(v1::CaseRecord rec, store_.GetCase(ref));
      for (const v1::Deadline& d : rec.deadlines()) {
        if (d.escalated_unix_ms() != 0 || d.due_unix_ms() > until) continue;
        v1::OverdueItem& item = *list.add_upcoming();
        item.set_case_ref(ref);
        *item.mutable_deadline() = d;
        item.set_state(rec.state());
      }
    }
    std::sort(list.mutable_upcoming()->begin(), list.mutable_upcoming()->end(),
              soonest);
  }
  return list;
}

}  // namespace trm::cases
