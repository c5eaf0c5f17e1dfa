// The federation policy's contingency rule for deadlines (docs/workflow.md,
// "Contingency"): a deadline whose route a declared contingency concerns,
// and which that contingency held over (it started by the due time and had
// not ended when the deadline was set), passes
// ContingencyRules.deadline_extension_seconds later. Once per deadline: the
// record keeps which contingency extended it and by how much, and the
// extension is audited (DEADLINE_EXTENDED).
//
//   if (auto e = ExtendForContingency(d, ref, book.Covering(route), ext, now))
//     store.ReplaceDeadline(ref, d, e->replacement, &e->event);
#ifndef TRM_SERVER_CASES_CONTINGENCY_RULE_H_
#define TRM_SERVER_CASES_CONTINGENCY_RULE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "trm/v1/audit.pb.h"
#include "trm/v1/case.pb.h"

namespace trm::cases {

struct Extension {
  v1::Deadline replacement;
  v1::AuditEvent event;
};

// `covering`: the contingencies that concern the deadline's route. Nothing
// when `extension` is zero, the deadline was extended before, or none held
// over it.
std::optional<Extension> ExtendForContingency(
    const v1::Deadline& d, const std::string& case_ref,
    const std::vector<v1::Contingency>& covering, absl::Duration extension,
    absl::Time now);

}  // namespace trm::cases

#endif  // TRM_SERVER_CASES_CONTINGENCY_RULE_H_
