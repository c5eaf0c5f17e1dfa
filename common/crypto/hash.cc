#include "common/crypto/hash.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstdio>
#include <cstdlib>

#include "common/crypto/openssl_ptr.h"

namespace trm::crypto {
namespace {

// Failure here means OpenSSL itself is broken (out of memory or a missing
// default provider); that is an invariant violation, not bad input.
[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "fatal: OpenSSL %s failed: %s\n", what,
               DrainOpenSslErrors().c_str());
  std::abort();
}

const EVP_MD* Sha256Md() {
  static const EVP_MD* md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (m == nullptr) Die("SHA256 fetch");
    return m;
  }();
  return md;
}

// An HMAC-SHA256 context with the digest already set; each use duplicates it.
const EVP_MAC_CTX* HmacTemplate() {
  static const EVP_MAC_CTX* tmpl = [] {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (mac == nullptr) Die("HMAC fetch");
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end()};
    if (ctx == nullptr || EVP_MAC_CTX_set_params(ctx, params) != 1) {
      Die("HMAC setup");
    }
    return ctx;
  }();
  return tmpl;
}

}  // namespace

Sha256Digest Sha256(std::initializer_list<ByteView> parts) {
  Sha256Digest out;
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex2(ctx.get(), Sha256Md(), nullptr) != 1) {
    Die("SHA256 init");
  }
  for (ByteView p : parts) {
    if (EVP_DigestUpdate(ctx.get(), p.data(), p.size()) != 1) Die("SHA256");
  }
  if (EVP_DigestFinal_ex(ctx.get(), out.data(), nullptr) != 1) Die("SHA256");
  return out;
}

void HmacSha256(ByteView key, std::span<const ByteView> parts,
                uint8_t out[kSha256Size]) {
  static constexpr uint8_t kZeroKey[kSha256Size] = {};
  if (key.empty()) key = ByteView(kZeroKey, sizeof(kZeroKey));
  EvpMacCtxPtr ctx(EVP_MAC_CTX_dup(HmacTemplate()));
  if (!ctx || EVP_MAC_init(ctx.get(), key.data(), key.size(), nullptr) != 1) {
    Die("HMAC init");
  }
  for (ByteView p : parts) {
    if (EVP_MAC_update(ctx.get(), p.data(), p.size()) != 1) Die("HMAC");
  }
  size_t len = 0;
  if (EVP_MAC_final(ctx.get(), out, &len, kSha256Size) != 1 ||
      len != kSha256Size) {
    Die("HMAC final");
  }
}

}  // namespace trm::crypto
