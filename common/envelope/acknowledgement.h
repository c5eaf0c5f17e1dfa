// Signed acknowledgements: a recipient organisation's statement that it
// received a message, which travels back to the sender as evidence
// (non-repudiation of receipt). docs/protocol.md section 15 is normative.
//
//   ASSIGN_OR_RETURN(std::string signed_ack,
//                    SignAcknowledgement(body, org_signing_key));
//   ASSIGN_OR_RETURN(ParsedAcknowledgement ack,
//                    ParseAcknowledgement(signed_ack));
//   RETURN_IF_ERROR(
//       CheckAcknowledgementFor(ack.body, id, sha256, "ng-naptip"));
//   RETURN_IF_ERROR(VerifyAcknowledgement(ack, org_public_key));
//
// Many at once: one signature over the Merkle root of their bodies, and
// each message keeps its body with its inclusion path as its own evidence.
//
//   ASSIGN_OR_RETURN(std::string batch,
//                    SignAcknowledgementBatch(bodies, org_signing_key));
//   ASSIGN_OR_RETURN(ParsedAcknowledgementBatch parsed,
//                    ParseAcknowledgementBatch(batch));
//   RETURN_IF_ERROR(VerifyAcknowledgementBatch(parsed, org_public_key));
//   std::vector<std::string> each = AcknowledgementsOf(parsed);
#ifndef TRM_COMMON_ENVELOPE_ACKNOWLEDGEMENT_H_
#define TRM_COMMON_ENVELOPE_ACKNOWLEDGEMENT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/crypto/ed25519.h"
#include "common/merkle/merkle.h"
#include "trm/v1/receipt.pb.h"

namespace trm::envelope {

inline constexpr absl::string_view kAcknowledgementLabel =
    "trm-broker/v1 acknowledgement";
inline constexpr absl::string_view kAcknowledgementBatchLabel =
    "trm-broker/v1 acknowledgement-batch";
// The most bodies one AcknowledgementBatch may hold, and so the longest
// inclusion path one acknowledgement may carry (log2 of it).
inline constexpr size_t kMaxAcknowledgementBatch = 4096;
inline constexpr size_t kMaxAcknowledgementPath = 12;

// kAcknowledgementLabel || 0x00 || body.
std::string AcknowledgementSignatureInput(absl::string_view body);

// kAcknowledgementBatchLabel || 0x00 || u64be(batch_size) || batch_root.
std::string AcknowledgementBatchSignatureInput(uint64_t batch_size,
                                               absl::string_view batch_root);

// The serialized trm.v1.SignedAcknowledgement of `body` by `key`.
absl::StatusOr<std::string> SignAcknowledgement(
    const v1::AcknowledgementBody& body, const crypto::Ed25519PrivateKey& key);

struct ParsedAcknowledgement {
  v1::SignedAcknowledgement signed_ack;
  v1::AcknowledgementBody body;
};

// INVALID_ARGUMENT (ACKNOWLEDGEMENT_MALFORMED) when it does not parse or has
// fields of the wrong size. Takes both forms: signed alone or in a batch.
absl::StatusOr<ParsedAcknowledgement> ParseAcknowledgement(
    absl::string_view bytes);

// INVALID_ARGUMENT (ACKNOWLEDGEMENT_MISMATCH) unless the body is for this
// message (id and envelope hash) by `recipient_org`.
absl::Status CheckAcknowledgementFor(const v1::AcknowledgementBody& body,
                                     absl::string_view message_id,
                                     absl::string_view envelope_sha256,
                                     absl::string_view recipient_org);

// INVALID_ARGUMENT (ACKNOWLEDGEMENT_SIGNATURE_INVALID) unless `key` signed it:
// the body alone, or the batch root its inclusion path leads to.
absl::Status VerifyAcknowledgement(const ParsedAcknowledgement& ack,
                                   const crypto::Ed25519PublicKey& key);

// The serialized trm.v1.AcknowledgementBatch of `bodies` (1 to
// kMaxAcknowledgementBatch of them, by one organisation at one time), in
// their order, signed once by `key`.
absl::StatusOr<std::string> SignAcknowledgementBatch(
    const std::vector<v1::AcknowledgementBody>& bodies,
    const crypto::Ed25519PrivateKey& key);

struct ParsedAcknowledgementBatch {
  v1::AcknowledgementBatch batch;
  std::vector<v1::AcknowledgementBody> bodies;  // parsed, in order
  merkle::Tree tree;                            // over the body bytes
};

// INVALID_ARGUMENT (ACKNOWLEDGEMENT_MALFORMED) when it does not parse, holds
// no body or more than kMaxAcknowledgementBatch, has a body that
// ParseAcknowledgement would refuse, or bodies of more than one organisation
// or time.
absl::StatusOr<ParsedAcknowledgementBatch> ParseAcknowledgementBatch(
    absl::string_view bytes);

// INVALID_ARGUMENT (ACKNOWLEDGEMENT_SIGNATURE_INVALID) unless `key` signed
// the batch's root.
absl::Status VerifyAcknowledgementBatch(const ParsedAcknowledgementBatch& batch,
                                        const crypto::Ed25519PublicKey& key);

// Each body's own evidence: a serialized trm.v1.SignedAcknowledgement with
// the batch's signature, its leaf index and inclusion path, in body order.
std::vector<std::string> AcknowledgementsOf(
    const ParsedAcknowledgementBatch& batch);

}  // namespace trm::envelope

#endif  // TRM_COMMON_ENVELOPE_ACKNOWLEDGEMENT_H_
