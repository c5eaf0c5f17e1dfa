#include "server/cases/policy_book.h"

namespace trm::cases {

std::shared_ptr<const CasePolicies> PolicyBook::Applied(
    const directory::Directory& dir) const {
  {
    absl::ReaderMutexLock lock(&mu_);
    if (applied_ != nullptr && digest_ == dir.digest_hex()) return applied_;
  }
  std::shared_ptr<const CasePolicies> table;
  const v1::FederationPolicy& policy = dir.doc().policy();
  if (policy.version() == 0) {
    table = std::make_shared<const CasePolicies>(local_);
  } else {
    // Directory::Verify checked the policy, so this resolves.
    absl::StatusOr<CasePolicies> federation =
        Resolve(policy, "policy", "DIRECTORY_INVALID");
    table = std::make_shared<const CasePolicies>(
        federation.ok() ? Merge(local_, *federation, policy.version())
                        : local_);
  }
  absl::MutexLock lock(&mu_);
  digest_ = dir.digest_hex();
  applied_ = table;
  return table;
}

CasePolicy PolicyBook::For(const directory::Directory& dir,
                           const std::string& from_node,
                           const std::string& to_node) const {
  return Applied(dir)->ForNodes(dir, from_node, to_node);
}

}  // namespace trm::cases
