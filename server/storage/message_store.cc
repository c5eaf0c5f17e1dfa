#include "server/storage/message_store.h"

#include "absl/strings/str_cat.h"
#include "common/bytes.h"
#include "common/status.h"

namespace trm::storage {

v1::StoredStatus NewStatusRecord(const AcceptRequest& r, uint64_t seq) {
  v1::StoredStatus st;
  st.set_message_id(r.message_id);
  st.set_sender_org(r.sender_org);
  st.set_recipient_org(r.recipient_org);
  st.set_envelope_sha256(r.envelope_sha256);
  st.set_state(v1::ACCEPTED);
  st.set_queue_seq(seq);
  st.set_expires_unix_ms(r.expires_unix_ms);
  st.set_accepted_unix_ms(r.now_unix_ms);
  st.set_envelope_size(r.envelope.size());
  if (!r.queue.empty() && r.queue != r.recipient_org) st.set_queue(r.queue);
  return st;
}

std::string OutboundQueue(absl::string_view node) {
  return absl::StrCat(">", node);
}

const std::string& QueueOf(const AcceptRequest& r) {
  return r.queue.empty() ? r.recipient_org : r.queue;
}

const std::string& QueueOf(const v1::StoredStatus& st) {
  return st.queue().empty() ? st.recipient_org() : st.queue();
}

absl::Status NotAcknowledgeable(const v1::StoredStatus& st) {
  if (st.state() == v1::EXPIRED) {
    return Error(absl::StatusCode::kFailedPrecondition, "MESSAGE_EXPIRED",
                 absl::StrCat("message ", HexEncode(AsBytes(st.message_id())),
                              " expired before it was acknowledged and is no "
                              "longer queued; its sender sees EXPIRED"));
  }
  return Error(absl::StatusCode::kNotFound, "MESSAGE_NOT_FOUND",
               absl::StrCat("no message ", HexEncode(AsBytes(st.message_id())),
                            " is queued for ", st.recipient_org(),
                            " on this node; acknowledge only ids you "
                            "received"));
}

void MarkRejected(v1::StoredStatus& st, const absl::Status& refusal,
                  int64_t now_unix_ms) {
  st.set_state(v1::REJECTED);
  st.set_rejected_unix_ms(now_unix_ms);
  st.set_reason_code(ErrorReason(refusal));
  st.set_error_code(static_cast<int32_t>(refusal.code()));
  st.set_reason(std::string(refusal.message()));
}

void MarkExpired(v1::StoredStatus& st, int64_t now_unix_ms) {
  st.set_state(v1::EXPIRED);
  st.set_expired_unix_ms(now_unix_ms);
  st.set_reason(
      "its expiry passed before the recipient acknowledged it; it was taken "
      "out of the queue into the dead-letter records");
}

}  // namespace trm::storage
