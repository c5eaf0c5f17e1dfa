#include "server/auth/cert_verifier.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/bytes.h"
#include "common/crypto/hash.h"
#include "common/crypto/openssl_ptr.h"
#include "common/status.h"
#include "common/time_text.h"

namespace trm::auth {
namespace {

using absl::StatusCode;
using X509Ptr = std::unique_ptr<X509, crypto::OpenSslDeleter<X509, X509_free>>;
using StorePtr =
    std::unique_ptr<X509_STORE,
                    crypto::OpenSslDeleter<X509_STORE, X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<
    X509_STORE_CTX,
    crypto::OpenSslDeleter<X509_STORE_CTX, X509_STORE_CTX_free>>;
inline void FreeGeneralNames(GENERAL_NAMES* n) { GENERAL_NAMES_free(n); }
using NamesPtr =
    std::unique_ptr<GENERAL_NAMES,
                    crypto::OpenSslDeleter<GENERAL_NAMES, FreeGeneralNames>>;

std::string NameOf(const X509_NAME* name) {
  crypto::BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, n > 0 ? static_cast<size_t>(n) : 0);
}

std::string Describe(X509* cert) {
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert);
  std::string hex;
  if (serial != nullptr) {
    hex =
        HexEncode(ByteView(serial->data, static_cast<size_t>(serial->length)));
  }
  return absl::StrCat("certificate '", NameOf(X509_get_subject_name(cert)),
                      "' (serial ", hex, ", issuer '",
                      NameOf(X509_get_issuer_name(cert)), "')");
}

absl::Time AsTime(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return absl::InfinitePast();
  return absl::FromTM(tm, absl::UTCTimeZone());
}

}  // namespace

struct CertVerifier::Store {
  StorePtr store;
};

CertVerifier::~CertVerifier() = default;

absl::StatusOr<std::unique_ptr<CertVerifier>> CertVerifier::Create(
    absl::string_view ca_pem) {
  std::unique_ptr<CertVerifier> v(new CertVerifier());
  v->store_ = std::make_unique<Store>();
  v->store_->store.reset(X509_STORE_new());
  crypto::BioPtr bio(
      BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size())));
  int added = 0;
  for (;;) {
    X509Ptr ca(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!ca) break;
    if (added == 0) v->ca_name_ = NameOf(X509_get_subject_name(ca.get()));
    if (X509_STORE_add_cert(v->store_->store.get(), ca.get()) != 1) break;
    ++added;
  }
  crypto::DrainOpenSslErrors();  // the end of the PEM input
  if (added == 0) {
    return Error(StatusCode::kInvalidArgument, "TLS_CONFIG_INVALID",
                 "the federation CA file holds no PEM certificate; give the "
                 "ca.crt that deploy/pki/make-pki.sh made");
  }
  return v;
}

CertVerifier::Checked CertVerifier::Check(absl::string_view pem) const {
  Checked c;
  crypto::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  crypto::DrainOpenSslErrors();
  if (!cert) {
    c.refusal = Error(StatusCode::kUnauthenticated, "CERT_UNTRUSTED",
                      "the peer's certificate does not parse");
    return c;
  }
  c.name = Describe(cert.get());
  // The chain without its times: those are judged against the node's clock
  // on every use, below.
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store_->store.get(), cert.get(), nullptr);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_NO_CHECK_TIME);
  if (X509_verify_cert(ctx.get()) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    c.refusal = Error(
        StatusCode::kUnauthenticated, "CERT_UNTRUSTED",
        absl::StrCat(c.name,
                     " is not accepted: ", X509_verify_cert_error_string(err),
                     ". Only certificates issued by the federation CA '",
                     ca_name_, "' are accepted"));
    crypto::DrainOpenSslErrors();
    return c;
  }
  // The window in which the whole chain is valid, and who bounds it.
  c.not_before = absl::InfinitePast();
  c.not_after = absl::InfiniteFuture();
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get());
  for (int i = 0; i < sk_X509_num(chain); ++i) {
    X509* link = sk_X509_value(chain, i);
    const absl::Time from = AsTime(X509_get0_notBefore(link));
    const absl::Time until = AsTime(X509_get0_notAfter(link));
    const std::string who = i == 0 ? c.name : Describe(link);
    if (from > c.not_before) {
      c.not_before = from;
      c.not_before_name = who;
    }
    if (until < c.not_after) {
      c.not_after = until;
      c.not_after_name = who;
    }
  }
  NamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  std::vector<std::string> uris;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names.get(), i);
    if (n->type != GEN_URI) continue;
    const ASN1_IA5STRING* s = n->d.uniformResourceIdentifier;
    std::string uri(reinterpret_cast<const char*>(s->data),
                    static_cast<size_t>(s->length));
    if (absl::StartsWith(uri, "trm://")) uris.push_back(std::move(uri));
  }
  if (uris.size() != 1) {
    c.refusal = Error(StatusCode::kUnauthenticated, "CERT_NO_IDENTITY",
                      absl::StrCat(c.name, " has ", uris.size(),
                                   " trm:// URI SANs; it needs exactly one "
                                   "(make it with deploy/pki/make-pki.sh)"));
    return c;
  }
  c.identity = uris[0];
  return c;
}

absl::StatusOr<std::string> CertVerifier::Identity(absl::string_view pem,
                                                   absl::Time now) const {
  const crypto::Sha256Digest digest = crypto::Sha256({AsBytes(pem)});
  const std::string key(digest.begin(), digest.end());
  Checked c;
  bool cached = false;
  {
    absl::MutexLock lock(&mu_);
    if (auto it = cache_.find(key); it != cache_.end()) {
      c = it->second;
      cached = true;
    }
  }
  if (!cached) {
    c = Check(pem);
    absl::MutexLock lock(&mu_);
    if (cache_.size() >= 10000) cache_.clear();  // bounded
    cache_[key] = c;
  }
  if (!c.refusal.ok()) return c.refusal;
  if (now < c.not_before) {
    return Error(StatusCode::kUnauthenticated, "CERT_NOT_YET_VALID",
                 absl::StrCat(c.name, ": ", c.not_before_name,
                              " is valid only from ", IsoSeconds(c.not_before),
                              "; check this machine's "
                              "clock or use a current certificate"));
  }
  if (now >= c.not_after) {
    return Error(StatusCode::kUnauthenticated, "CERT_EXPIRED",
                 absl::StrCat(c.name, ": ", c.not_after_name, " expired at ",
                              IsoSeconds(c.not_after),
                              "; renew it with deploy/pki/make-pki.sh"));
  }
  return c.identity;
}

}  // namespace trm::auth
