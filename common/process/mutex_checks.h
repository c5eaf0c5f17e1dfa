// Abseil's lock-order checking, set once per process.
//
// Debian's libabsl is built without NDEBUG, so by default every
// absl::Mutex acquisition in a process that links it checks the lock order:
// a process-wide spinlock, a graph lookup and, while other locks are held,
// an edge in a global graph. gRPC takes its own locks through absl::Mutex,
// so its completion queues and calls pay it too, and the process-wide lock
// serializes every thread's lock acquisitions. Abseil itself turns the
// check off when it is built with NDEBUG.
//
//   int main(int argc, char** argv) {
//     trm::process::ConfigureMutexChecks();  // before any thread starts
//     ...
//   }
//
// The figures with and without the check are in docs/benchmarks.md,
// "Lock-order checks".
#ifndef TRM_COMMON_PROCESS_MUTEX_CHECKS_H_
#define TRM_COMMON_PROCESS_MUTEX_CHECKS_H_

namespace trm::process {

// What ConfigureMutexChecks sets: off in builds with NDEBUG (the default,
// release and benchmark builds, which are what is deployed), aborting on a
// lock-order cycle in builds without it (Debug: the ASan+UBSan CI stage,
// where every binary the tests start keeps checking).
bool MutexChecksWanted();

// Applies MutexChecksWanted(); call once at the start of main, before any
// thread starts (Abseil reads the setting on every acquisition). Tests that
// do not call it keep Abseil's default, which checks.
void ConfigureMutexChecks();

}  // namespace trm::process

#endif  // TRM_COMMON_PROCESS_MUTEX_CHECKS_H_
