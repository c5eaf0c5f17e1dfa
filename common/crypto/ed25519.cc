#include "common/crypto/ed25519.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace trm::crypto {
namespace {

absl::Status Internal(absl::string_view what) {
  return Error(absl::StatusCode::kInternal, "OPENSSL_ERROR",
               absl::StrCat(what, ": ", DrainOpenSslErrors()));
}

}  // namespace

namespace {

// docs/protocol.md section 7: a public key whose encoding is not canonical
// (y >= p) or that is a point of small order is refused. OpenSSL 3.0 takes
// both, and with a small-order key the signature (R = identity, S = 0)
// verifies for many messages: anyone could sign as its owner.
// The y coordinates (sign bit cleared) of the eight points of order 1, 2,
// 4 and 8, as libsodium's blocklist has them.
constexpr uint8_t kSmallOrderY[5][32] = {
    {0x01},  // the identity, order 1
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},  // order 2
    {0x00},                                                        // order 4
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
     0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
     0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},  // order 8
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
     0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
     0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},  // order 8
};

// Why `raw` is not a key to verify with, or "" when it is.
std::string WeakKey(ByteView raw) {
  uint8_t y[32];
  std::memcpy(y, raw.data(), 32);
  y[31] &= 0x7f;
  // y >= p = 2^255 - 19: bytes ed..ff, then 30 x ff, then 7f.
  bool all_ff = y[31] == 0x7f;
  for (int i = 1; i < 31 && all_ff; ++i) all_ff = y[i] == 0xff;
  if (all_ff && y[0] >= 0xed) {
    return "its encoding is not canonical (y is not below 2^255 - 19)";
  }
  for (const auto& small : kSmallOrderY) {
    if (std::memcmp(y, small, 32) == 0) {
      return "it is a point of small order, with which signatures can be "
             "forged";
    }
  }
  return "";
}

// libsodium must be initialised once before use (it picks its
// implementations then); sodium_init is idempotent and thread-safe.
bool SodiumReady() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

absl::Status SodiumMissing() {
  return Error(absl::StatusCode::kInternal, "OPENSSL_ERROR",
               "libsodium could not be initialised");
}

}  // namespace

absl::StatusOr<Ed25519PublicKey> Ed25519PublicKey::FromRaw(ByteView raw) {
  if (raw.size() != kEd25519PublicKeySize) {
    return Error(
        absl::StatusCode::kInvalidArgument, "BAD_KEY",
        absl::StrCat("an Ed25519 public key is 32 bytes, got ", raw.size()));
  }
  EvpPkeyPtr pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                              raw.data(), raw.size()));
  if (!pkey) return Internal("Ed25519 public key");
  return FromPkey(std::move(pkey));
}

absl::StatusOr<Ed25519PublicKey> Ed25519PublicKey::FromPkey(EvpPkeyPtr pkey) {
  if (!pkey || EVP_PKEY_get_id(pkey.get()) != EVP_PKEY_ED25519) {
    return Error(absl::StatusCode::kInvalidArgument, "WRONG_KEY_TYPE",
                 "expected an Ed25519 (signing) key");
  }
  std::array<uint8_t, kEd25519PublicKeySize> raw;
  size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(pkey.get(), raw.data(), &len) != 1 ||
      len != raw.size()) {
    return Internal("Ed25519 public key");
  }
  if (std::string why = WeakKey(ByteView(raw.data(), raw.size()));
      !why.empty()) {
    return Error(absl::StatusCode::kInvalidArgument, "BAD_KEY",
                 absl::StrCat("the Ed25519 public key ",
                              HexEncode(ByteView(raw.data(), raw.size())),
                              " is refused: ", why,
                              " (docs/protocol.md section 7); make a new key "
                              "with trmctl keygen"));
  }
  if (!SodiumReady()) return SodiumMissing();
  // On the curve and in the prime-order subgroup: a key with a small-order
  // component (mixed order) is refused too, so that the cofactorless
  // equation of section 7 is the only one a signature can satisfy.
  if (crypto_core_ed25519_is_valid_point(raw.data()) != 1) {
    return Error(absl::StatusCode::kInvalidArgument, "BAD_KEY",
                 absl::StrCat("the Ed25519 public key ",
                              HexEncode(ByteView(raw.data(), raw.size())),
                              " is refused: it is not a point of the curve's "
                              "prime-order subgroup (docs/protocol.md section "
                              "7); make a new key with trmctl keygen"));
  }
  return Ed25519PublicKey(std::move(pkey), raw);
}

bool Ed25519PublicKey::Verify(ByteView message, ByteView signature) const {
  if (signature.size() != kEd25519SignatureSize) return false;
  // libsodium's verification is the rule of docs/protocol.md section 7: S
  // below L, R not of small order and compared by its canonical encoding,
  // the cofactorless equation. The key was checked where it entered.
  return crypto_sign_verify_detached(signature.data(), message.data(),
                                     message.size(), raw_.data()) == 0;
}

absl::StatusOr<Ed25519PrivateKey> Ed25519PrivateKey::Generate() {
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_keygen(ctx.get(), &raw) != 1) {
    return Internal("Ed25519 key generation");
  }
  return FromPkey(EvpPkeyPtr(raw));
}

absl::StatusOr<Ed25519PrivateKey> Ed25519PrivateKey::FromSeed(ByteView seed) {
  if (seed.size() != 32) {
    return Error(
        absl::StatusCode::kInvalidArgument, "BAD_KEY",
        absl::StrCat("an Ed25519 seed is 32 bytes, got ", seed.size()));
  }
  EvpPkeyPtr pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                               seed.data(), seed.size()));
  if (!pkey) return Internal("Ed25519 private key");
  return FromPkey(std::move(pkey));
}

absl::StatusOr<Ed25519PrivateKey> Ed25519PrivateKey::FromPkey(EvpPkeyPtr pkey) {
  if (!pkey || EVP_PKEY_get_id(pkey.get()) != EVP_PKEY_ED25519) {
    return Error(absl::StatusCode::kInvalidArgument, "WRONG_KEY_TYPE",
                 "expected an Ed25519 (signing) private key");
  }
  std::array<uint8_t, kEd25519PublicKeySize> raw;
  size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(pkey.get(), raw.data(), &len) != 1) {
    return Internal("Ed25519 public key");
  }
  ASSIGN_OR_RETURN(Ed25519PublicKey pub, Ed25519PublicKey::FromRaw(raw));
  // libsodium signs with seed || public key, derived here from the seed.
  SecretArray<32> seed;
  len = seed.size();
  if (EVP_PKEY_get_raw_private_key(pkey.get(), seed.data(), &len) != 1 ||
      len != seed.size()) {
    return Internal("Ed25519 private key");
  }
  if (!SodiumReady()) return SodiumMissing();
  SecretArray<crypto_sign_SECRETKEYBYTES> secret;
  uint8_t derived[crypto_sign_PUBLICKEYBYTES];
  if (crypto_sign_seed_keypair(derived, secret.data(), seed.data()) != 0 ||
      std::memcmp(derived, raw.data(), raw.size()) != 0) {
    return Error(absl::StatusCode::kInternal, "OPENSSL_ERROR",
                 "the Ed25519 public key OpenSSL derived from the seed is not "
                 "the one libsodium derives");
  }
  return Ed25519PrivateKey(std::move(pkey), std::move(pub), secret);
}

absl::StatusOr<Ed25519Signature> Ed25519PrivateKey::Sign(
    ByteView message) const {
  Ed25519Signature sig;
  if (crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(),
                           secret_.data()) != 0) {
    return Error(absl::StatusCode::kInternal, "OPENSSL_ERROR",
                 "Ed25519 signing failed in libsodium");
  }
  return sig;
}

}  // namespace trm::crypto
