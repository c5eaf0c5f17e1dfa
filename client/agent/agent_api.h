// What trm-agent's JSON API does, below HTTP: each call takes the signed-in
// user and the request's JSON, checks the user's role, and answers JSON or a
// status with a reason token (the HTTP layer, http_api.h, maps it to a 4xx
// or 5xx with {reason, message, path}). Payloads are opened in memory when
// asked for and never written in plaintext; an auditor never sees one.
//
//   AgentApi api(store, node, hub, clock);
//   ASSIGN_OR_RETURN(nlohmann::json receipt, api.Send(user, body));
//
// Thread-safe when `node` is (ClientNode is).
#ifndef TRM_CLIENT_AGENT_AGENT_API_H_
#define TRM_CLIENT_AGENT_AGENT_API_H_

#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/statusor.h"
#include "client/agent/agent_store.h"
#include "client/agent/audit_view.h"
#include "client/agent/event_hub.h"
#include "client/agent/user_book.h"
#include "common/clock.h"
#include "trm/client/client.h"

namespace trm::agent {

// The node, as the API uses it: the seam its tests fake.
class NodeApi {
 public:
  virtual ~NodeApi() = default;
  virtual const client::Identity& identity() const = 0;
  virtual absl::StatusOr<v1::Directory> Directory() const = 0;
  virtual absl::StatusOr<client::Sealed> Seal(
      const client::Message& m) const = 0;
  virtual absl::StatusOr<client::Accepted> Submit(
      const std::string& envelope) = 0;
  virtual absl::StatusOr<client::Opened> Open(
      const client::Delivery& d) const = 0;
  virtual absl::Status Refuse(const client::Delivery& d,
                              v1::RefusalReason reason,
                              absl::string_view text) = 0;
  virtual absl::StatusOr<client::Evidence> Status(
      absl::string_view message_id) = 0;
  virtual absl::StatusOr<v1::CaseView> Case(const std::string& case_ref) = 0;
  virtual absl::StatusOr<v1::OverdueList> Overdue(
      uint32_t max, absl::Duration upcoming = absl::ZeroDuration()) = 0;
  virtual absl::StatusOr<v1::NodeStatus> NodeStatus() = 0;
  virtual absl::StatusOr<v1::StatisticsReport> Statistics(
      const v1::StatisticsRequest& req) = 0;
};

// NodeApi over the client library.
class ClientNode final : public NodeApi {
 public:
  explicit ClientNode(client::Client& c) : c_(c) {}
  const client::Identity& identity() const override {
    return c_.profile().identity;
  }
  absl::StatusOr<v1::Directory> Directory() const override {
    return c_.Directory();
  }
  absl::StatusOr<client::Sealed> Seal(const client::Message& m) const override {
    return c_.Seal(m);
  }
  absl::StatusOr<client::Accepted> Submit(
      const std::string& envelope) override {
    return c_.Submit(envelope);
  }
  absl::StatusOr<client::Opened> Open(
      const client::Delivery& d) const override {
    return c_.Open(d);
  }
  absl::Status Refuse(const client::Delivery& d, v1::RefusalReason reason,
                      absl::string_view text) override {
    return c_.Refuse(d, reason, text);
  }
  absl::StatusOr<client::Evidence> Status(
      absl::string_view message_id) override {
    return c_.Status(message_id);
  }
  absl::StatusOr<v1::CaseView> Case(const std::string& case_ref) override {
    return c_.Case(case_ref);
  }
  absl::StatusOr<v1::OverdueList> Overdue(uint32_t max,
                                          absl::Duration upcoming) override {
    return c_.Overdue(max, upcoming);
  }
  absl::StatusOr<v1::NodeStatus> NodeStatus() override {
    return c_.NodeStatus();
  }
  absl::StatusOr<v1::StatisticsReport> Statistics(
      const v1::StatisticsRequest& req) override {
    return c_.Statistics(req);
  }

 private:
  client::Client& c_;
};

// The JSON path of the request field an error concerns ("payload",
// "recipient_org"), carried with the status for the HTTP layer's {path}.
absl::Status AtPath(absl::Status s, absl::string_view path);
std::string PathOf(const absl::Status& s);

// A request's query parameters, as the HTTP layer found them.
struct ListQuery {
  std::string box;  // "inbox" (default), "outbox", "all"
  std::string case_ref;
  std::string type;  // MessageType name, or ""
  bool unread_only = false;
  size_t limit = 100;
};

// The auditor page's question: a case, or a period (ISO 8601 dates or
// times, "" for no bound), and for a bundle the node.
struct AuditQuery {
  std::string case_ref, from, to, node;
};

// The statistics page's question: months "2026-01" ("" for the last twelve
// months to this one) and "month", "quarter" or "year" ("": month).
struct StatsQuery {
  std::string from, to, period;
  // An auditor's: which node of its scope (empty: the first).
  std::string node;
};

class AgentApi {
 public:
  // The largest body a request may carry (the HTTP layer refuses more).
  static constexpr size_t kMaxBody = 1 << 20;

  AgentApi(AgentStore& store, NodeApi& node, EventHub& hub, const Clock& clock)
      : store_(store), node_(node), hub_(hub), clock_(clock) {}

  absl::StatusOr<nlohmann::json> WhoAmI(const User& u);
  absl::StatusOr<nlohmann::json> Organisations(const User& u);
  absl::StatusOr<nlohmann::json> Types(const User& u);
  // {type, case_ref, recipient_org, payload{...}, outcome, consent_ref,
  //  in_reply_to, departure, minor, asylum, expires_in_hours}
  absl::StatusOr<nlohmann::json> Send(const User& u, const std::string& body);
  absl::StatusOr<nlohmann::json> List(const User& u, const ListQuery& q);
  // Header, payload (opened now; not for auditors) and evidence.
  absl::StatusOr<nlohmann::json> Message(const User& u,
                                         const std::string& id_hex);
  // body {read: bool}
  absl::StatusOr<nlohmann::json> MarkRead(const User& u,
                                          const std::string& id_hex,
                                          const std::string& body);
  // body {reason, text}: refuses a received message for good with the
  // organisation's signed refusal (docs/protocol.md section 15.3), also
  // after its acknowledgement; the sender sees REFUSED with the reason and
  // text. The local copy of its envelope is deleted.
  absl::StatusOr<nlohmann::json> Refuse(const User& u,
                                        const std::string& id_hex,
                                        const std::string& body);
  // body {text}
  absl::StatusOr<nlohmann::json> AddNote(const User& u,
                                         const std::string& id_hex,
                                         const std::string& body);
  // The cases the organisation's store knows, each with its state at the
  // node, the next step and what is owed.
  absl::StatusOr<nlohmann::json> Cases(const User& u);
  absl::StatusOr<nlohmann::json> Case(const User& u,
                                      const std::string& case_ref);
  // The node's steps merged with the local messages (payloads opened for
  // caseworkers and coordinators).
  absl::StatusOr<nlohmann::json> Timeline(const User& u,
                                          const std::string& case_ref);
  // What the organisation owes and is owed, soonest first; a coordinator
  // also sees the node's overdue list.
  absl::StatusOr<nlohmann::json> Due(const User& u);

  // The coordinator's page: the node's status, peer links and warnings
  // (certificate, keys, disk, links, forks), the node's overdue deadlines
  // with their escalations, and those due within kUpcomingDeadlines
  // (node_health.h).
  static constexpr absl::Duration kUpcomingDeadlines = absl::Hours(24 * 7);
  absl::StatusOr<nlohmann::json> Node(const User& u);

  // The coordinator's statistics page (stats_view.h): the node's report,
  // computed by the node from case metadata, with the charts' series.
  absl::StatusOr<nlohmann::json> Statistics(const User& u, const StatsQuery& q);

  // The auditor's pages (audit_view.h), once SetAudit gave a scope;
  // AGENT_AUDIT_NOT_CONFIGURED before. Auditors and coordinators.
  void SetAudit(AuditView* audit) { audit_ = audit; }
  absl::StatusOr<nlohmann::json> AuditTrail(const User& u, const AuditQuery& q);
  absl::StatusOr<nlohmann::json> AuditBundle(const User& u,
                                             const AuditQuery& q);

 private:
  absl::StatusOr<v1::AgentRecord> Find(const std::string& id_hex) const;
  absl::StatusOr<nlohmann::json> OpenPayload(const v1::AgentRecord& r) const;

  AgentStore& store_;
  NodeApi& node_;
  EventHub& hub_;
  const Clock& clock_;
  AuditView* audit_ = nullptr;
};

}  // namespace trm::agent

#endif  // TRM_CLIENT_AGENT_AGENT_API_H_
