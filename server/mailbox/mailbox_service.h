// The gRPC face of the mailbox: authenticates the caller (its client
// certificate, server/auth), translates protobuf to Mailbox calls and back, and
// maps each absl::Status code one to one onto the gRPC status code. No logic of
// its own beyond that, and the per-stream concurrency of SubmitStream.
#ifndef TRM_SERVER_MAILBOX_MAILBOX_SERVICE_H_
#define TRM_SERVER_MAILBOX_MAILBOX_SERVICE_H_

#include <atomic>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "server/auth/caller_auth.h"
#include "server/mailbox/call_limiter.h"
#include "server/mailbox/mailbox.h"
#include "server/mailbox/stream_watchdog.h"
#include "trm/v1/mailbox.grpc.pb.h"

namespace trm::mailbox {

// What one organisation's calls may hold of the node (docs/operations.md,
// "Limits").
struct ServiceLimits {
  // Calls open at once per organisation (TOO_MANY_CALLS beyond).
  size_t max_calls_per_organisation = 64;
  // A Receive stream holds at most this many deliveries (and this many
  // bytes, but at least one message) that the client has not acknowledged,
  // released or refused, and leases more only as they settle.
  size_t receive_window_messages = 16;
  size_t receive_window_bytes = 2 << 20;
  // Requests a submit stream queues before it stops reading from the client
  // (SubmitBatches: envelopes).
  size_t submit_queue = 512;
};

class MailboxService final : public v1::Mailbox::Service {
 public:
  // `auth` names the calling organisation (certificate, or a bearer token
  // in development). `stream_workers` batches of one SubmitStream are
  // processed at once. `watchdog` (or null) ends Receive streams whose client
  // stopped reading. References must outlive the service.
  MailboxService(Mailbox& mailbox, const auth::CallerAuthenticator& auth,
                 size_t stream_workers = 2, ServiceLimits limits = {},
                 StreamWatchdog* watchdog = nullptr);

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
  grpc::Status Refuse(grpc::ServerContext* ctx, const v1::RefuseRequest* req,
                      v1::AckResponse* resp) override;
  grpc::Status AckMany(grpc::ServerContext* ctx, const v1::AckManyRequest* req,
                       v1::AckManyResponse* resp) override;
  grpc::Status GetStatus(grpc::ServerContext* ctx, const v1::MessageRef* req,
                         v1::MessageStatus* resp) override;

  // Called with every submission's outcome and the time the node took
  // (metrics). Set before serving.
  // The state of the link to a peer node, for GetStatus of a message that
  // waits for it (none without relay). Set before serving.
  using PeerLinkLookup =
      std::function<std::optional<v1::PeerLink>(const std::string& node)>;
  void set_peer_links(PeerLinkLookup lookup) {
    peer_links_ = std::move(lookup);
  }
  void set_submit_observer(
      std::function<void(const absl::Status&, absl::Duration)> observer) {
    on_submit_ = std::move(observer);
  }
  const CallLimiter& calls() const { return calls_; }
  // The deepest any submit stream's queue has been (requests, or envelopes
  // for SubmitBatches): at most ServiceLimits::submit_queue.
  size_t deepest_submit_queue() const { return deepest_queue_.load(); }

 private:
  // The calling organisation, holding one of its call slots.
  struct Caller {
    std::string org;
    CallLimiter::Slot slot;
  };
  absl::StatusOr<Caller> Authenticate(grpc::ServerContext* ctx);
  void NoteQueueDepth(size_t depth);
  // Mailbox::Receive of up to `max` messages and `max_bytes`, waiting up
  // to the request's wait_ms for a first message.
  absl::StatusOr<std::vector<Delivery>> Poll(grpc::ServerContext* ctx,
                                             const std::string& org,
                                             const v1::ReceiveRequest& req,
                                             size_t max_bytes, size_t max);
  static void FillDelivery(Delivery& d, v1::Delivery* out);
  // Room in a Receive stream's window once the client has settled enough of
  // `unsettled` (which it updates), or nullopt when the call is cancelled.
  struct Room {
    size_t messages, bytes;
  };
  std::optional<Room> WaitForRoom(
      grpc::ServerContext* ctx, const std::string& org,
      absl::flat_hash_map<std::string, size_t>& unsettled, size_t window,
      size_t window_bytes, StreamWatchdog::Watch* watch);
  static void FillResponse(uint64_t correlation,
                           absl::StatusOr<v1::Receipt> receipt,
                           v1::SubmitResponse* resp);

  Mailbox& mailbox_;
  const auth::CallerAuthenticator& auth_;
  const size_t stream_workers_;
  const ServiceLimits limits_;
  StreamWatchdog* const watchdog_;
  CallLimiter calls_;
  std::atomic<size_t> deepest_queue_{0};
  std::function<void(const absl::Status&, absl::Duration)> on_submit_;
  PeerLinkLookup peer_links_;
};

}  // namespace trm::mailbox

#endif  // TRM_SERVER_MAILBOX_MAILBOX_SERVICE_H_
