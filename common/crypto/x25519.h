// X25519 (RFC 7748) key pairs and Diffie-Hellman for HPKE's DHKEM.
//
//   ASSIGN_OR_RETURN(X25519PrivateKey sk, X25519PrivateKey::Generate());
//   ASSIGN_OR_RETURN(SecretArray<32> dh, sk.Agree(peer_public));
#ifndef TRM_COMMON_CRYPTO_X25519_H_
#define TRM_COMMON_CRYPTO_X25519_H_

#include <array>

#include "absl/status/statusor.h"
#include "common/bytes.h"
#include "common/crypto/openssl_ptr.h"

namespace trm::crypto {

inline constexpr size_t kX25519KeySize = 32;
using X25519PublicKey = std::array<uint8_t, kX25519KeySize>;

class X25519PrivateKey {
 public:
  // A fresh random key from OpenSSL's CSPRNG.
  static absl::StatusOr<X25519PrivateKey> Generate();
  // From the 32-byte scalar (RFC 7748 clamps it when used).
  static absl::StatusOr<X25519PrivateKey> FromRaw(ByteView scalar);
  // Takes ownership of an EVP_PKEY that must be of type X25519.
  static absl::StatusOr<X25519PrivateKey> FromPkey(EvpPkeyPtr pkey);

  const X25519PublicKey& public_key() const { return public_key_; }
  SecretArray<kX25519KeySize> RawPrivate() const;
  EVP_PKEY* pkey() const { return pkey_.get(); }

  // X25519(this, peer). Fails with INVALID_ARGUMENT (reason
  // X25519_LOW_ORDER_POINT) when the result is all zero, as RFC 9180
  // section 7.1.4 requires: the peer key is a low-order point.
  absl::StatusOr<SecretArray<kX25519KeySize>> Agree(ByteView peer) const;

 private:
  X25519PrivateKey(EvpPkeyPtr pkey, const X25519PublicKey& pub)
      : pkey_(std::move(pkey)), public_key_(pub) {}
  EvpPkeyPtr pkey_;
  X25519PublicKey public_key_;
};

}  // namespace trm::crypto

#endif  // TRM_COMMON_CRYPTO_X25519_H_
