// AES-128-GCM for nonces longer than OpenSSL 3.0 accepts (its GCM takes at
// most 128 bytes). GCM allows any nonce length (NIST SP 800-38D section 7.1):
// a nonce that is not 12 bytes is compressed with GHASH into the pre-counter
// block J0. Here that path is built from OpenSSL's AES block function and a
// constant-time GHASH, so AeadSeal/AeadOpen accept every nonce GCM defines.
// The protocol itself only ever uses 12-byte nonces; this exists so that the
// AEAD layer is complete and is checked against every Wycheproof vector.
#ifndef TRM_COMMON_CRYPTO_GCM_LONG_NONCE_H_
#define TRM_COMMON_CRYPTO_GCM_LONG_NONCE_H_

#include "absl/status/status.h"
#include "common/bytes.h"

namespace trm::crypto {

// Same contracts as AeadSeal/AeadOpen for AES-128-GCM, for any nonce of at
// least one byte.
absl::Status GcmSealAnyNonce(ByteView key, ByteView nonce, ByteView aad,
                             ByteView plaintext, MutableByteView out);
absl::Status GcmOpenAnyNonce(ByteView key, ByteView nonce, ByteView aad,
                             ByteView ciphertext, MutableByteView out);

}  // namespace trm::crypto

#endif  // TRM_COMMON_CRYPTO_GCM_LONG_NONCE_H_
