#include "server/mailbox/mailbox_service.h"

#include <deque>
#include <limits>
#include <optional>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/crypto/hash.h"
#include "common/process/thread_name.h"
#include "common/rpc_status.h"
#include "common/status.h"

namespace trm::mailbox {

MailboxService::MailboxService(Mailbox& mailbox,
                               const auth::CallerAuthenticator& auth,
                               size_t stream_workers, ServiceLimits limits,
                               StreamWatchdog* watchdog)
    : mailbox_(mailbox),
      auth_(auth),
      stream_workers_(std::max<size_t>(1, stream_workers)),
      limits_(limits),
      watchdog_(watchdog),
      calls_(std::max<size_t>(1, limits.max_calls_per_organisation)) {}

absl::StatusOr<MailboxService::Caller> MailboxService::Authenticate(
    grpc::ServerContext* ctx) {
  absl::StatusOr<std::string> org = auth_.Organisation(*ctx);
  if (!org.ok()) return org.status();
  absl::StatusOr<CallLimiter::Slot> slot = calls_.Acquire(*org);
  if (!slot.ok()) return slot.status();
  return Caller{std::move(*org), std::move(*slot)};
}

void MailboxService::NoteQueueDepth(size_t depth) {
  size_t seen = deepest_queue_.load();
  while (depth > seen && !deepest_queue_.compare_exchange_weak(seen, depth)) {
  }
}

void MailboxService::FillResponse(uint64_t correlation,
                                  absl::StatusOr<v1::Receipt> receipt,
                                  v1::SubmitResponse* resp) {
  resp->set_correlation(correlation);
  if (receipt.ok()) {
    *resp->mutable_receipt() = std::move(*receipt);
    return;
  }
  resp->set_error_code(static_cast<int>(receipt.status().code()));
  resp->set_error_reason(ErrorReason(receipt.status()));
  resp->set_error_message(std::string(receipt.status().message()));
}

grpc::Status MailboxService::Submit(grpc::ServerContext* ctx,
                                    const v1::SubmitRequest* req,
                                    v1::SubmitResponse* resp) {
  absl::StatusOr<Caller> caller = Authenticate(ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  const std::string* org = &caller->org;
  const absl::Time start = absl::Now();
  absl::StatusOr<v1::Receipt> receipt = mailbox_.Submit(*org, req->envelope());
  if (on_submit_) on_submit_(receipt.status(), absl::Now() - start);
  if (!receipt.ok()) return ToGrpcStatus(receipt.status());
  resp->set_correlation(req->correlation());
  *resp->mutable_receipt() = std::move(*receipt);
  return grpc::Status::OK;
}

grpc::Status MailboxService::SubmitStream(
    grpc::ServerContext* ctx,
    grpc::ServerReaderWriter<v1::SubmitResponse, v1::SubmitRequest>* stream) {
  absl::StatusOr<Caller> caller = Authenticate(ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  const std::string* org = &caller->org;
  // The reader queues requests; each of a few workers takes everything
  // queued (up to kBatch) as one batch: signatures checked across the
  // cores, one durable write, one receipt signature. While one batch waits
  // for its fsync, the next one is being verified.
  constexpr size_t kBatch = 256;
  // Back-pressure: the reader stops reading while this many requests wait,
  // so a client that streams faster than the node commits is slowed by
  // HTTP/2 flow control instead of filling the node's memory.
  struct Inbox {
    absl::Mutex mu;
    std::deque<v1::SubmitRequest> queue;
    bool closed = false;
    size_t max_queued = 1;
    static bool Ready(Inbox* in) { return !in->queue.empty() || in->closed; }
    static bool HasRoom(Inbox* in) { return in->queue.size() < in->max_queued; }
  } inbox;
  inbox.max_queued = std::max<size_t>(1, limits_.submit_queue);
  absl::Mutex write_mu;
  bool write_failed = false;
  std::vector<std::thread> workers;
  for (size_t i = 0; i < stream_workers_; ++i) {
    workers.emplace_back([&] {
      process::NameThisThread("trm-submit");
      for (;;) {
        std::vector<v1::SubmitRequest> batch;
        {
          absl::MutexLock lock(&inbox.mu);
          inbox.mu.Await(absl::Condition(&Inbox::Ready, &inbox));
          if (inbox.queue.empty()) return;
          while (!inbox.queue.empty() && batch.size() < kBatch) {
            batch.push_back(std::move(inbox.queue.front()));
            inbox.queue.pop_front();
          }
        }
        std::vector<absl::string_view> envelopes;
        envelopes.reserve(batch.size());
        for (const v1::SubmitRequest& r : batch)
          envelopes.push_back(r.envelope());
        const absl::Time start = absl::Now();
        std::vector<absl::StatusOr<v1::Receipt>> receipts =
            mailbox_.SubmitMany(*org, envelopes);
        const absl::Duration took = absl::Now() - start;
        absl::MutexLock lock(&write_mu);
        for (size_t k = 0; k < batch.size(); ++k) {
          if (on_submit_) on_submit_(receipts[k].status(), took);
          v1::SubmitResponse resp;
          FillResponse(batch[k].correlation(), std::move(receipts[k]), &resp);
          // No buffer hint: a synchronous Write with one waits for the
          // next write to complete, which hung the stream (crash_kill9).
          if (!write_failed && !stream->Write(resp)) {
            write_failed = true;
          }
        }
      }
    });
  }
  v1::SubmitRequest req;
  while (stream->Read(&req)) {
    absl::MutexLock lock(&inbox.mu);
    inbox.mu.Await(absl::Condition(&Inbox::HasRoom, &inbox));
    inbox.queue.push_back(std::move(req));
    NoteQueueDepth(inbox.queue.size());
  }
  {
    absl::MutexLock lock(&inbox.mu);
    inbox.closed = true;
  }
  for (std::thread& t : workers) t.join();
  return grpc::Status::OK;
}

grpc::Status MailboxService::SubmitBatches(
    grpc::ServerContext* ctx,
    grpc::ServerReaderWriter<v1::SubmitBatchResult, v1::SubmitBatch>* stream) {
  absl::StatusOr<Caller> caller = Authenticate(ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  const std::string* org = &caller->org;
  // As SubmitStream, with a batch per stream message: a worker takes every
  // batch waiting (up to kMerge envelopes) into one Mailbox::SubmitMany and
  // answers each batch with one message.
  constexpr size_t kMaxBatch = 1024;
  constexpr size_t kMerge = 256;
  // Back-pressure as in SubmitStream: the reader waits while this many
  // envelopes wait (a batch larger than the room still goes in alone).
  struct Inbox {
    absl::Mutex mu;
    std::deque<v1::SubmitBatch> queue;
    size_t queued = 0;  // envelopes in `queue`
    size_t max_queued = 1;
    bool closed = false;
    static bool Ready(Inbox* in) { return !in->queue.empty() || in->closed; }
    static bool HasRoom(Inbox* in) {
      return in->queue.empty() || in->queued < in->max_queued;
    }
  } inbox;
  inbox.max_queued = std::max<size_t>(1, limits_.submit_queue);
  absl::Mutex write_mu;
  bool write_failed = false;
  auto write = [&](const v1::SubmitBatchResult& result) {
    absl::MutexLock lock(&write_mu);
    if (!write_failed && !stream->Write(result)) write_failed = true;
  };
  std::vector<std::thread> workers;
  for (size_t i = 0; i < stream_workers_; ++i) {
    workers.emplace_back([&] {
      process::NameThisThread("trm-submit");
      for (;;) {
        std::vector<v1::SubmitBatch> batches;
        size_t envelopes_taken = 0;
        {
          absl::MutexLock lock(&inbox.mu);
          inbox.mu.Await(absl::Condition(&Inbox::Ready, &inbox));
          if (inbox.queue.empty()) return;
          while (!inbox.queue.empty() &&
                 (batches.empty() ||
                  envelopes_taken + inbox.queue.front().requests_size() <=
                      kMerge)) {
            envelopes_taken += inbox.queue.front().requests_size();
            inbox.queued -= inbox.queue.front().requests_size();
            batches.push_back(std::move(inbox.queue.front()));
            inbox.queue.pop_front();
          }
        }
        std::vector<absl::string_view> envelopes;
        envelopes.reserve(envelopes_taken);
        for (const v1::SubmitBatch& b : batches) {
          for (const v1::SubmitRequest& r : b.requests()) {
            envelopes.push_back(r.envelope());
          }
        }
        const absl::Time start = absl::Now();
        std::vector<absl::StatusOr<v1::Receipt>> receipts =
            mailbox_.SubmitMany(*org, envelopes);
        const absl::Duration took = absl::Now() - start;
        size_t k = 0;
        for (const v1::SubmitBatch& b : batches) {
          v1::SubmitBatchResult result;
          for (const v1::SubmitRequest& r : b.requests()) {
            if (on_submit_) on_submit_(receipts[k].status(), took);
            FillResponse(r.correlation(), std::move(receipts[k]),
                         result.add_responses());
            ++k;
          }
          write(result);
        }
      }
    });
  }
  v1::SubmitBatch batch;
  while (stream->Read(&batch)) {
    if (batch.requests_size() > static_cast<int>(kMaxBatch)) {
      v1::SubmitBatchResult refused;
      const absl::Status too_large =
          Error(absl::StatusCode::kInvalidArgument, "BATCH_TOO_LARGE",
                absl::StrCat("a SubmitBatch holds ", batch.requests_size(),
                             " requests; send at most ", kMaxBatch,
                             " per batch, in several batches"));
      for (const v1::SubmitRequest& r : batch.requests()) {
        FillResponse(r.correlation(), too_large, refused.add_responses());
      }
      write(refused);
      continue;
    }
    absl::MutexLock lock(&inbox.mu);
    inbox.mu.Await(absl::Condition(&Inbox::HasRoom, &inbox));
    inbox.queued += batch.requests_size();
    inbox.queue.push_back(std::move(batch));
    NoteQueueDepth(inbox.queued);
  }
  {
    absl::MutexLock lock(&inbox.mu);
    inbox.closed = true;
  }
  for (std::thread& t : workers) t.join();
  return grpc::Status::OK;
}

absl::StatusOr<std::vector<Delivery>> MailboxService::Poll(
    grpc::ServerContext* ctx, const std::string& org,
    const v1::ReceiveRequest& req, size_t max_bytes, size_t max) {
  const absl::Time deadline =
      absl::Now() +
      absl::Milliseconds(std::min<uint32_t>(req.wait_ms(), 60000));
  for (;;) {
    const uint64_t seen = mailbox_.arrivals().Generation(org);
    absl::StatusOr<std::vector<Delivery>> got =
        mailbox_.Receive(org, max, max_bytes);
    if (!got.ok() || !got->empty()) return got;
    const absl::Time now = absl::Now();
    if (now >= deadline || ctx->IsCancelled()) return got;
    // Woken by an arrival; otherwise a look every second, for leases that
    // ran out and for a cancelled call.
    mailbox_.arrivals().WaitForChange(
        org, seen, std::min(deadline, now + absl::Seconds(1)));
  }
}

void MailboxService::FillDelivery(Delivery& d, v1::Delivery* out) {
  out->set_message_id(std::move(d.message_id));
  out->set_envelope(std::move(d.envelope));
  out->set_attempt(d.attempt);
  out->set_lease_expires_unix_ms(absl::ToUnixMillis(d.lease_expires));
}

grpc::Status MailboxService::Receive(grpc::ServerContext* ctx,
                                     const v1::ReceiveRequest* req,
                                     grpc::ServerWriter<v1::Delivery>* writer) {
  absl::StatusOr<Caller> caller = Authenticate(ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  const std::string* org = &caller->org;
  // A window at a time, as a consumer prefetch: the stream holds at most
  // the window of deliveries that the client has not settled (acknowledged,
  // released or refused), and leases more only as they settle. A written
  // delivery is not a taken one: gRPC's Write returns while the bytes may
  // still sit in the node's memory. A client that settles nothing for the
  // stall limit is cut off by the watchdog; what it was not sent is given
  // back at once, what it was sent when its lease runs out.
  const size_t max = req->max_messages() == 0 ? 64 : req->max_messages();
  const size_t window = std::max<size_t>(1, limits_.receive_window_messages);
  const size_t window_bytes = limits_.receive_window_bytes;
  absl::StatusOr<std::vector<Delivery>> got =
      Poll(ctx, *org, *req, window_bytes, std::min(max, window));
  if (!got.ok()) return ToGrpcStatus(got.status());
  std::optional<StreamWatchdog::Watch> watch;
  if (watchdog_ != nullptr && !got->empty()) {
    watch.emplace(watchdog_->Start([ctx] { ctx->TryCancel(); }));
  }
  // Sent and not yet settled: message id -> envelope bytes.
  absl::flat_hash_map<std::string, size_t> unsettled;
  size_t sent = 0;
  while (!got->empty()) {
    for (size_t i = 0; i < got->size(); ++i) {
      v1::Delivery out;
      const std::string id = (*got)[i].message_id;
      const size_t bytes = (*got)[i].envelope.size();
      FillDelivery((*got)[i], &out);
      if (!writer->Write(out)) {
        // The client is gone or stalled: what it has not taken is
        // deliverable again now, not at the end of its lease.
        mailbox_.Release(*org, id).IgnoreError();
        for (size_t j = i + 1; j < got->size(); ++j) {
          mailbox_.Release(*org, (*got)[j].message_id).IgnoreError();
        }
        return grpc::Status::OK;
      }
      unsettled[id] = bytes;
      ++sent;
    }
    if (sent >= max) break;
    std::optional<Room> room = WaitForRoom(
        ctx, *org, unsettled, window, window_bytes, watch ? &*watch : nullptr);
    if (!room.has_value()) break;  // cancelled: the client or the watchdog
    got = mailbox_.Receive(*org, std::min(max - sent, room->messages),
                           room->bytes);
    if (!got.ok()) return ToGrpcStatus(got.status());
  }
  return grpc::Status::OK;
}

std::optional<MailboxService::Room> MailboxService::WaitForRoom(
    grpc::ServerContext* ctx, const std::string& org,
    absl::flat_hash_map<std::string, size_t>& unsettled, size_t window,
    size_t window_bytes, StreamWatchdog::Watch* watch) {
  for (;;) {
    const uint64_t seen = mailbox_.settlements().Generation(org);
    std::vector<std::string> ids;
    ids.reserve(unsettled.size());
    for (const auto& [id, bytes] : unsettled) ids.push_back(id);
    const size_t before = unsettled.size();
    absl::flat_hash_map<std::string, size_t> still;
    for (std::string& id : mailbox_.StillLeased(org, std::move(ids))) {
      const size_t bytes = unsettled[id];
      still.emplace(std::move(id), bytes);
    }
    unsettled = std::move(still);
    // Settling is the client's progress.
    if (watch != nullptr && unsettled.size() < before) watch->Progress();
    size_t held = 0;
    for (const auto& [id, bytes] : unsettled) held += bytes;
    // A cancelled call leases nothing more, even when settling made room.
    if (ctx->IsCancelled()) return std::nullopt;
    if (unsettled.size() < window && held < window_bytes) {
      return Room{window - unsettled.size(), window_bytes - held};
    }
    // Woken by a settlement; otherwise a look every second, for leases
    // that ran out and for a cancelled call.
    mailbox_.settlements().WaitForChange(org, seen,
                                         absl::Now() + absl::Seconds(1));
  }
}

grpc::Status MailboxService::ReceiveMany(grpc::ServerContext* ctx,
                                         const v1::ReceiveRequest* req,
                                         v1::Deliveries* resp) {
  absl::StatusOr<Caller> caller = Authenticate(ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  const std::string* org = &caller->org;
  constexpr size_t kMaxBytes = 3 << 20;  // under gRPC's 4 MiB default
  absl::StatusOr<std::vector<Delivery>> got =
      Poll(ctx, *org, *req, kMaxBytes,
           req->max_messages() == 0 ? 64 : req->max_messages());
  if (!got.ok()) return ToGrpcStatus(got.status());
  for (Delivery& d : *got) FillDelivery(d, resp->add_deliveries());
  return grpc::Status::OK;
}

grpc::Status MailboxService::Ack(grpc::ServerContext* ctx,
                                 const v1::MessageRef* req, v1::AckResponse*) {
  absl::StatusOr<Caller> caller = Authenticate(ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  const std::string* org = &caller->org;
  return ToGrpcStatus(
      mailbox_.Ack(*org, req->message_id(), req->acknowledgement()));
}

grpc::Status MailboxService::AckMany(grpc::ServerContext* ctx,
                                     const v1::AckManyRequest* req,
                                     v1::AckManyResponse* resp) {
  absl::StatusOr<Caller> caller = Authenticate(ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  const std::string* org = &caller->org;
  if (req->acknowledgements_size() != 0 &&
      !req->acknowledgement_batch().empty()) {
    return ToGrpcStatus(
        Error(absl::StatusCode::kInvalidArgument, "ACKNOWLEDGEMENTS_MISMATCH",
              "AckMany has both signed acknowledgements and an acknowledgement "
              "batch; give one signed acknowledgement per id or one batch over "
              "them all"));
  }
  if (req->acknowledgements_size() != 0 &&
      req->acknowledgements_size() != req->message_ids_size()) {
    return ToGrpcStatus(
        Error(absl::StatusCode::kInvalidArgument, "ACKNOWLEDGEMENTS_MISMATCH",
              absl::StrCat("AckMany has ", req->message_ids_size(),
                           " message ids but ", req->acknowledgements_size(),
                           " signed acknowledgements; give none or "
                           "one per id, in the same order")));
  }
  std::vector<storage::AckRequest> acks(req->message_ids_size());
  for (int i = 0; i < req->message_ids_size(); ++i) {
    acks[i].message_id = req->message_ids(i);
    if (req->acknowledgements_size() > 0) {
      acks[i].acknowledgement = req->acknowledgements(i);
    }
  }
  absl::StatusOr<std::vector<absl::Status>> results =
      mailbox_.AckMany(*org, std::move(acks), req->acknowledgement_batch());
  if (!results.ok()) return ToGrpcStatus(results.status());
  for (int i = 0; i < req->message_ids_size(); ++i) {
    v1::AckResult* r = resp->add_results();
    r->set_message_id(req->message_ids(i));
    const absl::Status& s = (*results)[i];
    if (s.ok()) continue;
    r->set_error_code(static_cast<int>(s.code()));
    r->set_error_reason(ErrorReason(s));
    r->set_error_message(std::string(s.message()));
  }
  return grpc::Status::OK;
}

grpc::Status MailboxService::Refuse(grpc::ServerContext* ctx,
                                    const v1::RefuseRequest* req,
                                    v1::AckResponse*) {
  absl::StatusOr<Caller> caller = Authenticate(ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  return ToGrpcStatus(
      mailbox_.Refuse(caller->org, req->message_id(), req->refusal()));
}

grpc::Status MailboxService::Release(grpc::ServerContext* ctx,
                                     const v1::MessageRef* req,
                                     v1::AckResponse*) {
  absl::StatusOr<Caller> caller = Authenticate(ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  const std::string* org = &caller->org;
  return ToGrpcStatus(mailbox_.Release(*org, req->message_id()));
}

grpc::Status MailboxService::GetStatus(grpc::ServerContext* ctx,
                                       const v1::MessageRef* req,
                                       v1::MessageStatus* resp) {
  absl::StatusOr<Caller> caller = Authenticate(ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  const std::string* org = &caller->org;
  absl::StatusOr<v1::StoredStatus> st =
      mailbox_.GetStatus(*org, req->message_id());
  if (!st.ok()) return ToGrpcStatus(st.status());
  // Waiting here for the next node: why, and since when.
  const std::string& queue = st->queue();
  if (st->state() == v1::ACCEPTED && peer_links_ && !queue.empty() &&
      queue[0] == '>') {
    if (std::optional<v1::PeerLink> link = peer_links_(queue.substr(1))) {
      *resp->mutable_link() = *std::move(link);
    }
  }
  *resp->mutable_status() = std::move(*st);
  return grpc::Status::OK;
}

}  // namespace trm::mailbox
