#include "server/federation/relay_dispatcher.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/crypto/hash.h"
#include "common/status.h"
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
                                 PeerTransport& transport, const Clock& clock,
                                 std::function<double()> random)
    : peer_(std::move(peer)),
      queue_(storage::OutboundQueue(peer_)),
      policy_(policy),
      store_(store),
      registry_(registry),
      transport_(transport),
      clock_(clock),
      random_(std::move(random)) {}

PeerState RelayDispatcher::state() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

absl::Time RelayDispatcher::Failed(const absl::Status& why, absl::Time now) {
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

absl::Status RelayDispatcher::CheckReceipt(const v1::Receipt& receipt,
                                           const std::string& id,
                                           const std::string& envelope) const {
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
  return receipts::VerifyReceipt(receipt, key);
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
  absl::StatusOr<std::vector<storage::QueuedMessage>> page =
      store_.ReadQueue(queue_, 0, policy_.batch);
  if (!page.ok()) {
    absl::MutexLock lock(&mu_);
    return Failed(page.status(), now);
  }
  if (page->empty()) return now + policy_.idle_poll;
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
  absl::StatusOr<v1::RelayAck> ack = transport_.Send(batch);
  if (ack.ok() && ack->results_size() != batch.envelopes_size()) {
    ack =
        Error(StatusCode::kInternal, "RELAY_PROTOCOL",
              absl::StrCat("node ", peer_, " answered ", ack->results_size(),
                           " results for a batch of ", batch.envelopes_size()));
  }
  if (!ack.ok()) {
    absl::MutexLock lock(&mu_);
    return Failed(ack.status(), now);
  }
  std::vector<storage::RelayedMessage> relayed;
  absl::Status retry;  // the first refusal worth retrying, if any
  size_t refused = 0;
  for (size_t i = 0; i < page->size(); ++i) {
    const storage::QueuedMessage& m = (*page)[i];
    const v1::RelayResult& r = ack->results(static_cast<int>(i));
    if (r.error_code() == 0) {
      if (absl::Status ok = CheckReceipt(r.receipt(), m.message_id, m.envelope);
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
  const int64_t relayed_ms = absl::ToUnixMillis(clock_.Now());
  size_t stored = 0;
  for (const absl::Status& s :
       store_.MarkRelayed(queue_, relayed, relayed_ms)) {
    if (s.ok()) ++stored;
  }
  absl::MutexLock lock(&mu_);
  state_.relayed += stored;
  state_.refused += refused;
  if (!retry.ok()) return Failed(retry, now);
  state_.consecutive_failures = 0;
  state_.breaker = PeerState::Breaker::kClosed;
  state_.last_success = now;
  state_.next_attempt = absl::InfinitePast();
  return now;
}

}  // namespace trm::federation
