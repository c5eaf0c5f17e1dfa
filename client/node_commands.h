// trmctl's commands that talk to a node: send, receive, status.
#ifndef TRM_CLIENT_NODE_COMMANDS_H_
#define TRM_CLIENT_NODE_COMMANDS_H_

#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "client/cli_util.h"
#include "trm/client/client.h"
#include "trm/v1/mailbox.grpc.pb.h"

namespace trm::client {

struct NodeFlags {
  std::string node;           // empty: the profile's
  std::string ca, cert, key;  // mutual TLS
  std::string token_file;     // development (--insecure-dev) only
  bool insecure_dev = false;
};
void AddNodeFlags(CLI::App* command, NodeFlags* flags);

// The client profile (trmctl --config FILE) every command starts from;
// its flags override it. Empty: none.
void SetProfilePath(std::string path);
// Where the profile is when --config is not given: $TRM_CONFIG when set
// (empty: none), else ~/.config/trm/client.json when that file exists, else
// none ("").
std::string DefaultProfilePath();
// The profile with the node flags applied.
absl::StatusOr<Profile> ProfileFor(const NodeFlags& f);

// The library's client, and its channel for the node's other services.
struct Connection {
  std::unique_ptr<Client> client;
  std::shared_ptr<grpc::Channel> channel;
  // Adds the credential and a deadline.
  void Prepare(grpc::ClientContext* ctx, absl::Duration timeout) const;
};
absl::StatusOr<Connection> Connect(const NodeFlags& f);
absl::StatusOr<Connection> Connect(const Profile& p);

struct ReceiveFlags {
  std::string recipient_key, keys_dir, out_dir = ".";
  std::string directory, authority_pub;  // the signed directory
  std::string sign_key;                  // signs the acknowledgements
  // Acknowledge without a signature (only nodes configured with
  // require_signed_acknowledgements false take that).
  bool unsigned_acks = false;
  uint32_t max = 64;
  uint32_t wait_ms = 0;
  // Messages to refuse (signed, with the reason and text below) instead of
  // opening, when they are delivered in this call.
  std::vector<std::string> refuse_ids;  // hex
  std::string refuse_reason = "NOT_OURS";
  std::string refuse_text;
};

// trmctl node services.
absl::Status ServicesCommand(const NodeFlags& node, const Output& out);

// trmctl node health.
absl::Status HealthCommand(const NodeFlags& node, const Output& out);

// trmctl admin backup.
absl::Status BackupCommand(const NodeFlags& node, const std::string& dir,
                           const Output& out);

absl::Status SendCommand(const NodeFlags& node, const SealFlags& seal,
                         const std::string& node_pub, const Output& out);
// trmctl submit: an envelope sealed before (trmctl seal, or another
// implementation of docs/protocol.md), submitted as it is.
absl::Status SubmitCommand(const NodeFlags& node, const std::string& in,
                           const std::string& node_pub, const Output& out);
absl::Status ReceiveCommand(const NodeFlags& node, const ReceiveFlags& f,
                            const Output& out);
// With `directory` and `authority_pub`, the evidence for each step (the
// recipient node's receipts, the recipient's signed acknowledgement) is
// checked against the keys in the signed directory.
struct StatusFlags {
  std::string id_hex, directory, authority_pub;
};
absl::Status StatusCommand(const NodeFlags& node, const StatusFlags& f,
                           const Output& out);

// `trmctl node status`: the node's peers (reachability, retry schedule,
// backlog) and queues, for its national coordinator.
absl::Status NodeStatusCommand(const NodeFlags& node, const Output& out);

// A random bearer token written to `path` (mode 0600, never overwritten);
// returns the hex SHA-256 that goes into the node's configuration.
absl::StatusOr<std::string> MakeToken(const std::string& path);

}  // namespace trm::client

#endif  // TRM_CLIENT_NODE_COMMANDS_H_
