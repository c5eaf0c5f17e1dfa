#include "client/agent/case_summary.h"

#include <algorithm>
#include <vector>

#include "common/time_text.h"
#include "trm/client/client.h"

namespace trm::agent {

std::string NextStep(v1::CaseState state) {
  switch (state) {
    case v1::PRESUMED:
    case v1::REFLECTION:
    case v1::ASSISTANCE:
      return "the case owner records the person's consent (CONSENT_RECORD) "
             "and refers the case (REFERRAL_REQUEST)";
    case v1::STAY_DESTINATION:
      return "the person stays in the destination country: assistance "
             "continues there, no return steps";
    case v1::RETURN_REQUESTED:
      return "the receiving organisation answers the referral (REFERRAL_ACK)";
    case v1::REFERRAL_ACKED:
      return "the receiving side assesses the risk of return "
             "(RISK_ASSESSMENT)";
    case v1::RISK_ASSESSED:
      return "both sides agree the reintegration plan (REINTEGRATION_PLAN, "
             "PLAN_AGREED)";
    case v1::PLAN_AGREED_STATE:
      return "the case owner arranges travel (TRAVEL_ARRANGEMENT with the "
             "departure time)";
    case v1::TRAVEL_SCHEDULED:
    case v1::IN_TRANSIT:
      return "the receiving organisation confirms arrival "
             "(ARRIVAL_CONFIRMATION) and handover (HANDOVER_CONFIRMATION)";
    case v1::HANDED_OVER:
    case v1::MONITORING:
      return "the receiving organisation reports each monitoring period "
             "(MONITORING_REPORT) until the case is closed (CASE_CLOSURE)";
    case v1::CLOSED:
    case v1::WITHDRAWN_STATE:
    case v1::NOT_DEPARTED:
    case v1::DECLINED:
      return "none: the case has ended";
    default:
      return "unknown: the node has no state for this case";
  }
}

nlohmann::json Owed(const v1::Deadline& d, absl::string_view org,
                    int64_t now_unix_ms) {
  return {
      {"kind", v1::DeadlineKind_Name(d.kind())},
      {"owed_by", d.responsible_org()},
      {"owed_to", d.waiting_org()},
      {"due", IsoSeconds(d.due_unix_ms())},
      {"overdue",
       d.due_unix_ms() <= now_unix_ms && d.paused_since_unix_ms() == 0},
      {"yours", d.responsible_org() == org},
      // The rule that set the period: the federation policy's version
      // (0: the node's own case_rules), and whether the node's stricter
      // configuration set it.
      {"policy_version", d.policy_version()},
      {"local_rule", d.local_rule()},
      // Across a failed link (docs/workflow.md, "When a link fails"):
      // paused, or passed while the node could not be reached.
      {"paused_since",
       d.paused_since_unix_ms() == 0
           ? nlohmann::json()
           : nlohmann::json(IsoSeconds(d.paused_since_unix_ms()))},
      {"left_when_back_seconds",
       d.paused_since_unix_ms() == 0
           ? nlohmann::json()
           : nlohmann::json(absl::ToInt64Seconds(client::PausedTimeLeft(d)))},
      {"unreachable_node", d.unreachable_node()},
      // Moved by a declared contingency (docs/workflow.md).
      {"extended_seconds", d.extended_ms() / 1000},
      {"unreachable_since",
       d.unreachable_since_unix_ms() == 0
           ? nlohmann::json()
           : nlohmann::json(IsoSeconds(d.unreachable_since_unix_ms()))}};
}

nlohmann::json CaseSummary(const v1::CaseView& view, absl::string_view org) {
  const v1::CaseRecord& r = view.record();
  std::vector<const v1::Deadline*> open;
  for (const v1::Deadline& d : r.deadlines()) open.push_back(&d);
  std::sort(open.begin(), open.end(), [](const auto* a, const auto* b) {
    return a->due_unix_ms() < b->due_unix_ms();
  });
  nlohmann::json owed = nlohmann::json::array();
  for (const v1::Deadline* d : open) {
    owed.push_back(Owed(*d, org, view.now_unix_ms()));
  }
  // Whom a new message in the case goes to: the owner, or for the owner
  // the organisation it last sent the person's data to (or spoke with).
  std::string counterpart;
  if (r.owner_org() != org) {
    counterpart = r.owner_org();
  } else {
    for (const std::string& p : r.recipients()) {
      if (p != org) counterpart = p;
    }
    for (const std::string& p : r.participants()) {
      if (counterpart.empty() && p != org) counterpart = p;
    }
  }
  std::string consent_ref;
  auto consent = r.consents().find(counterpart);
  if (r.owner_org() == org && consent != r.consents().end() &&
      consent->second.granted()) {
    consent_ref = consent->second.consent_ref();
  }
  auto node = r.recipient_nodes().find(counterpart);
  return {
      {"case_ref", r.case_ref()},
      {"state", v1::CaseState_Name(r.state())},
      {"owner", r.owner_org()},
      {"counterpart", counterpart},
      {"counterpart_node",
       node == r.recipient_nodes().end() ? std::string() : node->second},
      {"consent_ref", consent_ref},
      {"node", view.node()},
      {"next_step", NextStep(r.state())},
      {"owed", owed},
      {"steps", r.steps_size()},
      {"updated", r.updated_unix_ms() == 0 ? std::string()
                                           : IsoSeconds(r.updated_unix_ms())}};
}

}  // namespace trm::agent
