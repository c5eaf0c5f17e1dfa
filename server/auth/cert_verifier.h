// Checks a TLS peer's certificate against the federation CA and names the
// peer by the identity in it.
//
// The TLS handshake (TLS 1.3, client certificate required) proves that the
// peer holds the key of the certificate it presented; this class decides
// whether that certificate counts: issued by the federation CA, within its
// validity at `now`, with exactly one trm:// URI SAN. Doing this here rather
// than inside the handshake lets a refused peer get an error that names its
// certificate and the reason, instead of a bare handshake failure.
//
//   ASSIGN_OR_RETURN(auto v, CertVerifier::Create(ca_pem));
//   ASSIGN_OR_RETURN(std::string uri, v->Identity(peer_pem, clock.Now()));
//
// Thread-safe. Results are cached by certificate, so a busy peer costs one
// chain verification, not one per call; validity is checked every time.
#ifndef TRM_SERVER_AUTH_CERT_VERIFIER_H_
#define TRM_SERVER_AUTH_CERT_VERIFIER_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace trm::auth {

class CertVerifier {
 public:
  // `ca_pem`: the federation CA certificate(s), PEM.
  static absl::StatusOr<std::unique_ptr<CertVerifier>> Create(
      absl::string_view ca_pem);
  ~CertVerifier();

  // The trm:// URI SAN of `cert_pem`, or UNAUTHENTICATED with
  // CERT_UNTRUSTED (not from the federation CA), CERT_EXPIRED,
  // CERT_NOT_YET_VALID or CERT_NO_IDENTITY, naming the certificate.
  absl::StatusOr<std::string> Identity(absl::string_view cert_pem,
                                       absl::Time now) const;

 private:
  struct Checked {
    std::string identity;  // empty when refused for a reason other than time
    std::string name;      // subject, serial, issuer: for messages
    absl::Status refusal;  // a time-independent refusal
    // The window in which every certificate of the chain is valid, and the
    // certificates that bound it.
    absl::Time not_before, not_after;
    std::string not_before_name, not_after_name;
  };
  CertVerifier() = default;
  Checked Check(absl::string_view cert_pem) const;

  struct Store;
  std::unique_ptr<Store> store_;
  std::string ca_name_;
  mutable absl::Mutex mu_;
  mutable absl::flat_hash_map<std::string, Checked> cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace trm::auth

#endif  // TRM_SERVER_AUTH_CERT_VERIFIER_H_
