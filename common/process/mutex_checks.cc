#include "common/process/mutex_checks.h"

#include "absl/synchronization/mutex.h"

namespace trm::process {

bool MutexChecksWanted() {
#ifdef NDEBUG
  return false;
#else
  return true;
#endif
}

void ConfigureMutexChecks() {
  absl::SetMutexDeadlockDetectionMode(MutexChecksWanted()
                                          ? absl::OnDeadlockCycle::kAbort
                                          : absl::OnDeadlockCycle::kIgnore);
}

}  // namespace trm::process
