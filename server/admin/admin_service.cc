#include "server/admin/admin_service.h"

#include "server/mailbox/mailbox_service.h"

namespace trm::admin {

grpc::Status AdminService::GetNodeStatus(grpc::ServerContext* ctx,
                                         const v1::NodeStatusRequest*,
                                         v1::NodeStatus* resp) {
  absl::StatusOr<std::string> org = auth_.Organisation(*ctx);
  if (!org.ok()) return mailbox::ToGrpc(org.status());
  if (absl::Status ok = CheckCoordinator(registry_, *org); !ok.ok()) {
    return mailbox::ToGrpc(ok);
  }
  absl::StatusOr<v1::NodeStatus> status =
      BuildNodeStatus(registry_, store_, links_, witness_, clock_.Now());
  if (!status.ok()) return mailbox::ToGrpc(status.status());
  *resp = std::move(*status);
  return grpc::Status::OK;
}

}  // namespace trm::admin
