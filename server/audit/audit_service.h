// The Audit gRPC service: who calls (from the certificate), then AuditApi.
#ifndef TRM_SERVER_AUDIT_AUDIT_SERVICE_H_
#define TRM_SERVER_AUDIT_AUDIT_SERVICE_H_

#include "server/audit/audit_api.h"
#include "server/auth/caller_auth.h"
#include "trm/v1/audit.grpc.pb.h"

namespace trm::audit {

class AuditService final : public v1::Audit::Service {
 public:
  AuditService(AuditApi& api, const auth::CallerAuthenticator& auth)
      : api_(api), auth_(auth) {}

  grpc::Status GetTreeHead(grpc::ServerContext* ctx,
                           const v1::GetTreeHeadRequest* req,
                           v1::SignedTreeHead* resp) override;
  grpc::Status GetInclusionProof(grpc::ServerContext* ctx,
                                 const v1::InclusionProofRequest* req,
                                 v1::Proof* resp) override;
  grpc::Status GetConsistencyProof(grpc::ServerContext* ctx,
                                   const v1::ConsistencyProofRequest* req,
                                   v1::Proof* resp) override;
  grpc::Status GetEntries(grpc::ServerContext* ctx,
                          const v1::GetEntriesRequest* req,
                          v1::Entries* resp) override;
  grpc::Status QueryTrail(grpc::ServerContext* ctx, const v1::TrailQuery* req,
                          v1::Trail* resp) override;

 private:
  AuditApi& api_;
  const auth::CallerAuthenticator& auth_;
};

}  // namespace trm::audit

#endif  // TRM_SERVER_AUDIT_AUDIT_SERVICE_H_
