// The two AEADs of the protocol, as HPKE names them (RFC 9180 section 7.3):
// AES-128-GCM (0x0001) and ChaCha20Poly1305 (0x0003). One-shot seal and open
// into caller-provided buffers, so the envelope code writes ciphertext straight
// into the message it sends.
//
//   std::string ct(pt.size() + kAeadTagSize, '\0');
//   RETURN_IF_ERROR(AeadSeal(AeadAlgorithm::kChaCha20Poly1305, key, nonce,
//                            aad, pt, MutableBytesOf(ct)));
#ifndef TRM_COMMON_CRYPTO_AEAD_H_
#define TRM_COMMON_CRYPTO_AEAD_H_

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/bytes.h"

namespace trm::crypto {

enum class AeadAlgorithm : uint16_t {
  kAes128Gcm = 0x0001,
  kChaCha20Poly1305 = 0x0003,
};

inline constexpr size_t kAeadTagSize = 16;
inline constexpr size_t kAeadNonceSize = 12;  // Nn for both AEADs

// The AEAD for an HPKE id, or nullopt for an id this build does not support.
std::optional<AeadAlgorithm> AeadFromId(uint16_t id);
// Key length Nk: 16 for AES-128-GCM, 32 for ChaCha20Poly1305.
size_t AeadKeySize(AeadAlgorithm alg);
// "AES-128-GCM" or "ChaCha20Poly1305".
absl::string_view AeadName(AeadAlgorithm alg);

// Encrypts `plaintext` and writes ciphertext || tag to `out`, which must be
// exactly plaintext.size() + kAeadTagSize bytes. The nonce must be 12 bytes
// for ChaCha20Poly1305 and at least 1 byte for AES-GCM (HPKE always uses 12).
absl::Status AeadSeal(AeadAlgorithm alg, ByteView key, ByteView nonce,
                      ByteView aad, ByteView plaintext, MutableByteView out);

// Checks and decrypts `ciphertext` (ciphertext || tag) into `out`, which must
// be exactly ciphertext.size() - kAeadTagSize bytes. On an authentication
// failure returns UNAUTHENTICATED with reason AEAD_AUTH_FAILED and wipes
// `out`: no unauthenticated plaintext is ever left behind.
absl::Status AeadOpen(AeadAlgorithm alg, ByteView key, ByteView nonce,
                      ByteView aad, ByteView ciphertext, MutableByteView out);

}  // namespace trm::crypto

#endif  // TRM_COMMON_CRYPTO_AEAD_H_
