#include "server/cases/contingency_rule.h"

#include "absl/strings/str_cat.h"
#include "common/bytes.h"
#include "common/contingency/declaration.h"
#include "common/time_text.h"
#include "server/cases/deadline_event.h"

namespace trm::cases {

std::optional<Extension> ExtendForContingency(
    const v1::Deadline& d, const std::string& case_ref,
    const std::vector<v1::Contingency>& covering, absl::Duration extension,
    absl::Time now) {
  if (extension <= absl::ZeroDuration() || !d.extended_by().empty() ||
      d.paused_since_unix_ms() != 0 || d.unreachable_since_unix_ms() != 0) {
    return std::nullopt;
  }
  for (const v1::Contingency& c : covering) {
    const bool held =
        c.start_unix_ms() <= d.due_unix_ms() &&
        (c.end_unix_ms() == 0 || c.end_unix_ms() > d.set_unix_ms());
    if (!held) continue;
    Extension out;
    out.replacement = d;
    out.replacement.set_due_unix_ms(d.due_unix_ms() +
                                    absl::ToInt64Milliseconds(extension));
    out.replacement.set_extended_by(c.id());
    out.replacement.set_extended_ms(absl::ToInt64Milliseconds(extension));
    out.event =
        DeadlineEvent(v1::DEADLINE_EXTENDED, d, case_ref, c.node(), now);
    out.event.set_detail(absl::StrCat(
        v1::DeadlineKind_Name(d.kind()), " owed by ", d.responsible_org(),
        " to ", d.waiting_org(), " extended by ",
        absl::FormatDuration(extension), " to ",
        IsoSeconds(out.replacement.due_unix_ms()), " under contingency ",
        HexEncode(AsBytes(c.id())), " (", contingency::ScopeText(c),
        ", declared by ", c.declared_by(), ")"));
    return out;
  }
  return std::nullopt;
}

}  // namespace trm::cases
