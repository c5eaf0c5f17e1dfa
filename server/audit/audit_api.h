// The audit side of a node, below the gRPC layer (docs/protocol.md section
// 16): signed tree heads on a schedule and on demand, and what each kind of
// caller may ask of the log.
//
// Who may ask what:
//   - an auditor whose scope covers this node: everything;
//   - an organisation of this node: tree heads, proofs, and the trail of
//     messages it sent or received (QueryTrail with its own id; other
//     filters narrow it further); never GetEntries;
//   - a node: tree heads and proofs (cross-witnessing).
// Nobody gets a payload: the log holds metadata only.
#ifndef TRM_SERVER_AUDIT_AUDIT_API_H_
#define TRM_SERVER_AUDIT_AUDIT_API_H_

#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/crypto/ed25519.h"
#include "common/directory/directory.h"
#include "server/mailbox/org_registry.h"
#include "server/storage/audit_log.h"
#include "trm/v1/audit.pb.h"

namespace trm::audit {

// Signs tree heads of the log: Tick() when the schedule says (only if the
// log grew), Latest(true) on demand. Signing reads a snapshot of the log and
// never holds up appends. Thread-safe.
class TreeHeadSigner {
 public:
  TreeHeadSigner(storage::AuditLog& log, const crypto::Ed25519PrivateKey& key,
                 std::string node_id, const Clock& clock);
  // Loads the newest stored head.
  absl::Status Init() ABSL_LOCKS_EXCLUDED(mu_);
  // The newest signed head; with `fresh`, or when there is none yet, one
  // covering the log as it is now.
  absl::StatusOr<v1::SignedTreeHead> Latest(bool fresh)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Signs a new head if the log grew since the last one.
  absl::Status Tick() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Status SignLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  storage::AuditLog& log_;
  const crypto::Ed25519PrivateKey& key_;
  const std::string node_id_;
  const Clock& clock_;
  absl::Mutex mu_;
  std::optional<v1::SignedTreeHead> latest_ ABSL_GUARDED_BY(mu_);
  uint64_t latest_size_ ABSL_GUARDED_BY(mu_) = 0;
};

class AuditApi {
 public:
  // References must outlive the API.
  AuditApi(storage::AuditLog& log, TreeHeadSigner& signer,
           const mailbox::OrgRegistry& registry)
      : log_(log), signer_(signer), registry_(registry) {}

  absl::StatusOr<v1::SignedTreeHead> GetTreeHead(
      const directory::Principal& who, bool fresh);
  absl::StatusOr<v1::Proof> GetInclusionProof(
      const directory::Principal& who, const v1::InclusionProofRequest& req);
  absl::StatusOr<v1::Proof> GetConsistencyProof(
      const directory::Principal& who, const v1::ConsistencyProofRequest& req);
  absl::StatusOr<v1::Entries> GetEntries(const directory::Principal& who,
                                         const v1::GetEntriesRequest& req);
  absl::StatusOr<v1::Trail> QueryTrail(const directory::Principal& who,
                                       v1::TrailQuery query);

 private:
  // OK for an auditor in scope, an organisation of this node or a node.
  absl::Status CheckKnown(const directory::Principal& who) const;
  absl::Status CheckAuditor(const directory::Principal& who) const;
  // The newest signed head, fresh when the log has grown past it.
  absl::StatusOr<std::pair<v1::SignedTreeHead, v1::TreeHead>> CurrentHead();
  absl::Status AddProof(const v1::TreeHead& head, v1::Entry& entry) const;

  storage::AuditLog& log_;
  TreeHeadSigner& signer_;
  const mailbox::OrgRegistry& registry_;
};

}  // namespace trm::audit

#endif  // TRM_SERVER_AUDIT_AUDIT_API_H_
