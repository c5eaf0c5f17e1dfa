#include "common/parallel.h"

#include <algorithm>

#include "common/process/thread_name.h"

namespace trm {
namespace {

// One batch: items are claimed one at a time, so whoever runs takes what is
// left. `closed` once the caller has finished: a helper that starts later
// touches nothing of the caller's.
struct Batch {
  absl::Mutex mu;
  bool closed ABSL_GUARDED_BY(mu) = false;
  size_t active ABSL_GUARDED_BY(mu) = 0;
  std::atomic<size_t> next{0};
  size_t n = 0;
  const std::function<void(size_t)>* fn = nullptr;

  void Work() {
    for (size_t i; (i = next.fetch_add(1)) < n;) (*fn)(i);
  }
};

}  // namespace

WorkPool::WorkPool(size_t helpers) {
  for (size_t i = 0; i < helpers; ++i)
    threads_.emplace_back([this] {
      process::NameThisThread("trm-pool");
      Run();
    });
}

WorkPool::~WorkPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

WorkPool& WorkPool::Shared() {
  const size_t cores = std::max(1u, std::thread::hardware_concurrency());
  static WorkPool* pool = new WorkPool(std::max<size_t>(1, cores - 1));
  return *pool;
}

void WorkPool::Run() {
  for (;;) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !tasks_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (tasks_.empty()) return;  // stopping
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

void WorkPool::ForEach(size_t n, const std::function<void(size_t)>& fn) {
  const size_t share = std::min(threads_.size(), n / 8);
  if (share == 0) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  auto batch = std::make_shared<Batch>();
  batch->n = n;
  batch->fn = &fn;
  {
    absl::MutexLock lock(&mu_);
    for (size_t k = 0; k < share; ++k) {
      tasks_.push_back([batch] {
        {
          absl::MutexLock l(&batch->mu);
          if (batch->closed) return;
          ++batch->active;
        }
        batch->Work();
        absl::MutexLock l(&batch->mu);
        --batch->active;
      });
    }
  }
  shared_.fetch_add(1);
  batch->Work();
  absl::MutexLock l(&batch->mu);
  batch->closed = true;
  auto idle = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(batch->mu) {
    return batch->active == 0;
  };
  batch->mu.Await(absl::Condition(&idle));
}

}  // namespace trm
