#include "client/agent/audit_source.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace trm::agent {

absl::StatusOr<std::unique_ptr<ClientAuditSource>> ClientAuditSource::Connect(
    const AuditScopeConfig& scope, const client::Profile& profile) {
  if (profile.trust.directory_file.empty()) {
    return Error(absl::StatusCode::kFailedPrecondition, "NO_DIRECTORY",
                 "the auditor page checks every node's signed tree head with "
                 "the node's key in the signed directory: give the agent's "
                 "profile \"directory\" and \"authority_pub\"");
  }
  std::unique_ptr<ClientAuditSource> s(new ClientAuditSource());
  s->trust_ = profile.trust;
  for (const AuditScopeConfig::Node& n : scope.nodes) {
    client::Profile p;
    p.connect.address = n.address;
    p.connect.ca_file =
        scope.ca_file.empty() ? profile.connect.ca_file : scope.ca_file;
    p.connect.cert_file = scope.cert_file;
    p.connect.key_file = scope.key_file;
    p.connect.max_reconnect_backoff = absl::Seconds(5);
    p.trust = profile.trust;
    ASSIGN_OR_RETURN(std::unique_ptr<client::Client> c,
                     client::Client::Connect(p));
    s->order_.push_back(n.node);
    s->clients_[n.node] = std::move(c);
  }
  return s;
}

absl::StatusOr<client::Client*> ClientAuditSource::At(const std::string& node) {
  auto it = clients_.find(node);
  if (it == clients_.end()) {
    return Error(
        absl::StatusCode::kInvalidArgument, "AGENT_REQUEST_INVALID",
        absl::StrCat("node '", node, "' is not in this agent's audit scope"));
  }
  return it->second.get();
}

absl::StatusOr<v1::Trail> ClientAuditSource::Trail(const std::string& node,
                                                   const v1::TrailQuery& q) {
  ASSIGN_OR_RETURN(client::Client * c, At(node));
  return c->AuditTrail(q);
}

absl::StatusOr<v1::Proof> ClientAuditSource::Consistency(
    const std::string& node, uint64_t first, uint64_t second) {
  ASSIGN_OR_RETURN(client::Client * c, At(node));
  return c->AuditConsistency(first, second);
}

absl::StatusOr<v1::StatisticsReport> ClientAuditSource::Statistics(
    const std::string& node, const v1::StatisticsRequest& req) {
  ASSIGN_OR_RETURN(client::Client * c, At(node));
  return c->Statistics(req);
}

absl::StatusOr<std::string> ClientAuditSource::NodeKey(
    const v1::SignedTreeHead& sth) const {
  return client::TrustedNodeKey(trust_, sth);
}

}  // namespace trm::agent
