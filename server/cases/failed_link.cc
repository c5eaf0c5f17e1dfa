#include "server/cases/failed_link.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/time_text.h"
#include "server/cases/deadline_event.h"

namespace trm::cases {
namespace {

absl::Time Ms(int64_t unix_ms) { return absl::FromUnixMillis(unix_ms); }

}  // namespace

absl::Duration PausedRecheck(absl::Duration down) {
  return std::clamp(down / 10, absl::Seconds(1), absl::Minutes(1));
}

LinkDecision DecideAcrossLink(const v1::Deadline& d,
                              const std::string& case_ref,
                              const std::string& owing_node,
                              absl::Time failing_since, v1::FailedLinkRule rule,
                              absl::Time now) {
  LinkDecision out;
  out.replacement = d;
  const bool failing = failing_since != absl::InfinitePast();
  const std::string kind = v1::DeadlineKind_Name(d.kind());
  if (d.paused_since_unix_ms() != 0) {
    const absl::Time stopped =
        std::max(Ms(d.paused_since_unix_ms()), Ms(d.set_unix_ms()));
    if (failing) {
      out.kind = LinkDecision::Kind::kStillPaused;
      out.replacement.set_due_unix_ms(
          absl::ToUnixMillis(now + PausedRecheck(now - stopped)));
      return out;
    }
    // The link is back: the time left when it failed runs from now.
    const absl::Duration left =
        std::max(Ms(d.paused_due_unix_ms()) - stopped, absl::ZeroDuration());
    const absl::Duration paused = std::max(now - stopped, absl::ZeroDuration());
    out.kind = LinkDecision::Kind::kResume;
    out.replacement.set_due_unix_ms(absl::ToUnixMillis(now + left));
    out.replacement.set_paused_total_ms(d.paused_total_ms() +
                                        absl::ToInt64Milliseconds(paused));
    out.replacement.clear_paused_since_unix_ms();
    out.replacement.clear_paused_due_unix_ms();
    out.replacement.clear_unreachable_node();
    v1::AuditEvent e = DeadlineEvent(v1::DEADLINE_RESUMED, d, case_ref,
                                     d.unreachable_node(), now);
    e.set_detail(absl::StrCat(
        kind, " owed by ", d.responsible_org(), " to ", d.waiting_org(),
        ": the link to node ", d.unreachable_node(), " is back after ",
        absl::FormatDuration(absl::Trunc(paused, absl::Seconds(1))), "; due ",
        IsoSeconds(now + left)));
    out.event = std::move(e);
    return out;
  }
  if (d.unreachable_since_unix_ms() != 0) {
    // Decided before (the node stopped between the two writes).
    out.kind = LinkDecision::Kind::kEscalateToCoordinators;
    return out;
  }
  if (owing_node.empty() || !failing || failing_since > Ms(d.due_unix_ms())) {
    out.kind = LinkDecision::Kind::kEscalate;
    return out;
  }
  if (rule == v1::FAILED_LINK_PAUSE) {
    const absl::Time stopped = std::max(failing_since, Ms(d.set_unix_ms()));
    out.kind = LinkDecision::Kind::kPause;
    out.replacement.set_paused_since_unix_ms(absl::ToUnixMillis(failing_since));
    out.replacement.set_paused_due_unix_ms(d.due_unix_ms());
    out.replacement.set_unreachable_node(owing_node);
    out.replacement.set_due_unix_ms(
        absl::ToUnixMillis(now + PausedRecheck(now - stopped)));
    v1::AuditEvent e =
        DeadlineEvent(v1::DEADLINE_PAUSED, d, case_ref, owing_node, now);
    e.set_detail(absl::StrCat(
        kind, " owed by ", d.responsible_org(), " to ", d.waiting_org(),
        ", due ", IsoSeconds(Ms(d.due_unix_ms())), ": node ", owing_node,
        " unreachable since ", IsoSeconds(failing_since), "; paused with ",
        absl::FormatDuration(
            absl::Trunc(Ms(d.due_unix_ms()) - stopped, absl::Seconds(1))),
        " left, until the link is back"));
    out.event = std::move(e);
    return out;
  }
  out.kind = LinkDecision::Kind::kEscalateToCoordinators;
  out.replacement.set_unreachable_node(owing_node);
  out.replacement.set_unreachable_since_unix_ms(
      absl::ToUnixMillis(failing_since));
  return out;
}

}  // namespace trm::cases
