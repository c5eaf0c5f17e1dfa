// Signed acknowledgements: a recipient organisation's statement that it
// received a message, which travels back to the sender as evidence
// (non-repudiation of receipt). docs/protocol.md section 15 is normative.
//
//   ASSIGN_OR_RETURN(std::string signed_ack,
//                    SignAcknowledgement(body, org_signing_key));
//   ASSIGN_OR_RETURN(ParsedAcknowledgement ack,
//                    ParseAcknowledgement(signed_ack));
//   RETURN_IF_ERROR(CheckAcknowledgementFor(ack, id, sha256, "ng-naptip"));
//   RETURN_IF_ERROR(VerifyAcknowledgement(ack, org_public_key));
#ifndef TRM_COMMON_ENVELOPE_ACKNOWLEDGEMENT_H_
#define TRM_COMMON_ENVELOPE_ACKNOWLEDGEMENT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/crypto/ed25519.h"
#include "trm/v1/receipt.pb.h"

namespace trm::envelope {

inline constexpr absl::string_view kAcknowledgementLabel =
    "trm-broker/v1 acknowledgement";

// kAcknowledgementLabel || 0x00 || body.
std::string AcknowledgementSignatureInput(absl::string_view body);

// The serialized trm.v1.SignedAcknowledgement of `body` by `key`.
absl::StatusOr<std::string> SignAcknowledgement(
    const v1::AcknowledgementBody& body, const crypto::Ed25519PrivateKey& key);

struct ParsedAcknowledgement {
  v1::SignedAcknowledgement signed_ack;
  v1::AcknowledgementBody body;
};

// INVALID_ARGUMENT (ACKNOWLEDGEMENT_MALFORMED) when it does not parse or has
// fields of the wrong size.
absl::StatusOr<ParsedAcknowledgement> ParseAcknowledgement(
    absl::string_view bytes);

// INVALID_ARGUMENT (ACKNOWLEDGEMENT_MISMATCH) unless the acknowledgement is
// for this message (id and envelope hash) by `recipient_org`.
absl::Status CheckAcknowledgementFor(const ParsedAcknowledgement& ack,
                                     absl::string_view message_id,
                                     absl::string_view envelope_sha256,
                                     absl::string_view recipient_org);

// INVALID_ARGUMENT (ACKNOWLEDGEMENT_SIGNATURE_INVALID) unless `key` signed it.
absl::Status VerifyAcknowledgement(const ParsedAcknowledgement& ack,
                                   const crypto::Ed25519PublicKey& key);

}  // namespace trm::envelope

#endif  // TRM_COMMON_ENVELOPE_ACKNOWLEDGEMENT_H_
