// trm-agent's HTTP layer: routes /api/v1/... to AgentApi, and nothing more.
// It finds the caller (a bearer token from the users file, or a session
// from POST /api/v1/sessions), reads the query, and writes JSON. Every error
// is a 4xx or 5xx with the body {reason, message, path}, the reason a token
// from docs/reasons.md. The routes are one table, served as an OpenAPI 3
// document at /api/v1/openapi.json.
//
//   HttpApi http(api, users, sessions, hub);
//   http.Install(server);  // an httplib::Server or SSLServer
//   server.listen_after_bind();
#ifndef TRM_CLIENT_AGENT_HTTP_API_H_
#define TRM_CLIENT_AGENT_HTTP_API_H_

#include <httplib.h>

#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "client/agent/agent_api.h"
#include "client/agent/event_hub.h"
#include "client/agent/session_table.h"
#include "client/agent/user_book.h"

namespace trm::agent {

// The HTTP status of a status code (400, 401, 403, 404, 409, 413, 422,
// 429, 503, 500), and the error body.
int HttpStatusOf(const absl::Status& s);
nlohmann::json ErrorBody(const absl::Status& s);

class HttpApi {
 public:
  // At most this many event streams at once; more get 429.
  static constexpr int kMaxEventStreams = 16;
  // Threads serving requests (event streams hold one each).
  static constexpr int kThreads = kMaxEventStreams + 8;

  HttpApi(AgentApi& api, const UserBook& users, SessionTable& sessions,
          EventHub& hub)
      : api_(api), users_(users), sessions_(sessions), hub_(hub) {}

  // What GET /api/v1/health answers (the intake's health); by default
  // {"status": "serving"}. Set before Install.
  void SetHealth(std::function<nlohmann::json()> f) { health_ = std::move(f); }
  // Served over TLS: the console's session cookie is then Secure.
  void SetTls(bool tls) { tls_ = tls; }

  void Install(httplib::Server& server);
  // The OpenAPI 3.0 document of the routes Install adds.
  static nlohmann::json OpenApi();

 private:
  // The caller: an API token or session token as Bearer, or the console's
  // session cookie (then a change also needs X-CSRF-Token, and `csrf`
  // receives the session's).
  absl::StatusOr<User> Caller(const httplib::Request& req,
                              std::string* csrf = nullptr) const;

  AgentApi& api_;
  const UserBook& users_;
  SessionTable& sessions_;
  EventHub& hub_;
  std::atomic<int> streams_{0};
  bool tls_ = false;
  std::function<nlohmann::json()> health_ = [] {
    return nlohmann::json{{"status", "serving"}};
  };
};

}  // namespace trm::agent

#endif  // TRM_CLIENT_AGENT_HTTP_API_H_
