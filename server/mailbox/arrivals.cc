#include "server/mailbox/arrivals.h"

namespace trm::mailbox {

void Arrivals::Notify(const std::string& org) {
  absl::MutexLock lock(&mu_);
  ++generation_[org];
}

uint64_t Arrivals::Generation(const std::string& org) const {
  absl::MutexLock lock(&mu_);
  auto it = generation_.find(org);
  return it == generation_.end() ? 0 : it->second;
}

bool Arrivals::WaitForChange(const std::string& org, uint64_t seen,
                             absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  auto changed = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = generation_.find(org);
    return it != generation_.end() && it->second != seen;
  };
  return mu_.AwaitWithDeadline(absl::Condition(&changed), deadline);
}

}  // namespace trm::mailbox
