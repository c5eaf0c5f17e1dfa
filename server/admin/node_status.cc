#include "server/admin/node_status.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace trm::admin {
namespace {

int64_t MillisOrZero(absl::Time t) {
  return t == absl::InfinitePast() ? 0 : absl::ToUnixMillis(t);
}

}  // namespace

absl::Status CheckCoordinator(const mailbox::OrgRegistry& registry,
                              const std::string& caller) {
  if (!registry.IsCoordinator(caller)) {
    return Error(
        absl::StatusCode::kPermissionDenied, "NOT_COORDINATOR",
        absl::StrCat("'", caller, "' is not a national coordinator of node ",
                     registry.node_id(), " in the directory (serial ",
                     registry.directory()->serial(),
                     "); only the node's NATIONAL_COORDINATOR "
                     "organisation may see the node's status"));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::BackupResponse> TakeBackup(storage::RocksMessageStore& store,
                                              audit::TreeHeadSigner* signer,
                                              const std::string& dir,
                                              absl::Time now) {
  v1::BackupResponse out;
  if (signer != nullptr) {
    ASSIGN_OR_RETURN(*out.mutable_tree_head(), signer->Latest(/*fresh=*/true));
  }
  RETURN_IF_ERROR(store.Checkpoint(dir));
  out.set_dir(dir);
  out.set_taken_unix_ms(absl::ToUnixMillis(now));
  return out;
}

v1::PeerLink LinkOf(const std::string& node, const federation::PeerState& s,
                    absl::Time now) {
  v1::PeerLink p;
  p.set_node(node);
  p.set_breaker(std::string(federation::BreakerName(s.breaker)));
  p.set_consecutive_failures(s.consecutive_failures);
  p.set_next_attempt_unix_ms(
      s.next_attempt > now ? absl::ToUnixMillis(s.next_attempt) : 0);
  p.set_last_success_unix_ms(MillisOrZero(s.last_success));
  p.set_failing_since_unix_ms(
      s.consecutive_failures > 0 ? MillisOrZero(s.failing_since) : 0);
  p.set_last_error(s.consecutive_failures > 0 ? s.last_error : "");
  p.set_relayed(s.relayed);
  p.set_refused(s.refused);
  p.set_failed_attempts(s.failed_attempts);
  p.set_notices_sent(s.notices_sent);
  p.set_notices_refused(s.notices_refused);
  return p;
}

absl::StatusOr<v1::NodeStatus> BuildNodeStatus(
    const mailbox::OrgRegistry& registry, storage::MessageStore& store,
    const PeerLinks* links, audit::Witness* witness, absl::Time now) {
  std::shared_ptr<const directory::Directory> dir = registry.directory();
  v1::NodeStatus out;
  out.set_node_id(registry.node_id());
  out.set_directory_serial(dir->serial());
  out.set_now_unix_ms(absl::ToUnixMillis(now));
  out.set_relay_enabled(links != nullptr);
  if (links != nullptr) {
    for (const auto& [node, s] : links->Links()) {
      v1::PeerLink* p = out.add_peers();
      *p = LinkOf(node, s, now);
      ASSIGN_OR_RETURN(uint64_t depth,
                       store.QueueDepth(storage::OutboundQueue(node)));
      ASSIGN_OR_RETURN(uint64_t bytes,
                       store.QueueBytes(storage::OutboundQueue(node)));
      ASSIGN_OR_RETURN(uint64_t notices,
                       store.QueueDepth(storage::NoticeQueue(node)));
      p->set_outbound_queued(depth);
      p->set_outbound_bytes(bytes);
      p->set_notices_queued(notices);
      if (witness != nullptr) {
        const audit::Witness::PeerView v = witness->View(node);
        p->set_witnessed_tree_size(v.tree_size);
        p->set_witnessed_signed_unix_ms(v.signed_unix_ms);
        p->set_forks(v.forks);
      }
    }
  }
  for (const v1::DirectoryOrganisation& o : dir->doc().organisations()) {
    if (o.home_node() != registry.node_id()) continue;
    v1::QueueSummary* q = out.add_queues();
    q->set_organisation(o.id());
    ASSIGN_OR_RETURN(uint64_t depth, store.QueueDepth(o.id()));
    ASSIGN_OR_RETURN(uint64_t bytes, store.QueueBytes(o.id()));
    q->set_queued(depth);
    q->set_bytes(bytes);
  }
  // Passed case deadlines still open (trmctl case overdue lists them).
  ASSIGN_OR_RETURN(std::vector<std::string> overdue,
                   store.OverdueCases(100000));
  uint64_t late = 0;
  for (const std::string& ref : overdue) {
    ASSIGN_OR_RETURN(v1::CaseRecord rec, store.GetCase(ref));
    for (const v1::Deadline& d : rec.deadlines()) {
      if (d.escalated_unix_ms() != 0) ++late;
    }
  }
  out.set_overdue_deadlines(late);
  // When the node's last valid signing key in the directory runs out.
  if (const v1::DirectoryNode* self = dir->FindNode(registry.node_id())) {
    int64_t until = 0;
    for (const v1::DirectoryKey& k : self->signing_keys()) {
      if (k.revoked_unix_ms() == 0 && k.valid_until_unix_ms() > until) {
        until = k.valid_until_unix_ms();
      }
    }
    out.set_node_key_valid_until_unix_ms(until);
  }
  const directory::Standing standing = dir->StandingAt(now);
  out.set_directory_standing(std::string(directory::StateName(standing.state)));
  if (standing.state != directory::Standing::kNoEnd) {
    out.set_directory_valid_until_unix_ms(
        absl::ToUnixMillis(standing.valid_until));
    out.set_directory_grace_ends_unix_ms(
        absl::ToUnixMillis(standing.grace_ends));
  }
  return out;
}

}  // namespace trm::admin
