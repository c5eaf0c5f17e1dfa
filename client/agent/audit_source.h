// The auditor page's reach over gRPC: one connection per node in the
// auditor's scope (the agent configuration's "audit" section), with the
// auditor's own certificate, and node keys from the signed directory of the
// agent's profile.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<ClientAuditSource> s,
//                    ClientAuditSource::Connect(config.audit, profile));
#ifndef TRM_CLIENT_AGENT_AUDIT_SOURCE_H_
#define TRM_CLIENT_AGENT_AUDIT_SOURCE_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/agent/agent_config.h"
#include "client/agent/audit_view.h"
#include "trm/client/client.h"

namespace trm::agent {

class ClientAuditSource final : public AuditSource {
 public:
  // USAGE or file errors when a connection cannot be made; NO_DIRECTORY
  // when the profile names no signed directory to take node keys from.
  static absl::StatusOr<std::unique_ptr<ClientAuditSource>> Connect(
      const AuditScopeConfig& scope, const client::Profile& profile);

  std::vector<std::string> Nodes() const override { return order_; }
  absl::StatusOr<v1::Trail> Trail(const std::string& node,
                                  const v1::TrailQuery& q) override;
  absl::StatusOr<v1::Proof> Consistency(const std::string& node, uint64_t first,
                                        uint64_t second) override;
  absl::StatusOr<std::string> NodeKey(
      const v1::SignedTreeHead& sth) const override;
  absl::StatusOr<v1::StatisticsReport> Statistics(
      const std::string& node, const v1::StatisticsRequest& req) override;

 private:
  ClientAuditSource() = default;
  absl::StatusOr<client::Client*> At(const std::string& node);

  client::Trust trust_;
  std::vector<std::string> order_;
  std::map<std::string, std::unique_ptr<client::Client>> clients_;
};

}  // namespace trm::agent

#endif  // TRM_CLIENT_AGENT_AUDIT_SOURCE_H_
