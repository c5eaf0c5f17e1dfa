#include "common/crypto/aead.h"

#include <openssl/evp.h>

#include <climits>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/crypto/gcm_long_nonce.h"
#include "common/crypto/openssl_ptr.h"
#include "common/status.h"

namespace trm::crypto {
namespace {

// OpenSSL 3.0's GCM takes nonces of 1 to 128 bytes; longer ones go through
// gcm_long_nonce.h.
constexpr size_t kOpenSslGcmMaxNonceSize = 128;

const EVP_CIPHER* FetchCipher(const char* name) {
  EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, name, nullptr);
  if (c == nullptr) {
    std::fprintf(stderr, "fatal: OpenSSL has no %s: %s\n", name,
                 DrainOpenSslErrors().c_str());
    std::abort();
  }
  return c;
}

const EVP_CIPHER* Cipher(AeadAlgorithm alg) {
  static const EVP_CIPHER* aes = FetchCipher("AES-128-GCM");
  static const EVP_CIPHER* chacha = FetchCipher("ChaCha20-Poly1305");
  return alg == AeadAlgorithm::kAes128Gcm ? aes : chacha;
}

absl::Status BadArgument(absl::string_view what) {
  return Error(absl::StatusCode::kInvalidArgument, "AEAD_BAD_ARGUMENT", what);
}

absl::Status CheckArguments(AeadAlgorithm alg, ByteView key, ByteView nonce,
                            ByteView aad, size_t in_len) {
  if (key.size() != AeadKeySize(alg)) {
    return BadArgument(absl::StrCat(AeadName(alg), " needs a ",
                                    AeadKeySize(alg), "-byte key, got ",
                                    key.size()));
  }
  if (alg == AeadAlgorithm::kChaCha20Poly1305 ? nonce.size() != kAeadNonceSize
                                              : nonce.empty()) {
    return BadArgument(absl::StrCat(AeadName(alg), " cannot use a ",
                                    nonce.size(), "-byte nonce"));
  }
  if (aad.size() > INT_MAX || in_len > INT_MAX || nonce.size() > INT_MAX) {
    return BadArgument("input longer than 2 GiB");
  }
  return absl::OkStatus();
}

absl::Status Internal(absl::string_view what) {
  return Error(absl::StatusCode::kInternal, "OPENSSL_ERROR",
               absl::StrCat(what, ": ", DrainOpenSslErrors()));
}

// Cipher context initialised for `alg`, `key` and `nonce`.
absl::StatusOr<EvpCipherCtxPtr> InitContext(AeadAlgorithm alg, ByteView key,
                                            ByteView nonce, bool encrypt) {
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx ||
      EVP_CipherInit_ex2(ctx.get(), Cipher(alg), nullptr, nullptr, encrypt,
                         nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_IVLEN,
                          static_cast<int>(nonce.size()), nullptr) != 1 ||
      EVP_CipherInit_ex2(ctx.get(), nullptr, key.data(), nonce.data(), encrypt,
                         nullptr) != 1) {
    return Internal("AEAD init");
  }
  return ctx;
}

}  // namespace

std::optional<AeadAlgorithm> AeadFromId(uint16_t id) {
  switch (id) {
    case 0x0001:
      return AeadAlgorithm::kAes128Gcm;
    case 0x0003:
      return AeadAlgorithm::kChaCha20Poly1305;
    default:
      return std::nullopt;
  }
}

size_t AeadKeySize(AeadAlgorithm alg) {
  return alg == AeadAlgorithm::kAes128Gcm ? 16 : 32;
}

absl::string_view AeadName(AeadAlgorithm alg) {
  return alg == AeadAlgorithm::kAes128Gcm ? "AES-128-GCM" : "ChaCha20Poly1305";
}

absl::Status AeadSeal(AeadAlgorithm alg, ByteView key, ByteView nonce,
                      ByteView aad, ByteView plaintext, MutableByteView out) {
  RETURN_IF_ERROR(CheckArguments(alg, key, nonce, aad, plaintext.size()));
  if (nonce.size() > kOpenSslGcmMaxNonceSize) {
    return GcmSealAnyNonce(key, nonce, aad, plaintext, out);
  }
  if (out.size() != plaintext.size() + kAeadTagSize) {
    return BadArgument("output buffer must be plaintext size + 16");
  }
  ASSIGN_OR_RETURN(EvpCipherCtxPtr ctx, InitContext(alg, key, nonce, true));
  int len = 0;
  if (!aad.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &len, aad.data(),
                                        static_cast<int>(aad.size())) != 1) {
    return Internal("AEAD aad");
  }
  int written = 0;
  if (!plaintext.empty()) {
    if (EVP_EncryptUpdate(ctx.get(), out.data(), &len, plaintext.data(),
                          static_cast<int>(plaintext.size())) != 1) {
      return Internal("AEAD encrypt");
    }
    written = len;
  }
  if (EVP_EncryptFinal_ex(ctx.get(), out.data() + written, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, kAeadTagSize,
                          out.data() + plaintext.size()) != 1) {
    return Internal("AEAD finish");
  }
  return absl::OkStatus();
}

absl::Status AeadOpen(AeadAlgorithm alg, ByteView key, ByteView nonce,
                      ByteView aad, ByteView ciphertext, MutableByteView out) {
  if (ciphertext.size() < kAeadTagSize) {
    return Error(absl::StatusCode::kUnauthenticated, "AEAD_AUTH_FAILED",
                 absl::StrCat("ciphertext of ", ciphertext.size(),
                              " bytes is shorter than the 16-byte tag"));
  }
  size_t body = ciphertext.size() - kAeadTagSize;
  RETURN_IF_ERROR(CheckArguments(alg, key, nonce, aad, body));
  if (nonce.size() > kOpenSslGcmMaxNonceSize) {
    absl::Status s = GcmOpenAnyNonce(key, nonce, aad, ciphertext, out);
    if (!s.ok()) Wipe(out);
    return s;
  }
  if (out.size() != body) {
    return BadArgument("output buffer must be ciphertext size - 16");
  }
  ASSIGN_OR_RETURN(EvpCipherCtxPtr ctx, InitContext(alg, key, nonce, false));
  int len = 0;
  // OpenSSL takes a non-const tag pointer but only reads it.
  uint8_t tag[kAeadTagSize];
  std::copy(ciphertext.begin() + body, ciphertext.end(), tag);
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, kAeadTagSize,
                          tag) != 1 ||
      (!aad.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &len, aad.data(),
                                         static_cast<int>(aad.size())) != 1)) {
    return Internal("AEAD setup");
  }
  int written = 0;
  if (body > 0) {
    if (EVP_DecryptUpdate(ctx.get(), out.data(), &len, ciphertext.data(),
                          static_cast<int>(body)) != 1) {
      Wipe(out);
      return Internal("AEAD decrypt");
    }
    written = len;
  }
  if (EVP_DecryptFinal_ex(ctx.get(), out.data() + written, &len) != 1) {
    Wipe(out);
    DrainOpenSslErrors();
    return Error(absl::StatusCode::kUnauthenticated, "AEAD_AUTH_FAILED",
                 "the authentication tag does not match: the ciphertext, its "
                 "associated data, the key or the nonce differ from what was "
                 "sealed");
  }
  return absl::OkStatus();
}

}  // namespace trm::crypto
