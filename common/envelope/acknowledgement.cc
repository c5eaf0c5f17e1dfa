#include "common/envelope/acknowledgement.h"

#include "absl/strings/str_cat.h"
#include "common/crypto/key_files.h"
#include "common/status.h"

namespace trm::envelope {
namespace {

absl::Status Malformed(absl::string_view what) {
  return Error(absl::StatusCode::kInvalidArgument, "ACKNOWLEDGEMENT_MALFORMED",
               absl::StrCat("the signed acknowledgement ", what,
                            "; sign it as docs/protocol.md section 15 says"));
}

}  // namespace

std::string AcknowledgementSignatureInput(absl::string_view body) {
  std::string input(kAcknowledgementLabel.data(), kAcknowledgementLabel.size());
  input.push_back('\0');
  input.append(body.data(), body.size());
  return input;
}

absl::StatusOr<std::string> SignAcknowledgement(
    const v1::AcknowledgementBody& body, const crypto::Ed25519PrivateKey& key) {
  v1::SignedAcknowledgement out;
  out.set_body(body.SerializeAsString());
  const crypto::KeyId id = crypto::KeyIdOf(key.public_key());
  out.set_key_id(id.data(), id.size());
  ASSIGN_OR_RETURN(
      crypto::Ed25519Signature sig,
      key.Sign(AsBytes(AcknowledgementSignatureInput(out.body()))));
  out.set_signature(sig.data(), sig.size());
  return out.SerializeAsString();
}

absl::StatusOr<ParsedAcknowledgement> ParseAcknowledgement(
    absl::string_view bytes) {
  ParsedAcknowledgement ack;
  if (!ack.signed_ack.ParseFromArray(bytes.data(),
                                     static_cast<int>(bytes.size()))) {
    return Malformed("does not parse as trm.v1.SignedAcknowledgement");
  }
  if (ack.signed_ack.key_id().size() != crypto::kKeyIdSize ||
      ack.signed_ack.signature().size() != crypto::kEd25519SignatureSize) {
    return Malformed("needs a 16-byte key_id and a 64-byte signature");
  }
  if (!ack.body.ParseFromString(ack.signed_ack.body())) {
    return Malformed("has a body that does not parse");
  }
  if (ack.body.message_id().size() != 16 ||
      ack.body.envelope_sha256().size() != 32 ||
      ack.body.recipient_org().empty() || ack.body.time_unix_ms() <= 0) {
    return Malformed(
        "body needs a 16-byte message_id, a 32-byte envelope_sha256, the "
        "recipient_org and a time");
  }
  return ack;
}

absl::Status CheckAcknowledgementFor(const ParsedAcknowledgement& ack,
                                     absl::string_view message_id,
                                     absl::string_view envelope_sha256,
                                     absl::string_view recipient_org) {
  if (ack.body.message_id() != message_id ||
      ack.body.envelope_sha256() != envelope_sha256 ||
      ack.body.recipient_org() != recipient_org) {
    return Error(
        absl::StatusCode::kInvalidArgument, "ACKNOWLEDGEMENT_MISMATCH",
        absl::StrCat("the signed acknowledgement is for message ",
                     HexEncode(AsBytes(ack.body.message_id())), " by '",
                     ack.body.recipient_org(), "', not for message ",
                     HexEncode(AsBytes(message_id)), " as received by '",
                     recipient_org,
                     "' (or names another envelope hash); sign the id and "
                     "SHA-256 of the envelope you received"));
  }
  return absl::OkStatus();
}

absl::Status VerifyAcknowledgement(const ParsedAcknowledgement& ack,
                                   const crypto::Ed25519PublicKey& key) {
  if (!key.Verify(AsBytes(AcknowledgementSignatureInput(ack.signed_ack.body())),
                  AsBytes(ack.signed_ack.signature()))) {
    return Error(absl::StatusCode::kInvalidArgument,
                 "ACKNOWLEDGEMENT_SIGNATURE_INVALID",
                 absl::StrCat("the acknowledgement's signature does not verify "
                              "with key ",
                              HexEncode(AsBytes(ack.signed_ack.key_id())),
                              " of '", ack.body.recipient_org(),
                              "'; sign with the organisation's current "
                              "signing key"));
  }
  return absl::OkStatus();
}

}  // namespace trm::envelope
