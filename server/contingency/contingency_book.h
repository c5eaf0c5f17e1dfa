// The contingencies a node knows (docs/workflow.md, "Contingency"): those
// its own coordinator declares (Cases.DeclareContingency) and those its
// peers' coordinators declared, carried in relay batches. Each is verified
// against the signed directory, kept in the store and audited
// (CONTINGENCY_DECLARED, CONTINGENCY_ENDED) in the same write; a repeat
// changes nothing. The deadline scheduler asks which hold for a route.
//
//   ContingencyBook book(store, registry, clock, "bg");
//   ASSIGN_OR_RETURN(v1::ContingencyList l, book.Declare("bg-nrm", signed));
//   for (const v1::Contingency& c : book.Covering(route)) ...
#ifndef TRM_SERVER_CONTINGENCY_CONTINGENCY_BOOK_H_
#define TRM_SERVER_CONTINGENCY_CONTINGENCY_BOOK_H_

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/contingency/declaration.h"
#include "server/mailbox/org_registry.h"
#include "server/storage/message_store.h"

namespace trm::contingency {

class ContingencyBook {
 public:
  // At most this many declarations of this node go in each relay batch.
  static constexpr size_t kMaxCarried = 32;
  // An ended declaration is still carried this long, so that a peer that
  // was down learns of its end.
  static constexpr absl::Duration kCarryEnded = absl::Hours(24 * 30);

  ContingencyBook(storage::MessageStore& store,
                  const mailbox::OrgRegistry& registry, const Clock& clock,
                  std::string node_id);

  // A declaration or an end by `caller_org`, which must be the declaration's
  // declared_by, a coordinator of this node (CONTINGENCY_INVALID). An end
  // repeats the declaration with end_unix_ms set. Answers the node's list,
  // and for an end the deadlines it had extended that are still open.
  absl::StatusOr<v1::ContingencyList> Declare(const std::string& caller_org,
                                              const v1::SignedContingency& s)
      ABSL_LOCKS_EXCLUDED(mu_);
  // One from a relay batch of `peer`, whose coordinator must have declared
  // it. OK when kept or already known.
  absl::Status Receive(const std::string& peer, const v1::SignedContingency& s)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Whether this is the first refusal of `s` the book is told of, so that a
  // peer carrying a declaration that does not verify is logged once, not at
  // every batch. Remembers at most kMaxRemembered refusals (then forgets
  // them all, and logs each once more).
  bool FirstRefusal(const v1::SignedContingency& s) ABSL_LOCKS_EXCLUDED(mu_);
  static constexpr size_t kMaxRemembered = 1024;
  absl::StatusOr<v1::ContingencyList> List() ABSL_LOCKS_EXCLUDED(mu_);
  // This node's declarations to carry to its peers, at most kMaxCarried:
  // every open one first, newest start first, then those ended within
  // kCarryEnded, latest end first.
  std::vector<v1::SignedContingency> ToCarry() ABSL_LOCKS_EXCLUDED(mu_);
  // How many of this node's declarations and ends the book has kept since
  // the node started: a relay sends a batch when it changed, so that peers
  // learn of a declaration or its end at once, not at the next heartbeat.
  uint64_t Changes() ABSL_LOCKS_EXCLUDED(mu_);
  // The known contingencies concerning `route` (held now or before).
  std::vector<v1::Contingency> Covering(const Route& route)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Whether a contingency holds now for the route between nodes `from` and
  // `to` (each with its country in `dir`).
  bool HoldsNow(const directory::Directory& dir, const std::string& from,
                const std::string& to) ABSL_LOCKS_EXCLUDED(mu_);
  // The longest a message between nodes `from` and `to` may live now:
  // `base`, plus the policy's lifetime_extension_seconds while a
  // contingency holds for the route.
  absl::Duration MaxLifetime(const directory::Directory& dir,
                             const std::string& from, const std::string& to,
                             absl::Duration base) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Known {
    v1::SignedContingency signed_contingency;
    v1::Contingency contingency;
  };
  absl::Status Keep(const v1::SignedContingency& s, const v1::Contingency& c,
                    const std::string& from_peer) ABSL_LOCKS_EXCLUDED(mu_);
  // Loads the store's declarations once.
  absl::Status Load() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // What an ended contingency had deferred: open deadlines it extended.
  absl::StatusOr<std::vector<std::string>> Deferred(const std::string& id);

  storage::MessageStore& store_;
  const mailbox::OrgRegistry& registry_;
  const Clock& clock_;
  const std::string node_id_;
  absl::Mutex mu_;
  bool loaded_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<Known> known_ ABSL_GUARDED_BY(mu_);
  uint64_t changes_ ABSL_GUARDED_BY(mu_) = 0;
  // SHA-256 of each refused declaration already logged.
  absl::flat_hash_set<std::string> refused_ ABSL_GUARDED_BY(mu_);
};

}  // namespace trm::contingency

#endif  // TRM_SERVER_CONTINGENCY_CONTINGENCY_BOOK_H_
