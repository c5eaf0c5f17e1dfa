#include "server/cases/case_service.h"

#include <algorithm>

#include "common/rpc_status.h"
#include "common/stats/signed_report.h"
#include "common/status.h"
#include "server/mailbox/mailbox_service.h"

namespace trm::cases {

grpc::Status CaseService::GetCase(grpc::ServerContext* ctx,
                                  const v1::GetCaseRequest* req,
                                  v1::CaseView* resp) {
  absl::StatusOr<std::string> org = auth_.Organisation(*ctx);
  if (!org.ok()) return ToGrpcStatus(org.status());
  absl::StatusOr<v1::CaseView> view = api_.GetCase(*org, req->case_ref());
  if (!view.ok()) return ToGrpcStatus(view.status());
  *resp = std::move(*view);
  return grpc::Status::OK;
}

grpc::Status CaseService::ListOverdue(grpc::ServerContext* ctx,
                                      const v1::ListOverdueRequest* req,
                                      v1::OverdueList* resp) {
  absl::StatusOr<std::string> org = auth_.Organisation(*ctx);
  if (!org.ok()) return ToGrpcStatus(org.status());
  absl::StatusOr<v1::OverdueList> list = api_.ListOverdue(
      *org, req->max(),
      absl::Milliseconds(std::max<int64_t>(0, req->upcoming_within_ms())));
  if (!list.ok()) return ToGrpcStatus(list.status());
  *resp = std::move(*list);
  return grpc::Status::OK;
}

grpc::Status CaseService::ExportStatistics(grpc::ServerContext* ctx,
                                           const v1::StatisticsRequest* req,
                                           v1::SignedStatistics* resp) {
  absl::StatusOr<directory::Principal> who = auth_.Caller(*ctx);
  if (!who.ok()) return ToGrpcStatus(who.status());
  absl::StatusOr<v1::StatisticsReport> report = api_.Statistics(*who, *req);
  if (!report.ok()) return ToGrpcStatus(report.status());
  absl::StatusOr<v1::SignedStatistics> signed_report =
      stats::SignStatistics(*report, node_key_);
  if (!signed_report.ok()) return ToGrpcStatus(signed_report.status());
  *resp = std::move(*signed_report);
  return grpc::Status::OK;
}

grpc::Status CaseService::GetStatistics(grpc::ServerContext* ctx,
                                        const v1::StatisticsRequest* req,
                                        v1::StatisticsReport* resp) {
  absl::StatusOr<directory::Principal> who = auth_.Caller(*ctx);
  if (!who.ok()) return ToGrpcStatus(who.status());
  absl::StatusOr<v1::StatisticsReport> report = api_.Statistics(*who, *req);
  if (!report.ok()) return ToGrpcStatus(report.status());
  *resp = std::move(*report);
  return grpc::Status::OK;
}

namespace {

absl::Status RulesOff() {
  return Error(absl::StatusCode::kFailedPrecondition, "CASE_RULES_OFF",
               "this node keeps no case rules, so no contingency applies "
               "here");
}

}  // namespace

grpc::Status CaseService::DeclareContingency(grpc::ServerContext* ctx,
                                             const v1::SignedContingency* req,
                                             v1::ContingencyList* resp) {
  absl::StatusOr<std::string> org = auth_.Organisation(*ctx);
  if (!org.ok()) return ToGrpcStatus(org.status());
  if (book_ == nullptr) return ToGrpcStatus(RulesOff());
  absl::StatusOr<v1::ContingencyList> list = book_->Declare(*org, *req);
  if (!list.ok()) return ToGrpcStatus(list.status());
  *resp = std::move(*list);
  return grpc::Status::OK;
}

grpc::Status CaseService::ListContingencies(grpc::ServerContext* ctx,
                                            const v1::ListContingenciesRequest*,
                                            v1::ContingencyList* resp) {
  absl::StatusOr<std::string> org = auth_.Organisation(*ctx);
  if (!org.ok()) return ToGrpcStatus(org.status());
  if (book_ == nullptr) return ToGrpcStatus(RulesOff());
  absl::StatusOr<v1::ContingencyList> list = book_->List();
  if (!list.ok()) return ToGrpcStatus(list.status());
  *resp = std::move(*list);
  return grpc::Status::OK;
}

}  // namespace trm::cases
