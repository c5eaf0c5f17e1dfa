#include "server/auth/caller_auth.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/hash.h"
#include "common/status.h"

namespace trm::auth {

absl::StatusOr<directory::Principal> PrincipalOf(
    const CertVerifier& verifier, const directory::Directory& dir,
    absl::string_view cert_pem, absl::Time now) {
  ASSIGN_OR_RETURN(std::string uri, verifier.Identity(cert_pem, now));
  return dir.FindByTlsIdentity(uri);
}

absl::StatusOr<directory::Principal> CertificateAuthenticator::Caller(
    const grpc::ServerContext& ctx) const {
  std::shared_ptr<const grpc::AuthContext> auth = ctx.auth_context();
  std::vector<grpc::string_ref> pems =
      auth ? auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME)
           : std::vector<grpc::string_ref>();
  if (pems.empty()) {
    return Error(absl::StatusCode::kUnauthenticated, "MISSING_CREDENTIAL",
                 "the call came without a client certificate; connect with "
                 "TLS and your organisation's certificate (trmctl --cert, "
                 "--key, --ca)");
  }
  const absl::string_view pem(pems[0].data(), pems[0].size());
  std::shared_ptr<const directory::Directory> dir = registry_.directory();
  return PrincipalOf(verifier_, *dir, pem, clock_.Now());
}

absl::StatusOr<std::string> CertificateAuthenticator::Organisation(
    const grpc::ServerContext& ctx) const {
  ASSIGN_OR_RETURN(directory::Principal who, Caller(ctx));
  if (who.kind != directory::PrincipalKind::kOrganisation) {
    return Error(absl::StatusCode::kPermissionDenied, "WRONG_ROLE",
                 absl::StrCat("the client certificate is ",
                              directory::KindName(who.kind), " '", who.id,
                              "'s, but this call (Mailbox, NodeAdmin or "
                              "Cases) is for organisations: use an "
                              "organisation's certificate (a node calls "
                              "only the Federation and Audit services, an "
                              "auditor only Audit)"));
  }
  return who.id;
}

absl::StatusOr<std::string> TokenAuthenticator::Organisation(
    const grpc::ServerContext& ctx) const {
  const auto& md = ctx.client_metadata();
  auto it = md.find("authorization");
  constexpr absl::string_view kBearer = "Bearer ";
  if (it == md.end() ||
      !absl::StartsWith(absl::string_view(it->second.data(), it->second.size()),
                        kBearer)) {
    return Error(absl::StatusCode::kUnauthenticated, "MISSING_CREDENTIAL",
                 "the call carries no 'authorization: Bearer <token>' "
                 "metadata; pass your organisation's token (trmctl "
                 "--token-file)");
  }
  absl::string_view token(it->second.data() + kBearer.size(),
                          it->second.size() - kBearer.size());
  const crypto::Sha256Digest digest = crypto::Sha256({AsBytes(token)});
  auto org = tokens_.find(HexEncode(digest));
  if (org == tokens_.end()) {
    return Error(absl::StatusCode::kUnauthenticated, "UNKNOWN_CREDENTIAL",
                 "the token is not registered on this node; check the token "
                 "file, or ask the operator to add its SHA-256 to the "
                 "configuration");
  }
  return org->second;
}

absl::StatusOr<directory::Principal> TokenAuthenticator::Caller(
    const grpc::ServerContext& ctx) const {
  ASSIGN_OR_RETURN(std::string org, Organisation(ctx));
  return directory::Principal{directory::PrincipalKind::kOrganisation, org};
}

}  // namespace trm::auth
