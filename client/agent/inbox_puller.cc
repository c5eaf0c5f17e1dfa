#include "client/agent/inbox_puller.h"

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace trm::agent {

absl::Status ClientMailbox::Receive(
    uint32_t max, absl::Duration wait,
    const std::function<void(const client::Delivery&)>& handle) {
  return client_.Receive(max, wait, handle);
}

absl::Status ClientMailbox::Verify(const client::Delivery& d) {
  // Opened in memory only; client::Opened wipes the payload on return.
  return client_.Open(d).status();
}

absl::Status ClientMailbox::Acknowledge(const client::Delivery& d) {
  return client_.Acknowledge(d);
}

absl::Status ClientMailbox::Refuse(const client::Delivery& d,
                                   v1::RefusalReason reason,
                                   absl::string_view text) {
  return client_.Refuse(d, reason, text);
}

absl::Status ClientMailbox::Release(const client::Delivery& d) {
  return client_.Release(d);
}

void InboxPuller::Handle(const client::Delivery& d, PullResult& r) {
  auto give_back = [&](const absl::Status& why) {
    ++r.released;
    if (r.first_error.ok()) r.first_error = why;
    mailbox_.Release(d).IgnoreError();  // else the lease runs out
  };
  absl::Status verified = mailbox_.Verify(d);
  if (!verified.ok()) {
    const v1::RefusalReason why = client::RefusalFor(verified);
    if (why == v1::REFUSAL_REASON_UNSPECIFIED) return give_back(verified);
    absl::Status refused = mailbox_.Refuse(
        d, why,
        absl::StrCat(client::ReasonOf(verified), ": ", verified.message()));
    if (!refused.ok()) return give_back(refused);
    ++r.refused;
    if (on_refused_) on_refused_(d, verified);
    return;
  }
  v1::AgentRecord rec;
  rec.set_message_id(d.message_id);
  rec.set_envelope(d.envelope);
  *rec.mutable_header() = d.header;
  rec.set_attempt(d.attempt);
  absl::StatusOr<bool> added = store_.Put(rec);  // fsynced
  if (!added.ok()) return give_back(added.status());
  // Only now: the node may forget it once it has the acknowledgement.
  absl::Status acked = mailbox_.Acknowledge(d);
  if (!acked.ok()) return give_back(acked);  // stored; it comes again
  ++(*added ? r.stored : r.duplicates);
  if (*added && on_stored_) on_stored_(rec);
}

absl::StatusOr<PullResult> InboxPuller::PullOnce(uint32_t max,
                                                 absl::Duration wait) {
  PullResult r;
  RETURN_IF_ERROR(mailbox_.Receive(
      max, wait, [&](const client::Delivery& d) { Handle(d, r); }));
  return r;
}

}  // namespace trm::agent
