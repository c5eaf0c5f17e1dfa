// Ed25519 (RFC 8032, pure) signing and verification, under the rule of
// docs/protocol.md section 7. Keys are read and written through OpenSSL
// (PEM files); every signature and verification goes through libsodium, the
// faster of the two (bench/crypto_bench.cc), so no two verifiers in a
// binary can disagree.
//
//   ASSIGN_OR_RETURN(Ed25519PrivateKey sk, Ed25519PrivateKey::Generate());
//   ASSIGN_OR_RETURN(Ed25519Signature sig, sk.Sign(message));
//   ASSIGN_OR_RETURN(Ed25519PublicKey pk, Ed25519PublicKey::FromRaw(raw));
//   bool ok = pk.Verify(message, sig);
#ifndef TRM_COMMON_CRYPTO_ED25519_H_
#define TRM_COMMON_CRYPTO_ED25519_H_

#include <array>

#include "absl/status/statusor.h"
#include "common/bytes.h"
#include "common/crypto/openssl_ptr.h"

namespace trm::crypto {

inline constexpr size_t kEd25519PublicKeySize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;
using Ed25519Signature = std::array<uint8_t, kEd25519SignatureSize>;

class Ed25519PublicKey {
 public:
  static absl::StatusOr<Ed25519PublicKey> FromRaw(ByteView raw);
  // Takes ownership of an EVP_PKEY that must be of type ED25519.
  static absl::StatusOr<Ed25519PublicKey> FromPkey(EvpPkeyPtr pkey);

  const std::array<uint8_t, kEd25519PublicKeySize>& raw() const { return raw_; }
  EVP_PKEY* pkey() const { return pkey_.get(); }

  // True only for a valid signature of `message` by this key. A signature of
  // the wrong length is simply invalid.
  bool Verify(ByteView message, ByteView signature) const;

 private:
  Ed25519PublicKey(EvpPkeyPtr pkey,
                   const std::array<uint8_t, kEd25519PublicKeySize>& raw)
      : pkey_(std::move(pkey)), raw_(raw) {}
  // Shared so that a loaded key can be handed to many verifiers cheaply.
  std::shared_ptr<EVP_PKEY> pkey_;
  std::array<uint8_t, kEd25519PublicKeySize> raw_;
};

class Ed25519PrivateKey {
 public:
  static absl::StatusOr<Ed25519PrivateKey> Generate();
  // From the 32-byte seed of RFC 8032.
  static absl::StatusOr<Ed25519PrivateKey> FromSeed(ByteView seed);
  // Takes ownership of an EVP_PKEY that must be of type ED25519.
  static absl::StatusOr<Ed25519PrivateKey> FromPkey(EvpPkeyPtr pkey);

  const Ed25519PublicKey& public_key() const { return public_key_; }
  EVP_PKEY* pkey() const { return pkey_.get(); }

  absl::StatusOr<Ed25519Signature> Sign(ByteView message) const;

 private:
  Ed25519PrivateKey(EvpPkeyPtr pkey, Ed25519PublicKey pub,
                    const SecretArray<64>& secret)
      : pkey_(std::move(pkey)), public_key_(std::move(pub)), secret_(secret) {}
  EvpPkeyPtr pkey_;
  Ed25519PublicKey public_key_;
  // libsodium's secret key: the seed, then the public key. Wiped on
  // destruction.
  SecretArray<64> secret_;
};

}  // namespace trm::crypto

#endif  // TRM_COMMON_CRYPTO_ED25519_H_
