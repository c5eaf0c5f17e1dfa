// Names the calling thread, so that `top -H`, `ps -L`, perf and
// /proc/PID/task/*/comm tell the node's threads apart (the committer, the
// verification helpers, a stream's workers) instead of showing every one
// as "trm-broker".
//
//   std::thread([] { trm::process::NameThisThread("trm-commit"); ... });
//
// Linux keeps 15 bytes of a name: a longer one is cut to its first 15.
// docs/operations.md lists the names the node gives.
#ifndef TRM_COMMON_PROCESS_THREAD_NAME_H_
#define TRM_COMMON_PROCESS_THREAD_NAME_H_

#include <string>

#include "absl/strings/string_view.h"

namespace trm::process {

void NameThisThread(absl::string_view name);

// The calling thread's name as the kernel holds it ("" if it cannot say).
std::string ThisThreadName();

}  // namespace trm::process

#endif  // TRM_COMMON_PROCESS_THREAD_NAME_H_
