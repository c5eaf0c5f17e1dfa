// HPKE (RFC 9180) with DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, and either
// AES-128-GCM or ChaCha20Poly1305, built on OpenSSL 3.0 primitives (3.0 has no
// HPKE API of its own).
//
// All four modes are here because the RFC's test vectors exercise them; the
// envelope uses base mode only.
//
//   // Sender
//   ASSIGN_OR_RETURN(HpkeSenderSetup s,
//                    SetupSender(HpkeMode::kBase, aead, recipient_pk, info));
//   RETURN_IF_ERROR(s.context.Seal(aad, pt, out));   // send s.enc and out
//   // Recipient
//   ASSIGN_OR_RETURN(HpkeContext r,
//                    SetupReceiver(HpkeMode::kBase, aead, enc, recipient_sk,
//                                  info));
//   RETURN_IF_ERROR(r.Open(aad, ct, pt_out));
#ifndef TRM_COMMON_CRYPTO_HPKE_H_
#define TRM_COMMON_CRYPTO_HPKE_H_

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "common/bytes.h"
#include "common/crypto/aead.h"
#include "common/crypto/hash.h"
#include "common/crypto/x25519.h"

namespace trm::crypto {

enum class HpkeMode : uint8_t {
  kBase = 0x00,
  kPsk = 0x01,
  kAuth = 0x02,
  kAuthPsk = 0x03,
};

inline constexpr uint16_t kHpkeKemX25519Sha256 = 0x0020;
inline constexpr uint16_t kHpkeKdfHkdfSha256 = 0x0001;
inline constexpr size_t kHpkeEncSize = 32;
inline constexpr size_t kHpkeSecretSize = 32;  // Nsecret = Nh = 32

using HpkeSharedSecret = SecretArray<kHpkeSecretSize>;

// Optional inputs of the non-base modes, and the deterministic ephemeral key
// that tests use to reproduce the RFC's vectors. Production passes none.
struct HpkeSenderOptions {
  ByteView psk;                                 // modes psk, auth_psk
  ByteView psk_id;                              // modes psk, auth_psk
  const X25519PrivateKey* sender = nullptr;     // modes auth, auth_psk
  const X25519PrivateKey* ephemeral = nullptr;  // tests only
};
struct HpkeReceiverOptions {
  ByteView psk;
  ByteView psk_id;
  std::optional<X25519PublicKey> sender;  // modes auth, auth_psk
};

// DeriveKeyPair(ikm) of RFC 9180 section 7.1.3.
absl::StatusOr<X25519PrivateKey> HpkeDeriveKeyPair(ByteView ikm);

// Encap/AuthEncap (sender, nullptr for Encap) and Decap/AuthDecap (sender
// public key, nullopt for Decap).
struct HpkeEncapsulation {
  X25519PublicKey enc;
  HpkeSharedSecret shared_secret;
};
absl::StatusOr<HpkeEncapsulation> HpkeEncap(ByteView recipient_public,
                                            const X25519PrivateKey& ephemeral,
                                            const X25519PrivateKey* sender);
absl::StatusOr<HpkeSharedSecret> HpkeDecap(
    ByteView enc, const X25519PrivateKey& recipient,
    const std::optional<X25519PublicKey>& sender);

// An encryption context: the AEAD key, base nonce, sequence number and
// exporter secret. Seal is for senders and Open for receivers; each call
// advances the sequence number (RFC 9180 section 5.2). Wipes its secrets.
class HpkeContext {
 public:
  // Writes ct || tag (pt.size() + 16 bytes) to `out`.
  absl::Status Seal(ByteView aad, ByteView pt, MutableByteView out);
  // Writes the plaintext (ct.size() - 16 bytes) to `out`; UNAUTHENTICATED
  // with reason AEAD_AUTH_FAILED on a bad ciphertext, and the sequence
  // number does not advance.
  absl::Status Open(ByteView aad, ByteView ct, MutableByteView out);
  // Secret export of RFC 9180 section 5.3.
  absl::Status Export(ByteView exporter_context, MutableByteView out) const;

  AeadAlgorithm aead() const { return aead_; }
  ByteView key() const { return key_.view().first(AeadKeySize(aead_)); }
  ByteView base_nonce() const { return base_nonce_.view(); }
  ByteView exporter_secret() const { return exporter_secret_.view(); }
  uint64_t sequence() const { return seq_; }
  // Sets the sequence number, for reproducing vectors of later messages.
  void set_sequence(uint64_t seq) { seq_ = seq; }

  // The intermediate values of a key schedule, for checking against the
  // RFC's vectors. Holds secrets: tests only.
  struct Trace {
    std::array<uint8_t, 1 + 2 * kSha256Size> key_schedule_context;
    SecretArray<kSha256Size> secret;
  };

  // KeySchedule of RFC 9180 section 5.1. Rejects inconsistent PSK inputs.
  // Fills `trace` when given.
  static absl::StatusOr<HpkeContext> KeySchedule(
      HpkeMode mode, AeadAlgorithm aead, const HpkeSharedSecret& shared_secret,
      ByteView info, ByteView psk, ByteView psk_id, Trace* trace = nullptr);

 private:
  explicit HpkeContext(AeadAlgorithm aead) : aead_(aead) {}
  absl::Status NextNonce(SecretArray<kAeadNonceSize>& nonce) const;

  AeadAlgorithm aead_;
  SecretArray<32> key_;  // first AeadKeySize(aead_) bytes are used
  SecretArray<kAeadNonceSize> base_nonce_;
  SecretArray<kHpkeSecretSize> exporter_secret_;
  uint64_t seq_ = 0;
};

struct HpkeSenderSetup {
  X25519PublicKey enc;
  HpkeContext context;
};

absl::StatusOr<HpkeSenderSetup> HpkeSetupSender(
    HpkeMode mode, AeadAlgorithm aead, ByteView recipient_public, ByteView info,
    const HpkeSenderOptions& options = {});
absl::StatusOr<HpkeContext> HpkeSetupReceiver(
    HpkeMode mode, AeadAlgorithm aead, ByteView enc,
    const X25519PrivateKey& recipient, ByteView info,
    const HpkeReceiverOptions& options = {});

// Base mode with a fixed `info`, for single-shot seal and open of many
// messages (sequence number 0 each time), as the envelope uses it. The
// constant part of the key schedule (psk_id_hash, info_hash) is computed once
// and the exporter secret, which single-shot use never needs, is not derived.
// The results equal HpkeSetupSender/HpkeSetupReceiver's first Seal/Open.
// Thread-safe.
class HpkeBaseSuite {
 public:
  HpkeBaseSuite(AeadAlgorithm aead, ByteView info);

  AeadAlgorithm aead() const { return aead_; }

  // Seals `pt` to `recipient_public` into `out` (pt.size() + 16 bytes) and
  // returns enc. `ephemeral` is for tests; production passes nullptr.
  absl::StatusOr<X25519PublicKey> Seal(
      ByteView recipient_public, ByteView aad, ByteView pt, MutableByteView out,
      const X25519PrivateKey* ephemeral = nullptr) const;
  // Opens `ct` (out is ct.size() - 16 bytes). UNAUTHENTICATED with reason
  // AEAD_AUTH_FAILED when it does not open; `out` is wiped then.
  absl::Status Open(ByteView enc, const X25519PrivateKey& recipient,
                    ByteView aad, ByteView ct, MutableByteView out) const;

 private:
  absl::Status Derive(const HpkeSharedSecret& shared, SecretArray<32>& key,
                      SecretArray<kAeadNonceSize>& nonce) const;
  AeadAlgorithm aead_;
  std::array<uint8_t, 10> suite_id_;
  std::array<uint8_t, 1 + 2 * kSha256Size> schedule_context_;
};

}  // namespace trm::crypto

#endif  // TRM_COMMON_CRYPTO_HPKE_H_
