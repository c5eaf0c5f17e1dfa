// The auditor's page below HTTP (docs/console.md, "For auditors"): a case's
// trail, or a period's, across every node in the auditor's scope, merged in
// time order. The agent checks everything itself and trusts no node: each
// node's signed tree head against the node's key in the signed directory, each
// entry's inclusion proof against that head, and that each head extends the
// newest head it saw of that node before (a consistency proof). A head that
// does not is a fork: the node's history was rewritten. The fork is kept in
// the agent's store, and that node's entries show as failed from then on.
// Metadata only: the audit log never holds a payload. Thread-safe when the
// source is; the check of one node's history is serialised.
//
//   AuditView view(source, store, clock);
//   ASSIGN_OR_RETURN(nlohmann::json trail, view.Trail(query));
#ifndef TRM_CLIENT_AGENT_AUDIT_VIEW_H_
#define TRM_CLIENT_AGENT_AUDIT_VIEW_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/agent/agent_store.h"
#include "common/clock.h"
#include "trm/v1/audit.pb.h"
#include "trm/v1/case.pb.h"

namespace trm::agent {

// One node's audit API as the auditor reaches it: the seam the tests fake.
class AuditSource {
 public:
  virtual ~AuditSource() = default;
  // The nodes in the auditor's scope, as configured.
  virtual std::vector<std::string> Nodes() const = 0;
  // Every entry of `node`'s log matching `q`, against one signed head.
  virtual absl::StatusOr<v1::Trail> Trail(const std::string& node,
                                          const v1::TrailQuery& q) = 0;
  virtual absl::StatusOr<v1::Proof> Consistency(const std::string& node,
                                                uint64_t first,
                                                uint64_t second) = 0;
  // The key `sth` must be signed with (raw Ed25519): its node's key in the
  // signed directory.
  virtual absl::StatusOr<std::string> NodeKey(
      const v1::SignedTreeHead& sth) const = 0;
  // `node`'s mechanism statistics (Cases.GetStatistics), which the node
  // gives an auditor whose scope covers it.
  virtual absl::StatusOr<v1::StatisticsReport> Statistics(
      const std::string& node, const v1::StatisticsRequest& req) = 0;
};

class AuditView {
 public:
  // A head signed longer ago than this is shown as stale: the node answers
  // with a head signed at the time of the question.
  static constexpr absl::Duration kStaleAfter = absl::Minutes(10);
  // The most entries taken from one node for one page.
  static constexpr size_t kMaxEntries = 5000;

  AuditView(AuditSource& source, AgentStore& store, const Clock& clock)
      : source_(source), store_(store), clock_(clock) {}

  // {verified, nodes[{node, state: verified|failed|fork|unreachable, reason,
  //  message, tree_size, signed_unix_ms, age_ms, stale, entries}],
  //  entries[{node, leaf_index, kind, time_unix_ms, ..., proof:
  //  verified|failed}], flows[{from, to, messages}], alarms[...]}.
  // `q` filters as the node's QueryTrail does (case_ref, from, to).
  absl::StatusOr<nlohmann::json> Trail(const v1::TrailQuery& q);

  // `node`'s trail for `q` as a bundle `trmctl audit verify` checks offline;
  // refused when the trail does not verify here (AUDIT_*, TREE_HEAD_*).
  absl::StatusOr<nlohmann::json> Bundle(const v1::TrailQuery& q,
                                        const std::string& node);

  // The nodes in the auditor's scope, and one's statistics.
  std::vector<std::string> Nodes() const { return source_.Nodes(); }
  absl::StatusOr<v1::StatisticsReport> Statistics(
      const std::string& node, const v1::StatisticsRequest& req) {
    return source_.Statistics(node, req);
  }

 private:
  // Checks `head` (verified, signed as `sth`) against the newest head seen
  // of its node, keeping it when it extends it and the fork when not. OK, or
  // TREE_HEAD_FORK saying which heads disagree.
  absl::Status CheckHistory(const std::string& node,
                            const v1::SignedTreeHead& sth,
                            const v1::TreeHead& head) ABSL_LOCKS_EXCLUDED(mu_);

  // Serialises the read-check-write of a node's witnessed head, so that a
  // request answered earlier cannot overwrite a fork another one found.
  absl::Mutex mu_;
  AuditSource& source_;
  AgentStore& store_;
  const Clock& clock_;
};

}  // namespace trm::agent

#endif  // TRM_CLIENT_AGENT_AUDIT_VIEW_H_
