// Spreads independent work over the machine's cores: ForEachOnCores(n, fn)
// calls fn(i) once for each i in [0, n), on up to one thread per core (the
// caller's among them), and returns when all calls have. Small batches stay
// on the caller's thread: a thread costs more than a few items.
//
//   ForEachOnCores(envelopes.size(), [&](size_t i) { checked[i] = ...; });
//
// fn must be safe to call concurrently for different i.
#ifndef TRM_COMMON_PARALLEL_H_
#define TRM_COMMON_PARALLEL_H_

#include <algorithm>
#include <cstddef>
#include <thread>
#include <vector>

namespace trm {

template <typename Fn>
void ForEachOnCores(size_t n, Fn&& fn) {
  const size_t workers =
      std::clamp<size_t>(std::thread::hardware_concurrency(), 1, n / 8 + 1);
  std::vector<std::thread> threads;
  for (size_t w = 1; w < workers; ++w) {
    threads.emplace_back([&, w] {
      for (size_t i = w; i < n; i += workers) fn(i);
    });
  }
  for (size_t i = 0; i < n; i += workers) fn(i);
  for (std::thread& t : threads) t.join();
}

}  // namespace trm

#endif  // TRM_COMMON_PARALLEL_H_
