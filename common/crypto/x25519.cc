#include "common/crypto/x25519.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace trm::crypto {
namespace {

absl::Status Internal(absl::string_view what) {
  return Error(absl::StatusCode::kInternal, "OPENSSL_ERROR",
               absl::StrCat(what, ": ", DrainOpenSslErrors()));
}

}  // namespace

absl::StatusOr<X25519PrivateKey> X25519PrivateKey::Generate() {
  SecretArray<kX25519KeySize> scalar;
  if (RAND_bytes(scalar.data(), scalar.size()) != 1) {
    return Internal("random X25519 key");
  }
  return FromRaw(scalar.view());
}

absl::StatusOr<X25519PrivateKey> X25519PrivateKey::FromRaw(ByteView scalar) {
  if (scalar.size() != kX25519KeySize) {
    return Error(
        absl::StatusCode::kInvalidArgument, "BAD_KEY",
        absl::StrCat("an X25519 private key is 32 bytes, got ", scalar.size()));
  }
  EvpPkeyPtr pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr,
                                               scalar.data(), scalar.size()));
  if (!pkey) return Internal("X25519 private key");
  return FromPkey(std::move(pkey));
}

absl::StatusOr<X25519PrivateKey> X25519PrivateKey::FromPkey(EvpPkeyPtr pkey) {
  if (!pkey || EVP_PKEY_get_id(pkey.get()) != EVP_PKEY_X25519) {
    return Error(absl::StatusCode::kInvalidArgument, "WRONG_KEY_TYPE",
                 "expected an X25519 (encryption) private key");
  }
  X25519PublicKey pub;
  size_t len = pub.size();
  if (EVP_PKEY_get_raw_public_key(pkey.get(), pub.data(), &len) != 1 ||
      len != pub.size()) {
    return Internal("X25519 public key");
  }
  return X25519PrivateKey(std::move(pkey), pub);
}

SecretArray<kX25519KeySize> X25519PrivateKey::RawPrivate() const {
  SecretArray<kX25519KeySize> out;
  size_t len = out.size();
  EVP_PKEY_get_raw_private_key(pkey_.get(), out.data(), &len);
  return out;
}

absl::StatusOr<SecretArray<kX25519KeySize>> X25519PrivateKey::Agree(
    ByteView peer) const {
  if (peer.size() != kX25519KeySize) {
    return Error(
        absl::StatusCode::kInvalidArgument, "BAD_KEY",
        absl::StrCat("an X25519 public key is 32 bytes, got ", peer.size()));
  }
  EvpPkeyPtr peer_key(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr,
                                                  peer.data(), peer.size()));
  if (!peer_key) return Internal("X25519 peer key");
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey_.get(), nullptr));
  SecretArray<kX25519KeySize> shared;
  size_t len = shared.size();
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), peer_key.get()) != 1) {
    return Internal("X25519 setup");
  }
  if (EVP_PKEY_derive(ctx.get(), shared.data(), &len) != 1 ||
      len != shared.size()) {
    // OpenSSL refuses an all-zero result; that is the only way derive fails
    // once the keys are set.
    DrainOpenSslErrors();
    return Error(absl::StatusCode::kInvalidArgument, "X25519_LOW_ORDER_POINT",
                 "the X25519 public key is a low-order point (the shared "
                 "secret would be zero); the key is invalid");
  }
  return shared;
}

}  // namespace trm::crypto
