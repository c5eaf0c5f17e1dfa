// Escalates the deadlines of TRM cases (docs/workflow.md, "Deadlines").
//
// Deadlines live in the case records in the store, with an index by due
// time, so they survive restarts. Each Tick() takes the cases with a deadline
// due by the clock's now and, for each passed deadline, seals a
// DEADLINE_NOTICE (payload trm.v1.DeadlineNotice, signed with the node's key)
// to:
//   - the responsible organisation when this node hosts it, else the waiting
//     organisation when this node hosts that one;
//   - this node's national coordinator.
// A deadline whose route a declared contingency concerns passes later by
// the policy's deadline_extension_seconds (server/cases/contingency_rule.h).
// A deadline owed across a failed link (the organisation's node has been
// unreachable since before it passed) follows the federation policy's
// failed-link rule instead (server/cases/failed_link.h): paused, or told to
// the coordinators only.
// The notices are accepted through the store under the case rules, which
// mark the deadline escalated and log DEADLINE_MISSED in the same write:
// either everything of one escalation is stored or nothing is, and the next
// tick tries again.
//
//   DeadlineScheduler scheduler(store, registry, node_key, clock, "bg");
//   ASSIGN_OR_RETURN(size_t escalated, scheduler.Tick());
#ifndef TRM_SERVER_CASES_DEADLINE_SCHEDULER_H_
#define TRM_SERVER_CASES_DEADLINE_SCHEDULER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/crypto/ed25519.h"
#include "server/cases/case_policy.h"
#include "server/contingency/contingency_book.h"
#include "server/mailbox/org_registry.h"
#include "server/storage/message_store.h"

namespace trm::cases {

class DeadlineScheduler {
 public:
  DeadlineScheduler(storage::MessageStore& store,
                    const mailbox::OrgRegistry& registry,
                    const crypto::Ed25519PrivateKey& node_key,
                    const Clock& clock, std::string node_id);

  // Escalates every deadline due now (up to `max_cases` cases); returns how
  // many deadlines it escalated.
  absl::StatusOr<size_t> Tick(size_t max_cases = 256);

  // Deadlines escalated since start (a metric).
  uint64_t escalated_total() const { return escalated_.load(); }
  // Deadlines paused across a failed link since start (a metric).
  uint64_t paused_total() const { return paused_.load(); }

  // Since when the link to a peer node fails (absl::InfinitePast(): it
  // works, or there is none). Without it (no relay), every link works. Set
  // before the first Tick().
  using LinkLookup = std::function<absl::Time(const std::string& node)>;
  void set_links(LinkLookup links) { links_ = std::move(links); }
  // The declared contingencies, whose deadline extension the policy sets
  // (server/cases/contingency_rule.h). Null: none. Set before Tick().
  void set_contingencies(contingency::ContingencyBook* book) { book_ = book; }

  // The organisations a notice of `d` goes to on this node: with
  // `coordinators_only`, this node's national coordinators alone.
  std::vector<std::string> NoticeRecipients(
      const directory::Directory& dir, const v1::Deadline& d,
      bool coordinators_only = false) const;

 private:
  // Seals and stores the notices of `d` (of case record `rec`); true when
  // one was stored.
  absl::StatusOr<bool> Escalate(const directory::Directory& dir,
                                const v1::CaseRecord& rec,
                                const v1::Deadline& d, bool coordinators_only,
                                absl::Time now);

  storage::MessageStore& store_;
  const mailbox::OrgRegistry& registry_;
  const crypto::Ed25519PrivateKey& node_key_;
  const Clock& clock_;
  const std::string node_id_;
  const CasePolicy any_policy_;  // notices use no period
  std::atomic<uint64_t> escalated_{0};
  std::atomic<uint64_t> paused_{0};
  LinkLookup links_;
  contingency::ContingencyBook* book_ = nullptr;
};

}  // namespace trm::cases

#endif  // TRM_SERVER_CASES_DEADLINE_SCHEDULER_H_
