// What a payload says that its header says too, so that nobody types it
// twice and the two cannot disagree: the step's outcome, the planned
// departure and a consent record's reference (docs/protocol.md section
// 17.2). A sender takes them from the payload before sealing; a recipient
// checks, after opening, that the header it was routed by agrees.
//
//   ASSIGN_OR_RETURN(PayloadFacts f, ReadPayloadFacts(h.type(), payload));
//   RETURN_IF_ERROR(CheckHeaderAgrees(h, f));  // HEADER_PAYLOAD_MISMATCH
#ifndef TRM_COMMON_CASES_PAYLOAD_FACTS_H_
#define TRM_COMMON_CASES_PAYLOAD_FACTS_H_

#include <google/protobuf/message.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "trm/v1/case.pb.h"
#include "trm/v1/envelope.pb.h"

namespace trm::cases {

// An empty payload message of `type` (case.proto), or null for a type
// without one.
std::unique_ptr<google::protobuf::Message> NewPayload(v1::MessageType type);

struct PayloadFacts {
  v1::StepOutcome outcome = v1::STEP_OUTCOME_UNSPECIFIED;
  std::optional<int64_t> departure_unix_ms;  // TRAVEL_ARRANGEMENT
  std::string consent_ref;                   // CONSENT_RECORD
};

// Parses `bytes` as the payload of `type`. PAYLOAD_INVALID when they are
// not one (or hold fields case.proto does not know); PAYLOAD_FIELD_REQUIRED
// names the first field marked [(trm.v1.required) = true] that is missing,
// as its path in the JSON form. DEADLINE_NOTICE, the node's own, states
// nothing the header repeats.
absl::StatusOr<PayloadFacts> ReadPayloadFacts(v1::MessageType type,
                                              absl::string_view bytes);

// OK when `h` states what `f` does: the same outcome (or none), the same
// departure (or none) and, for a CONSENT_RECORD, the same consent_ref.
// Otherwise HEADER_PAYLOAD_MISMATCH naming the header field and both values.
absl::Status CheckHeaderAgrees(const v1::Header& h, const PayloadFacts& f);

}  // namespace trm::cases

#endif  // TRM_COMMON_CASES_PAYLOAD_FACTS_H_
