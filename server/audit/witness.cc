#include "server/audit/witness.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/audit/tree_head.h"
#include "common/log.h"
#include "common/status.h"

namespace trm::audit {

Witness::Witness(storage::AuditLog* log, const mailbox::OrgRegistry& registry,
                 std::function<absl::Status(const v1::AuditEvent&)> alarm,
                 const Clock& clock)
    : log_(log), registry_(registry), alarm_(std::move(alarm)), clock_(clock) {}

Witness::Known& Witness::Load(const std::string& peer) {
  Known& k = known_[peer];
  if (k.loaded) return k;
  k.loaded = true;
  if (log_ == nullptr) return k;
  absl::StatusOr<std::optional<v1::SignedTreeHead>> stored =
      log_->PeerHead(peer);
  if (stored.ok() && stored->has_value()) {
    absl::StatusOr<v1::TreeHead> head = ParseTreeHead(**stored);
    if (head.ok()) {
      k.sth = **stored;
      k.head = *head;
    }
  }
  return k;
}

uint64_t Witness::KnownSize(const std::string& peer) {
  absl::MutexLock lock(&mu_);
  return Load(peer).head.tree_size();
}

Witness::PeerView Witness::View(const std::string& peer) {
  absl::MutexLock lock(&mu_);
  const Known& k = Load(peer);
  return PeerView{k.head.tree_size(), k.head.timestamp_unix_ms(), k.forks};
}

absl::Status Witness::Observe(const std::string& peer,
                              const v1::SignedTreeHead& sth,
                              const v1::Proof& consistency) {
  ASSIGN_OR_RETURN(v1::TreeHead unverified, ParseTreeHead(sth));
  std::shared_ptr<const directory::Directory> dir = registry_.directory();
  ASSIGN_OR_RETURN(crypto::Ed25519PublicKey key,
                   dir->NodeSigningKey(
                       peer, sth.node_key_id(),
                       absl::FromUnixMillis(unverified.timestamp_unix_ms())));
  ASSIGN_OR_RETURN(v1::TreeHead head, VerifyTreeHead(sth, key));
  if (head.node() != peer) {
    return Error(
        absl::StatusCode::kInvalidArgument, "TREE_HEAD_INVALID",
        absl::StrCat("node ", peer, " sent a tree head of node ", head.node()));
  }
  absl::Status fork;
  {
    absl::MutexLock lock(&mu_);
    fork = Record(peer, sth, std::move(head), consistency, dir->serial());
  }
  // The alarm is stored outside the lock; one that cannot be stored yet
  // stays pending and is tried again with every later head.
  const absl::Status stored = StorePendingAlarms();
  if (!fork.ok() && !stored.ok()) {
    return Error(fork.code(), ErrorReason(fork),
                 absl::StrCat(fork.message(),
                              " (the alarm is not stored yet and will be "
                              "tried again: ",
                              stored.message(), ")"));
  }
  return fork;
}

absl::Status Witness::Record(const std::string& peer,
                             const v1::SignedTreeHead& sth, v1::TreeHead head,
                             const v1::Proof& consistency,
                             uint64_t directory_serial) {
  Known& k = Load(peer);
  if (k.head.tree_size() > 0) {
    absl::Status extends = VerifyExtends(k.head, head, consistency);
    if (!extends.ok()) {
      ++k.forks;
      log::Error("audit.tree_head_fork",
                 absl::StrCat("ALARM: ", extends.message()), {{"peer", peer}});
      v1::AuditEvent e;
      e.set_kind(v1::TREE_HEAD_FORK);
      e.set_time_unix_ms(absl::ToUnixMillis(clock_.Now()));
      e.set_peer_node(peer);
      e.set_directory_serial(directory_serial);
      e.set_detail(absl::StrCat(
          "earlier signed head ", HexEncode(AsBytes(k.sth.SerializeAsString())),
          "; later signed head ", HexEncode(AsBytes(sth.SerializeAsString()))));
      if (alarm_) {
        if (pending_.size() >= kMaxPendingAlarms) pending_.pop_front();
        pending_.push_back(std::move(e));
      }
      return extends;
    }
    if (head.tree_size() == k.head.tree_size()) return absl::OkStatus();
  }
  if (log_ != nullptr) RETURN_IF_ERROR(log_->StorePeerHead(peer, sth));
  k.sth = sth;
  k.head = std::move(head);
  return absl::OkStatus();
}

absl::Status Witness::StorePendingAlarms() {
  while (true) {
    v1::AuditEvent e;
    {
      absl::MutexLock lock(&mu_);
      if (pending_.empty()) return absl::OkStatus();
      e = std::move(pending_.front());
      pending_.pop_front();
    }
    absl::Status s = alarm_(e);
    if (!s.ok()) {
      log::Error("audit.tree_head_fork_unstored",
                 absl::StrCat("ALARM not stored yet: ", s.message()),
                 {{"peer", e.peer_node()}});
      absl::MutexLock lock(&mu_);
      pending_.push_front(std::move(e));
      return s;
    }
  }
}

size_t Witness::PendingAlarms() {
  absl::MutexLock lock(&mu_);
  return pending_.size();
}

}  // namespace trm::audit
