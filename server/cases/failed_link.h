// What becomes of a case deadline owed by an organisation whose node this
// node cannot reach (docs/workflow.md, "When a link fails").
//
// A deadline is "owed across a failed link" when the organisation that owes
// it is hosted on another node, and the link to that node has been failing
// since before the deadline passed. The federation's policy
// (ContingencyRules.failed_link) then says:
//   - FAILED_LINK_PAUSE: the clock stops. The record keeps when it stopped
//     and the due time it had; the node looks again after a short while
//     (a tenth of the outage so far, 1 s to 1 min). Once the link is back,
//     the deadline runs on with the time it had left when the link failed.
//   - FAILED_LINK_ESCALATE_TO_COORDINATORS (and unset): it passes on time,
//     but only this node's coordinators are told, and the record names the
//     node that could not be reached, so it is never counted against the
//     organisation.
// A deadline that passed before the link failed is escalated as usual.
//
//   LinkDecision d = DecideAcrossLink(deadline, "BG-2026-1", "ng",
//                                     failing_since, rule, now);
#ifndef TRM_SERVER_CASES_FAILED_LINK_H_
#define TRM_SERVER_CASES_FAILED_LINK_H_

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "trm/v1/audit.pb.h"
#include "trm/v1/case.pb.h"
#include "trm/v1/directory.pb.h"

namespace trm::cases {

struct LinkDecision {
  enum class Kind {
    kEscalate,                // as usual: the organisation and coordinators
    kEscalateToCoordinators,  // across a failed link: coordinators only
    kPause,                   // the link failed before it passed: stop it
    kStillPaused,             // the link is still down: look again later
    kResume,                  // the link is back: run on
  };
  Kind kind = Kind::kEscalate;
  // The deadline as it is to be stored (equal to the input for kEscalate).
  v1::Deadline replacement;
  // The audit event of a pause or a resumption.
  std::optional<v1::AuditEvent> event;
};

// `owing_node`: the node hosting the organisation that owes `d`, empty when
// it is this node. `failing_since`: since when the link to that node fails,
// absl::InfinitePast() when it works (or there is none). `d` is due: its
// due_unix_ms is at or before `now`.
LinkDecision DecideAcrossLink(const v1::Deadline& d,
                              const std::string& case_ref,
                              const std::string& owing_node,
                              absl::Time failing_since, v1::FailedLinkRule rule,
                              absl::Time now);

// How long a paused deadline waits before the node looks at its link again,
// after the link has been down for `down`.
absl::Duration PausedRecheck(absl::Duration down);

}  // namespace trm::cases

#endif  // TRM_SERVER_CASES_FAILED_LINK_H_
