// SHA-256 and HMAC-SHA256 over OpenSSL, with the algorithm objects fetched
// once per process (a fetch per call would cost more than the hash itself for
// the short inputs HPKE uses).
//
//   std::array<uint8_t, 32> digest = Sha256({header, body});
#ifndef TRM_COMMON_CRYPTO_HASH_H_
#define TRM_COMMON_CRYPTO_HASH_H_

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>

#include "common/bytes.h"

namespace trm::crypto {

inline constexpr size_t kSha256Size = 32;
using Sha256Digest = std::array<uint8_t, kSha256Size>;

// SHA-256 of the concatenation of `parts`.
Sha256Digest Sha256(std::initializer_list<ByteView> parts);

// HMAC-SHA256(key, concatenation of `parts`) written to `out`. An empty key
// is the all-zero key of RFC 2104 (HKDF-Extract with an empty salt).
void HmacSha256(ByteView key, std::span<const ByteView> parts,
                uint8_t out[kSha256Size]);
inline void HmacSha256(ByteView key, std::initializer_list<ByteView> parts,
                       uint8_t out[kSha256Size]) {
  HmacSha256(key, std::span<const ByteView>(parts.begin(), parts.size()), out);
}

}  // namespace trm::crypto

#endif  // TRM_COMMON_CRYPTO_HASH_H_
