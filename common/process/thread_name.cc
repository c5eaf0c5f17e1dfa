#include "common/process/thread_name.h"

#include <pthread.h>

namespace trm::process {

// The kernel's limit: 16 bytes with the terminating NUL.
constexpr size_t kMaxName = 15;

void NameThisThread(absl::string_view name) {
  const std::string cut(name.substr(0, kMaxName));
  // Fails only for a name too long, which `cut` cannot be.
  pthread_setname_np(pthread_self(), cut.c_str());
}

std::string ThisThreadName() {
  char buf[kMaxName + 1] = {};
  if (pthread_getname_np(pthread_self(), buf, sizeof(buf)) != 0) return "";
  return buf;
}

}  // namespace trm::process
