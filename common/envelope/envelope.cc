#include "common/envelope/envelope.h"

#include <openssl/rand.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/crypto/hpke.h"
#include "common/crypto/key_files.h"
#include "common/status.h"
#include "trm/v1/case.pb.h"

namespace trm::envelope {
namespace {

using absl::StatusCode;
using crypto::AeadAlgorithm;

absl::Status Malformed(absl::string_view what) {
  return Error(StatusCode::kInvalidArgument, "ENVELOPE_MALFORMED",
               absl::StrCat(what,
                            "; the envelope is truncated or corrupted. Ask the "
                            "sender to send it again"));
}

absl::Status TooLarge(absl::string_view field, size_t size, size_t limit) {
  return Error(StatusCode::kResourceExhausted, "FIELD_TOO_LARGE",
               absl::StrCat(field, " is ", size, " bytes; the limit is ", limit,
                            ". Shorten it or split the payload"));
}

absl::Status HeaderInvalid(absl::string_view field, absl::string_view what) {
  return Error(StatusCode::kInvalidArgument, "HEADER_INVALID",
               absl::StrCat("header field ", field, " ", what));
}

bool HasUnknownFields(const google::protobuf::Message& m) {
  return !m.GetReflection()->GetUnknownFields(m).empty();
}

// Organisation and node ids: 1..max chars of [A-Za-z0-9._-], starting with a
// letter or digit.
absl::Status CheckId(absl::string_view field, const std::string& value,
                     size_t max) {
  if (value.empty()) return HeaderInvalid(field, "is missing");
  if (value.size() > max) return TooLarge(field, value.size(), max);
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) {
      return HeaderInvalid(
          field,
          absl::StrFormat("has byte 0x%02x at offset %d; use letters, digits, "
                          "'.', '_' and '-', starting with a letter or digit",
                          static_cast<unsigned char>(c), i));
    }
  }
  return absl::OkStatus();
}

// References (case, consent): printable ASCII without spaces.
absl::Status CheckRef(absl::string_view field, const std::string& value,
                      size_t max, bool required) {
  if (value.empty()) {
    return required ? HeaderInvalid(field, "is missing") : absl::OkStatus();
  }
  if (value.size() > max) return TooLarge(field, value.size(), max);
  for (char c : value) {
    if (c <= 0x20 || c >= 0x7f) {
      return HeaderInvalid(field,
                           "must be printable ASCII without spaces; it is a "
                           "pseudonymous reference, never a name");
    }
  }
  return absl::OkStatus();
}

const crypto::HpkeBaseSuite& Suite(AeadAlgorithm aead) {
  static const crypto::HpkeBaseSuite* chacha = new crypto::HpkeBaseSuite(
      AeadAlgorithm::kChaCha20Poly1305, AsBytes(kHpkeInfo));
  static const crypto::HpkeBaseSuite* aes =
      new crypto::HpkeBaseSuite(AeadAlgorithm::kAes128Gcm, AsBytes(kHpkeInfo));
  return aead == AeadAlgorithm::kAes128Gcm ? *aes : *chacha;
}

std::string FormatMs(int64_t ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

}  // namespace

absl::Status ValidateHeader(const v1::Header& h, const Limits& limits) {
  if (HasUnknownFields(h)) {
    return Error(StatusCode::kInvalidArgument, "HEADER_MALFORMED",
                 "the header has fields protocol v1 does not define; the "
                 "sender uses a newer protocol or the envelope is corrupted");
  }
  if (h.schema_version() != kSchemaVersion) {
    return Error(StatusCode::kInvalidArgument, "UNSUPPORTED_SCHEMA_VERSION",
                 absl::StrCat("header schema_version is ", h.schema_version(),
                              "; this node speaks version ", kSchemaVersion,
                              ". Upgrade the older side"));
  }
  if (!crypto::AeadFromId(static_cast<uint16_t>(h.aead_id())).has_value() ||
      h.aead_id() < 0 || h.aead_id() > 0xffff) {
    return Error(StatusCode::kInvalidArgument, "UNKNOWN_AEAD",
                 absl::StrCat("AEAD id ", h.aead_id(),
                              " is not supported; use 1 (AES-128-GCM) or 3 "
                              "(ChaCha20Poly1305)"));
  }
  if (h.message_id().size() != kMessageIdSize) {
    return HeaderInvalid("message_id",
                         absl::StrCat("is ", h.message_id().size(),
                                      " bytes; it must be 16 random bytes"));
  }
  RETURN_IF_ERROR(
      CheckRef("case_ref", h.case_ref(), limits.max_case_ref_chars, true));
  if (h.type() == v1::MESSAGE_TYPE_UNSPECIFIED ||
      !v1::MessageType_IsValid(h.type())) {
    return HeaderInvalid("type", absl::StrCat("is ", static_cast<int>(h.type()),
                                              ", not a known message type"));
  }
  RETURN_IF_ERROR(CheckId("sender_org", h.sender_org(), limits.max_id_chars));
  RETURN_IF_ERROR(CheckId("sender_node", h.sender_node(), limits.max_id_chars));
  RETURN_IF_ERROR(
      CheckId("recipient_org", h.recipient_org(), limits.max_id_chars));
  RETURN_IF_ERROR(
      CheckId("recipient_node", h.recipient_node(), limits.max_id_chars));
  if (h.created_unix_ms() <= 0) {
    return HeaderInvalid("created_unix_ms", "is missing");
  }
  if (h.expires_unix_ms() <= h.created_unix_ms()) {
    return HeaderInvalid("expires_unix_ms",
                         "must be later than created_unix_ms");
  }
  if (!h.in_reply_to().empty() && h.in_reply_to().size() != kMessageIdSize) {
    return HeaderInvalid("in_reply_to",
                         "must be empty or a 16-byte message id");
  }
  RETURN_IF_ERROR(CheckRef("consent_ref", h.consent_ref(),
                           limits.max_consent_ref_chars, false));
  if (h.has_departure_unix_ms() && h.departure_unix_ms() <= 0) {
    return HeaderInvalid("departure_unix_ms", "must be a positive time");
  }
  if (h.recipient_key_id().size() != crypto::kKeyIdSize) {
    return HeaderInvalid("recipient_key_id",
                         "must be the 16-byte key id of the recipient's "
                         "encryption key");
  }
  if (h.outcome() != 0 &&
      !v1::StepOutcome_IsValid(static_cast<int>(h.outcome()))) {
    return HeaderInvalid("outcome",
                         "must be 0 or a StepOutcome value (docs/protocol.md "
                         "section 4.4)");
  }
  return absl::OkStatus();
}

absl::StatusOr<ParsedEnvelope> ParsedEnvelope::Parse(absl::string_view wire,
                                                     const Limits& limits) {
  if (wire.size() > limits.max_envelope_bytes) {
    return TooLarge("envelope", wire.size(), limits.max_envelope_bytes);
  }
  v1::Envelope envelope;
  if (!envelope.ParseFromArray(wire.data(), static_cast<int>(wire.size()))) {
    return Malformed("the bytes are not a trm.v1.Envelope");
  }
  // A field twice (a reader may take either) or a varint longer than it
  // needs: the encoding is longer than the canonical one (section 4).
  if (!HasUnknownFields(envelope) && envelope.ByteSizeLong() != wire.size()) {
    return Malformed(
        "the envelope is not canonically encoded (a field appears twice, or "
        "a length is written in more bytes than it needs; docs/protocol.md "
        "section 4)");
  }
  return FromProto(std::move(envelope), limits);
}

absl::StatusOr<ParsedEnvelope> ParsedEnvelope::FromProto(v1::Envelope envelope,
                                                         const Limits& limits) {
  if (HasUnknownFields(envelope)) {
    return Malformed("the envelope has fields protocol v1 does not define");
  }
  if (envelope.header().empty()) return Malformed("the header is missing");
  if (envelope.header().size() > limits.max_header_bytes) {
    return TooLarge("header", envelope.header().size(),
                    limits.max_header_bytes);
  }
  if (envelope.enc().size() != crypto::kHpkeEncSize) {
    return Malformed(
        absl::StrCat("enc is ", envelope.enc().size(), " bytes, not 32"));
  }
  if (envelope.ciphertext().size() < crypto::kAeadTagSize) {
    return Malformed(absl::StrCat("the ciphertext is ",
                                  envelope.ciphertext().size(),
                                  " bytes, shorter than its 16-byte tag"));
  }
  if (envelope.ciphertext().size() >
      limits.max_payload_bytes + crypto::kAeadTagSize) {
    return TooLarge("ciphertext", envelope.ciphertext().size(),
                    limits.max_payload_bytes + crypto::kAeadTagSize);
  }
  if (envelope.sender_key_id().size() != crypto::kKeyIdSize) {
    return Malformed(absl::StrCat("sender_key_id is ",
                                  envelope.sender_key_id().size(),
                                  " bytes, not 16"));
  }
  if (envelope.signature().size() != crypto::kEd25519SignatureSize) {
    return Malformed(absl::StrCat(
        "the signature is ", envelope.signature().size(), " bytes, not 64"));
  }
  ParsedEnvelope parsed;
  if (!parsed.header_.ParseFromString(envelope.header())) {
    return Error(StatusCode::kInvalidArgument, "HEADER_MALFORMED",
                 "the header bytes are not a trm.v1.Header; the envelope is "
                 "corrupted. Ask the sender to send it again");
  }
  // The signed header must be exactly the canonical encoding of what it
  // decodes to, so that every reader reads the same header.
  if (parsed.header_.SerializeAsString() != envelope.header()) {
    return Error(
        StatusCode::kInvalidArgument, "HEADER_NOT_CANONICAL",
        "the header is not canonically encoded (docs/protocol.md section 4): "
        "a field appears twice or out of order, a default value is written, "
        "a varint is longer than it needs to be, or a value is out of its "
        "type's range. Two readers could read such a header differently, so "
        "it is refused; the sender's software must write the canonical "
        "encoding");
  }
  RETURN_IF_ERROR(ValidateHeader(parsed.header_, limits));
  parsed.aead_ =
      *crypto::AeadFromId(static_cast<uint16_t>(parsed.header_.aead_id()));
  parsed.envelope_ = std::move(envelope);
  return parsed;
}

crypto::Sha256Digest BodyHash(absl::string_view enc,
                              absl::string_view ciphertext) {
  const uint32_t n = static_cast<uint32_t>(enc.size());
  const uint8_t len[4] = {
      static_cast<uint8_t>(n >> 24), static_cast<uint8_t>(n >> 16),
      static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)};
  return crypto::Sha256({len, AsBytes(enc), AsBytes(ciphertext)});
}

std::string SignatureInput(absl::string_view header_bytes,
                           const crypto::Sha256Digest& body_hash) {
  std::string out;
  out.reserve(kSignatureContext.size() + 1 + 4 + header_bytes.size() +
              body_hash.size());
  out.append(kSignatureContext.data(), kSignatureContext.size());
  out.push_back('\0');
  const uint32_t n = static_cast<uint32_t>(header_bytes.size());
  out.push_back(static_cast<char>(n >> 24));
  out.push_back(static_cast<char>(n >> 16));
  out.push_back(static_cast<char>(n >> 8));
  out.push_back(static_cast<char>(n));
  out.append(header_bytes.data(), header_bytes.size());
  out.append(reinterpret_cast<const char*>(body_hash.data()), body_hash.size());
  return out;
}

absl::Status VerifySignature(const ParsedEnvelope& parsed,
                             const crypto::Ed25519PublicKey& sender) {
  const v1::Envelope& env = parsed.envelope();
  const crypto::KeyId expected = crypto::KeyIdOf(sender);
  if (!SameBytes(AsBytes(env.sender_key_id()), expected)) {
    return Error(
        StatusCode::kUnauthenticated, "SENDER_KEY_MISMATCH",
        absl::StrCat("the envelope says it was signed by key ",
                     HexEncode(AsBytes(env.sender_key_id())),
                     " but the key given for ", parsed.header().sender_org(),
                     " is ", HexEncode(expected),
                     ". Use the sender's current signing public key"));
  }
  std::string input =
      SignatureInput(env.header(), BodyHash(env.enc(), env.ciphertext()));
  if (!sender.Verify(AsBytes(input), AsBytes(env.signature()))) {
    return Error(StatusCode::kUnauthenticated, "SIGNATURE_INVALID",
                 absl::StrCat("the signature does not verify under ",
                              parsed.header().sender_org(), "'s key ",
                              HexEncode(expected),
                              ": the header, enc or ciphertext was altered "
                              "after signing, or parts of two envelopes were "
                              "combined. Do not trust it; ask the sender to "
                              "send it again"));
  }
  return absl::OkStatus();
}

absl::Status CheckTimes(const v1::Header& h, absl::Time now,
                        absl::Duration max_skew, absl::Duration max_lifetime) {
  const int64_t now_ms = absl::ToUnixMillis(now);
  if (max_lifetime != absl::InfiniteDuration() &&
      h.expires_unix_ms() - now_ms > absl::ToInt64Milliseconds(max_lifetime)) {
    return Error(
        StatusCode::kInvalidArgument, "EXPIRY_TOO_FAR",
        absl::StrCat("message expires at ", FormatMs(h.expires_unix_ms()),
                     ", but this node keeps a message at most ",
                     absl::FormatDuration(max_lifetime),
                     ": the latest "
                     "allowed expiry is ",
                     FormatMs(now_ms + absl::ToInt64Milliseconds(max_lifetime)),
                     "; send it with a shorter lifetime (--expires-in)"));
  }
  if (now_ms >= h.expires_unix_ms()) {
    return Error(
        StatusCode::kFailedPrecondition, "MESSAGE_EXPIRED",
        absl::StrCat("message expired at ", FormatMs(h.expires_unix_ms()),
                     " (now ", FormatMs(now_ms),
                     "); ask the sender for a fresh message"));
  }
  if (h.created_unix_ms() > now_ms + absl::ToInt64Milliseconds(max_skew)) {
    return Error(StatusCode::kFailedPrecondition, "CREATED_IN_FUTURE",
                 absl::StrCat("message claims creation at ",
                              FormatMs(h.created_unix_ms()), ", more than ",
                              absl::FormatDuration(max_skew), " after now (",
                              FormatMs(now_ms),
                              "); check the sender's and this machine's "
                              "clocks"));
  }
  return absl::OkStatus();
}

std::string NewMessageId() {
  std::string id(kMessageIdSize, '\0');
  if (RAND_bytes(reinterpret_cast<uint8_t*>(id.data()), kMessageIdSize) != 1) {
    std::abort();  // no randomness: nothing safe can continue
  }
  return id;
}

absl::StatusOr<v1::Envelope> Seal(v1::Header header, ByteView payload,
                                  const crypto::Ed25519PrivateKey& sender,
                                  const crypto::X25519PublicKey& recipient,
                                  AeadAlgorithm aead, const Limits& limits,
                                  const crypto::X25519PrivateKey* ephemeral) {
  const crypto::KeyId recipient_key_id = crypto::X25519KeyIdOf(recipient);
  header.set_recipient_key_id(recipient_key_id.data(), recipient_key_id.size());
  header.set_aead_id(static_cast<v1::AeadId>(aead));
  RETURN_IF_ERROR(ValidateHeader(header, limits));
  if (payload.size() > limits.max_payload_bytes) {
    return TooLarge("payload", payload.size(), limits.max_payload_bytes);
  }
  v1::Envelope env;
  std::string& header_bytes = *env.mutable_header();
  header.SerializeToString(&header_bytes);
  if (header_bytes.size() > limits.max_header_bytes) {
    return TooLarge("header", header_bytes.size(), limits.max_header_bytes);
  }
  std::string& ct = *env.mutable_ciphertext();
  ct.resize(payload.size() + crypto::kAeadTagSize);
  ASSIGN_OR_RETURN(
      crypto::X25519PublicKey enc,
      Suite(aead).Seal(
          recipient, AsBytes(header_bytes), payload,
          MutableByteView(reinterpret_cast<uint8_t*>(ct.data()), ct.size()),
          ephemeral));
  env.set_enc(enc.data(), enc.size());
  const crypto::KeyId sender_key_id = crypto::KeyIdOf(sender.public_key());
  env.set_sender_key_id(sender_key_id.data(), sender_key_id.size());
  std::string input = SignatureInput(header_bytes, BodyHash(env.enc(), ct));
  ASSIGN_OR_RETURN(crypto::Ed25519Signature sig, sender.Sign(AsBytes(input)));
  env.set_signature(sig.data(), sig.size());
  return env;
}

absl::StatusOr<SecretBytes> Open(const ParsedEnvelope& parsed,
                                 const crypto::Ed25519PublicKey& sender,
                                 const crypto::X25519PrivateKey& recipient,
                                 const OpenOptions& options) {
  RETURN_IF_ERROR(VerifySignature(parsed, sender));
  const v1::Header& h = parsed.header();
  if (absl::Status s = CheckTimes(h, options.now, options.max_clock_skew);
      !s.ok() &&
      !(options.allow_expired && ErrorReason(s) == "MESSAGE_EXPIRED")) {
    return s;
  }
  const crypto::KeyId mine = crypto::X25519KeyIdOf(recipient.public_key());
  if (!SameBytes(AsBytes(h.recipient_key_id()), mine)) {
    return Error(StatusCode::kFailedPrecondition, "RECIPIENT_KEY_MISMATCH",
                 absl::StrCat("the envelope is sealed to key ",
                              HexEncode(AsBytes(h.recipient_key_id())), " of ",
                              h.recipient_org(), ", not to the given key ",
                              HexEncode(mine),
                              ". Open it with that organisation's matching "
                              "encryption key"));
  }
  const v1::Envelope& env = parsed.envelope();
  SecretBytes payload(env.ciphertext().size() - crypto::kAeadTagSize);
  if (!Suite(parsed.aead())
           .Open(AsBytes(env.enc()), recipient, AsBytes(env.header()),
                 AsBytes(env.ciphertext()), payload.mutable_view())
           .ok()) {
    return Error(StatusCode::kUnauthenticated, "DECRYPTION_FAILED",
                 "the ciphertext does not open under this header with this "
                 "key, although the signature is valid: the sender sealed it "
                 "under a different header or to a different key. Ask the "
                 "sender to seal it again");
  }
  return payload;
}

}  // namespace trm::envelope
