#include "server/mailbox/stream_watchdog.h"

#include <vector>

namespace trm::mailbox {

StreamWatchdog::Watch::~Watch() {
  if (dog_ == nullptr) return;
  absl::MutexLock lock(&dog_->mu_);
  dog_->entries_.erase(id_);
}

void StreamWatchdog::Watch::Progress() {
  if (dog_ == nullptr) return;
  absl::MutexLock lock(&dog_->mu_);
  auto it = dog_->entries_.find(id_);
  if (it != dog_->entries_.end()) {
    it->second.last_progress = dog_->clock_.Now();
  }
}

StreamWatchdog::Watch StreamWatchdog::Start(std::function<void()> cancel) {
  absl::MutexLock lock(&mu_);
  const uint64_t id = next_id_++;
  entries_[id] = Entry{clock_.Now(), std::move(cancel)};
  return Watch(this, id);
}

size_t StreamWatchdog::Tick() {
  std::vector<std::function<void()>> to_cancel;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_.Now();
    for (auto& [id, e] : entries_) {
      if (!e.cancelled && now - e.last_progress >= limit_) {
        e.cancelled = true;
        ++cancelled_;
        to_cancel.push_back(e.cancel);
      }
    }
  }
  // Outside the lock: cancelling wakes the stream, which unregisters.
  for (auto& c : to_cancel) c();
  return to_cancel.size();
}

size_t StreamWatchdog::watched() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

uint64_t StreamWatchdog::cancelled() const {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

}  // namespace trm::mailbox
