#include "server/storage/commit_group.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/bytes.h"
#include "common/crypto/hash.h"
#include "common/status.h"
#include "server/storage/store_errors.h"
#include "server/storage/store_keys.h"

namespace trm::storage {
namespace {

// The audit event of a step taken for the message of `st`.
v1::AuditEvent EventOf(v1::AuditEventKind kind, const v1::StoredStatus& st,
                       int64_t time_unix_ms) {
  v1::AuditEvent e;
  e.set_kind(kind);
  e.set_time_unix_ms(time_unix_ms);
  e.set_message_id(st.message_id());
  e.set_case_ref(st.case_ref());
  e.set_message_type(st.message_type());
  e.set_sender_org(st.sender_org());
  e.set_recipient_org(st.recipient_org());
  e.set_envelope_sha256(st.envelope_sha256());
  return e;
}

std::string Sha256Of(absl::string_view bytes) {
  if (bytes.empty()) return "";
  const crypto::Sha256Digest d = crypto::Sha256({AsBytes(bytes)});
  return std::string(d.begin(), d.end());
}

// A node's step (relayed, refused for good) on a message still queued:
// false when it was taken out before (nothing to do), or when it left the
// queue otherwise (`*refusal` then says how).
bool QueuedForNode(const v1::StoredStatus& st, absl::Status* refusal) {
  if (st.state() == v1::ACKNOWLEDGED || st.relayed_unix_ms() != 0) {
    return false;  // idempotent
  }
  if (st.state() != v1::ACCEPTED && st.state() != v1::DELIVERED) {
    *refusal = NotAcknowledgeable(st);
    return false;
  }
  return true;
}

}  // namespace

const std::string* MessageIdOf(const StoreRequest& request) {
  struct {
    const std::string* operator()(const AcceptOp& op) {
      return &op.request->message_id;
    }
    const std::string* operator()(const AcknowledgeOp& op) {
      return &op.ack->message_id;
    }
    const std::string* operator()(const RelayedOp& op) {
      return &op.relayed->message_id;
    }
    const std::string* operator()(const RejectQueuedOp& op) {
      return op.message_id;
    }
    const std::string* operator()(const DeliveredOp& op) {
      return op.message_id;
    }
    const std::string* operator()(const RejectionOp& op) {
      return &op.rejection->message_id();
    }
    const std::string* operator()(const PathOp& op) {
      return &op.notice->message_id();
    }
    const std::string* operator()(const ExpireOp&) { return nullptr; }
    const std::string* operator()(const PurgeOp&) { return nullptr; }
    const std::string* operator()(const NoticesDoneOp&) { return nullptr; }
    const std::string* operator()(const AuditOp&) { return nullptr; }
    const std::string* operator()(const DeadlineOp&) { return nullptr; }
    const std::string* operator()(const ContingencyOp&) { return nullptr; }
  } id_of;
  return std::visit(id_of, request);
}

GroupWrite::GroupWrite(
    rocksdb::DB* db, const ColumnFamilies& families, AuditLog* audit,
    std::function<QueueState(const std::string&)> current_queue)
    : db_(db),
      cf_(families),
      audit_(audit),
      current_queue_(std::move(current_queue)) {}

void GroupWrite::Prefetch(const std::vector<const StoreRequest*>& requests) {
  std::vector<rocksdb::Slice> keys;
  keys.reserve(requests.size());
  for (const StoreRequest* r : requests) {
    if (const std::string* id = MessageIdOf(*r)) keys.emplace_back(*id);
  }
  if (keys.empty()) return;
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(rocksdb::ReadOptions(), cf_.status, keys.size(), keys.data(),
                values.data(), statuses.data());
  for (size_t i = 0; i < keys.size(); ++i) {
    prefetched_[keys[i].ToString()] = {statuses[i], values[i].ToString()};
  }
}

bool GroupWrite::Add(const StoreRequest& request, StoreResult& result) {
  return std::visit([&](const auto& op) { return Apply(op, result); }, request);
}

bool GroupWrite::Lookup(const std::string& id, v1::StoredStatus* out,
                        absl::Status* error) {
  if (auto it = touched_.find(id); it != touched_.end()) {
    *out = it->second;
    return true;
  }
  rocksdb::Status s;
  std::string value;
  if (auto it = prefetched_.find(id); it != prefetched_.end()) {
    s = it->second.first;
    value = it->second.second;
  } else {
    s = db_->Get(rocksdb::ReadOptions(), cf_.status, id, &value);
  }
  if (s.IsNotFound()) return false;
  if (!s.ok()) {
    *error = StoreUnavailable("cannot read a status record", s);
    return false;
  }
  if (!out->ParseFromString(value)) {
    *error = StoreCorrupt("a status record does not parse");
    return false;
  }
  return true;
}

void GroupWrite::PutStatus(v1::StoredStatus status) {
  batch_.Put(cf_.status, status.message_id(), status.SerializeAsString())
      .PermitUncheckedError();
  std::string id = status.message_id();
  touched_[std::move(id)] = std::move(status);
}

QueueState& GroupWrite::Queue(const std::string& queue) {
  auto it = queue_after_.find(queue);
  if (it != queue_after_.end()) return it->second;
  return queue_after_[queue] = current_queue_(queue);
}

absl::Status GroupWrite::CaseRecord(const std::string& case_ref,
                                    v1::CaseRecord* out) {
  if (auto it = cases_after_.find(case_ref); it != cases_after_.end()) {
    *out = it->second;
    return absl::OkStatus();
  }
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf_.cases, case_ref, &v);
  if (s.IsNotFound()) {
    *out = v1::CaseRecord();
    return absl::OkStatus();
  }
  if (!s.ok()) return StoreUnavailable("cannot read a case record", s);
  if (!out->ParseFromString(v)) {
    return StoreCorrupt("a case record does not parse");
  }
  return absl::OkStatus();
}

void GroupWrite::Log(v1::AuditEvent event) {
  if (audit_ != nullptr) audit_->Add(std::move(event), batch_);
}

void GroupWrite::Log(v1::AuditEvent event, v1::StoredStatus& st) {
  if (audit_ == nullptr) return;
  // The group is the message id's and case reference's: an event with
  // other ones (none today) is indexed under its own.
  const bool same = event.message_id() == st.message_id() &&
                    event.case_ref() == st.case_ref();
  if (!same) {
    audit_->Add(std::move(event), batch_);
    return;
  }
  uint64_t group = st.audit_group();
  audit_->Add(std::move(event), batch_, &group);
  st.set_audit_group(group);
}

void GroupWrite::NotifyOrigin(const v1::StoredStatus& st) {
  if (st.origin_node().empty()) return;
  const std::string queue = NoticeQueue(st.origin_node());
  QueueState& q = Queue(queue);
  batch_
      .Put(cf_.queues, QueueKey(queue, q.next_seq++),
           QueueValue(st.message_id(), 0))
      .PermitUncheckedError();
  q.depth++;
}

void GroupWrite::RemoveFromQueue(const std::string& queue,
                                 const v1::StoredStatus& existing) {
  QueueState& q = Queue(queue);
  if (q.depth > 0) q.depth--;
  q.bytes -= std::min(q.bytes, existing.envelope_size());
  batch_.Delete(cf_.queues, QueueKey(queue, existing.queue_seq()))
      .PermitUncheckedError();
}

void GroupWrite::Dequeue(const std::string& queue,
                         const v1::StoredStatus& existing) {
  RemoveFromQueue(queue, existing);
  batch_
      .Delete(cf_.expiry,
              TimeKey(existing.expires_unix_ms(), existing.message_id()))
      .PermitUncheckedError();
}

void GroupWrite::RetainUntilPurged(const std::string& id, int64_t now_unix_ms) {
  batch_.Put(cf_.acked, TimeKey(now_unix_ms, id), "").PermitUncheckedError();
}

void GroupWrite::DeadLetter(const std::string& id) {
  std::string envelope;
  if (db_->Get(rocksdb::ReadOptions(), cf_.envelopes, id, &envelope).ok()) {
    batch_.Put(cf_.dead_letters, id, envelope).PermitUncheckedError();
    batch_.Delete(cf_.envelopes, id).PermitUncheckedError();
  }
}

absl::Status GroupWrite::FindQueued(const std::string& queue,
                                    const std::string& id,
                                    v1::StoredStatus* existing) {
  absl::Status error;
  if (Lookup(id, existing, &error) && QueueOf(*existing) == queue) {
    return absl::OkStatus();
  }
  if (!error.ok()) return error;
  return Error(absl::StatusCode::kNotFound, "MESSAGE_NOT_FOUND",
               absl::StrCat("no message ", HexEncode(AsBytes(id)),
                            " is queued for ", queue,
                            " on this node; acknowledge only ids you "
                            "received"));
}

bool GroupWrite::Apply(const AcceptOp& op, StoreResult& result) {
  const AcceptRequest& r = *op.request;
  v1::StoredStatus existing;
  absl::Status error;
  // An earlier refusal of the same id does not count as a duplicate.
  if (Lookup(r.message_id, &existing, &error) &&
      existing.state() != v1::REJECTED) {
    if (existing.envelope_sha256() == r.envelope_sha256) {
      result.outcome = AcceptOutcome{existing, true, 0};
    } else {
      result.status =
          Error(absl::StatusCode::kAlreadyExists, "DUPLICATE_MESSAGE_ID",
                absl::StrCat("message id ", HexEncode(AsBytes(r.message_id)),
                             " was already accepted with different content; "
                             "give a new message a new id"));
    }
    return false;
  }
  if (!error.ok()) {
    result.status = error;
    return false;
  }
  if (r.policy.has_value()) {
    // The case rules, against the record as this group leaves it.
    v1::CaseRecord before;
    if (absl::Status s = CaseRecord(r.case_ref, &before); !s.ok()) {
      result.status = s;
      return false;
    }
    absl::StatusOr<v1::CaseRecord> next = cases::ApplyToCase(
        before, r.header, absl::FromUnixMillis(r.now_unix_ms), *r.policy);
    if (!next.ok()) {
      result.status = next.status();
      return false;
    }
    batch_.Put(cf_.cases, r.case_ref, next->SerializeAsString())
        .PermitUncheckedError();
    for (const std::string& k : DeadlineIndexKeys(before)) {
      batch_.Delete(cf_.deadlines, k).PermitUncheckedError();
    }
    for (const std::string& k : DeadlineIndexKeys(*next)) {
      batch_.Put(cf_.deadlines, k, "").PermitUncheckedError();
    }
    for (v1::AuditEvent& e : DeadlineEvents(before, *next, r.now_unix_ms)) {
      Log(std::move(e));
    }
    cases_after_[r.case_ref] = std::move(*next);
  }
  QueueState& q = Queue(QueueOf(r));
  v1::StoredStatus st = NewStatusRecord(r, q.next_seq++);
  q.depth++;
  q.bytes += r.envelope.size();
  batch_.Put(cf_.envelopes, r.message_id, r.envelope).PermitUncheckedError();
  batch_.Put(cf_.expiry, TimeKey(r.expires_unix_ms, r.message_id), QueueOf(r))
      .PermitUncheckedError();
  batch_
      .Put(cf_.queues, QueueKey(QueueOf(r), st.queue_seq()),
           QueueValue(r.message_id, r.envelope.size()))
      .PermitUncheckedError();
  v1::AuditEvent accepted = EventOf(
      r.origin_node.empty() ? v1::MESSAGE_ACCEPTED : v1::MESSAGE_RECEIVED, st,
      r.now_unix_ms);
  accepted.set_peer_node(r.origin_node);
  Log(std::move(accepted), st);
  result.outcome = AcceptOutcome{st, false, 0};
  PutStatus(std::move(st));
  return true;
}

bool GroupWrite::Apply(const AcknowledgeOp& op, StoreResult& result) {
  const AckRequest& ack = *op.ack;
  v1::StoredStatus existing;
  result.status = FindQueued(*op.queue, ack.message_id, &existing);
  if (!result.status.ok()) return false;
  bool repeat = false;
  result.status = CheckAcknowledgeable(existing, ack, &repeat);
  if (repeat || !result.status.ok()) return false;
  // A refusal after the acknowledgement: the message left the queue then,
  // and retention already purges it.
  if (!RefusesAfterAcknowledgement(existing, ack)) {
    Dequeue(*op.queue, existing);
    RetainUntilPurged(existing.message_id(), op.now_unix_ms);
  }
  if (!ack.refusal.empty()) {
    MarkRefused(existing, ack.refusal, op.now_unix_ms);
    v1::AuditEvent e = EventOf(v1::MESSAGE_REFUSED, existing, op.now_unix_ms);
    e.set_reason_code(existing.reason_code());
    e.set_evidence_sha256(Sha256Of(existing.refusal()));
    Log(std::move(e), existing);
  } else {
    existing.set_state(v1::ACKNOWLEDGED);
    existing.set_acknowledged_unix_ms(op.now_unix_ms);
    if (!ack.acknowledgement.empty()) {
      existing.set_acknowledgement(ack.acknowledgement);
    }
    v1::AuditEvent e =
        EventOf(v1::MESSAGE_ACKNOWLEDGED, existing, op.now_unix_ms);
    e.set_evidence_sha256(Sha256Of(existing.acknowledgement()));
    Log(std::move(e), existing);
  }
  NotifyOrigin(existing);
  PutStatus(std::move(existing));
  return true;
}

bool GroupWrite::Apply(const RelayedOp& op, StoreResult& result) {
  const RelayedMessage& relayed = *op.relayed;
  v1::StoredStatus existing;
  result.status = FindQueued(*op.queue, relayed.message_id, &existing);
  if (!result.status.ok() || !QueuedForNode(existing, &result.status)) {
    return false;
  }
  Dequeue(*op.queue, existing);
  RetainUntilPurged(existing.message_id(), op.now_unix_ms);
  existing.set_state(v1::RELAYED);
  existing.set_relayed_unix_ms(op.now_unix_ms);
  existing.set_relayed_to(relayed.node);
  existing.set_relay_receipt(relayed.receipt);
  v1::AuditEvent e = EventOf(v1::MESSAGE_RELAYED, existing, op.now_unix_ms);
  e.set_peer_node(relayed.node);
  e.set_evidence_sha256(Sha256Of(relayed.receipt));
  Log(std::move(e), existing);
  PutStatus(std::move(existing));
  return true;
}

bool GroupWrite::Apply(const RejectQueuedOp& op, StoreResult& result) {
  v1::StoredStatus existing;
  result.status = FindQueued(*op.queue, *op.message_id, &existing);
  if (!result.status.ok() || !QueuedForNode(existing, &result.status)) {
    return false;
  }
  Dequeue(*op.queue, existing);
  DeadLetter(existing.message_id());
  MarkRejected(existing, *op.refusal, op.now_unix_ms);
  v1::AuditEvent e = EventOf(v1::MESSAGE_REJECTED, existing, op.now_unix_ms);
  e.set_reason_code(existing.reason_code());
  if (absl::StartsWith(*op.queue, ">")) e.set_peer_node(op.queue->substr(1));
  Log(std::move(e), existing);
  PutStatus(std::move(existing));
  return true;
}

bool GroupWrite::Apply(const DeliveredOp& op, StoreResult& result) {
  v1::StoredStatus existing;
  if (!Lookup(*op.message_id, &existing, &result.status)) {
    return false;  // OK when unknown: nothing to record
  }
  if (existing.state() != v1::ACCEPTED) return false;
  existing.set_state(v1::DELIVERED);
  existing.set_delivered_unix_ms(op.now_unix_ms);
  Log(EventOf(v1::MESSAGE_DELIVERED, existing, op.now_unix_ms), existing);
  NotifyOrigin(existing);
  PutStatus(std::move(existing));
  return true;
}

bool GroupWrite::ScanTimeIndex(
    rocksdb::ColumnFamilyHandle* index, int64_t upto_unix_ms,
    absl::string_view what, StoreResult& result, size_t max,
    const std::function<void(const std::string& id, v1::StoredStatus& st,
                             bool found)>& visit) {
  const std::string upper = TimeKey(upto_unix_ms + 1, "");
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, index));
  absl::Status error;
  for (it->SeekToFirst(); it->Valid() && result.count < max; it->Next()) {
    const std::string id(
        TimeKeyId(absl::string_view(it->key().data(), it->key().size())));
    // Read first: an entry is removed only once its status is known, so a
    // failed read leaves it for the next run (and is reported).
    v1::StoredStatus st;
    const bool found = Lookup(id, &st, &error);
    if (!error.ok()) break;
    batch_.Delete(index, it->key()).PermitUncheckedError();
    visit(id, st, found);
  }
  if (!error.ok() || !it->status().ok()) {
    // What was done before the failure is whole, and is written when
    // another request of the group writes.
    result.status =
        !error.ok() ? error
                    : StoreUnavailable(absl::StrCat("cannot read the ", what),
                                       it->status());
    return false;
  }
  return true;
}

bool GroupWrite::Apply(const ExpireOp& op, StoreResult& result) {
  // Queued messages whose expiry has passed move to a dead-letter record.
  return ScanTimeIndex(
      cf_.expiry, op.now_unix_ms, "expiry index", result, op.max,
      [&](const std::string& id, v1::StoredStatus& st, bool found) {
        if (found && st.state() == v1::REJECTED && st.forget_unix_ms() != 0 &&
            st.forget_unix_ms() <= op.now_unix_ms) {
          // A refused submission's record, past its retention. (Its
          // MESSAGE_REJECTED audit event stays.)
          batch_.Delete(cf_.status, id).PermitUncheckedError();
          ++result.count;
          return;
        }
        if (!found ||
            (st.state() != v1::ACCEPTED && st.state() != v1::DELIVERED)) {
          return;  // acknowledged or expired in this very group
        }
        if (st.expires_unix_ms() > op.now_unix_ms) {
          return;  // a stale entry (a refusal's, for an id accepted later)
        }
        DeadLetter(id);
        RemoveFromQueue(QueueOf(st), st);
        MarkExpired(st, op.now_unix_ms);
        Log(EventOf(v1::MESSAGE_EXPIRED, st, op.now_unix_ms), st);
        NotifyOrigin(st);
        PutStatus(std::move(st));
        ++result.count;
      });
}

bool GroupWrite::Apply(const PurgeOp& op, StoreResult& result) {
  // Retention: payloads of acknowledged messages go; metadata stays.
  return ScanTimeIndex(
      cf_.acked, op.before_unix_ms, "retention index", result, op.max,
      [&](const std::string& id, v1::StoredStatus& st, bool found) {
        batch_.Delete(cf_.envelopes, id).PermitUncheckedError();
        if (found) {
          st.set_purged_unix_ms(op.now_unix_ms);
          Log(EventOf(v1::MESSAGE_PURGED, st, op.now_unix_ms), st);
          PutStatus(std::move(st));
        }
        ++result.count;
      });
}

bool GroupWrite::Apply(const RejectionOp& op, StoreResult& result) {
  const v1::StoredStatus& r = *op.rejection;
  v1::StoredStatus existing;
  if (Lookup(r.message_id(), &existing, &result.status) &&
      existing.state() != v1::REJECTED) {
    return false;  // never over a real message
  }
  if (!result.status.ok()) return false;
  if (r.forget_unix_ms() != 0) {
    // Forgotten after the retention, through the expiry index.
    batch_.Put(cf_.expiry, TimeKey(r.forget_unix_ms(), r.message_id()), "")
        .PermitUncheckedError();
  }
  v1::AuditEvent rejected =
      EventOf(v1::MESSAGE_REJECTED, r, r.rejected_unix_ms());
  rejected.set_reason_code(r.reason_code());
  v1::StoredStatus record = r;
  Log(std::move(rejected), record);
  PutStatus(std::move(record));
  return true;
}

bool GroupWrite::Apply(const PathOp& op, StoreResult& result) {
  const std::string& id = op.notice->message_id();
  v1::StoredStatus existing;
  if (!Lookup(id, &existing, &result.status)) {
    if (result.status.ok()) {
      result.status =
          Error(absl::StatusCode::kNotFound, "MESSAGE_NOT_RELAYED_TO_PEER",
                absl::StrCat("no message ", HexEncode(AsBytes(id)),
                             " is known to this node"));
    }
    return false;
  }
  const v1::StoredStatus before = existing;
  absl::StatusOr<bool> changed =
      MergePathNotice(existing, *op.peer, *op.notice);
  if (!changed.ok()) {
    result.status = changed.status();
    return false;
  }
  if (!*changed) return false;
  auto remote = [&](v1::AuditEventKind kind, int64_t at,
                    const std::string& evidence) {
    v1::AuditEvent e = EventOf(kind, existing, at);
    e.set_peer_node(*op.peer);
    if (kind == v1::REMOTE_REFUSED) e.set_reason_code(existing.reason_code());
    e.set_evidence_sha256(Sha256Of(evidence));
    Log(std::move(e), existing);
  };
  if (before.delivered_unix_ms() == 0 && existing.delivered_unix_ms()) {
    remote(v1::REMOTE_DELIVERED, existing.delivered_unix_ms(),
           existing.delivery_receipt());
  }
  if (before.acknowledged_unix_ms() == 0 && existing.acknowledged_unix_ms()) {
    remote(v1::REMOTE_ACKNOWLEDGED, existing.acknowledged_unix_ms(),
           existing.acknowledgement());
  }
  if (before.refused_unix_ms() == 0 && existing.refused_unix_ms()) {
    remote(v1::REMOTE_REFUSED, existing.refused_unix_ms(), existing.refusal());
  }
  if (before.expired_unix_ms() == 0 && existing.expired_unix_ms()) {
    remote(v1::REMOTE_EXPIRED, existing.expired_unix_ms(),
           existing.expiry_receipt());
  }
  PutStatus(std::move(existing));
  return true;
}

bool GroupWrite::Apply(const NoticesDoneOp& op, StoreResult&) {
  QueueState& q = Queue(*op.queue);
  for (uint64_t seq : *op.seqs) {
    const std::string key = QueueKey(*op.queue, seq);
    std::string ignored;
    if (!db_->Get(rocksdb::ReadOptions(), cf_.queues, key, &ignored).ok()) {
      continue;  // removed before
    }
    batch_.Delete(cf_.queues, key).PermitUncheckedError();
    if (q.depth > 0) q.depth--;
  }
  return true;
}

bool GroupWrite::Apply(const AuditOp& op, StoreResult&) {
  Log(*op.event);
  return true;
}

bool GroupWrite::Apply(const DeadlineOp& op, StoreResult& result) {
  v1::CaseRecord before;
  if (absl::Status s = CaseRecord(*op.case_ref, &before); !s.ok()) {
    result.status = s;
    return false;
  }
  v1::CaseRecord after = before;
  v1::Deadline* found = nullptr;
  for (v1::Deadline& d : *after.mutable_deadlines()) {
    if (d.kind() == op.expected->kind()) found = &d;
  }
  if (found == nullptr ||
      found->SerializeAsString() != op.expected->SerializeAsString()) {
    // Met, escalated or changed since it was read: the caller reads again.
    result.status =
        Error(absl::StatusCode::kAborted, "DEADLINE_CHANGED",
              absl::StrCat(v1::DeadlineKind_Name(op.expected->kind()),
                           " of case ", *op.case_ref,
                           " changed since it was read; read it again"));
    return false;
  }
  *found = *op.replacement;
  batch_.Put(cf_.cases, *op.case_ref, after.SerializeAsString())
      .PermitUncheckedError();
  for (const std::string& k : DeadlineIndexKeys(before)) {
    batch_.Delete(cf_.deadlines, k).PermitUncheckedError();
  }
  for (const std::string& k : DeadlineIndexKeys(after)) {
    batch_.Put(cf_.deadlines, k, "").PermitUncheckedError();
  }
  if (op.event != nullptr) Log(*op.event);
  cases_after_[*op.case_ref] = std::move(after);
  return true;
}

bool GroupWrite::Apply(const ContingencyOp& op, StoreResult& result) {
  const std::string key = ContingencyKey(op.contingency->id());
  std::string stored;
  if (auto it = contingencies_after_.find(key);
      it != contingencies_after_.end()) {
    stored = it->second;
  } else {
    rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(), cf_.meta, key, &stored);
    if (!s.ok() && !s.IsNotFound()) {
      result.status = StoreUnavailable("cannot read a contingency", s);
      return false;
    }
  }
  if (!stored.empty()) {
    // Known: only its end is news; a declaration never changes otherwise.
    v1::SignedContingency old;
    v1::Contingency before;
    if (!old.ParseFromString(stored) ||
        !before.ParseFromString(old.contingency())) {
      result.status = StoreCorrupt("a contingency record does not parse");
      return false;
    }
    if (before.end_unix_ms() != 0 || op.contingency->end_unix_ms() == 0) {
      return false;  // nothing new: succeeds, writes nothing
    }
  }
  std::string value = op.signed_contingency->SerializeAsString();
  batch_.Put(cf_.meta, key, value).PermitUncheckedError();
  contingencies_after_[key] = std::move(value);
  if (op.event != nullptr) Log(*op.event);
  result.count = 1;
  return true;
}

}  // namespace trm::storage
