#include "common/crypto/ed25519.h"

#include <openssl/evp.h>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace trm::crypto {
namespace {

absl::Status Internal(absl::string_view what) {
  return Error(absl::StatusCode::kInternal, "OPENSSL_ERROR",
               absl::StrCat(what, ": ", DrainOpenSslErrors()));
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
  return Ed25519PublicKey(std::move(pkey), raw);
}

bool Ed25519PublicKey::Verify(ByteView message, ByteView signature) const {
  if (signature.size() != kEd25519SignatureSize) return false;
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  bool ok = ctx &&
            EVP_DigestVerifyInit_ex(ctx.get(), nullptr, nullptr, nullptr,
                                    nullptr, pkey_.get(), nullptr) == 1 &&
            EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                             message.data(), message.size()) == 1;
  if (!ok) DrainOpenSslErrors();
  return ok;
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
  return Ed25519PrivateKey(std::move(pkey), std::move(pub));
}

absl::StatusOr<Ed25519Signature> Ed25519PrivateKey::Sign(
    ByteView message) const {
  Ed25519Signature sig;
  size_t len = sig.size();
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx ||
      EVP_DigestSignInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr,
                            pkey_.get(), nullptr) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(),
                     message.size()) != 1 ||
      len != sig.size()) {
    return Internal("Ed25519 sign");
  }
  return sig;
}

}  // namespace trm::crypto
