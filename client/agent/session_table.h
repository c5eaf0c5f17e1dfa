// Signed-in people (POST /api/v1/sessions): a random session token per
// sign-in, held in memory only, ended by sign-out or after `idle` without a
// request. Bounded: past kMaxSessions the least recently used ends. Each
// session also has a random CSRF token: the console sends it in the
// X-CSRF-Token header of every change, which another site's page cannot.
//
//   std::string token = sessions.Start(user);
//   std::string csrf;
//   ASSIGN_OR_RETURN(User u, sessions.Find(token, &csrf));
//
// Thread-safe; time from the Clock seam.
#ifndef TRM_CLIENT_AGENT_SESSION_TABLE_H_
#define TRM_CLIENT_AGENT_SESSION_TABLE_H_

#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/agent/user_book.h"
#include "common/clock.h"

namespace trm::agent {

class SessionTable {
 public:
  static constexpr size_t kMaxSessions = 1024;

  SessionTable(const Clock& clock, absl::Duration idle)
      : clock_(clock), idle_(idle) {}

  std::string Start(const User& user) ABSL_LOCKS_EXCLUDED(mu_);
  // AGENT_UNAUTHENTICATED when unknown, ended or idle too long.
  // `csrf`, when given, receives the session's CSRF token.
  absl::StatusOr<User> Find(const std::string& token,
                            std::string* csrf = nullptr)
      ABSL_LOCKS_EXCLUDED(mu_);
  void End(const std::string& token) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Duration idle() const { return idle_; }

 private:
  struct Session {
    User user;
    absl::Time last;
    std::string csrf;
  };
  const Clock& clock_;
  const absl::Duration idle_;
  absl::Mutex mu_;
  // Keyed by the token's SHA-256, so a dump of memory near the map does not
  // hand out live tokens in order.
  std::map<std::string, Session> sessions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace trm::agent

#endif  // TRM_CLIENT_AGENT_SESSION_TABLE_H_
