#include "common/envelope/refusal.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/key_files.h"
#include "common/status.h"

namespace trm::envelope {
namespace {

absl::Status Malformed(absl::string_view what) {
  return Error(absl::StatusCode::kInvalidArgument, "REFUSAL_MALFORMED",
               absl::StrCat("the signed refusal ", what,
                            "; sign it as docs/protocol.md section 15.3 says"));
}

}  // namespace

std::string RefusalSignatureInput(absl::string_view body) {
  return absl::StrCat(kRefusalLabel, absl::string_view("\0", 1), body);
}

absl::StatusOr<std::string> SignRefusal(const v1::RefusalBody& body,
                                        const crypto::Ed25519PrivateKey& key) {
  v1::SignedRefusal out;
  out.set_body(body.SerializeAsString());
  const crypto::KeyId id = crypto::KeyIdOf(key.public_key());
  out.set_key_id(id.data(), id.size());
  ASSIGN_OR_RETURN(crypto::Ed25519Signature sig,
                   key.Sign(AsBytes(RefusalSignatureInput(out.body()))));
  out.set_signature(sig.data(), sig.size());
  return out.SerializeAsString();
}

absl::StatusOr<ParsedRefusal> ParseRefusal(absl::string_view bytes) {
  ParsedRefusal r;
  if (!r.signed_refusal.ParseFromArray(bytes.data(),
                                       static_cast<int>(bytes.size()))) {
    return Malformed("does not parse as trm.v1.SignedRefusal");
  }
  if (r.signed_refusal.key_id().size() != crypto::kKeyIdSize ||
      r.signed_refusal.signature().size() != crypto::kEd25519SignatureSize) {
    return Malformed("needs a 16-byte key_id and a 64-byte signature");
  }
  if (!r.body.ParseFromString(r.signed_refusal.body())) {
    return Malformed("has a body that does not parse");
  }
  if (r.body.message_id().size() != 16 ||
      r.body.envelope_sha256().size() != 32 || r.body.recipient_org().empty() ||
      r.body.time_unix_ms() <= 0) {
    return Malformed(
        "body needs a 16-byte message_id, a 32-byte envelope_sha256, the "
        "recipient_org and a time");
  }
  if (r.body.reason() == v1::REFUSAL_REASON_UNSPECIFIED ||
      !v1::RefusalReason_IsValid(r.body.reason())) {
    return Malformed(
        "names no known reason (REFUSAL_CANNOT_OPEN, REFUSAL_WRONG_TYPE, "
        "REFUSAL_NOT_OURS or REFUSAL_HEADER_PAYLOAD_MISMATCH)");
  }
  if (r.body.text().size() > kMaxRefusalText) {
    return Malformed(absl::StrCat("has a text of ", r.body.text().size(),
                                  " bytes, more than ", kMaxRefusalText));
  }
  return r;
}

absl::Status CheckRefusalFor(const ParsedRefusal& r,
                             absl::string_view message_id,
                             absl::string_view envelope_sha256,
                             absl::string_view recipient_org) {
  if (r.body.message_id() != message_id ||
      r.body.envelope_sha256() != envelope_sha256 ||
      r.body.recipient_org() != recipient_org) {
    return Error(
        absl::StatusCode::kInvalidArgument, "REFUSAL_MISMATCH",
        absl::StrCat("the signed refusal is for message ",
                     HexEncode(AsBytes(r.body.message_id())), " by '",
                     r.body.recipient_org(), "', not for message ",
                     HexEncode(AsBytes(message_id)), " as received by '",
                     recipient_org,
                     "' (or names another envelope hash); sign the id and "
                     "SHA-256 of the envelope you received"));
  }
  return absl::OkStatus();
}

absl::Status VerifyRefusal(const ParsedRefusal& r,
                           const crypto::Ed25519PublicKey& key) {
  if (!key.Verify(AsBytes(RefusalSignatureInput(r.signed_refusal.body())),
                  AsBytes(r.signed_refusal.signature()))) {
    return Error(absl::StatusCode::kInvalidArgument,
                 "REFUSAL_SIGNATURE_INVALID",
                 absl::StrCat("the refusal's signature does not verify with "
                              "key ",
                              HexEncode(AsBytes(r.signed_refusal.key_id())),
                              " of '", r.body.recipient_org(),
                              "'; sign with the organisation's current "
                              "signing key"));
  }
  return absl::OkStatus();
}

std::string RefusalReasonToken(v1::RefusalReason reason) {
  std::string name = v1::RefusalReason_Name(reason);
  if (absl::StartsWith(name, "REFUSAL_")) name = name.substr(8);
  return name;
}

absl::StatusOr<v1::RefusalReason> ParseRefusalReason(absl::string_view token) {
  v1::RefusalReason reason;
  const std::string name =
      absl::StrCat("REFUSAL_", absl::AsciiStrToUpper(token));
  if (v1::RefusalReason_Parse(name, &reason) &&
      reason != v1::REFUSAL_REASON_UNSPECIFIED) {
    return reason;
  }
  return Error(absl::StatusCode::kInvalidArgument, "USAGE",
               absl::StrCat("unknown refusal reason '", token,
                            "': give CANNOT_OPEN, WRONG_TYPE, NOT_OURS or "
                            "HEADER_PAYLOAD_MISMATCH"));
}

}  // namespace trm::envelope
