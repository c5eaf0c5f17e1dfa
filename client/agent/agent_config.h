// trm-agent's configuration file (JSON; docs/integration.md lists every
// key). Relative paths are taken from the file's folder.
//
//   {"profile": "client.json", "listen": "127.0.0.1:8480",
//    "data_dir": "agent-data", "users_file": "users.json"}
//
//   ASSIGN_OR_RETURN(AgentConfig c, LoadAgentConfig(path));
#ifndef TRM_CLIENT_AGENT_AGENT_CONFIG_H_
#define TRM_CLIENT_AGENT_AGENT_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace trm::agent {

// The auditor page's reach (docs/console.md, "For auditors"): the auditor's own
// certificate, as the directory lists it, and every node in its scope.
struct AuditScopeConfig {
  std::string cert_file, key_file;
  std::string ca_file;  // "": the profile's
  struct Node {
    std::string node, address;
  };
  std::vector<Node> nodes;
};

struct AgentConfig {
  std::string profile;  // the client profile: node, keys, directory
  std::string host = "127.0.0.1";
  int port = 8480;         // 0: any free port (printed at start)
  std::string data_dir;    // the agent's RocksDB store
  std::string users_file;  // trm-agent user add writes it
  // Required when `host` is not loopback: the API is served over TLS.
  std::string tls_cert, tls_key;
  // Prometheus metrics over plain HTTP (GET /metrics); port 0 picks one.
  // Off when metrics_host is empty.
  std::string metrics_host;
  int metrics_port = 0;
  absl::Duration retention = absl::Hours(24 * 365);  // of closed cases
  uint32_t pull_window = 64;
  absl::Duration session_idle = absl::Minutes(30);
  // How often the sent messages' status and the owed deadlines are checked
  // (the "status" and "deadline" events), and how near a deadline warns.
  absl::Duration watch_every = absl::Seconds(30);
  absl::Duration deadline_warning = absl::Hours(48);
  // Empty nodes: no auditor page (its routes say how to set it up).
  AuditScopeConfig audit;
  bool loopback() const;
};

// CONFIG_INVALID naming the key that is wrong and what to write; FILE_IO
// when the file cannot be read.
absl::StatusOr<AgentConfig> LoadAgentConfig(const std::string& path);

}  // namespace trm::agent

#endif  // TRM_CLIENT_AGENT_AGENT_CONFIG_H_
