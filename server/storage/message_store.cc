#include "server/storage/message_store.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/bytes.h"
#include "common/envelope/refusal.h"
#include "common/status.h"
#include "common/time_text.h"

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
  if (!r.origin_node.empty()) st.set_origin_node(r.origin_node);
  st.set_case_ref(r.case_ref);
  st.set_message_type(r.message_type);
  return st;
}

v1::ReceiptLeaf AcceptanceLeaf(v1::ReceiptKind kind, const AcceptRequest& r,
                               const AcceptOutcome& outcome,
                               const std::string& node) {
  v1::ReceiptLeaf leaf;
  leaf.set_kind(kind);
  leaf.set_message_id(r.message_id);
  leaf.set_envelope_sha256(r.envelope_sha256);
  leaf.set_node(node);
  leaf.set_time_unix_ms(outcome.status.accepted_unix_ms());
  return leaf;
}

std::string NoticeQueue(absl::string_view node) {
  return absl::StrCat("<", node);
}

absl::Status MessageStore::Acknowledge(const std::string& recipient_org,
                                       const std::string& message_id,
                                       int64_t now_unix_ms) {
  return AcknowledgeAll(recipient_org, {AckRequest{message_id, "", ""}},
                        now_unix_ms)
      .front();
}

std::vector<absl::Status> MessageStore::AcknowledgeMany(
    const std::string& recipient_org, const std::vector<std::string>& ids,
    int64_t now_unix_ms) {
  std::vector<AckRequest> acks;
  acks.reserve(ids.size());
  for (const std::string& id : ids) acks.push_back(AckRequest{id, "", ""});
  return AcknowledgeAll(recipient_org, acks, now_unix_ms);
}

absl::StatusOr<bool> MergePathNotice(v1::StoredStatus& st,
                                     const std::string& peer,
                                     const v1::PathNotice& n) {
  if (st.relayed_unix_ms() == 0 || st.relayed_to() != peer) {
    return Error(absl::StatusCode::kNotFound, "MESSAGE_NOT_RELAYED_TO_PEER",
                 absl::StrCat("message ", HexEncode(AsBytes(st.message_id())),
                              " was not relayed to node ", peer,
                              " from this node; a node reports only on "
                              "messages it received from the origin node"));
  }
  bool changed = false;
  if (n.delivered_unix_ms() > 0 && st.delivered_unix_ms() == 0) {
    st.set_delivered_unix_ms(n.delivered_unix_ms());
    st.set_delivery_receipt(n.delivery_receipt().SerializeAsString());
    changed = true;
  }
  if (n.acknowledged_unix_ms() > 0 && st.acknowledged_unix_ms() == 0 &&
      st.expired_unix_ms() == 0 && st.refused_unix_ms() == 0) {
    st.set_acknowledged_unix_ms(n.acknowledged_unix_ms());
    st.set_acknowledgement(n.acknowledgement());
    changed = true;
  }
  // A refusal may follow the acknowledgement (section 15.3).
  if (n.refused_unix_ms() > 0 && st.refused_unix_ms() == 0 &&
      st.expired_unix_ms() == 0) {
    MarkRefused(st, n.refusal(), n.refused_unix_ms());
    changed = true;
  }
  if (n.expired_unix_ms() > 0 && st.expired_unix_ms() == 0 &&
      st.acknowledged_unix_ms() == 0 && st.refused_unix_ms() == 0) {
    st.set_expired_unix_ms(n.expired_unix_ms());
    st.set_expiry_receipt(n.expiry_receipt().SerializeAsString());
    st.set_reason(absl::StrCat(
        "it expired in the recipient's queue on node ", peer,
        " before the recipient acknowledged it; that node keeps it in its "
        "dead-letter records"));
    changed = true;
  }
  if (st.refused_unix_ms() > 0) {
    st.set_state(v1::REFUSED);
  } else if (st.acknowledged_unix_ms() > 0) {
    st.set_state(v1::ACKNOWLEDGED);
  } else if (st.expired_unix_ms() > 0) {
    st.set_state(v1::EXPIRED);
  } else if (st.delivered_unix_ms() > 0) {
    st.set_state(v1::DELIVERED);
  }
  return changed;
}

v1::PathNotice NoticeOf(const v1::StoredStatus& st) {
  v1::PathNotice n;
  n.set_message_id(st.message_id());
  n.set_delivered_unix_ms(st.delivered_unix_ms());
  if (st.state() == v1::ACKNOWLEDGED) {
    n.set_acknowledged_unix_ms(st.acknowledged_unix_ms());
    n.set_acknowledgement(st.acknowledgement());
  }
  if (st.state() == v1::REFUSED) {
    n.set_refused_unix_ms(st.refused_unix_ms());
    n.set_refusal(st.refusal());
  }
  if (st.state() == v1::EXPIRED) n.set_expired_unix_ms(st.expired_unix_ms());
  return n;
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
  if (st.state() == v1::REFUSED) {
    return Error(absl::StatusCode::kFailedPrecondition, "MESSAGE_REFUSED",
                 absl::StrCat("message ", HexEncode(AsBytes(st.message_id())),
                              " was refused (", st.reason_code(),
                              ") and is no longer queued; its sender sees "
                              "REFUSED"));
  }
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

absl::Status CheckAcknowledgeable(const v1::StoredStatus& st,
                                  const AckRequest& ack, bool* repeat) {
  const bool refusing = !ack.refusal.empty();
  *repeat = false;
  if (st.relayed_unix_ms() != 0 ||
      (st.state() == v1::ACKNOWLEDGED && !refusing) ||
      (st.state() == v1::REFUSED && refusing)) {
    *repeat = true;
    return absl::OkStatus();
  }
  // A recipient may refuse what it acknowledged (it stored the message,
  // then found it is not its own): the acknowledgement stays as evidence.
  if (st.state() == v1::ACKNOWLEDGED) return absl::OkStatus();
  if (st.state() != v1::ACCEPTED && st.state() != v1::DELIVERED) {
    return NotAcknowledgeable(st);
  }
  return absl::OkStatus();
}

bool RefusesAfterAcknowledgement(const v1::StoredStatus& st,
                                 const AckRequest& ack) {
  return !ack.refusal.empty() && st.state() == v1::ACKNOWLEDGED;
}

void MarkRefused(v1::StoredStatus& st, const std::string& refusal,
                 int64_t now_unix_ms) {
  st.set_state(v1::REFUSED);
  st.set_refused_unix_ms(now_unix_ms);
  st.set_refusal(refusal);
  // The caller checked the refusal; here only its reason and text are read.
  v1::SignedRefusal signed_refusal;
  v1::RefusalBody body;
  if (signed_refusal.ParseFromString(refusal) &&
      body.ParseFromString(signed_refusal.body())) {
    st.set_reason_code(
        absl::StrCat("REFUSED_", envelope::RefusalReasonToken(body.reason())));
    st.set_reason(body.text());
  }
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

namespace {
void PutU64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}
}  // namespace

std::vector<std::string> DeadlineIndexKeys(const v1::CaseRecord& record) {
  std::vector<std::string> keys;
  for (const v1::Deadline& d : record.deadlines()) {
    std::string k;
    if (d.escalated_unix_ms() != 0) {
      k = "o";
    } else {
      k = "p";
      PutU64(k, static_cast<uint64_t>(std::max<int64_t>(0, d.due_unix_ms())));
    }
    k.append(record.case_ref());
    k.push_back('\0');
    k.push_back(static_cast<char>(d.kind()));
    keys.push_back(std::move(k));
  }
  return keys;
}

std::string CaseOfDeadlineKey(absl::string_view key) {
  size_t start = 0;
  if (absl::StartsWith(key, "p") && key.size() > 9) {
    start = 9;
  } else if (absl::StartsWith(key, "o")) {
    start = 1;
  } else {
    return "";
  }
  const size_t end = key.rfind('\0');
  if (end == absl::string_view::npos || end < start) return "";
  return std::string(key.substr(start, end - start));
}

std::string DueBound(int64_t now_unix_ms) {
  std::string k = "p";
  PutU64(k, static_cast<uint64_t>(std::max<int64_t>(0, now_unix_ms)) + 1);
  return k;
}

std::vector<v1::AuditEvent> DeadlineEvents(const v1::CaseRecord& before,
                                           const v1::CaseRecord& after,
                                           int64_t now_unix_ms) {
  std::vector<v1::AuditEvent> out;
  for (const v1::Deadline& d : after.deadlines()) {
    if (d.escalated_unix_ms() == 0) continue;
    bool was = false;
    for (const v1::Deadline& b : before.deadlines()) {
      was = was || (b.kind() == d.kind() && b.escalated_unix_ms() != 0);
    }
    if (was) continue;
    v1::AuditEvent e;
    e.set_kind(v1::DEADLINE_MISSED);
    e.set_time_unix_ms(now_unix_ms);
    e.set_case_ref(after.case_ref());
    e.set_message_id(d.set_by_message_id());
    e.set_message_type(d.set_by_type());
    e.set_sender_org(d.waiting_org());
    e.set_recipient_org(d.responsible_org());
    std::string detail = absl::StrCat(
        v1::DeadlineKind_Name(d.kind()), " due ",
        IsoSeconds(absl::FromUnixMillis(d.due_unix_ms())), ", owed by ",
        d.responsible_org(), " to ", d.waiting_org());
    if (d.unreachable_since_unix_ms() != 0) {
      // Told to the coordinators only: the organisation could not answer.
      e.set_peer_node(d.unreachable_node());
      absl::StrAppend(
          &detail, "; node ", d.unreachable_node(), " unreachable since ",
          IsoSeconds(absl::FromUnixMillis(d.unreachable_since_unix_ms())),
          ": not counted against ", d.responsible_org());
    }
    e.set_detail(std::move(detail));
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace trm::storage
