#include "server/audit/audit_service.h"

#include "common/rpc_status.h"
#include "server/mailbox/mailbox_service.h"

namespace trm::audit {
namespace {

// Authenticates, calls `f(who)`, and answers with its result.
template <typename Resp, typename F>
grpc::Status Answer(const auth::CallerAuthenticator& auth,
                    grpc::ServerContext* ctx, Resp* resp, F f) {
  absl::StatusOr<directory::Principal> who = auth.Caller(*ctx);
  if (!who.ok()) return ToGrpcStatus(who.status());
  absl::StatusOr<Resp> out = f(*who);
  if (!out.ok()) return ToGrpcStatus(out.status());
  *resp = std::move(*out);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status AuditService::GetTreeHead(grpc::ServerContext* ctx,
                                       const v1::GetTreeHeadRequest* req,
                                       v1::SignedTreeHead* resp) {
  return Answer(auth_, ctx, resp, [&](const directory::Principal& who) {
    return api_.GetTreeHead(who, req->fresh());
  });
}

grpc::Status AuditService::GetInclusionProof(
    grpc::ServerContext* ctx, const v1::InclusionProofRequest* req,
    v1::Proof* resp) {
  return Answer(auth_, ctx, resp, [&](const directory::Principal& who) {
    return api_.GetInclusionProof(who, *req);
  });
}

grpc::Status AuditService::GetConsistencyProof(
    grpc::ServerContext* ctx, const v1::ConsistencyProofRequest* req,
    v1::Proof* resp) {
  return Answer(auth_, ctx, resp, [&](const directory::Principal& who) {
    return api_.GetConsistencyProof(who, *req);
  });
}

grpc::Status AuditService::GetEntries(grpc::ServerContext* ctx,
                                      const v1::GetEntriesRequest* req,
                                      v1::Entries* resp) {
  return Answer(auth_, ctx, resp, [&](const directory::Principal& who) {
    return api_.GetEntries(who, *req);
  });
}

grpc::Status AuditService::QueryTrail(grpc::ServerContext* ctx,
                                      const v1::TrailQuery* req,
                                      v1::Trail* resp) {
  return Answer(auth_, ctx, resp, [&](const directory::Principal& who) {
    return api_.QueryTrail(who, *req);
  });
}

}  // namespace trm::audit
