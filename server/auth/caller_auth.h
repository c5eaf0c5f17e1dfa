// Who is calling: the organisation behind a gRPC call to the Mailbox.
//
// With TLS (every real deployment) the caller is the directory entry whose
// tls_identity is the URI SAN of the client certificate the TLS handshake
// proved, checked by CertVerifier; nothing the caller sends in metadata
// counts. With --insecure-dev on loopback only, a bearer token (metadata
// "authorization: Bearer <token>") whose SHA-256 the configuration maps to an
// organisation stands in for the certificate.
#ifndef TRM_SERVER_AUTH_CALLER_AUTH_H_
#define TRM_SERVER_AUTH_CALLER_AUTH_H_

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/directory/directory.h"
#include "server/auth/cert_verifier.h"
#include "server/mailbox/org_registry.h"

namespace trm::auth {

class CallerAuthenticator {
 public:
  virtual ~CallerAuthenticator() = default;
  // The organisation id the call comes from, or UNAUTHENTICATED /
  // PERMISSION_DENIED with what to do.
  virtual absl::StatusOr<std::string> Organisation(
      const grpc::ServerContext& ctx) const = 0;
  // Whoever calls: a node, an organisation or an auditor (the Audit service
  // serves all three).
  virtual absl::StatusOr<directory::Principal> Caller(
      const grpc::ServerContext& ctx) const = 0;
};

// The directory entry a certificate names, checked at `now`. Below the gRPC
// layer so it is tested without a network.
absl::StatusOr<directory::Principal> PrincipalOf(
    const CertVerifier& verifier, const directory::Directory& dir,
    absl::string_view cert_pem, absl::Time now);

class CertificateAuthenticator final : public CallerAuthenticator {
 public:
  // All references must outlive this.
  CertificateAuthenticator(const CertVerifier& verifier,
                           const mailbox::OrgRegistry& registry,
                           const Clock& clock)
      : verifier_(verifier), registry_(registry), clock_(clock) {}
  absl::StatusOr<std::string> Organisation(
      const grpc::ServerContext& ctx) const override;
  absl::StatusOr<directory::Principal> Caller(
      const grpc::ServerContext& ctx) const override;

 private:
  const CertVerifier& verifier_;
  const mailbox::OrgRegistry& registry_;
  const Clock& clock_;
};

class TokenAuthenticator final : public CallerAuthenticator {
 public:
  // `tokens`: lower-case hex SHA-256 of a token -> organisation id.
  explicit TokenAuthenticator(
      absl::flat_hash_map<std::string, std::string> tokens)
      : tokens_(std::move(tokens)) {}
  absl::StatusOr<std::string> Organisation(
      const grpc::ServerContext& ctx) const override;
  absl::StatusOr<directory::Principal> Caller(
      const grpc::ServerContext& ctx) const override;

 private:
  const absl::flat_hash_map<std::string, std::string> tokens_;
};

}  // namespace trm::auth

#endif  // TRM_SERVER_AUTH_CALLER_AUTH_H_
