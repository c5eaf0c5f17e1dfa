#include "client/node_commands.h"

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/crypto/hash.h"
#include "common/crypto/key_files.h"
#include "common/directory/directory.h"
#include "common/envelope/acknowledgement.h"
#include "common/envelope/envelope.h"
#include "common/envelope/refusal.h"
#include "common/rpc_status.h"
#include "common/status.h"
#include "common/time_text.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "trm/v1/admin.grpc.pb.h"
#include "trm/v1/case.pb.h"
#include "trm/v1/mailbox.grpc.pb.h"

namespace trm::client {
using nlohmann::json;

namespace {
std::string& ProfilePath() {
  static std::string path;
  return path;
}
}  // namespace

void SetProfilePath(std::string path) { ProfilePath() = std::move(path); }

std::string DefaultProfilePath() {
  if (const char* env = std::getenv("TRM_CONFIG"); env != nullptr) return env;
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') return "";
  const std::string path = std::string(home) + "/.config/trm/client.json";
  return ::access(path.c_str(), F_OK) == 0 ? path : "";
}

absl::StatusOr<Profile> ProfileFor(const NodeFlags& f) {
  Profile p;
  if (!ProfilePath().empty()) {
    ASSIGN_OR_RETURN(p, LoadProfile(ProfilePath()));
  }
  if (!f.node.empty()) p.connect.address = f.node;
  if (f.insecure_dev) {
    if (!f.token_file.empty()) p.connect.dev_token_file = f.token_file;
    if (p.connect.dev_token_file.empty()) {
      return UsageError(
          "--insecure-dev needs --token-file: your organisation's token "
          "(ORG.token from trmctl keygen)");
    }
    p.connect.ca_file.clear();
    p.connect.cert_file.clear();
    p.connect.key_file.clear();
  } else if (!f.ca.empty() || !f.cert.empty() || !f.key.empty()) {
    p.connect.ca_file = f.ca;
    p.connect.cert_file = f.cert;
    p.connect.key_file = f.key;
    p.connect.dev_token_file.clear();
  }
  return p;
}

void Connection::Prepare(grpc::ClientContext* ctx,
                         absl::Duration timeout) const {
  client->Prepare(ctx, timeout);
}

absl::StatusOr<Connection> Connect(const Profile& p) {
  Connection c;
  ASSIGN_OR_RETURN(c.client, Client::Connect(p));
  c.channel = c.client->channel();
  return c;
}

absl::StatusOr<Connection> Connect(const NodeFlags& f) {
  ASSIGN_OR_RETURN(Profile p, ProfileFor(f));
  return Connect(p);
}

void AddNodeFlags(CLI::App* command, NodeFlags* f) {
  command->add_option("--node", f->node,
                      "the node's address (default: the client profile's, "
                      "else 127.0.0.1:7400)");
  command->add_option("--ca", f->ca, "the federation CA certificate (PEM)");
  command->add_option("--cert", f->cert,
                      "your organisation's TLS certificate (PEM)");
  command->add_option("--key", f->key, "its private key (PEM)");
  command->add_option("--token-file", f->token_file,
                      "with --insecure-dev: your organisation's token "
                      "(ORG.token)");
  command->add_flag("--insecure-dev", f->insecure_dev,
                    "plaintext to a development node on loopback");
}

absl::StatusOr<std::string> MakeToken(const std::string& path) {
  uint8_t raw[32];
  if (RAND_bytes(raw, sizeof(raw)) != 1) {
    return Error(absl::StatusCode::kInternal, "OPENSSL_ERROR",
                 "no randomness for a token");
  }
  const std::string token = HexEncode(ByteView(raw, sizeof(raw)));
  Wipe(MutableByteView(raw, sizeof(raw)));
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Error(
        errno == EEXIST ? absl::StatusCode::kAlreadyExists
                        : absl::StatusCode::kFailedPrecondition,
        errno == EEXIST ? "KEY_FILE_EXISTS" : "KEY_FILE_IO",
        absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  }
  const std::string line = token + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) ==
                  static_cast<ssize_t>(line.size());
  ::close(fd);
  if (!ok) {
    return Error(absl::StatusCode::kFailedPrecondition, "KEY_FILE_IO",
                 absl::StrCat("cannot write ", path));
  }
  return HexEncode(crypto::Sha256({AsBytes(token)}));
}

namespace {

// Prints the node's acceptance of a message.
absl::Status PrintAccepted(const absl::StatusOr<Accepted>& a,
                           const v1::Header& header, const Output& out) {
  const std::string id = HexEncode(AsBytes(header.message_id()));
  if (!a.ok()) {
    // The id, so that the refusal can be looked up later with `status`.
    if (!out.json && !out.quiet) {
      std::cerr << "message " << id << " not accepted\n";
    }
    return a.status();
  }
  if (out.quiet) return absl::OkStatus();
  const std::string at = IsoMillis(absl::ToUnixMillis(a->at));
  if (out.json) {
    std::cout << json{{"ok", true},
                      {"message_id", id},
                      {"accepted_by", a->node},
                      {"accepted_at", at},
                      {"receipt", a->receipt_check},
                      {"batch_size", a->batch_size}}
                     .dump()
              << "\n";
  } else {
    std::cout << "sent " << v1::MessageType_Name(header.type()) << " " << id
              << ": accepted by node " << a->node << " at " << at
              << ", receipt " << a->receipt_check << "\n";
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status SendCommand(const NodeFlags& node, const SealFlags& seal,
                         const std::string& node_pub, const Output& out) {
  ASSIGN_OR_RETURN(Profile p, ProfileFor(node));
  ASSIGN_OR_RETURN(Message m, MessageFromFlags(seal, &p));
  if (!node_pub.empty()) p.trust.node_pub_file = node_pub;
  ASSIGN_OR_RETURN(Sealed sealed, Seal(m, p));
  ASSIGN_OR_RETURN(Connection c, Connect(p));
  return PrintAccepted(c.client->Submit(sealed.envelope), sealed.header, out);
}

absl::Status SubmitCommand(const NodeFlags& node, const std::string& in,
                           const std::string& node_pub, const Output& out) {
  ASSIGN_OR_RETURN(std::string wire, ReadInput(in));
  ASSIGN_OR_RETURN(envelope::ParsedEnvelope parsed,
                   envelope::ParsedEnvelope::Parse(wire));
  ASSIGN_OR_RETURN(Profile p, ProfileFor(node));
  if (!node_pub.empty()) p.trust.node_pub_file = node_pub;
  ASSIGN_OR_RETURN(Connection c, Connect(p));
  return PrintAccepted(c.client->Submit(wire), parsed.header(), out);
}

absl::Status ReceiveCommand(const NodeFlags& node, const ReceiveFlags& f,
                            const Output& out) {
  ASSIGN_OR_RETURN(Profile p, ProfileFor(node));
  if (!f.sign_key.empty()) p.identity.sign_key_file = f.sign_key;
  if (!f.recipient_key.empty())
    p.identity.encryption_key_file = f.recipient_key;
  if (!f.keys_dir.empty()) p.trust.keys_dir = f.keys_dir;
  if (!f.directory.empty()) p.trust.directory_file = f.directory;
  if (!f.authority_pub.empty()) p.trust.authority_pub_file = f.authority_pub;
  if (f.unsigned_acks) p.identity.sign_key_file.clear();
  // Before anything is fetched: without a signature the node would refuse
  // every acknowledgement and hand the messages out again and again.
  if (p.identity.sign_key_file.empty() && !f.unsigned_acks) {
    return UsageError(
        "receive needs --sign-key ORG.sign.key: each acknowledgement is "
        "signed as proof of receipt for the sender, and nodes refuse "
        "unsigned ones. (Only if your node is configured with "
        "\"require_signed_acknowledgements\": false, pass --unsigned-acks "
        "instead.) Nothing was fetched");
  }
  if (!f.sign_key.empty() && f.unsigned_acks) {
    return UsageError("give --sign-key or --unsigned-acks, not both");
  }
  if (p.identity.encryption_key_file.empty()) {
    return UsageError(
        "receive needs --recipient-key ORG.enc.key (\"encryption_key\" in "
        "the client profile): your key to open messages with. Nothing was "
        "fetched");
  }
  if (p.trust.keys_dir.empty() && p.trust.directory_file.empty()) {
    return UsageError(
        "receive needs the senders' keys: --directory and --authority-pub "
        "(the signed directory), or offline --keys-dir with their "
        "ORG.sign.pub files. Nothing was fetched");
  }
  std::vector<std::string> to_refuse;
  for (const std::string& hex : f.refuse_ids) {
    absl::StatusOr<std::vector<uint8_t>> id = HexDecode(hex);
    if (!id.ok() || id->size() != 16) {
      return UsageError(absl::StrCat("--refuse ", hex,
                                     ": give a MESSAGE_ID of 32 hex digits, "
                                     "as receive printed it"));
    }
    to_refuse.emplace_back(id->begin(), id->end());
  }
  absl::StatusOr<v1::RefusalReason> refuse_reason =
      envelope::ParseRefusalReason(f.refuse_reason);
  if (!refuse_reason.ok()) {
    return UsageError(
        absl::StrCat("--reason: ", refuse_reason.status().message()));
  }
  if (!to_refuse.empty() && f.unsigned_acks) {
    return UsageError("--refuse needs --sign-key: a refusal is always signed");
  }
  ASSIGN_OR_RETURN(Connection c, Connect(p));
  Client& client = *c.client;
  json results = json::array();
  int failed = 0, refused = 0;
  auto handle = [&](const Delivery& d) {
    const std::string id = HexEncode(AsBytes(d.message_id));
    json r = {{"message_id", id}, {"attempt", d.attempt}};
    // Set when the message is refused: why, in the refusal's words.
    std::optional<std::pair<v1::RefusalReason, std::string>> refusal;
    absl::Status s = [&]() -> absl::Status {
      RETURN_IF_ERROR(d.parse_status);
      r["type"] = v1::MessageType_Name(d.header.type());
      r["from"] = d.header.sender_org();
      r["case_ref"] = d.header.case_ref();
      if (std::find(to_refuse.begin(), to_refuse.end(), d.message_id) !=
          to_refuse.end()) {
        refusal.emplace(*refuse_reason, f.refuse_text);
        return absl::OkStatus();
      }
      absl::StatusOr<Opened> opened = client.Open(d);
      if (!opened.ok()) {
        if (f.unsigned_acks || !NeverOpens(opened.status())) {
          return opened.status();
        }
        refusal.emplace(RefusalFor(opened.status()),
                        absl::StrCat(ReasonOf(opened.status()), ": ",
                                     opened.status().message()));
        return absl::OkStatus();
      }
      const std::string path = f.out_dir + "/" + id + ".payload";
      RETURN_IF_ERROR(WriteOutput(path, AsBytes(opened->payload), 0600));
      r["payload"] = path;
      if (d.header.type() == v1::DEADLINE_NOTICE) {
        // The node's own notice: what passed, and who owes it.
        v1::DeadlineNotice n;
        if (n.ParseFromString(opened->payload)) {
          r["deadline"] = absl::StrCat(
              v1::DeadlineKind_Name(n.deadline().kind()), " due ",
              IsoSeconds(absl::FromUnixMillis(n.deadline().due_unix_ms())),
              ", owed by ", n.deadline().responsible_org(), ": ", n.action());
        }
      }
      return absl::OkStatus();
    }();
    if (s.ok()) {
      // Acknowledge only once the payload is safely on disk, with a signed
      // statement of what was received; or refuse, signed.
      if (refusal.has_value()) {
        s = client.Refuse(d, refusal->first, refusal->second);
      } else {
        s = f.unsigned_acks ? client.AcknowledgeUnsigned(d)
                            : client.Acknowledge(d);
      }
      if (s.ok() && refusal.has_value()) {
        ++refused;
        r["refused"] = envelope::RefusalReasonToken(refusal->first);
        r["refusal_text"] = refusal->second;
      } else if (s.ok()) {
        r["acknowledgement"] = f.unsigned_acks ? "unsigned" : "signed";
      }
    }
    if (!s.ok()) {
      ++failed;
      r["error"] = std::string(s.message());
      r["reason"] = ReasonOf(s);
      // Not acknowledged: give the lease back so that it comes again at
      // once (best effort; otherwise it does when the lease runs out).
      client.Release(d).IgnoreError();
    }
    if (!out.json) {
      if (!s.ok()) {
        std::cerr << "trmctl: message " << id
                  << " not acknowledged: " << s.message();
        if (!r.contains("payload") && !refusal.has_value()) {
          std::cerr << ". If it can never be processed here, refuse it: "
                       "trmctl receive ... --refuse "
                    << id << " --reason CANNOT_OPEN|WRONG_TYPE|NOT_OURS "
                    << "--text WHY";
        }
        std::cerr << "\n";
      } else if (refusal.has_value()) {
        std::cout << "refused " << r["type"].get<std::string>() << " " << id
                  << " from " << r["from"].get<std::string>() << " (case "
                  << r["case_ref"].get<std::string>() << ") as "
                  << r["refused"].get<std::string>() << ": " << refusal->second
                  << "; the sender sees REFUSED with your signed refusal\n";
      } else {
        std::cout << "received " << r["type"].get<std::string>() << " " << id
                  << " from " << r["from"].get<std::string>() << " (case "
                  << r["case_ref"].get<std::string>() << ") -> "
                  << r["payload"].get<std::string>() << ", acknowledged\n";
        if (r.contains("deadline")) {
          std::cout << "  OVERDUE " << r["deadline"].get<std::string>() << "\n";
        }
      }
    }
    results.push_back(r);
  };
  RETURN_IF_ERROR(client.Receive(f.max, absl::Milliseconds(f.wait_ms), handle));
  const std::string summary = absl::StrCat(
      results.size(), " received, ", results.size() - failed - refused,
      " opened and acknowledged, ", refused, " refused, ", failed,
      " not: each of those was given back to the node and will be delivered "
      "again (the reason is above; fix the key or keys directory it names, "
      "or refuse it with --refuse)");
  if (out.json) {
    json j = {{"ok", failed == 0}, {"messages", results}};
    if (failed > 0) {
      j["reason"] = "MESSAGES_NOT_OPENED";
      j["error"] = summary;
    }
    std::cout << j.dump() << "\n";
  } else if (results.empty()) {
    std::cout << "no messages\n";
  }
  if (failed > 0) {
    // With --json the one object above says it all: no second one.
    if (out.json) return absl::Status(absl::StatusCode::kDataLoss, "");
    return Error(absl::StatusCode::kDataLoss, "MESSAGES_NOT_OPENED", summary);
  }
  return absl::OkStatus();
}

absl::Status StatusCommand(const NodeFlags& node, const StatusFlags& f,
                           const Output& out) {
  const std::string& id_hex = f.id_hex;
  auto id = HexDecode(id_hex);
  if (!id.ok() || id->size() != 16) {
    return UsageError("MESSAGE_ID must be 32 hex digits, as send printed it");
  }
  ASSIGN_OR_RETURN(Profile p, ProfileFor(node));
  if (!f.directory.empty()) p.trust.directory_file = f.directory;
  if (!f.authority_pub.empty()) p.trust.authority_pub_file = f.authority_pub;
  ASSIGN_OR_RETURN(Connection c, Connect(p));
  // The evidence for each step, checked against the signed directory when
  // there is one.
  ASSIGN_OR_RETURN(Evidence e, c.client->Status(id_hex));
  const v1::StoredStatus& s = e.status;
  json j = {{"message_id", id_hex},
            {"state", v1::MessageState_Name(s.state())},
            {"recipient", s.recipient_org()}};
  const std::pair<const char*, int64_t> times[] = {
      {"accepted", s.accepted_unix_ms()},
      {"delivered", s.delivered_unix_ms()},
      {"acknowledged", s.acknowledged_unix_ms()},
      {"refused", s.refused_unix_ms()},
      {"expired", s.expired_unix_ms()},
      {"rejected", s.rejected_unix_ms()},
      {"relayed", s.relayed_unix_ms()},
      {"payload_purged", s.purged_unix_ms()}};
  for (const auto& [name, ms] : times) {
    if (ms > 0) j[name] = IsoMillis(ms);
  }
  if (!s.relayed_to().empty()) j["relayed_to"] = s.relayed_to();
  for (const auto& [name, check] : e.checks) j[name] = check;
  if (!s.reason_code().empty()) j["reason_code"] = s.reason_code();
  if (!s.reason().empty()) j["reason"] = s.reason();
  const std::string held = WhereHeld(e, absl::ToUnixMillis(absl::Now()));
  if (!held.empty()) j["held"] = held;
  if (out.json) {
    std::cout << json{{"ok", true}, {"status", j}}.dump() << "\n";
    return absl::OkStatus();
  }
  std::cout << "message " << id_hex << ": " << j["state"].get<std::string>()
            << "\n";
  for (const char* k :
       {"recipient", "accepted", "held", "relayed", "relayed_to",
        "relay_receipt", "delivered", "delivery_receipt", "acknowledged",
        "acknowledgement", "refused", "refusal", "expired", "expiry_receipt",
        "rejected", "payload_purged", "reason_code", "reason"}) {
    if (j.contains(k)) {
      std::cout << "  " << k << ": " << j[k].get<std::string>() << "\n";
    }
  }
  return absl::OkStatus();
}

absl::Status NodeStatusCommand(const NodeFlags& node, const Output& out) {
  ASSIGN_OR_RETURN(Connection c, Connect(node));
  std::unique_ptr<v1::NodeAdmin::Stub> admin =
      v1::NodeAdmin::NewStub(c.channel);
  grpc::ClientContext ctx;
  c.Prepare(&ctx, absl::Seconds(30));
  v1::NodeStatus s;
  RETURN_IF_ERROR(
      FromGrpcStatus(admin->GetNodeStatus(&ctx, v1::NodeStatusRequest(), &s)));
  auto when = [](int64_t ms) { return ms == 0 ? json() : json(IsoMillis(ms)); };
  json peers = json::array();
  for (const v1::PeerLink& p : s.peers()) {
    peers.push_back(
        {{"node", p.node()},
         {"reachable", p.consecutive_failures() == 0},
         {"breaker", p.breaker()},
         {"consecutive_failures", p.consecutive_failures()},
         {"failing_since", when(p.failing_since_unix_ms())},
         {"next_attempt", when(p.next_attempt_unix_ms())},
         {"last_success", when(p.last_success_unix_ms())},
         {"last_error", p.last_error()},
         {"outbound_queued", p.outbound_queued()},
         {"outbound_bytes", p.outbound_bytes()},
         {"notices_queued", p.notices_queued()},
         {"relayed", p.relayed()},
         {"refused", p.refused()},
         {"failed_attempts", p.failed_attempts()},
         {"notices_sent", p.notices_sent()},
         {"notices_refused", p.notices_refused()},
         {"witnessed_tree_size", p.witnessed_tree_size()},
         {"witnessed_signed_at", when(p.witnessed_signed_unix_ms())},
         {"forks", p.forks()}});
  }
  json queues = json::array();
  for (const v1::QueueSummary& q : s.queues()) {
    queues.push_back({{"organisation", q.organisation()},
                      {"queued", q.queued()},
                      {"bytes", q.bytes()}});
  }
  if (out.json) {
    std::cout << json{{"ok", true},
                      {"node", s.node_id()},
                      {"directory_serial", s.directory_serial()},
                      {"time", IsoMillis(s.now_unix_ms())},
                      {"relay_enabled", s.relay_enabled()},
                      {"overdue_deadlines", s.overdue_deadlines()},
                      {"tls_cert_not_after",
                       when(s.tls_cert_not_after_unix_ms())},
                      {"node_key_valid_until",
                       when(s.node_key_valid_until_unix_ms())},
                      {"directory_standing", s.directory_standing()},
                      {"directory_valid_until",
                       when(s.directory_valid_until_unix_ms())},
                      {"directory_grace_ends",
                       when(s.directory_grace_ends_unix_ms())},
                      {"disk",
                       {{"free_bytes", s.disk_free_bytes()},
                        {"min_free_bytes", s.disk_min_free_bytes()},
                        {"low", s.disk_low()},
                        {"refusals", s.disk_refusals()}}},
                      {"peers", peers},
                      {"queues", queues}}
                     .dump()
              << "\n";
    return absl::OkStatus();
  }
  std::cout << "node " << s.node_id() << " (directory serial "
            << s.directory_serial() << ") at " << IsoMillis(s.now_unix_ms())
            << "\n";
  if (!s.relay_enabled()) {
    std::cout << "peers: none (this node does not relay: no mutual TLS)\n";
  } else {
    std::cout << "peers:\n";
  }
  for (const v1::PeerLink& p : s.peers()) {
    std::cout << "  " << p.node() << ": ";
    if (p.consecutive_failures() == 0) {
      std::cout << "reachable";
    } else {
      std::cout << "FAILING since " << IsoMillis(p.failing_since_unix_ms())
                << ", " << p.consecutive_failures()
                << " attempts in a row, circuit " << p.breaker();
    }
    std::cout << "; last success "
              << (p.last_success_unix_ms() == 0
                      ? std::string("none since start")
                      : IsoMillis(p.last_success_unix_ms()));
    if (p.next_attempt_unix_ms() != 0) {
      std::cout << "; next attempt " << IsoMillis(p.next_attempt_unix_ms())
                << " (in " << (p.next_attempt_unix_ms() - s.now_unix_ms())
                << " ms)";
    }
    std::cout << "\n    backlog " << p.outbound_queued() << " messages ("
              << p.outbound_bytes() << " bytes), " << p.notices_queued()
              << " notices; relayed " << p.relayed() << ", refused "
              << p.refused() << ", failed attempts " << p.failed_attempts()
              << ", notices sent " << p.notices_sent() << "\n";
    if (!p.last_error().empty()) {
      std::cout << "    last error: " << p.last_error() << "\n";
    }
    if (p.witnessed_tree_size() > 0 || p.forks() > 0) {
      std::cout << "    audit log witnessed: " << p.witnessed_tree_size()
                << " entries (head signed "
                << IsoMillis(p.witnessed_signed_unix_ms()) << ")";
      if (p.forks() > 0) {
        std::cout << "; FORKS DETECTED: " << p.forks()
                  << " (see this node's TREE_HEAD_FORK audit events)";
      }
      std::cout << "\n";
    }
  }
  std::cout << "queues:\n";
  for (const v1::QueueSummary& q : s.queues()) {
    std::cout << "  " << q.organisation() << ": " << q.queued() << " messages ("
              << q.bytes() << " bytes)\n";
  }
  auto expiry = [&](int64_t ms) {
    if (ms == 0) return std::string("no end date");
    return absl::StrCat(IsoMillis(ms), " (in ",
                        (ms - s.now_unix_ms()) / (24 * 3600 * 1000), " days)");
  };
  std::cout << "keys: TLS certificate "
            << (s.tls_cert_not_after_unix_ms() == 0
                    ? std::string("none (development)")
                    : "expires " + expiry(s.tls_cert_not_after_unix_ms()))
            << "; node signing key in the directory valid until "
            << expiry(s.node_key_valid_until_unix_ms()) << "\n";
  if (!s.directory_standing().empty()) {
    std::cout << "directory: serial " << s.directory_serial() << ", "
              << s.directory_standing();
    if (s.directory_valid_until_unix_ms() != 0) {
      std::cout << ", valid until " << expiry(s.directory_valid_until_unix_ms())
                << ", grace until "
                << IsoMillis(s.directory_grace_ends_unix_ms());
    }
    if (s.directory_standing() == "lapsed") {
      std::cout << ": NO NEW CASES until a newer directory is published";
    }
    std::cout << "\n";
  }
  if (s.disk_min_free_bytes() > 0) {
    auto mib = [](uint64_t b) { return absl::StrCat(b >> 20, " MiB"); };
    std::cout << "disk: " << mib(s.disk_free_bytes()) << " free, limit "
              << mib(s.disk_min_free_bytes())
              << (s.disk_low() ? "; LOW: refusing new messages (STORE_DISK_LOW)"
                                 " until space is freed"
                               : "")
              << (s.disk_refusals() > 0
                      ? absl::StrCat("; ", s.disk_refusals(),
                                     " writes refused since start")
                      : "")
              << "\n";
  }
  std::cout << "cases: " << s.overdue_deadlines() << " overdue deadline(s)"
            << (s.overdue_deadlines() > 0 ? " (trmctl case overdue lists them)"
                                          : "")
            << "\n";
  return absl::OkStatus();
}

absl::Status BackupCommand(const NodeFlags& node, const std::string& dir,
                           const Output& out) {
  ASSIGN_OR_RETURN(Connection c, Connect(node));
  std::unique_ptr<v1::NodeAdmin::Stub> admin =
      v1::NodeAdmin::NewStub(c.channel);
  grpc::ClientContext ctx;
  c.Prepare(&ctx, absl::Minutes(30));
  v1::BackupRequest req;
  req.set_dir(dir);
  v1::BackupResponse resp;
  RETURN_IF_ERROR(FromGrpcStatus(admin->Backup(&ctx, req, &resp)));
  v1::TreeHead head;
  head.ParseFromString(resp.tree_head().tree_head());
  const std::string root = HexEncode(AsBytes(head.root_hash()));
  if (out.json) {
    std::cout << json{{"ok", true},
                      {"dir", resp.dir()},
                      {"taken", IsoMillis(resp.taken_unix_ms())},
                      {"tree_size", head.tree_size()},
                      {"root", root}}
                     .dump()
              << "\n";
  } else {
    std::cout << "backup of node " << head.node() << " written to "
              << resp.dir() << " at " << IsoMillis(resp.taken_unix_ms())
              << "\n  it holds the audit log's first " << head.tree_size()
              << " entries at least (signed tree head, root " << root
              << ")\n  restore: trm-broker --config NODE.json --restore "
              << resp.dir() << "\n";
  }
  return absl::OkStatus();
}

absl::Status HealthCommand(const NodeFlags& node, const Output& out) {
  ASSIGN_OR_RETURN(Connection c, Connect(node));
  std::unique_ptr<grpc::health::v1::Health::Stub> health =
      grpc::health::v1::Health::NewStub(c.channel);
  grpc::ClientContext ctx;
  c.Prepare(&ctx, absl::Seconds(10));
  grpc::health::v1::HealthCheckResponse resp;
  RETURN_IF_ERROR(FromGrpcStatus(
      health->Check(&ctx, grpc::health::v1::HealthCheckRequest(), &resp)));
  const std::string state =
      grpc::health::v1::HealthCheckResponse::ServingStatus_Name(resp.status());
  if (out.json) {
    std::cout << json{{"ok",
                       resp.status() ==
                           grpc::health::v1::HealthCheckResponse::SERVING},
                      {"status", state}}
                     .dump()
              << "\n";
  } else {
    std::cout << state << "\n";
  }
  if (resp.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
    return Error(absl::StatusCode::kUnavailable, "NOT_SERVING",
                 absl::StrCat("the node answers ", state));
  }
  return absl::OkStatus();
}

absl::Status ServicesCommand(const NodeFlags& node, const Output& out) {
  ASSIGN_OR_RETURN(Connection c, Connect(node));
  auto reflection =
      grpc::reflection::v1alpha::ServerReflection::NewStub(c.channel);
  grpc::ClientContext ctx;
  c.Prepare(&ctx, absl::Seconds(10));
  auto stream = reflection->ServerReflectionInfo(&ctx);
  grpc::reflection::v1alpha::ServerReflectionRequest req;
  req.set_list_services("");
  grpc::reflection::v1alpha::ServerReflectionResponse resp;
  const bool answered =
      stream->Write(req) && stream->WritesDone() && stream->Read(&resp);
  grpc::reflection::v1alpha::ServerReflectionResponse rest;
  while (stream->Read(&rest)) {
  }
  RETURN_IF_ERROR(FromGrpcStatus(stream->Finish()));
  if (!answered || !resp.has_list_services_response()) {
    return Error(absl::StatusCode::kUnavailable, "NO_REFLECTION",
                 "the node did not answer the reflection request");
  }
  json names = json::array();
  for (const auto& s : resp.list_services_response().service()) {
    names.push_back(s.name());
  }
  if (out.json) {
    std::cout << json{{"ok", true}, {"services", names}}.dump() << "\n";
  } else {
    for (const auto& n : names) std::cout << n.get<std::string>() << "\n";
  }
  return absl::OkStatus();
}

}  // namespace trm::client
