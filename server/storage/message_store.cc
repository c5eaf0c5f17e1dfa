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
  return st;
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

void MarkExpired(v1::StoredStatus& st, int64_t now_unix_ms) {
  st.set_state(v1::EXPIRED);
  st.set_expired_unix_ms(now_unix_ms);
  st.set_reason(
      "its expiry passed before the recipient acknowledged it; it was taken "
      "out of the queue into the dead-letter records");
}

}  // namespace trm::storage
