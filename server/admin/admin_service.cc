#include "server/admin/admin_service.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/rpc_status.h"
#include "common/status.h"
#include "server/mailbox/mailbox_service.h"

namespace trm::admin {

grpc::Status AdminService::GetNodeStatus(grpc::ServerContext* ctx,
                                         const v1::NodeStatusRequest*,
                                         v1::NodeStatus* resp) {
  absl::StatusOr<std::string> org = auth_.Organisation(*ctx);
  if (!org.ok()) return ToGrpcStatus(org.status());
  if (absl::Status ok = CheckCoordinator(registry_, *org); !ok.ok()) {
    return ToGrpcStatus(ok);
  }
  absl::StatusOr<v1::NodeStatus> status =
      BuildNodeStatus(registry_, store_, links_, witness_, clock_.Now());
  if (!status.ok()) return ToGrpcStatus(status.status());
  if (tls_cert_not_after_ != absl::InfinitePast()) {
    status->set_tls_cert_not_after_unix_ms(
        absl::ToUnixMillis(tls_cert_not_after_));
  }
  if (disk_guard_ != nullptr) {
    const storage::DiskGuard::State disk = disk_guard_->Current();
    status->set_disk_free_bytes(disk.free_bytes);
    status->set_disk_min_free_bytes(disk_guard_->min_free_bytes());
    status->set_disk_low(disk.low);
    status->set_disk_refusals(disk_guard_->refused());
  }
  *resp = std::move(*status);
  return grpc::Status::OK;
}

grpc::Status AdminService::Backup(grpc::ServerContext* ctx,
                                  const v1::BackupRequest* req,
                                  v1::BackupResponse* resp) {
  absl::StatusOr<std::string> org = auth_.Organisation(*ctx);
  if (!org.ok()) return ToGrpcStatus(org.status());
  if (absl::Status ok = CheckCoordinator(registry_, *org); !ok.ok()) {
    return ToGrpcStatus(ok);
  }
  if (backup_store_ == nullptr) {
    return ToGrpcStatus(Error(absl::StatusCode::kUnimplemented,
                              "BACKUP_UNAVAILABLE",
                              "this node's store cannot be backed up "
                              "online"));
  }
  absl::StatusOr<v1::BackupResponse> out =
      TakeBackup(*backup_store_, signer_, req->dir(), clock_.Now());
  if (!out.ok()) return ToGrpcStatus(out.status());
  log::Info("node.backup", absl::StrCat("backup by ", *org, " to ", req->dir()),
            {{"by", *org}, {"dir", req->dir()}});
  *resp = std::move(*out);
  return grpc::Status::OK;
}

}  // namespace trm::admin
