// The one registry of reason tokens: every error a user, an integrator or a
// node can meet carries one of these (common/status.h), as the prefix of its
// message, as a status payload, and on the wire as a google.rpc.ErrorInfo
// detail (docs/protocol.md section 10). The node, the client library,
// `trmctl reasons`, docs/reasons.md and the tests all read this table, and a
// test fails when the code uses a token that is not in it.
#ifndef TRM_COMMON_REASONS_H_
#define TRM_COMMON_REASONS_H_

#include <array>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace trm {

struct ReasonInfo {
  absl::string_view token;
  // The status codes the token comes with, the usual one first. A few faults
  // arise at two layers (a file that is missing, or there but unreadable)
  // with another code; unused places are kOk.
  std::array<absl::StatusCode, 3> codes;
  // Who acts, and what they do.
  absl::string_view action;

  absl::StatusCode code() const { return codes[0]; }
  bool Allows(absl::StatusCode c) const;
};

// Every token, in alphabetical order.
absl::Span<const ReasonInfo> Reasons();

// Whether `r` is a refusal by a case rule (docs/workflow.md): its action
// begins "Case rule:".
bool IsCaseRule(const ReasonInfo& r);

// The entry of `token`, or nullptr.
const ReasonInfo* FindReason(absl::string_view token);

// The domain of the ErrorInfo detail that carries these tokens.
inline constexpr absl::string_view kReasonDomain = "trm-broker.v1";

}  // namespace trm

#endif  // TRM_COMMON_REASONS_H_
