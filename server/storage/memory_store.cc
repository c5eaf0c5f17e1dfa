#include "server/storage/memory_store.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "common/bytes.h"
#include "common/status.h"

namespace trm::storage {
namespace {

absl::Status WriteFailed() {
  return Error(absl::StatusCode::kUnavailable, "STORE_UNAVAILABLE",
               "cannot write to the store: injected failure. Nothing was "
               "stored; retry later, and check the node's disk");
}

absl::Status NotQueued(const std::string& id, const std::string& org) {
  return Error(absl::StatusCode::kNotFound, "MESSAGE_NOT_FOUND",
               absl::StrCat("no message ", HexEncode(AsBytes(id)),
                            " is queued for ", org,
                            " on this node; acknowledge only ids you "
                            "received"));
}

}  // namespace

void MemoryMessageStore::FailWrites(bool fail) {
  absl::MutexLock lock(&mu_);
  fail_writes_ = fail;
}

absl::StatusOr<AcceptOutcome> MemoryMessageStore::Accept(
    const AcceptRequest& r) {
  absl::MutexLock lock(&mu_);
  if (auto it = status_.find(r.message_id);
      it != status_.end() && it->second.state() != v1::REJECTED) {
    if (it->second.envelope_sha256() != r.envelope_sha256) {
      return Error(absl::StatusCode::kAlreadyExists, "DUPLICATE_MESSAGE_ID",
                   absl::StrCat("message id ", HexEncode(AsBytes(r.message_id)),
                                " was already accepted with different "
                                "content; give a new message a new id"));
    }
    return AcceptOutcome{it->second, true, 0};
  }
  if (fail_writes_) return WriteFailed();
  std::optional<v1::CaseRecord> next_case;
  if (r.policy != nullptr) {
    ASSIGN_OR_RETURN(
        next_case,
        cases::ApplyToCase(cases_[r.case_ref], r.header,
                           absl::FromUnixMillis(r.now_unix_ms), *r.policy));
  }
  if (next_case.has_value()) {
    v1::CaseRecord& rec = cases_[r.case_ref];
    for (const std::string& k : DeadlineIndexKeys(rec)) {
      deadline_index_.erase(k);
    }
    for (const std::string& k : DeadlineIndexKeys(*next_case)) {
      deadline_index_.insert(k);
    }
    rec = std::move(*next_case);
  }
  const std::string& queue = QueueOf(r);
  uint64_t& next = next_seq_[queue];
  if (next == 0) next = 1;
  v1::StoredStatus st = NewStatusRecord(r, next++);
  queued_bytes_[queue] += r.envelope.size();
  queues_[queue][st.queue_seq()] = r.message_id;
  envelopes_[r.message_id] = r.envelope;
  status_[r.message_id] = st;
  return AcceptOutcome{st, false, ++commits_};
}

std::vector<absl::StatusOr<AcceptOutcome>> MemoryMessageStore::AcceptMany(
    const std::vector<AcceptRequest>& requests) {
  std::vector<absl::StatusOr<AcceptOutcome>> out;
  for (const AcceptRequest& r : requests) out.push_back(Accept(r));
  return out;
}

absl::StatusOr<std::vector<QueuedMessage>> MemoryMessageStore::ReadQueue(
    const std::string& recipient_org, uint64_t from_seq, size_t max) {
  absl::MutexLock lock(&mu_);
  std::vector<QueuedMessage> out;
  auto q = queues_.find(recipient_org);
  if (q == queues_.end()) return out;
  for (auto it = q->second.lower_bound(from_seq);
       it != q->second.end() && out.size() < max; ++it) {
    out.push_back(QueuedMessage{it->first, it->second, envelopes_[it->second]});
  }
  return out;
}

std::vector<absl::Status> MemoryMessageStore::MarkRelayed(
    const std::string& queue, const std::vector<RelayedMessage>& relayed,
    int64_t now_unix_ms) {
  std::vector<absl::Status> out;
  for (const RelayedMessage& r : relayed) {
    absl::Status s = Acknowledge(queue, r.message_id, now_unix_ms);
    if (s.ok()) {
      absl::MutexLock lock(&mu_);
      v1::StoredStatus& st = status_[r.message_id];
      if (st.state() == v1::ACKNOWLEDGED) {
        st.set_state(v1::RELAYED);
        st.clear_acknowledged_unix_ms();
        st.set_relayed_unix_ms(now_unix_ms);
        st.set_relayed_to(r.node);
        st.set_relay_receipt(r.receipt);
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

absl::Status MemoryMessageStore::RejectQueued(const std::string& queue,
                                              const std::string& message_id,
                                              const absl::Status& refusal,
                                              int64_t now_unix_ms) {
  RETURN_IF_ERROR(Acknowledge(queue, message_id, now_unix_ms));
  absl::MutexLock lock(&mu_);
  v1::StoredStatus& st = status_[message_id];
  st.clear_acknowledged_unix_ms();
  MarkRejected(st, refusal, now_unix_ms);
  dead_letters_[message_id] = envelopes_[message_id];
  envelopes_.erase(message_id);
  return absl::OkStatus();
}

absl::Status MemoryMessageStore::RecordRejection(
    const v1::StoredStatus& rejection) {
  absl::MutexLock lock(&mu_);
  auto it = status_.find(rejection.message_id());
  if (it != status_.end() && it->second.state() != v1::REJECTED) {
    return absl::OkStatus();
  }
  if (fail_writes_) return WriteFailed();
  status_[rejection.message_id()] = rejection;
  return absl::OkStatus();
}

absl::Status MemoryMessageStore::AppendAudit(const v1::AuditEvent& event) {
  absl::MutexLock lock(&mu_);
  if (fail_writes_) return WriteFailed();
  audit_.push_back(event);
  return absl::OkStatus();
}

std::vector<v1::AuditEvent> MemoryMessageStore::audit_events() const {
  absl::MutexLock lock(&mu_);
  return audit_;
}

absl::Status MemoryMessageStore::AcknowledgeLocked(
    const std::string& recipient_org, const AckRequest& ack,
    int64_t now_unix_ms) {
  auto it = status_.find(ack.message_id);
  if (it == status_.end() || QueueOf(it->second) != recipient_org) {
    return NotQueued(ack.message_id, recipient_org);
  }
  bool repeat = false;
  RETURN_IF_ERROR(CheckAcknowledgeable(it->second, ack, &repeat));
  if (repeat) return absl::OkStatus();
  if (fail_writes_) return WriteFailed();
  if (!RefusesAfterAcknowledgement(it->second, ack)) {
    queues_[recipient_org].erase(it->second.queue_seq());
    queued_bytes_[recipient_org] -= it->second.envelope_size();
  }
  if (!ack.refusal.empty()) {
    MarkRefused(it->second, ack.refusal, now_unix_ms);
  } else {
    it->second.set_state(v1::ACKNOWLEDGED);
    it->second.set_acknowledged_unix_ms(now_unix_ms);
    if (!ack.acknowledgement.empty()) {
      it->second.set_acknowledgement(ack.acknowledgement);
    }
  }
  NotifyOriginLocked(it->second);
  ++commits_;
  return absl::OkStatus();
}

void MemoryMessageStore::NotifyOriginLocked(const v1::StoredStatus& st) {
  if (st.origin_node().empty()) return;
  const std::string queue = NoticeQueue(st.origin_node());
  uint64_t& next = next_seq_[queue];
  if (next == 0) next = 1;
  queues_[queue][next++] = st.message_id();
}

std::vector<absl::Status> MemoryMessageStore::AcknowledgeAll(
    const std::string& recipient_org, const std::vector<AckRequest>& acks,
    int64_t now_unix_ms) {
  absl::MutexLock lock(&mu_);
  std::vector<absl::Status> out;
  for (const AckRequest& ack : acks) {
    out.push_back(AcknowledgeLocked(recipient_org, ack, now_unix_ms));
  }
  return out;
}

absl::StatusOr<std::vector<PendingNotice>> MemoryMessageStore::ReadNotices(
    const std::string& node, size_t max) {
  absl::MutexLock lock(&mu_);
  std::vector<PendingNotice> out;
  auto q = queues_.find(NoticeQueue(node));
  if (q == queues_.end()) return out;
  for (auto it = q->second.begin(); it != q->second.end() && out.size() < max;
       ++it) {
    out.push_back(PendingNotice{it->first, status_[it->second]});
  }
  return out;
}

absl::Status MemoryMessageStore::RemoveNotices(
    const std::string& node, const std::vector<uint64_t>& seqs) {
  absl::MutexLock lock(&mu_);
  if (fail_writes_) return WriteFailed();
  auto& q = queues_[NoticeQueue(node)];
  for (uint64_t seq : seqs) q.erase(seq);
  return absl::OkStatus();
}

std::vector<absl::Status> MemoryMessageStore::RecordPath(
    const std::string& peer, const std::vector<v1::PathNotice>& notices,
    int64_t /*now_unix_ms*/) {
  absl::MutexLock lock(&mu_);
  std::vector<absl::Status> out;
  for (const v1::PathNotice& n : notices) {
    auto it = status_.find(n.message_id());
    if (it == status_.end()) {
      out.push_back(
          Error(absl::StatusCode::kNotFound, "MESSAGE_NOT_RELAYED_TO_PEER",
                absl::StrCat("no message ", HexEncode(AsBytes(n.message_id())),
                             " is known to this node")));
      continue;
    }
    v1::StoredStatus next = it->second;
    absl::StatusOr<bool> changed = MergePathNotice(next, peer, n);
    if (!changed.ok()) {
      out.push_back(changed.status());
      continue;
    }
    if (*changed && fail_writes_) {
      out.push_back(WriteFailed());
      continue;
    }
    it->second = std::move(next);
    out.push_back(absl::OkStatus());
  }
  return out;
}

absl::Status MemoryMessageStore::MarkDeliveredMany(
    const std::vector<std::string>& ids, int64_t now_unix_ms) {
  for (const std::string& id : ids) {
    RETURN_IF_ERROR(MarkDelivered(id, now_unix_ms));
  }
  return absl::OkStatus();
}

absl::Status MemoryMessageStore::MarkDelivered(const std::string& message_id,
                                               int64_t now_unix_ms) {
  absl::MutexLock lock(&mu_);
  auto it = status_.find(message_id);
  if (it == status_.end() || it->second.state() != v1::ACCEPTED) {
    return absl::OkStatus();
  }
  if (fail_writes_) return WriteFailed();
  it->second.set_state(v1::DELIVERED);
  it->second.set_delivered_unix_ms(now_unix_ms);
  NotifyOriginLocked(it->second);
  return absl::OkStatus();
}

absl::StatusOr<size_t> MemoryMessageStore::ExpireDue(int64_t now_unix_ms,
                                                     size_t max) {
  absl::MutexLock lock(&mu_);
  if (fail_writes_) return WriteFailed();
  size_t expired = 0;
  // Records of refused submissions past their retention go.
  absl::erase_if(status_, [&](const auto& kv) {
    return kv.second.state() == v1::REJECTED &&
           kv.second.forget_unix_ms() != 0 &&
           kv.second.forget_unix_ms() <= now_unix_ms;
  });
  for (auto& [id, st] : status_) {
    if (expired >= max) break;
    if ((st.state() != v1::ACCEPTED && st.state() != v1::DELIVERED) ||
        st.relayed_unix_ms() != 0 || st.expires_unix_ms() > now_unix_ms) {
      continue;
    }
    queues_[QueueOf(st)].erase(st.queue_seq());
    queued_bytes_[QueueOf(st)] -= st.envelope_size();
    dead_letters_[id] = std::move(envelopes_[id]);
    envelopes_.erase(id);
    MarkExpired(st, now_unix_ms);
    NotifyOriginLocked(st);
    ++expired;
  }
  return expired;
}

absl::StatusOr<size_t> MemoryMessageStore::PurgeAcknowledged(
    int64_t acknowledged_before_unix_ms, int64_t now_unix_ms, size_t max) {
  absl::MutexLock lock(&mu_);
  if (fail_writes_) return WriteFailed();
  size_t purged = 0;
  for (auto& [id, st] : status_) {
    if (purged >= max) break;
    const int64_t left = st.state() == v1::ACKNOWLEDGED
                             ? st.acknowledged_unix_ms()
                         : st.state() == v1::REFUSED ? st.refused_unix_ms()
                                                     : 0;
    if (left == 0 || st.purged_unix_ms() != 0 ||
        left > acknowledged_before_unix_ms) {
      continue;
    }
    envelopes_.erase(id);
    st.set_purged_unix_ms(now_unix_ms);
    ++purged;
  }
  return purged;
}

absl::StatusOr<std::string> MemoryMessageStore::GetDeadLetter(
    const std::string& message_id) {
  absl::MutexLock lock(&mu_);
  auto it = dead_letters_.find(message_id);
  if (it == dead_letters_.end()) {
    return Error(absl::StatusCode::kNotFound, "MESSAGE_NOT_FOUND",
                 absl::StrCat("no dead-letter record for ",
                              HexEncode(AsBytes(message_id))));
  }
  return it->second;
}

absl::StatusOr<v1::StoredStatus> MemoryMessageStore::GetStatus(
    const std::string& message_id) {
  absl::MutexLock lock(&mu_);
  auto it = status_.find(message_id);
  if (it == status_.end()) {
    return Error(absl::StatusCode::kNotFound, "MESSAGE_NOT_FOUND",
                 absl::StrCat("no message ", HexEncode(AsBytes(message_id)),
                              " is known to this node"));
  }
  return it->second;
}

absl::StatusOr<v1::CaseRecord> MemoryMessageStore::GetCase(
    const std::string& case_ref) {
  absl::MutexLock lock(&mu_);
  auto it = cases_.find(case_ref);
  return it == cases_.end() ? v1::CaseRecord() : it->second;
}

absl::StatusOr<std::vector<std::string>> MemoryMessageStore::DueCases(
    int64_t now_unix_ms, size_t max) {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  const std::string bound = DueBound(now_unix_ms);
  for (auto it = deadline_index_.lower_bound("p");
       it != deadline_index_.end() && *it < bound && out.size() < max; ++it) {
    std::string ref = CaseOfDeadlineKey(*it);
    if (std::find(out.begin(), out.end(), ref) == out.end()) {
      out.push_back(std::move(ref));
    }
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> MemoryMessageStore::OverdueCases(
    size_t max) {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (auto it = deadline_index_.lower_bound("o");
       it != deadline_index_.end() && *it < "p" && out.size() < max; ++it) {
    std::string ref = CaseOfDeadlineKey(*it);
    if (std::find(out.begin(), out.end(), ref) == out.end()) {
      out.push_back(std::move(ref));
    }
  }
  return out;
}

absl::StatusOr<uint64_t> MemoryMessageStore::QueueDepth(
    const std::string& recipient_org) {
  absl::MutexLock lock(&mu_);
  auto it = queues_.find(recipient_org);
  return it == queues_.end() ? 0 : it->second.size();
}

absl::StatusOr<uint64_t> MemoryMessageStore::QueueBytes(
    const std::string& recipient_org) {
  absl::MutexLock lock(&mu_);
  auto it = queued_bytes_.find(recipient_org);
  return it == queued_bytes_.end() ? 0 : it->second;
}

}  // namespace trm::storage
