// The case-rule periods a node applies: per route and per period the
// stricter of its own configuration ("case_rules") and the federation's
// policy in the directory it has loaded (common/cases/periods.h). The
// merged table is computed once per directory version, so a reloaded
// directory with a new policy applies from its first message on.
//
//   PolicyBook book(config.case_policies);
//   cases::CasePolicy p = book.For(*registry.directory(), "bg", "ng");
//
// Thread-safe.
#ifndef TRM_SERVER_CASES_POLICY_BOOK_H_
#define TRM_SERVER_CASES_POLICY_BOOK_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/cases/periods.h"
#include "common/directory/directory.h"

namespace trm::cases {

class PolicyBook {
 public:
  explicit PolicyBook(CasePolicies local) : local_(std::move(local)) {}

  // The periods for a message from `from_node` to `to_node` under `dir`.
  CasePolicy For(const directory::Directory& dir, const std::string& from_node,
                 const std::string& to_node) const ABSL_LOCKS_EXCLUDED(mu_);
  // The table applied under `dir`.
  std::shared_ptr<const CasePolicies> Applied(
      const directory::Directory& dir) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const CasePolicies local_;
  mutable absl::Mutex mu_;
  // The table for the directory with this digest.
  mutable std::string digest_ ABSL_GUARDED_BY(mu_);
  mutable std::shared_ptr<const CasePolicies> applied_ ABSL_GUARDED_BY(mu_);
};

}  // namespace trm::cases

#endif  // TRM_SERVER_CASES_POLICY_BOOK_H_
