// Which side of a case may send each message type, and which types carry
// the person's data (docs/workflow.md, "Who sends what"). One table, read by
// the case rules and by anything that offers a type to a user.
//
//   const TypeRule& r = RuleOf(v1::RISK_FEEDBACK);
//   if (r.personal_data) { /* needs the owner's consent for the recipient */ }
//
// The referring side is the case owner: the organisation that opened the
// case, or the successor it named in a CASE_TRANSFER. Every other
// organisation is on the receiving side.
#ifndef TRM_COMMON_CASES_TYPE_TABLE_H_
#define TRM_COMMON_CASES_TYPE_TABLE_H_

#include <vector>

#include "absl/strings/string_view.h"
#include "trm/v1/case.pb.h"
#include "trm/v1/envelope.pb.h"

namespace trm::cases {

enum class Side {
  kReferring,  // the case owner only
  kReceiving,  // any organisation but the case owner
  kEither,
  kNode,  // written by a node (DEADLINE_NOTICE), never by an organisation
};

struct TypeRule {
  Side sent_by;
  // True: the payload holds the person's data, so it may reach an
  // organisation other than the case owner only under the owner's granted
  // consent for that recipient.
  bool personal_data;
};

// The rule of `type`; an unknown type is {kNode, true}: nobody may send it.
const TypeRule& RuleOf(v1::MessageType type);

// The outcomes an organisation may put in the header of `type` (the
// header's `outcome`), empty for a type that takes none. `optional` says
// whether sending it without an outcome is allowed too (CASE_CLOSURE:
// RETURN_WITHDRAWN or none).
struct Outcomes {
  std::vector<v1::StepOutcome> allowed;
  bool optional = true;
};
Outcomes AllowedOutcomes(v1::MessageType type);

// "referring side", "receiving side", "either side", "a node".
absl::string_view SideName(Side side);

}  // namespace trm::cases

#endif  // TRM_COMMON_CASES_TYPE_TABLE_H_
