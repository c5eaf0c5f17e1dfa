// The coordinator's page below HTTP (docs/console.md, "For coordinators"): the
// node's status as JSON, with what needs the coordinator's attention named
// as warnings. Each warning has a stable code the console translates, a
// severity, and the figures the text needs:
//
//   {"code": "TLS_CERT_EXPIRES", "severity": "warning", "days": 12}
//
//   nlohmann::json page = NodeHealth(status, overdue, clock.Now());
#ifndef TRM_CLIENT_AGENT_NODE_HEALTH_H_
#define TRM_CLIENT_AGENT_NODE_HEALTH_H_

#include <nlohmann/json.hpp>

#include "absl/time/time.h"
#include "trm/v1/admin.pb.h"
#include "trm/v1/directory.pb.h"

namespace trm::agent {

// A certificate or key that ends within this shows a warning.
inline constexpr absl::Duration kExpiryWarning = absl::Hours(24 * 30);
// A peer not reached for this long, with work waiting, shows a warning.
inline constexpr absl::Duration kPeerSilence = absl::Minutes(15);

// {node_id, directory_serial, now_unix_ms, relay_enabled, overdue_deadlines,
//  tls_cert_not_after_unix_ms, node_key_valid_until_unix_ms, disk{...},
//  peers[{node, reachable, breaker, ...}], queues[...], warnings[...]}
nlohmann::json NodeHealth(const v1::NodeStatus& s, absl::Time now);

// Warnings for the organisation's own keys in the signed directory: when
// every valid signing (or encryption) key ends within kExpiryWarning, or
// none is valid any more (ORG_SIGN_KEY_EXPIRES, ORG_ENC_KEY_EXPIRED, ...).
nlohmann::json OrgKeyWarnings(const v1::DirectoryOrganisation& org,
                              absl::Time now);

}  // namespace trm::agent

#endif  // TRM_CLIENT_AGENT_NODE_HEALTH_H_
