// A case as a caseworker needs to see it: its state at the node, the next
// step of the return process (docs/workflow.md), and what is owed by whom
// and by when, soonest first, from the node's open deadlines.
//
//   nlohmann::json s = CaseSummary(view, "bg-ngo");
#ifndef TRM_CLIENT_AGENT_CASE_SUMMARY_H_
#define TRM_CLIENT_AGENT_CASE_SUMMARY_H_

#include <nlohmann/json.hpp>
#include <string>

#include "absl/strings/string_view.h"
#include "trm/v1/case.pb.h"

namespace trm::agent {

// The next step of a case in `state`, in words.
std::string NextStep(v1::CaseState state);

// One open deadline: {kind, owed_by, owed_to, due, overdue, yours,
// policy_version, local_rule}.
nlohmann::json Owed(const v1::Deadline& d, absl::string_view org,
                    int64_t now_unix_ms);

// {case_ref, state, owner, next_step, owed[], steps, updated}
nlohmann::json CaseSummary(const v1::CaseView& view, absl::string_view org);

}  // namespace trm::agent

#endif  // TRM_CLIENT_AGENT_CASE_SUMMARY_H_
