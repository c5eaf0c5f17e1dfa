// HKDF-SHA256 (RFC 5869) on OpenSSL's HMAC, with the info given in parts so
// that HPKE's labelled expansions need no concatenation buffer.
//
//   SecretArray<32> prk;
//   HkdfExtract(salt, ikm, prk.data());
//   RETURN_IF_ERROR(HkdfExpand(prk.view(), {label, context}, okm));
#ifndef TRM_COMMON_CRYPTO_HKDF_H_
#define TRM_COMMON_CRYPTO_HKDF_H_

#include <initializer_list>
#include <span>

#include "absl/status/status.h"
#include "common/bytes.h"
#include "common/crypto/hash.h"

namespace trm::crypto {

// The largest output HKDF-SHA256 can give: 255 blocks of 32 bytes.
inline constexpr size_t kHkdfMaxOutput = 255 * kSha256Size;

// PRK = HMAC-SHA256(salt, ikm_parts...). An empty salt means 32 zero bytes.
void HkdfExtract(ByteView salt, std::initializer_list<ByteView> ikm_parts,
                 uint8_t prk[kSha256Size]);

// Fills `out` with HKDF-Expand(prk, info_parts..., out.size()). Fails with
// INVALID_ARGUMENT when out.size() exceeds kHkdfMaxOutput; writes nothing then.
absl::Status HkdfExpand(ByteView prk, std::span<const ByteView> info_parts,
                        MutableByteView out);
inline absl::Status HkdfExpand(ByteView prk,
                               std::initializer_list<ByteView> info_parts,
                               MutableByteView out) {
  return HkdfExpand(
      prk, std::span<const ByteView>(info_parts.begin(), info_parts.size()),
      out);
}

// Extract then expand, as RFC 5869 section 2.
absl::Status Hkdf(ByteView salt, ByteView ikm, ByteView info,
                  MutableByteView out);

}  // namespace trm::crypto

#endif  // TRM_COMMON_CRYPTO_HKDF_H_
