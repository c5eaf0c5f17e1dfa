#include "client/agent/event_hub.h"

namespace trm::agent {

void EventHub::Publish(Event e) {
  absl::MutexLock lock(&mu_);
  e.seq = next_seq_++;
  ring_.push_back(std::move(e));
  while (ring_.size() > kCapacity) ring_.pop_front();
}

std::vector<Event> EventHub::Wait(uint64_t after, absl::Duration wait,
                                  uint64_t* missed) {
  absl::MutexLock lock(&mu_);
  auto ready = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return closed_ || next_seq_ - 1 > after;
  };
  mu_.AwaitWithTimeout(absl::Condition(&ready), wait);
  *missed = 0;
  std::vector<Event> out;
  if (ring_.empty()) return out;
  const uint64_t first = ring_.front().seq;
  if (after + 1 < first) *missed = first - after - 1;
  for (const Event& e : ring_) {
    if (e.seq > after) out.push_back(e);
  }
  return out;
}

uint64_t EventHub::last() const {
  absl::MutexLock lock(&mu_);
  return next_seq_ - 1;
}

void EventHub::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

}  // namespace trm::agent
