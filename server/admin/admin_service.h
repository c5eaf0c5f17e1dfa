// The NodeAdmin gRPC service: authentication, then server/admin/node_status.
#ifndef TRM_SERVER_ADMIN_ADMIN_SERVICE_H_
#define TRM_SERVER_ADMIN_ADMIN_SERVICE_H_

#include "common/clock.h"
#include "server/admin/node_status.h"
#include "server/auth/caller_auth.h"
#include "server/storage/disk_guard.h"
#include "trm/v1/admin.grpc.pb.h"

namespace trm::admin {

class AdminService final : public v1::NodeAdmin::Service {
 public:
  // References must outlive the service; `links` may be null.
  AdminService(const auth::CallerAuthenticator& auth,
               const mailbox::OrgRegistry& registry,
               storage::MessageStore& store, const PeerLinks* links,
               audit::Witness* witness, const Clock& clock)
      : auth_(auth),
        registry_(registry),
        store_(store),
        links_(links),
        witness_(witness),
        clock_(clock) {}

  grpc::Status GetNodeStatus(grpc::ServerContext* ctx,
                             const v1::NodeStatusRequest* req,
                             v1::NodeStatus* resp) override;
  grpc::Status Backup(grpc::ServerContext* ctx, const v1::BackupRequest* req,
                      v1::BackupResponse* resp) override;

  // Where Backup writes from; without it Backup is UNIMPLEMENTED.
  // The node's TLS certificate's expiry, for the status.
  void set_tls_cert_not_after(absl::Time t) { tls_cert_not_after_ = t; }
  // The disk-free alarm, for the status.
  void set_disk_guard(const storage::DiskGuard* guard) { disk_guard_ = guard; }
  void set_backup(storage::RocksMessageStore* store,
                  audit::TreeHeadSigner* signer) {
    backup_store_ = store;
    signer_ = signer;
  }

 private:
  const auth::CallerAuthenticator& auth_;
  const mailbox::OrgRegistry& registry_;
  storage::MessageStore& store_;
  const PeerLinks* links_;
  audit::Witness* witness_;
  const Clock& clock_;
  storage::RocksMessageStore* backup_store_ = nullptr;
  audit::TreeHeadSigner* signer_ = nullptr;
  absl::Time tls_cert_not_after_ = absl::InfinitePast();
  const storage::DiskGuard* disk_guard_ = nullptr;
};

}  // namespace trm::admin

#endif  // TRM_SERVER_ADMIN_ADMIN_SERVICE_H_
