// Sealed, signed envelopes: protocol v1 (docs/protocol.md is normative).
//
// A sender seals a payload to the recipient's X25519 key with HPKE (base mode,
// the header bytes as associated data) and signs the header and a hash of the
// sealed body with Ed25519. Nodes parse and verify; only the recipient opens.
//
//   // Sender
//   ASSIGN_OR_RETURN(trm::v1::Envelope env,
//                    Seal(header, payload, sender_sign_key,
//                    recipient_enc_pub));
//   // A node
//   ASSIGN_OR_RETURN(ParsedEnvelope parsed, ParsedEnvelope::Parse(wire));
//   RETURN_IF_ERROR(VerifySignature(parsed, sender_verify_key));
//   // The recipient
//   ASSIGN_OR_RETURN(SecretBytes payload,
//                    Open(parsed, sender_verify_key, recipient_enc_key, now));
//
// Every failure carries a stable reason (trm::ErrorReason) listed in
// docs/protocol.md, and a message that says what was wrong and what to do.
// Nothing here half-succeeds: a failed Open leaves no plaintext behind.
#ifndef TRM_COMMON_ENVELOPE_ENVELOPE_H_
#define TRM_COMMON_ENVELOPE_ENVELOPE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/bytes.h"
#include "common/crypto/aead.h"
#include "common/crypto/ed25519.h"
#include "common/crypto/hash.h"
#include "common/crypto/x25519.h"
#include "trm/v1/envelope.pb.h"

namespace trm::envelope {

inline constexpr uint32_t kSchemaVersion = 1;
inline constexpr size_t kMessageIdSize = 16;
// HPKE `info` for every envelope.
inline constexpr absl::string_view kHpkeInfo = "trm-broker/v1 envelope";
// Domain-separation string that opens the signed bytes (a 0x00 follows it).
inline constexpr absl::string_view kSignatureContext =
    "trm-broker/v1 envelope-signature";

// Size limits. Defaults are the protocol's; a node may lower them.
struct Limits {
  size_t max_envelope_bytes = (1 << 20) + 8192;
  size_t max_header_bytes = 4096;
  size_t max_payload_bytes = 1 << 20;  // ciphertext is 16 bytes more
  size_t max_id_chars = 64;            // organisation and node ids
  size_t max_case_ref_chars = 64;
  size_t max_consent_ref_chars = 128;
};

// An envelope whose structure and header have been checked, with the header
// parsed from the exact bytes that were signed. Signature and ciphertext are
// not checked yet.
class ParsedEnvelope {
 public:
  // Parses wire bytes (a serialized trm.v1.Envelope).
  static absl::StatusOr<ParsedEnvelope> Parse(absl::string_view wire,
                                              const Limits& limits = {});
  static absl::StatusOr<ParsedEnvelope> FromProto(v1::Envelope envelope,
                                                  const Limits& limits = {});

  const v1::Envelope& envelope() const { return envelope_; }
  const v1::Header& header() const { return header_; }
  crypto::AeadAlgorithm aead() const { return aead_; }

 private:
  ParsedEnvelope() = default;
  v1::Envelope envelope_;
  v1::Header header_;
  crypto::AeadAlgorithm aead_ = crypto::AeadAlgorithm::kChaCha20Poly1305;
};

// SHA-256(u32be(len(enc)) || enc || ciphertext).
crypto::Sha256Digest BodyHash(absl::string_view enc,
                              absl::string_view ciphertext);
// The exact bytes the Ed25519 signature covers:
// kSignatureContext || 0x00 || u32be(len(header)) || header || BodyHash.
std::string SignatureInput(absl::string_view header_bytes,
                           const crypto::Sha256Digest& body_hash);

// Checks required fields, formats and limits of a header. Used by Parse and
// by Seal, so nobody produces an envelope that a node would refuse.
absl::Status ValidateHeader(const v1::Header& header, const Limits& limits);

// Checks that `sender` is the key named by the envelope (SENDER_KEY_MISMATCH
// otherwise) and that its signature verifies (SIGNATURE_INVALID).
absl::Status VerifySignature(const ParsedEnvelope& envelope,
                             const crypto::Ed25519PublicKey& sender);

// MESSAGE_EXPIRED when `now` is past the expiry; CREATED_IN_FUTURE when the
// creation time is more than `max_skew` ahead of `now`; EXPIRY_TOO_FAR when
// the expiry is more than `max_lifetime` after `now` (a node's limit).
absl::Status CheckTimes(const v1::Header& header, absl::Time now,
                        absl::Duration max_skew,
                        absl::Duration max_lifetime = absl::InfiniteDuration());

// Random 16-byte message id.
std::string NewMessageId();

// Seals `payload` to `recipient` and signs with `sender`. Fills in
// header.recipient_key_id and header.aead_id (from `aead`); every other header
// field is the caller's and is validated first. `ephemeral` fixes the HPKE
// ephemeral key, for the protocol's worked example and tests only; nullptr
// (always, in production) draws a fresh one.
absl::StatusOr<v1::Envelope> Seal(
    v1::Header header, ByteView payload,
    const crypto::Ed25519PrivateKey& sender,
    const crypto::X25519PublicKey& recipient,
    crypto::AeadAlgorithm aead = crypto::AeadAlgorithm::kChaCha20Poly1305,
    const Limits& limits = {},
    const crypto::X25519PrivateKey* ephemeral = nullptr);

struct OpenOptions {
  absl::Time now;
  absl::Duration max_clock_skew = absl::Minutes(5);
  // Forensics only: open a message whose expiry has passed.
  bool allow_expired = false;
};

// Verifies the signature, the times, that the envelope was sealed to
// `recipient`, and decrypts. The payload comes back in a buffer that wipes
// itself.
absl::StatusOr<SecretBytes> Open(const ParsedEnvelope& envelope,
                                 const crypto::Ed25519PublicKey& sender,
                                 const crypto::X25519PrivateKey& recipient,
                                 const OpenOptions& options);

}  // namespace trm::envelope

#endif  // TRM_COMMON_ENVELOPE_ENVELOPE_H_
