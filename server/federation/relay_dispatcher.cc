#include "server/federation/relay_dispatcher.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/crypto/hash.h"
#include "common/log.h"
#include "common/status.h"
#include "server/federation/urgent_first.h"
#include "server/receipts/receipt_signer.h"
#include "trm/v1/receipt.pb.h"

namespace trm::federation {

using absl::StatusCode;

absl::string_view BreakerName(PeerState::Breaker b) {
  switch (b) {
    case PeerState::Breaker::kClosed:
      return "closed";
    case PeerState::Breaker::kOpen:
      return "open";
    case PeerState::Breaker::kHalfOpen:
      return "half-open";
  }
  return "?";
}

bool IsRetriable(absl::StatusCode code) {
  switch (code) {
    case StatusCode::kUnavailable:
    case StatusCode::kResourceExhausted:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kAborted:
    case StatusCode::kInternal:
    case StatusCode::kUnknown:
    case StatusCode::kCancelled:
      return true;
    default:
      return false;
  }
}

RelayDispatcher::RelayDispatcher(std::string peer, RelayPolicy policy,
                                 storage::MessageStore& store,
                                 const mailbox::OrgRegistry& registry,
                                 receipts::ReceiptSigner& signer,
                                 PeerTransport& transport, const Clock& clock,
                                 std::function<double()> random)
    : peer_(std::move(peer)),
      queue_(storage::OutboundQueue(peer_)),
      policy_(policy),
      store_(store),
      registry_(registry),
      signer_(signer),
      transport_(transport),
      clock_(clock),
      random_(std::move(random)) {}

PeerState RelayDispatcher::state() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

absl::Time RelayDispatcher::Failed(const absl::Status& why, absl::Time now) {
  if (state_.consecutive_failures == 0) state_.failing_since = now;
  state_.consecutive_failures++;
  state_.failed_attempts++;
  state_.last_error = std::string(why.message());
  if (state_.consecutive_failures >= policy_.breaker_failures) {
    state_.breaker = PeerState::Breaker::kOpen;
    state_.next_attempt = now + policy_.breaker_open;
    return state_.next_attempt;
  }
  // Full jitter: uniform in [0, min(cap, base * 2^failures)).
  const double exp =
      std::min(absl::ToDoubleSeconds(policy_.max_backoff),
               absl::ToDoubleSeconds(policy_.base_backoff) *
                   std::pow(2.0, std::min(state_.consecutive_failures, 30)));
  state_.next_attempt = now + absl::Seconds(exp * random_());
  return state_.next_attempt;
}

absl::Status RelayDispatcher::CheckReceipt(
    const v1::Receipt& receipt, const std::string& id,
    const std::string& envelope, receipts::VerifiedBatches& verified) const {
  v1::ReceiptLeaf leaf;
  if (!leaf.ParseFromString(receipt.leaf())) {
    return Error(StatusCode::kDataLoss, "RECEIPT_INVALID",
                 "the peer's receipt leaf does not parse");
  }
  const crypto::Sha256Digest digest = crypto::Sha256({AsBytes(envelope)});
  if (leaf.kind() != v1::RECEIPT_RELAYED || leaf.node() != peer_ ||
      leaf.message_id() != id ||
      !SameBytes(AsBytes(leaf.envelope_sha256()), digest)) {
    return Error(
        StatusCode::kDataLoss, "RECEIPT_INVALID",
        absl::StrCat("node ", peer_, "'s receipt for ", HexEncode(AsBytes(id)),
                     " is not a relay receipt for this envelope"));
  }
  std::shared_ptr<const directory::Directory> dir = registry_.directory();
  ASSIGN_OR_RETURN(
      crypto::Ed25519PublicKey key,
      dir->NodeSigningKey(peer_, receipt.node_key_id(),
                          absl::FromUnixMillis(leaf.time_unix_ms())));
  return receipts::VerifyReceipt(receipt, key, verified);
}

std::vector<v1::MessageType> RelayDispatcher::UrgentTypesNow() const {
  if (book_ == nullptr) return {};
  const std::shared_ptr<const directory::Directory> dir = registry_.directory();
  const auto& types = dir->doc().policy().contingency().urgent_types();
  if (types.empty() || !book_->HoldsNow(*dir, registry_.node_id(), peer_)) {
    return {};
  }
  std::vector<v1::MessageType> out;
  for (int t : types) out.push_back(static_cast<v1::MessageType>(t));
  return out;
}

absl::StatusOr<std::vector<v1::PathNotice>> RelayDispatcher::Notices(
    const std::vector<storage::PendingNotice>& pending) {
  std::vector<v1::PathNotice> out;
  std::vector<v1::ReceiptLeaf> leaves;
  std::vector<v1::Receipt*> slots;
  out.reserve(pending.size());
  for (const storage::PendingNotice& p : pending) {
    out.push_back(storage::NoticeOf(p.status));
  }
  // Receipts are signed once all notices exist: `slots` points into `out`.
  for (size_t i = 0; i < pending.size(); ++i) {
    const v1::StoredStatus& st = pending[i].status;
    auto add = [&](v1::ReceiptKind kind, int64_t time, v1::Receipt* slot) {
      v1::ReceiptLeaf leaf;
      leaf.set_kind(kind);
      leaf.set_message_id(st.message_id());
      leaf.set_envelope_sha256(st.envelope_sha256());
      leaf.set_node(registry_.node_id());
      leaf.set_time_unix_ms(time);
      leaves.push_back(std::move(leaf));
      slots.push_back(slot);
    };
    if (out[i].delivered_unix_ms() > 0) {
      add(v1::RECEIPT_DELIVERED, out[i].delivered_unix_ms(),
          out[i].mutable_delivery_receipt());
    }
    if (out[i].expired_unix_ms() > 0) {
      add(v1::RECEIPT_EXPIRED, out[i].expired_unix_ms(),
          out[i].mutable_expiry_receipt());
    }
  }
  if (!leaves.empty()) {
    ASSIGN_OR_RETURN(std::vector<v1::Receipt> receipts,
                     signer_.SignMany(leaves));
    for (size_t k = 0; k < slots.size(); ++k) {
      *slots[k] = std::move(receipts[k]);
    }
  }
  return out;
}

absl::Time RelayDispatcher::Step() {
  const absl::Time now = clock_.Now();
  {
    absl::MutexLock lock(&mu_);
    if (now < state_.next_attempt) return state_.next_attempt;
    if (state_.breaker == PeerState::Breaker::kOpen) {
      state_.breaker = PeerState::Breaker::kHalfOpen;  // one trial batch
    }
  }
  const std::vector<v1::MessageType> urgent = UrgentTypesNow();
  absl::StatusOr<std::vector<storage::QueuedMessage>> page = store_.ReadQueue(
      queue_, 0,
      urgent.empty() ? policy_.batch
                     : std::max(policy_.batch, policy_.urgent_window));
  size_t moved_ahead = 0;
  if (page.ok() && !urgent.empty()) {
    moved_ahead = UrgentFirst(*page, urgent);
    if (page->size() > policy_.batch) page->resize(policy_.batch);
  }
  absl::StatusOr<std::vector<storage::PendingNotice>> pending =
      page.ok() ? store_.ReadNotices(peer_, policy_.notices) : page.status();
  absl::StatusOr<std::vector<v1::PathNotice>> notices =
      pending.ok() ? Notices(*pending) : pending.status();
  if (!notices.ok()) {
    absl::MutexLock lock(&mu_);
    return Failed(notices.status(), now);
  }
  // A declaration or an end not yet carried goes at once.
  const uint64_t changes = book_ != nullptr ? book_->Changes() : 0;
  const bool heartbeat = (witness_ != nullptr && now >= next_witness_) ||
                         changes != carried_changes_;
  if (page->empty() && notices->empty() && !heartbeat) {
    return now + policy_.idle_poll;
  }
  // Within the byte bound; the rest goes in the next batch.
  size_t bytes = 0, take = 0;
  while (take < page->size() &&
         (take == 0 ||
          bytes + (*page)[take].envelope.size() <= policy_.max_batch_bytes)) {
    bytes += (*page)[take++].envelope.size();
  }
  page->resize(take);
  v1::RelayBatch batch;
  batch.set_batch_id(next_batch_id_++);
  for (const storage::QueuedMessage& m : *page) batch.add_envelopes(m.envelope);
  for (v1::PathNotice& n : *notices) *batch.add_notices() = std::move(n);
  if (witness_ != nullptr) {
    batch.set_known_tree_size(witness_->KnownSize(peer_));
  }
  if (book_ != nullptr) {
    for (v1::SignedContingency& c : book_->ToCarry()) {
      *batch.add_contingencies() = std::move(c);
    }
  }
  absl::StatusOr<v1::RelayAck> ack = transport_.Send(batch);
  if (ack.ok() && (ack->results_size() != batch.envelopes_size() ||
                   ack->notice_results_size() != batch.notices_size())) {
    ack = Error(
        StatusCode::kInternal, "RELAY_PROTOCOL",
        absl::StrCat("node ", peer_, " answered ", ack->results_size(),
                     " results and ", ack->notice_results_size(),
                     " notice results for a batch of ", batch.envelopes_size(),
                     " envelopes and ", batch.notices_size(), " notices"));
  }
  if (!ack.ok()) {
    absl::MutexLock lock(&mu_);
    return Failed(ack.status(), now);
  }
  carried_changes_ = changes;
  if (witness_ != nullptr) {
    next_witness_ = now + policy_.witness_interval;
    if (ack->has_tree_head()) {
      // A fork raises the alarm inside; relaying goes on either way.
      witness_->Observe(peer_, ack->tree_head(), ack->consistency())
          .IgnoreError();
    }
  }
  std::vector<storage::RelayedMessage> relayed;
  absl::Status retry;  // the first refusal worth retrying, if any
  size_t refused = 0;
  receipts::VerifiedBatches verified;
  for (size_t i = 0; i < page->size(); ++i) {
    const storage::QueuedMessage& m = (*page)[i];
    const v1::RelayResult& r = ack->results(static_cast<int>(i));
    if (r.error_code() == 0) {
      if (absl::Status ok =
              CheckReceipt(r.receipt(), m.message_id, m.envelope, verified);
          !ok.ok()) {
        if (retry.ok()) retry = ok;  // never drop a message on a bad receipt
        continue;
      }
      relayed.push_back(storage::RelayedMessage{
          m.message_id, peer_, r.receipt().SerializeAsString()});
      continue;
    }
    const absl::Status refusal =
        Error(static_cast<StatusCode>(r.error_code()),
              r.error_reason().empty() ? "PEER_REFUSED" : r.error_reason(),
              absl::StrCat("node ", peer_, " refused it: ", r.error_message()));
    if (IsRetriable(refusal.code())) {
      if (retry.ok()) retry = refusal;
      continue;
    }
    if (store_
            .RejectQueued(queue_, m.message_id, refusal,
                          absl::ToUnixMillis(now))
            .ok()) {
      ++refused;
    }
  }
  // Notices the peer recorded, or refused for good, leave the queue.
  std::vector<uint64_t> done;
  size_t notices_refused = 0;
  for (size_t i = 0; i < pending->size(); ++i) {
    const v1::NoticeResult& r = ack->notice_results(static_cast<int>(i));
    if (r.error_code() != 0) {
      const StatusCode code = static_cast<StatusCode>(r.error_code());
      if (IsRetriable(code)) {
        if (retry.ok()) {
          retry = Error(
              code, r.error_reason(),
              absl::StrCat("node ", peer_,
                           " could not record a notice: ", r.error_message()));
        }
        continue;
      }
      ++notices_refused;
      log::Warn("relay.notice_refused",
                absl::StrCat("node ", peer_, " refused the path notice for ",
                             HexEncode(AsBytes(r.message_id())), ": ",
                             r.error_message(), " (", r.error_reason(), ")"),
                {{"peer", peer_}, {"reason", r.error_reason()}});
    }
    done.push_back((*pending)[i].seq);
  }
  if (!done.empty()) {
    if (absl::Status s = store_.RemoveNotices(peer_, done); !s.ok()) {
      if (retry.ok()) retry = s;
      done.clear();
      notices_refused = 0;
    }
  }
  const int64_t relayed_ms = absl::ToUnixMillis(clock_.Now());
  size_t stored = 0;
  const std::vector<absl::Status> marked =
      store_.MarkRelayed(queue_, relayed, relayed_ms);
  for (size_t i = 0; i < marked.size(); ++i) {
    if (!marked[i].ok()) continue;
    ++stored;
    if (log::MessageLogging())
      log::Message("message.relayed", relayed[i].message_id,
                   {{"node", registry_.node_id()}, {"peer", peer_}});
  }
  if (moved_ahead > 0 && stored > 0) {
    log::Info("relay.urgent_first",
              absl::StrCat("a contingency holds for the route to node ", peer_,
                           ": ", moved_ahead,
                           " messages (urgent ones, with their cases' "
                           "earlier ones) went before messages queued "
                           "earlier"),
              {{"peer", peer_}});
  }
  absl::MutexLock lock(&mu_);
  state_.relayed += stored;
  state_.refused += refused;
  state_.notices_sent += done.size() - notices_refused;
  state_.notices_refused += notices_refused;
  if (!retry.ok()) return Failed(retry, now);
  state_.consecutive_failures = 0;
  state_.failing_since = absl::InfinitePast();
  state_.breaker = PeerState::Breaker::kClosed;
  state_.last_success = now;
  state_.next_attempt = absl::InfinitePast();
  return now;
}

}  // namespace trm::federation
