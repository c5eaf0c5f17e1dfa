// The node's configuration file (JSON; docs/operations.md describes every
// key, deploy/node.example.json is a commented example). Command-line flags
// override the file.
#ifndef TRM_SERVER_CONFIG_NODE_CONFIG_H_
#define TRM_SERVER_CONFIG_NODE_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/cases/periods.h"
#include "trm/v1/directory.pb.h"

namespace trm::config {

struct OrgConfig {
  std::string id;
  // Path to ORG.sign.pub; only without a directory (then the node builds a
  // local one from these entries).
  std::string signing_public_key;
  // Path to ORG.enc.pub, the key envelopes to it are sealed to; the same.
  std::string encryption_public_key;
  std::string token_sha256;  // hex SHA-256 of the bearer token
  uint64_t max_queued_bytes = 1ull << 30;
};

struct NodeConfig {
  std::string node_id;
  std::string listen = "127.0.0.1:7400";
  std::string data_dir;
  std::string node_signing_key;  // path to the node's Ed25519 private key
  size_t max_payload_bytes = 1 << 20;
  absl::Duration max_clock_skew = absl::Minutes(5);
  // Longer expiries are refused (EXPIRY_TOO_FAR); the directory may lower it.
  absl::Duration max_message_lifetime = absl::Hours(24 * 30);
  bool max_message_lifetime_set = false;  // given in the file
  absl::Duration visibility_timeout = absl::Seconds(30);
  absl::Duration retention = absl::Hours(24 * 7);
  bool retention_set = false;  // given in the file
  std::vector<OrgConfig> organisations;
  // The signed federation directory and the authority's public key (both
  // or neither). Without them the organisations' keys come from this file.
  std::string directory;
  std::string authority_public_key;
  // Mutual TLS: the federation CA certificate, this node's certificate and
  // its private key (PEM, deploy/pki/make-pki.sh). Required unless the node
  // runs with --insecure-dev.
  std::string tls_ca, tls_cert, tls_key;
  // Acknowledgements must carry the recipient's signature (proof of receipt
  // for the sender); false also takes unsigned ones.
  bool require_signed_acknowledgements = true;
  // The TRM case rules (docs/workflow.md), and their periods per route.
  bool case_rules = true;
  cases::CasePolicies case_policies;
  // The periods the file sets, level by level (0: not set): what is
  // compared with the federation's policy (CheckNodeAgainstPolicy).
  v1::FederationPolicy case_rules_set;
  // How often the deadline scheduler looks for passed deadlines.
  absl::Duration deadline_check_interval = absl::Seconds(1);
  // Prometheus metrics over HTTP (GET /metrics), e.g. "127.0.0.1:9400";
  // empty: off.
  std::string metrics_listen;
  // "text" (default) or "json": JSON lines, one object per event.
  std::string log_format = "text";
  // Log each message's steps (accepted, refused, relayed, received,
  // acknowledged) with its id as trace_id.
  bool log_messages = false;
  // How often the audit log's tree head is signed when the log has grown.
  absl::Duration audit_tree_head_interval = absl::Seconds(10);
  // Relay to other nodes ("relay" in the file).
  uint64_t relay_batch = 256;
  uint64_t relay_base_backoff_ms = 100;
  uint64_t relay_max_backoff_seconds = 30;
  uint64_t relay_breaker_failures = 5;
  uint64_t relay_breaker_open_seconds = 30;
  uint64_t relay_witness_seconds = 30;  // idle links still exchange tree heads
  // One relay call (a batch and its answer) may take this long before it
  // counts as a failure: a link that drops packets silently costs this.
  uint64_t relay_call_timeout_seconds = 30;
  // The disk-free alarm ("disk" in the file; server/storage/disk_guard.h):
  // below min_free_bytes submissions and relay intake are refused; the
  // reserve file holds reserve_bytes back for a restart; the write-ahead log
  // is kept under max_wal_bytes.
  // What callers may hold of the node ("limits" in the file).
  uint64_t max_calls_per_organisation = 64;
  uint64_t max_threads = 1024;         // gRPC server threads in all
  uint64_t stream_stall_seconds = 30;  // a Receive stream not read is ended
  // Refusals recorded one by one per organisation (then only counted).
  uint64_t refusal_records_per_minute = 60;
  uint64_t refusal_record_burst = 100;
  uint64_t disk_min_free_bytes = 128ull << 20;
  uint64_t disk_reserve_bytes = 64ull << 20;
  uint64_t disk_max_wal_bytes = 64ull << 20;
};

// Reads and validates the file. Relative paths inside it are resolved
// against the file's directory. Errors name the key and what to write.
absl::StatusOr<NodeConfig> LoadNodeConfig(const std::string& path);

// OK when nothing in `config` is looser than the federation's policy in
// `dir`: the periods (case_rules), max_message_lifetime_seconds and
// retention_seconds, each where the file sets it.
// POLICY_LOOSER_THAN_FEDERATION (FAILED_PRECONDITION) naming the first
// looser setting, both values and the fix.
absl::Status CheckNodeAgainstPolicy(const NodeConfig& config,
                                    const v1::Directory& dir);

// True for addresses on the loopback interface (127.0.0.0/8, [::1],
// localhost).
bool IsLoopback(const std::string& listen_address);

}  // namespace trm::config

#endif  // TRM_SERVER_CONFIG_NODE_CONFIG_H_
