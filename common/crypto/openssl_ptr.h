// RAII owners for OpenSSL objects, and the error-queue reader that turns
// OpenSSL's thread-local error stack into a message.
#ifndef TRM_COMMON_CRYPTO_OPENSSL_PTR_H_
#define TRM_COMMON_CRYPTO_OPENSSL_PTR_H_

#include <openssl/bio.h>
#include <openssl/evp.h>

#include <memory>
#include <string>

namespace trm::crypto {

template <typename T, void (*Free)(T*)>
struct OpenSslDeleter {
  void operator()(T* p) const { Free(p); }
};

using EvpPkeyPtr =
    std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY, EVP_PKEY_free>>;
using EvpPkeyCtxPtr =
    std::unique_ptr<EVP_PKEY_CTX,
                    OpenSslDeleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using EvpMdCtxPtr =
    std::unique_ptr<EVP_MD_CTX, OpenSslDeleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using EvpCipherCtxPtr =
    std::unique_ptr<EVP_CIPHER_CTX,
                    OpenSslDeleter<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>>;
using EvpMacCtxPtr =
    std::unique_ptr<EVP_MAC_CTX, OpenSslDeleter<EVP_MAC_CTX, EVP_MAC_CTX_free>>;

inline void FreeBio(BIO* b) { BIO_free_all(b); }
using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO, FreeBio>>;

// Drains this thread's OpenSSL error queue into one line ("" when empty).
std::string DrainOpenSslErrors();

}  // namespace trm::crypto

#endif  // TRM_COMMON_CRYPTO_OPENSSL_PTR_H_
