// Spreads independent work over the machine's cores: ForEachOnCores(n, fn)
// calls fn(i) once for each i in [0, n) and returns when all calls have. The
// work runs on the caller's thread and on the helpers of one pool that the
// process owns (WorkPool::Shared(): one thread per core but one), so no
// thread is made per batch and the threads do not grow with the callers.
// Small batches stay on the caller's thread: handing over costs more than a
// few items.
//
//   ForEachOnCores(envelopes.size(), [&](size_t i) { checked[i] = ...; });
//
// fn must be safe to call concurrently for different i. Calls may nest: a
// caller never waits for a helper that has not started on its batch.
#ifndef TRM_COMMON_PARALLEL_H_
#define TRM_COMMON_PARALLEL_H_

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace trm {

class WorkPool {
 public:
  explicit WorkPool(size_t helpers);
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // The process's pool: hardware_concurrency() - 1 helpers (at least 1).
  static WorkPool& Shared();

  void ForEach(size_t n, const std::function<void(size_t)>& fn);
  size_t helpers() const { return threads_.size(); }
  // Batches handed to helpers since the start (tests).
  uint64_t batches_shared() const { return shared_.load(); }

 private:
  void Run();

  absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
  std::atomic<uint64_t> shared_{0};
};

template <typename Fn>
void ForEachOnCores(size_t n, Fn&& fn) {
  WorkPool::Shared().ForEach(n, std::function<void(size_t)>(fn));
}

}  // namespace trm

#endif  // TRM_COMMON_PARALLEL_H_
