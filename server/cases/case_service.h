// trm.v1.Cases over gRPC: authenticates the calling organisation and hands
// over to CaseApi.
#ifndef TRM_SERVER_CASES_CASE_SERVICE_H_
#define TRM_SERVER_CASES_CASE_SERVICE_H_

#include "common/crypto/ed25519.h"
#include "server/auth/caller_auth.h"
#include "server/cases/case_api.h"
#include "server/contingency/contingency_book.h"
#include "trm/v1/case.grpc.pb.h"

namespace trm::cases {

class CaseService final : public v1::Cases::Service {
 public:
  // References must outlive the service. `node_key` signs exported
  // statistics.
  CaseService(const auth::CallerAuthenticator& auth, const CaseApi& api,
              const crypto::Ed25519PrivateKey& node_key)
      : auth_(auth), api_(api), node_key_(node_key) {}

  grpc::Status GetCase(grpc::ServerContext* ctx, const v1::GetCaseRequest* req,
                       v1::CaseView* resp) override;
  grpc::Status GetStatistics(grpc::ServerContext* ctx,
                             const v1::StatisticsRequest* req,
                             v1::StatisticsReport* resp) override;
  grpc::Status ExportStatistics(grpc::ServerContext* ctx,
                                const v1::StatisticsRequest* req,
                                v1::SignedStatistics* resp) override;
  grpc::Status ListOverdue(grpc::ServerContext* ctx,
                           const v1::ListOverdueRequest* req,
                           v1::OverdueList* resp) override;
  grpc::Status DeclareContingency(grpc::ServerContext* ctx,
                                  const v1::SignedContingency* req,
                                  v1::ContingencyList* resp) override;
  grpc::Status ListContingencies(grpc::ServerContext* ctx,
                                 const v1::ListContingenciesRequest* req,
                                 v1::ContingencyList* resp) override;

  // The node's contingencies (must outlive the service).
  void set_contingencies(contingency::ContingencyBook* book) { book_ = book; }

 private:
  const auth::CallerAuthenticator& auth_;
  const CaseApi& api_;
  const crypto::Ed25519PrivateKey& node_key_;
  contingency::ContingencyBook* book_ = nullptr;
};

}  // namespace trm::cases

#endif  // TRM_SERVER_CASES_CASE_SERVICE_H_
