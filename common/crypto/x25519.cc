#include "common/crypto/x25519.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace trm::crypto {
namespace {

absl::Status Internal(absl::string_view what) {
  return Error(absl::StatusCode::kInternal, "OPENSSL_ERROR",
               absl::StrCat(what, ": ", DrainOpenSslErrors()));
}

// Per-thread contexts prepared once: creating them per call costs an
// algorithm fetch, which is a measurable share of one X25519 operation. They
// hold no key material.
EVP_PKEY_CTX* KeygenContext() {
  thread_local EvpPkeyCtxPtr ctx = [] {
    EvpPkeyCtxPtr c(EVP_PKEY_CTX_new_from_name(nullptr, "X25519", nullptr));
    if (c && EVP_PKEY_keygen_init(c.get()) != 1) c.reset();
    return c;
  }();
  return ctx.get();
}

EVP_PKEY_CTX* ImportContext() {
  thread_local EvpPkeyCtxPtr ctx = [] {
    EvpPkeyCtxPtr c(EVP_PKEY_CTX_new_from_name(nullptr, "X25519", nullptr));
    if (c && EVP_PKEY_fromdata_init(c.get()) != 1) c.reset();
    return c;
  }();
  return ctx.get();
}

EvpPkeyPtr ImportPublic(ByteView raw) {
  EVP_PKEY_CTX* ctx = ImportContext();
  if (ctx == nullptr) return nullptr;
  OSSL_PARAM params[] = {OSSL_PARAM_construct_octet_string(
                             OSSL_PKEY_PARAM_PUB_KEY,
                             const_cast<uint8_t*>(raw.data()), raw.size()),
                         OSSL_PARAM_construct_end()};
  EVP_PKEY* pkey = nullptr;
  if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    return nullptr;
  }
  return EvpPkeyPtr(pkey);
}

}  // namespace

absl::StatusOr<X25519PrivateKey> X25519PrivateKey::Generate() {
  EVP_PKEY_CTX* ctx = KeygenContext();
  EVP_PKEY* pkey = nullptr;
  if (ctx == nullptr || EVP_PKEY_keygen(ctx, &pkey) != 1) {
    return Internal("X25519 key generation");
  }
  return FromPkey(EvpPkeyPtr(pkey));
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
  EvpPkeyPtr peer_key = ImportPublic(peer);
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
