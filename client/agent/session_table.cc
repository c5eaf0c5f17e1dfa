#include "client/agent/session_table.h"

#include <algorithm>

#include "common/status.h"

namespace trm::agent {

std::string SessionTable::Start(const User& user) {
  std::string token = NewToken();
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_.Now();
  while (sessions_.size() >= kMaxSessions) {
    auto oldest = std::min_element(sessions_.begin(), sessions_.end(),
                                   [](const auto& a, const auto& b) {
                                     return a.second.last < b.second.last;
                                   });
    sessions_.erase(oldest);
  }
  sessions_[TokenHash(token)] = Session{user, now, NewToken()};
  return token;
}

absl::StatusOr<User> SessionTable::Find(const std::string& token,
                                        std::string* csrf) {
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(TokenHash(token));
  if (it == sessions_.end()) {
    return Error(absl::StatusCode::kUnauthenticated, "AGENT_UNAUTHENTICATED",
                 "the token is not one this agent issued, or its session "
                 "ended; sign in again");
  }
  const absl::Time now = clock_.Now();
  if (now - it->second.last > idle_) {
    sessions_.erase(it);
    return Error(absl::StatusCode::kUnauthenticated, "AGENT_UNAUTHENTICATED",
                 "the session ended after being idle; sign in again");
  }
  it->second.last = now;
  if (csrf != nullptr) *csrf = it->second.csrf;
  return it->second.user;
}

void SessionTable::End(const std::string& token) {
  absl::MutexLock lock(&mu_);
  sessions_.erase(TokenHash(token));
}

}  // namespace trm::agent
