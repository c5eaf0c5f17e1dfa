// Cross-witnessing (docs/protocol.md section 16.5): each node keeps the
// newest signed tree head it has checked of each peer's audit log, and
// checks every newer head it sees against it with a consistency proof. Two
// heads that cannot both be true (a rewritten or forked log) raise the
// alarm: a log line, a counter (trmctl node status) and a TREE_HEAD_FORK
// audit event in this node's own log with both signed heads as evidence.
// Thread-safe.
#ifndef TRM_SERVER_AUDIT_WITNESS_H_
#define TRM_SERVER_AUDIT_WITNESS_H_

#include <deque>
#include <functional>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "server/mailbox/org_registry.h"
#include "server/storage/audit_log.h"
#include "trm/v1/audit.pb.h"

namespace trm::audit {

class Witness {
 public:
  // `log`: where peers' heads persist (null: in memory only). `alarm`
  // records a fork in this node's log (the store's AppendAudit), at the
  // time `clock` says.
  Witness(storage::AuditLog* log, const mailbox::OrgRegistry& registry,
          std::function<absl::Status(const v1::AuditEvent&)> alarm,
          const Clock& clock = SystemClock::Get());

  // The size of `peer`'s log in the newest head checked (0: none yet).
  uint64_t KnownSize(const std::string& peer) ABSL_LOCKS_EXCLUDED(mu_);

  // Checks `sth` (signed by `peer` with its directory key) against the
  // newest head of `peer` checked so far, with `consistency` from that
  // head's size. OK and recorded when it extends it; TREE_HEAD_FORK (and
  // the alarm) when it cannot; TREE_HEAD_INVALID for a bad signature.
  absl::Status Observe(const std::string& peer, const v1::SignedTreeHead& sth,
                       const v1::Proof& consistency) ABSL_LOCKS_EXCLUDED(mu_);

  struct PeerView {
    uint64_t tree_size = 0;
    int64_t signed_unix_ms = 0;
    uint64_t forks = 0;
  };
  PeerView View(const std::string& peer) ABSL_LOCKS_EXCLUDED(mu_);

  // Fork alarms raised but not yet stored by `alarm` (it failed, say on a
  // full disk); each later Observe tries them again, oldest first.
  size_t PendingAlarms() ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status StorePendingAlarms() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  static constexpr size_t kMaxPendingAlarms = 1024;
  struct Known {
    v1::SignedTreeHead sth;
    v1::TreeHead head;
    uint64_t forks = 0;
    bool loaded = false;
  };
  Known& Load(const std::string& peer) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Checks `head` against the known one and adopts it, or queues the alarm.
  absl::Status Record(const std::string& peer, const v1::SignedTreeHead& sth,
                      v1::TreeHead head, const v1::Proof& consistency,
                      uint64_t directory_serial)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  storage::AuditLog* const log_;
  const mailbox::OrgRegistry& registry_;
  const std::function<absl::Status(const v1::AuditEvent&)> alarm_;
  const Clock& clock_;
  absl::Mutex mu_;
  std::map<std::string, Known> known_ ABSL_GUARDED_BY(mu_);
  std::deque<v1::AuditEvent> pending_ ABSL_GUARDED_BY(mu_);
};

}  // namespace trm::audit

#endif  // TRM_SERVER_AUDIT_WITNESS_H_
