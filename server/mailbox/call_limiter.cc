#include "server/mailbox/call_limiter.h"

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace trm::mailbox {

CallLimiter::Slot::~Slot() {
  if (limiter_ != nullptr) limiter_->Release(org_);
}

absl::StatusOr<CallLimiter::Slot> CallLimiter::Acquire(const std::string& org) {
  absl::MutexLock lock(&mu_);
  size_t& open = open_[org];
  if (open >= max_) {
    ++refused_;
    return Error(absl::StatusCode::kResourceExhausted, "TOO_MANY_CALLS",
                 absl::StrCat("organisation ", org, " already has ", open,
                              " calls open at this node, the most it may "
                              "(max_calls_per_organisation); finish or "
                              "cancel some (idle Receive streams, waiting "
                              "calls) and retry"));
  }
  ++open;
  return Slot(this, org);
}

void CallLimiter::Release(const std::string& org) {
  absl::MutexLock lock(&mu_);
  auto it = open_.find(org);
  if (it == open_.end()) return;
  if (--it->second == 0) open_.erase(it);
}

size_t CallLimiter::Open(const std::string& org) const {
  absl::MutexLock lock(&mu_);
  auto it = open_.find(org);
  return it == open_.end() ? 0 : it->second;
}

uint64_t CallLimiter::refused() const {
  absl::MutexLock lock(&mu_);
  return refused_;
}

}  // namespace trm::mailbox
