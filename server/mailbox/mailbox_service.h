// The gRPC face of the mailbox: authenticates the caller (its client
// certificate, server/auth), translates protobuf to Mailbox calls and back, and
// maps each absl::Status code one to one onto the gRPC status code. No logic of
// its own beyond that, and the per-stream concurrency of SubmitStream.
#ifndef TRM_SERVER_MAILBOX_MAILBOX_SERVICE_H_
#define TRM_SERVER_MAILBOX_MAILBOX_SERVICE_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "server/auth/caller_auth.h"
#include "server/mailbox/mailbox.h"
#include "trm/v1/mailbox.grpc.pb.h"

namespace trm::mailbox {

class MailboxService final : public v1::Mailbox::Service {
 public:
  // `auth` names the calling organisation (certificate, or a bearer token
  // in development). `stream_workers` batches of one SubmitStream are
  // processed at once. References must outlive the service.
  MailboxService(Mailbox& mailbox, const auth::CallerAuthenticator& auth,
                 size_t stream_workers = 2);

  grpc::Status Submit(grpc::ServerContext* ctx, const v1::SubmitRequest* req,
                      v1::SubmitResponse* resp) override;
  grpc::Status SubmitStream(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<v1::SubmitResponse, v1::SubmitRequest>* stream)
      override;
  grpc::Status SubmitBatches(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<v1::SubmitBatchResult, v1::SubmitBatch>* stream)
      override;
  grpc::Status Receive(grpc::ServerContext* ctx, const v1::ReceiveRequest* req,
                       grpc::ServerWriter<v1::Delivery>* writer) override;
  grpc::Status ReceiveMany(grpc::ServerContext* ctx,
                           const v1::ReceiveRequest* req,
                           v1::Deliveries* resp) override;
  grpc::Status Ack(grpc::ServerContext* ctx, const v1::MessageRef* req,
                   v1::AckResponse* resp) override;
  grpc::Status Release(grpc::ServerContext* ctx, const v1::MessageRef* req,
                       v1::AckResponse* resp) override;
  grpc::Status AckMany(grpc::ServerContext* ctx, const v1::AckManyRequest* req,
                       v1::AckManyResponse* resp) override;
  grpc::Status GetStatus(grpc::ServerContext* ctx, const v1::MessageRef* req,
                         v1::MessageStatus* resp) override;

  // Called with every submission's outcome and the time the node took
  // (metrics). Set before serving.
  void set_submit_observer(
      std::function<void(const absl::Status&, absl::Duration)> observer) {
    on_submit_ = std::move(observer);
  }

 private:
  absl::StatusOr<std::string> Authenticate(grpc::ServerContext* ctx) const;
  // Mailbox::Receive, waiting up to the request's wait_ms for a first
  // message.
  absl::StatusOr<std::vector<Delivery>> Poll(grpc::ServerContext* ctx,
                                             const std::string& org,
                                             const v1::ReceiveRequest& req,
                                             size_t max_bytes);
  static void FillDelivery(Delivery& d, v1::Delivery* out);
  static void FillResponse(uint64_t correlation,
                           absl::StatusOr<v1::Receipt> receipt,
                           v1::SubmitResponse* resp);

  Mailbox& mailbox_;
  const auth::CallerAuthenticator& auth_;
  const size_t stream_workers_;
  std::function<void(const absl::Status&, absl::Duration)> on_submit_;
};

// absl::Status -> grpc::Status, code for code, message kept.
grpc::Status ToGrpc(const absl::Status& status);

}  // namespace trm::mailbox

#endif  // TRM_SERVER_MAILBOX_MAILBOX_SERVICE_H_
