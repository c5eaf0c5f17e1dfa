// Signed refusals: a recipient organisation's statement that it received a
// message and will not process it (it cannot open it, its payload is not
// the type it names, or it is not theirs). It travels back to the sender as
// evidence, as an acknowledgement does. docs/protocol.md section 15.3 is
// normative.
//
//   ASSIGN_OR_RETURN(std::string signed_refusal,
//                    SignRefusal(body, org_signing_key));
//   ASSIGN_OR_RETURN(ParsedRefusal r, ParseRefusal(signed_refusal));
//   RETURN_IF_ERROR(CheckRefusalFor(r, id, sha256, "ng-naptip"));
//   RETURN_IF_ERROR(VerifyRefusal(r, org_public_key));
#ifndef TRM_COMMON_ENVELOPE_REFUSAL_H_
#define TRM_COMMON_ENVELOPE_REFUSAL_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/crypto/ed25519.h"
#include "trm/v1/receipt.pb.h"

namespace trm::envelope {

inline constexpr absl::string_view kRefusalLabel = "trm-broker/v1 refusal";
// The longest text a refusal may carry, in bytes.
inline constexpr size_t kMaxRefusalText = 1000;

// kRefusalLabel || 0x00 || body.
std::string RefusalSignatureInput(absl::string_view body);

// The serialized trm.v1.SignedRefusal of `body` by `key`.
absl::StatusOr<std::string> SignRefusal(const v1::RefusalBody& body,
                                        const crypto::Ed25519PrivateKey& key);

struct ParsedRefusal {
  v1::SignedRefusal signed_refusal;
  v1::RefusalBody body;
};

// INVALID_ARGUMENT (REFUSAL_MALFORMED) when it does not parse, has fields of
// the wrong size, no known reason, or a text longer than kMaxRefusalText.
absl::StatusOr<ParsedRefusal> ParseRefusal(absl::string_view bytes);

// INVALID_ARGUMENT (REFUSAL_MISMATCH) unless the refusal is for this
// message (id and envelope hash) by `recipient_org`.
absl::Status CheckRefusalFor(const ParsedRefusal& refusal,
                             absl::string_view message_id,
                             absl::string_view envelope_sha256,
                             absl::string_view recipient_org);

// INVALID_ARGUMENT (REFUSAL_SIGNATURE_INVALID) unless `key` signed it.
absl::Status VerifyRefusal(const ParsedRefusal& refusal,
                           const crypto::Ed25519PublicKey& key);

// "CANNOT_OPEN" for REFUSAL_CANNOT_OPEN, and so on: the reason token the
// sender's status shows as "REFUSED_CANNOT_OPEN".
std::string RefusalReasonToken(v1::RefusalReason reason);
// The reason of a token ("CANNOT_OPEN", "WRONG_TYPE", "NOT_OURS", any case),
// or INVALID_ARGUMENT naming the three.
absl::StatusOr<v1::RefusalReason> ParseRefusalReason(absl::string_view token);

}  // namespace trm::envelope

#endif  // TRM_COMMON_ENVELOPE_REFUSAL_H_
