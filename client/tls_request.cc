#include "client/tls_request.h"

#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "client/cli_util.h"
#include "common/crypto/key_files.h"
#include "common/crypto/openssl_ptr.h"
#include "common/status.h"

namespace trm::client {
namespace {

using X509ReqPtr =
    std::unique_ptr<X509_REQ, crypto::OpenSslDeleter<X509_REQ, X509_REQ_free>>;
using X509ExtPtr = std::unique_ptr<
    X509_EXTENSION,
    crypto::OpenSslDeleter<X509_EXTENSION, X509_EXTENSION_free>>;

void FreeExtensions(STACK_OF(X509_EXTENSION) * s) {
  sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free);
}
using X509ExtStackPtr = std::unique_ptr<
    STACK_OF(X509_EXTENSION),
    crypto::OpenSslDeleter<STACK_OF(X509_EXTENSION), FreeExtensions>>;

absl::Status OpenSslError(absl::string_view what) {
  return Error(absl::StatusCode::kInternal, "OPENSSL_ERROR",
               absl::StrCat(what, ": ", crypto::DrainOpenSslErrors()));
}

}  // namespace

absl::Status WriteTlsKeyAndCsr(const std::string& key_path,
                               const std::string& csr_path,
                               absl::string_view common_name,
                               absl::string_view uri) {
  crypto::EvpPkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslError("cannot make a P-256 key");
  X509ReqPtr req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), 0) != 1) {
    return OpenSslError("cannot make a request");
  }
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  const std::string cn(common_name);
  if (X509_NAME_add_entry_by_txt(
          name, "CN", MBSTRING_UTF8,
          reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0) != 1) {
    return OpenSslError("cannot set the subject");
  }
  const std::string san = absl::StrCat("URI:", uri);
  X509ExtPtr ext(
      X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, san.c_str()));
  X509ExtStackPtr exts(sk_X509_EXTENSION_new_null());
  if (!ext || !exts || sk_X509_EXTENSION_push(exts.get(), ext.get()) == 0) {
    return OpenSslError("cannot make the subjectAltName");
  }
  ext.release();  // the stack owns it now
  if (X509_REQ_add_extensions(req.get(), exts.get()) != 1 ||
      X509_REQ_set_pubkey(req.get(), key.get()) != 1 ||
      X509_REQ_sign(req.get(), key.get(), EVP_sha256()) <= 0) {
    return OpenSslError("cannot sign the request");
  }
  crypto::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_REQ(bio.get(), req.get()) != 1) {
    return OpenSslError("cannot write the request");
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  // The key first: it is never overwritten, so a second run stops here.
  RETURN_IF_ERROR(crypto::WritePrivateKeyFile(key_path, key.get()));
  return WriteOutput(csr_path,
                     ByteView(reinterpret_cast<const uint8_t*>(data),
                              static_cast<size_t>(len)),
                     0644);
}

}  // namespace trm::client
