#include "client/agent/http_api.h"

#include <sodium.h>

#include <cstdlib>
#include <functional>
#include <map>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/agent/console_server.h"
#include "common/log.h"
#include "common/status.h"
#include "trm/client/client.h"

namespace trm::agent {
namespace {

struct Route {
  const char* method;
  const char* path;  // OpenAPI form, {name} for a parameter
  const char* summary;
  bool signed_in;  // needs a caller
  bool body;       // takes a JSON body
  const char* roles;
};

// The API, one row per route: Install serves these and OpenApi documents
// them; a test walks the document against a running agent.
const std::vector<Route>& Routes() {
  static const auto* routes = new std::vector<Route>{
      {"GET", "/api/v1/health",
       "Is the agent up, and is its intake pulling (no sign-in)", false, false,
       ""},
      {"GET", "/api/v1/openapi.json", "This document (no sign-in)", false,
       false, ""},
      {"POST", "/api/v1/sessions",
       "Sign in with {name, password}: a session token; with cookie: true "
       "(the console), an HttpOnly SameSite=Strict cookie and a CSRF token "
       "for the X-CSRF-Token header of every change",
       false, true, ""},
      {"DELETE", "/api/v1/sessions", "Sign out", true, false, "any"},
      {"GET", "/api/v1/me", "Who am I: user, role, organisation, node", true,
       false, "any"},
      {"GET", "/api/v1/organisations",
       "The directory's organisations, to choose a recipient", true, false,
       "any"},
      {"GET", "/api/v1/types",
       "Message types: who sends each, personal data, outcomes, JSON Schema",
       true, false, "any"},
      {"POST", "/api/v1/messages",
       "Send a typed message: a checked receipt back", true, true,
       "caseworker, coordinator"},
      {"GET", "/api/v1/messages",
       "Inbox or outbox (?box=inbox|outbox|all&case=&type=&unread=true&"
       "limit=), unread first, without consuming",
       true, false, "any"},
      {"GET", "/api/v1/messages/{id}",
       "One message: header, payload (not for auditors), evidence", true, false,
       "any"},
      {"POST", "/api/v1/messages/{id}/read", "Mark read or unread {read}", true,
       true, "caseworker, coordinator"},
      {"POST", "/api/v1/messages/{id}/notes", "Add a note {text}", true, true,
       "caseworker, coordinator"},
      {"POST", "/api/v1/messages/{id}/refuse",
       "Refuse a received message for good {reason: NOT_OURS|WRONG_TYPE|"
       "HEADER_PAYLOAD_MISMATCH|CANNOT_OPEN, text}: signed, also after its "
       "acknowledgement; the sender sees REFUSED and the local copy goes",
       true, true, "caseworker, coordinator"},
      {"GET", "/api/v1/cases",
       "The organisation's cases: state, next step, what is owed", true, false,
       "any"},
      {"GET", "/api/v1/cases/{ref}", "One case", true, false, "any"},
      {"GET", "/api/v1/cases/{ref}/timeline",
       "A case's steps merged with the local messages", true, false, "any"},
      {"GET", "/api/v1/due",
       "What the organisation owes or is owed, soonest first", true, false,
       "caseworker, coordinator"},
      {"GET", "/api/v1/node",
       "The node's status, peer links, certificate and key expiry, and its "
       "overdue deadlines with escalations, with warnings by code",
       true, false, "coordinator"},
      {"GET", "/api/v1/stats",
       "The node's mechanism statistics (?from=2026-01&to=2026-12&period="
       "month|quarter|year; default the last twelve months by month), "
       "computed by the node from case metadata, counts below the "
       "federation's threshold not shown, with the charts' series; an "
       "auditor names a node of its audit scope (&node=ng; default the "
       "first) and gets the scope's nodes",
       true, false, "coordinator, auditor"},
      {"GET", "/api/v1/audit/trail",
       "A case's (?case=) or a period's (?from=&to=) trail across every node "
       "in the agent's audit scope, merged in time order: each node's head "
       "and each entry's inclusion proof verified here, forks found by "
       "consistency proofs, the flows between nodes; never a payload",
       true, false, "auditor, coordinator"},
      {"GET", "/api/v1/audit/bundle",
       "One node's trail (?node=&case= or &from=&to=) as a bundle that "
       "`trmctl audit verify` checks offline (a download)",
       true, false, "auditor, coordinator"},
      {"GET", "/api/v1/events",
       "Server-sent events: message, refused, sent, status, deadline (ids, "
       "types, case references and times; no personal data)",
       true, false, "any"},
  };
  return *routes;
}

// "/api/v1/messages/{id}" -> "/api/v1/messages/([^/]+)"
std::string RegexOf(const std::string& path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '{') {
      i = path.find('}', i);
      out += "([^/]+)";
    } else if (path[i] == '.') {
      out += "\\.";
    } else {
      out += path[i];
    }
  }
  return out;
}

void WriteJson(httplib::Response& res, int status, const nlohmann::json& j) {
  res.status = status;
  res.set_content(j.dump(), "application/json");
}

void WriteError(httplib::Response& res, const absl::Status& s) {
  WriteJson(res, HttpStatusOf(s), ErrorBody(s));
}

// The session cookie's value, or "".
std::string CookieOf(const httplib::Request& req) {
  const std::string all = req.get_header_value("Cookie");
  for (absl::string_view part : absl::StrSplit(all, ';')) {
    part = absl::StripAsciiWhitespace(part);
    if (absl::ConsumePrefix(&part, kSessionCookie) &&
        absl::ConsumePrefix(&part, "=")) {
      return std::string(part);
    }
  }
  return "";
}

bool SameSecret(const std::string& a, const std::string& b) {
  return !a.empty() && a.size() == b.size() &&
         sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string BearerOf(const httplib::Request& req) {
  const std::string auth = req.get_header_value("Authorization");
  if (absl::StartsWithIgnoreCase(auth, "Bearer ")) {
    return std::string(absl::StripAsciiWhitespace(auth.substr(7)));
  }
  return "";
}

absl::StatusOr<ListQuery> QueryOf(const httplib::Request& req) {
  ListQuery q;
  q.box = req.get_param_value("box");
  q.case_ref = req.get_param_value("case");
  q.type = req.get_param_value("type");
  const std::string unread = req.get_param_value("unread");
  if (!unread.empty() && unread != "true" && unread != "false") {
    return AtPath(Error(absl::StatusCode::kInvalidArgument,
                        "AGENT_REQUEST_INVALID", "unread is true or false"),
                  "unread");
  }
  q.unread_only = unread == "true";
  const std::string limit = req.get_param_value("limit");
  if (!limit.empty() && !absl::SimpleAtoi(limit, &q.limit)) {
    return AtPath(
        Error(absl::StatusCode::kInvalidArgument, "AGENT_REQUEST_INVALID",
              "limit is a whole number from 1 to 1000"),
        "limit");
  }
  return q;
}

}  // namespace

int HttpStatusOf(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kFailedPrecondition:
      return 422;  // a case rule the node applies
    case absl::StatusCode::kResourceExhausted:
      return ErrorReason(s) == "AGENT_BODY_TOO_LARGE" ? 413 : 429;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return 503;
    default:
      return 500;
  }
}

nlohmann::json ErrorBody(const absl::Status& s) {
  std::string reason = client::ReasonOf(s);
  if (reason.empty()) reason = "NODE_ERROR";
  std::string message(s.message());
  // Error() starts the text with the token; the body carries it apart.
  if (absl::StartsWith(message, reason + ": ")) {
    message = message.substr(reason.size() + 2);
  }
  return {{"reason", reason}, {"message", message}, {"path", PathOf(s)}};
}

absl::StatusOr<User> HttpApi::Caller(const httplib::Request& req,
                                     std::string* csrf) const {
  const std::string token = BearerOf(req);
  if (token.empty()) {
    // The console's session: a cookie the browser sends by itself, so a
    // change must also carry the session's CSRF token, which only the
    // console's own pages can read.
    const std::string cookie = CookieOf(req);
    if (cookie.empty()) return users_.ByToken("");
    std::string expected;
    ASSIGN_OR_RETURN(User u, sessions_.Find(cookie, &expected));
    if (req.method != "GET" && req.method != "HEAD" &&
        !SameSecret(req.get_header_value("X-CSRF-Token"), expected)) {
      return Error(absl::StatusCode::kPermissionDenied, "AGENT_CSRF_REQUIRED",
                   "a change made with the session cookie needs the "
                   "session's X-CSRF-Token header (from sign-in or GET "
                   "/api/v1/me); reload the console page and try again");
    }
    if (csrf != nullptr) *csrf = expected;
    return u;
  }
  absl::StatusOr<User> u = users_.ByToken(token);
  if (u.ok()) return u;
  return sessions_.Find(token);
}

void HttpApi::Install(httplib::Server& server) {
  using Handler = std::function<absl::StatusOr<nlohmann::json>(
      const User&, const httplib::Request&)>;
  std::map<std::string, Handler> handlers;
  auto id = [](const httplib::Request& r) { return std::string(r.matches[1]); };
  handlers["GET /api/v1/me"] =
      [this](const User& u,
             const httplib::Request& r) -> absl::StatusOr<nlohmann::json> {
    ASSIGN_OR_RETURN(nlohmann::json me, api_.WhoAmI(u));
    std::string csrf;
    if (BearerOf(r).empty() && Caller(r, &csrf).ok()) me["csrf_token"] = csrf;
    return me;
  };
  handlers["GET /api/v1/organisations"] = [this](const User& u, const auto&) {
    return api_.Organisations(u);
  };
  handlers["GET /api/v1/types"] = [this](const User& u, const auto&) {
    return api_.Types(u);
  };
  handlers["POST /api/v1/messages"] = [this](const User& u, const auto& r) {
    return api_.Send(u, r.body);
  };
  handlers["GET /api/v1/messages"] =
      [this](const User& u,
             const httplib::Request& r) -> absl::StatusOr<nlohmann::json> {
    ASSIGN_OR_RETURN(ListQuery q, QueryOf(r));
    return api_.List(u, q);
  };
  handlers["GET /api/v1/messages/{id}"] = [this, id](const User& u,
                                                     const auto& r) {
    return api_.Message(u, id(r));
  };
  handlers["POST /api/v1/messages/{id}/read"] = [this, id](const User& u,
                                                           const auto& r) {
    return api_.MarkRead(u, id(r), r.body);
  };
  handlers["POST /api/v1/messages/{id}/refuse"] = [this, id](const User& u,
                                                             const auto& r) {
    return api_.Refuse(u, id(r), r.body);
  };
  handlers["POST /api/v1/messages/{id}/notes"] = [this, id](const User& u,
                                                            const auto& r) {
    return api_.AddNote(u, id(r), r.body);
  };
  handlers["GET /api/v1/cases"] = [this](const User& u, const auto&) {
    return api_.Cases(u);
  };
  handlers["GET /api/v1/cases/{ref}"] =
      [this, id](const User& u, const auto& r) { return api_.Case(u, id(r)); };
  handlers["GET /api/v1/cases/{ref}/timeline"] = [this, id](const User& u,
                                                            const auto& r) {
    return api_.Timeline(u, id(r));
  };
  handlers["GET /api/v1/due"] = [this](const User& u, const auto&) {
    return api_.Due(u);
  };
  handlers["GET /api/v1/node"] = [this](const User& u, const auto&) {
    return api_.Node(u);
  };
  handlers["GET /api/v1/stats"] = [this](const User& u,
                                         const httplib::Request& r) {
    return api_.Statistics(
        u, StatsQuery{r.get_param_value("from"), r.get_param_value("to"),
                      r.get_param_value("period"), r.get_param_value("node")});
  };
  auto audit_query = [](const httplib::Request& r) {
    return AuditQuery{r.get_param_value("case"), r.get_param_value("from"),
                      r.get_param_value("to"), r.get_param_value("node")};
  };
  handlers["GET /api/v1/audit/trail"] = [this, audit_query](const User& u,
                                                            const auto& r) {
    return api_.AuditTrail(u, audit_query(r));
  };
  handlers["GET /api/v1/audit/bundle"] = [this, audit_query](const User& u,
                                                             const auto& r) {
    return api_.AuditBundle(u, audit_query(r));
  };

  for (const Route& route : Routes()) {
    const std::string key = absl::StrCat(route.method, " ", route.path);
    const std::string pattern = RegexOf(route.path);
    httplib::Server::Handler h;
    if (key == "GET /api/v1/health") {
      h = [this](const httplib::Request&, httplib::Response& res) {
        WriteJson(res, 200, health_());
      };
    } else if (key == "GET /api/v1/openapi.json") {
      h = [](const httplib::Request&, httplib::Response& res) {
        WriteJson(res, 200, OpenApi());
      };
    } else if (key == "POST /api/v1/sessions") {
      h = [this](const httplib::Request& req, httplib::Response& res) {
        nlohmann::json j = nlohmann::json::parse(req.body, nullptr, false);
        if (!j.is_object() || !j.contains("name") || !j["name"].is_string() ||
            !j.contains("password") || !j["password"].is_string() ||
            (j.contains("cookie") && !j["cookie"].is_boolean())) {
          WriteError(res, Error(absl::StatusCode::kInvalidArgument,
                                "AGENT_REQUEST_INVALID",
                                "sign in with {\"name\": ..., \"password\": "
                                "..., \"cookie\": false}"));
          return;
        }
        absl::StatusOr<User> u = users_.ByPassword(
            j["name"].get<std::string>(), j["password"].get<std::string>());
        if (!u.ok()) {
          WriteError(res, u.status());
          return;
        }
        const std::string token = sessions_.Start(*u);
        nlohmann::json out = {
            {"user", u->name},
            {"role", std::string(RoleName(u->role))},
            {"idle_timeout_s", absl::ToInt64Seconds(sessions_.idle())}};
        if (j.value("cookie", false)) {
          // The console: the token stays in an HttpOnly cookie, out of
          // reach of any script; the page gets only the CSRF token.
          std::string csrf;
          sessions_.Find(token, &csrf).IgnoreError();
          out["csrf_token"] = csrf;
          res.set_header("Set-Cookie", SessionCookie(token, tls_));
        } else {
          out["token"] = token;
        }
        WriteJson(res, 200, out);
      };
    } else if (key == "DELETE /api/v1/sessions") {
      h = [this](const httplib::Request& req, httplib::Response& res) {
        absl::StatusOr<User> u = Caller(req);
        if (!u.ok()) return WriteError(res, u.status());
        const std::string bearer = BearerOf(req);
        sessions_.End(bearer.empty() ? CookieOf(req) : bearer);
        res.set_header("Set-Cookie", SessionCookie("", tls_));
        WriteJson(res, 200, {{"signed_out", true}});
      };
    } else if (key == "GET /api/v1/events") {
      h = [this](const httplib::Request& req, httplib::Response& res) {
        absl::StatusOr<User> u = Caller(req);
        if (!u.ok()) return WriteError(res, u.status());
        if (streams_.fetch_add(1) >= kMaxEventStreams) {
          streams_.fetch_sub(1);
          return WriteError(
              res, Error(absl::StatusCode::kResourceExhausted, "TOO_MANY_CALLS",
                         absl::StrCat("at most ", kMaxEventStreams,
                                      " event streams at once; close one")));
        }
        uint64_t after = hub_.last();
        const std::string last_id = req.get_header_value("Last-Event-ID");
        uint64_t resume = 0;
        if (!last_id.empty() && absl::SimpleAtoi(last_id, &resume)) {
          after = resume;
        }
        auto cursor = std::make_shared<uint64_t>(after);
        res.set_header("Cache-Control", "no-store");
        res.set_chunked_content_provider(
            "text/event-stream",
            [this, cursor](size_t, httplib::DataSink& sink) {
              uint64_t missed = 0;
              std::vector<Event> events =
                  hub_.Wait(*cursor, absl::Seconds(15), &missed);
              std::string out;
              if (missed > 0) {
                out += absl::StrCat("event: missed\ndata: {\"count\":", missed,
                                    "}\n\n");
              }
              for (const Event& e : events) {
                nlohmann::json d = {{"message_id", e.message_id},
                                    {"type", e.type},
                                    {"case_ref", e.case_ref}};
                if (!e.state.empty()) d["state"] = e.state;
                if (!e.due.empty()) d["due"] = e.due;
                out += absl::StrCat("id: ", e.seq, "\nevent: ", e.kind,
                                    "\ndata: ", d.dump(), "\n\n");
                *cursor = e.seq;
              }
              if (out.empty()) out = ": keep-alive\n\n";
              return sink.write(out.data(), out.size());
            },
            [this](bool) { streams_.fetch_sub(1); });
      };
    } else {
      auto it = handlers.find(key);
      if (it == handlers.end()) {
        log::Error("agent.route", "trm-agent: route without a handler: " + key);
        std::abort();  // the table and the handlers disagree: a build defect
      }
      Handler handler = it->second;
      const bool body = route.body;
      const bool download = key == "GET /api/v1/audit/bundle";
      h = [this, handler, body, download](const httplib::Request& req,
                                          httplib::Response& res) {
        if (body && req.body.size() > AgentApi::kMaxBody) {
          return WriteError(
              res,
              Error(absl::StatusCode::kResourceExhausted,
                    "AGENT_BODY_TOO_LARGE",
                    absl::StrCat("the body holds ", req.body.size(),
                                 " bytes; the most is ", AgentApi::kMaxBody)));
        }
        absl::StatusOr<User> u = Caller(req);
        if (!u.ok()) return WriteError(res, u.status());
        absl::StatusOr<nlohmann::json> out = handler(*u, req);
        if (!out.ok()) return WriteError(res, out.status());
        if (download) {
          // The bundle is saved as a file; its name only from safe letters.
          std::string name = "audit-bundle";
          for (const std::string& part :
               {req.get_param_value("node"), req.get_param_value("case")}) {
            if (part.empty()) continue;
            name += "-";
            for (char c : part) {
              name +=
                  absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-'
                      ? c
                      : '_';
            }
          }
          res.set_header(
              "Content-Disposition",
              absl::StrCat("attachment; filename=\"", name, ".json\""));
        }
        WriteJson(res, 200, *out);
      };
    }
    const std::string m = route.method;
    if (m == "GET") {
      server.Get(pattern, h);
    } else if (m == "POST") {
      server.Post(pattern, h);
    } else if (m == "DELETE") {
      server.Delete(pattern, h);
    }
  }
  server.set_payload_max_length(AgentApi::kMaxBody * 4);
  server.set_error_handler([](const httplib::Request& req,
                              httplib::Response& res) {
    if (!res.body.empty()) return;  // a handler's own error body
    if (res.status == 404) {
      WriteError(res, Error(absl::StatusCode::kNotFound, "AGENT_ROUTE_UNKNOWN",
                            absl::StrCat(req.method, " ", req.path,
                                         " is not a route of this API; GET "
                                         "/api/v1/openapi.json lists them")));
    } else if (res.status == 413) {
      WriteError(res, Error(absl::StatusCode::kResourceExhausted,
                            "AGENT_BODY_TOO_LARGE",
                            absl::StrCat("the body is larger than ",
                                         AgentApi::kMaxBody, " bytes")));
    }
  });
  server.set_default_headers({{"Content-Security-Policy", "default-src 'none'"},
                              {"X-Content-Type-Options", "nosniff"},
                              {"Cache-Control", "no-store"},
                              {"Referrer-Policy", "no-referrer"},
                              {"X-Frame-Options", "DENY"}});
  InstallConsole(server);
}

nlohmann::json HttpApi::OpenApi() {
  nlohmann::json paths = nlohmann::json::object();
  const nlohmann::json error = {
      {"description", "An error: {reason, message, path}; docs/reasons.md"},
      {"content",
       {{"application/json",
         {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
  for (const Route& r : Routes()) {
    nlohmann::json op = {{"summary", r.summary},
                         {"responses",
                          {{"200", {{"description", "OK, a JSON document"}}},
                           {"400", error},
                           {"default", error}}}};
    if (r.signed_in) {
      op["security"] =
          nlohmann::json::array({{{"bearer", nlohmann::json::array()}}});
      op["responses"]["401"] = error;
      op["responses"]["403"] = error;
      op["x-roles"] = r.roles;
    } else {
      op["security"] = nlohmann::json::array();
    }
    nlohmann::json params = nlohmann::json::array();
    const std::string path = r.path;
    for (size_t at = path.find('{'); at != std::string::npos;
         at = path.find('{', at + 1)) {
      const std::string name = path.substr(at + 1, path.find('}', at) - at - 1);
      params.push_back({{"name", name},
                        {"in", "path"},
                        {"required", true},
                        {"schema", {{"type", "string"}}}});
    }
    if (path == "/api/v1/messages" && std::string(r.method) == "GET") {
      for (const char* q : {"box", "case", "type", "unread", "limit"}) {
        params.push_back(
            {{"name", q}, {"in", "query"}, {"schema", {{"type", "string"}}}});
      }
    }
    if (!params.empty()) op["parameters"] = params;
    if (r.body) {
      op["requestBody"] = {
          {"required", true},
          {"content",
           {{"application/json", {{"schema", {{"type", "object"}}}}}}}};
    }
    paths[r.path][absl::AsciiStrToLower(r.method)] = op;
  }
  return {{"openapi", "3.0.3"},
          {"info",
           {{"title", "trm-agent API"},
            {"version", "1"},
            {"description",
             "An organisation's gateway to its trm-broker node: "
             "docs/integration.md"}}},
          {"paths", paths},
          {"components",
           {{"securitySchemes",
             {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}},
            {"schemas",
             {{"Error",
               {{"type", "object"},
                {"required", {"reason", "message", "path"}},
                {"properties",
                 {{"reason", {{"type", "string"}}},
                  {"message", {{"type", "string"}}},
                  {"path", {{"type", "string"}}}}}}}}}}}};
}

}  // namespace trm::agent
