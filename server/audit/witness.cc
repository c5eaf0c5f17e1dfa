#include "server/audit/witness.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/audit/tree_head.h"
#include "common/log.h"
#include "common/status.h"

namespace trm::audit {

Witness::Witness(storage::AuditLog* log, const mailbox::OrgRegistry& registry,
                 std::function<absl::Status(const v1::AuditEvent&)> alarm)
    : log_(log), registry_(registry), alarm_(std::move(alarm)) {}

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
  absl::MutexLock lock(&mu_);
  Known& k = Load(peer);
  if (k.head.tree_size() > 0) {
    absl::Status extends = VerifyExtends(k.head, head, consistency);
    if (!extends.ok()) {
      ++k.forks;
      log::Error("audit.tree_head_fork",
                 absl::StrCat("ALARM: ", extends.message()), {{"peer", peer}});
      v1::AuditEvent e;
      e.set_kind(v1::TREE_HEAD_FORK);
      e.set_time_unix_ms(absl::ToUnixMillis(absl::Now()));
      e.set_peer_node(peer);
      e.set_directory_serial(dir->serial());
      e.set_detail(absl::StrCat(
          "earlier signed head ", HexEncode(AsBytes(k.sth.SerializeAsString())),
          "; later signed head ", HexEncode(AsBytes(sth.SerializeAsString()))));
      if (alarm_) alarm_(e).IgnoreError();
      return extends;
    }
    if (head.tree_size() == k.head.tree_size()) return absl::OkStatus();
  }
  if (log_ != nullptr) RETURN_IF_ERROR(log_->StorePeerHead(peer, sth));
  k.sth = sth;
  k.head = std::move(head);
  return absl::OkStatus();
}

}  // namespace trm::audit
