// trmctl: the command-line client of trm-broker.
//
//   trmctl keygen  --org ORG --dir DIR
//   trmctl seal    --type T --case C --from ORG@NODE --to ORG@NODE
//                  --sign-key K --recipient-pub P --in F --out E
//   trmctl open    --in E --sender-pub P --recipient-key K --out F
//   trmctl inspect --in E [--sender-pub P]
//
// Exit status: 0 on success, 1 when the operation was refused (bad envelope,
// bad key, failed check), 2 on a usage error. `--json` prints one JSON object
// on stdout for scripts. docs/trmctl.md describes every flag.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/audit_commands.h"
#include "client/case_commands.h"
#include "client/cli_util.h"
#include "client/contingency_command.h"
#include "client/directory_commands.h"
#include "client/node_commands.h"
#include "client/org_commands.h"
#include "client/reasons_command.h"
#include "client/stats_command.h"
#include "common/cases/payload_facts.h"
#include "common/crypto/key_files.h"
#include "common/envelope/envelope.h"
#include "common/process/mutex_checks.h"
#include "common/status.h"

namespace trm::client {
namespace {

using nlohmann::json;

constexpr int kExitRefused = 1;

// ---- keygen ----------------------------------------------------------------

struct KeygenFlags {
  std::string org;
  std::string dir = ".";
};

// Edit distance between `a` and `b` (insertions, deletions, substitutions).
size_t Distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// After a usage error: when a word of the command line is no subcommand
// but close to one, says which ("did you mean 'send'?").
void SuggestSubcommand(CLI::App& app, int argc, char** argv) {
  CLI::App* level = &app;
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word.empty() || word[0] == '-') continue;
    std::string best;
    size_t best_distance = 3;  // at most two edits away
    CLI::App* next = nullptr;
    for (CLI::App* sub : level->get_subcommands({})) {
      if (sub->get_name() == word) next = sub;
      const size_t d = Distance(word, sub->get_name());
      if (d < best_distance) best_distance = d, best = sub->get_name();
    }
    if (next != nullptr) {
      level = next;
      continue;
    }
    if (!best.empty()) {
      std::cerr << "trmctl: '" << word << "' is not a command; did you mean '"
                << best << "'?\n";
    }
    return;
  }
}

absl::Status Keygen(const KeygenFlags& f, const Output& out) {
  if (f.org.empty()) return UsageError("--org is required");
  // The folder is made if it does not exist (docs/operations.md starts so).
  std::error_code made;
  std::filesystem::create_directories(f.dir, made);
  if (made) {
    return Error(absl::StatusCode::kFailedPrecondition, "FILE_IO",
                 absl::StrCat("cannot create the key folder ", f.dir, ": ",
                              made.message()));
  }
  ASSIGN_OR_RETURN(crypto::Ed25519PrivateKey sign,
                   crypto::Ed25519PrivateKey::Generate());
  ASSIGN_OR_RETURN(crypto::X25519PrivateKey enc,
                   crypto::X25519PrivateKey::Generate());
  const std::string base = f.dir + "/" + f.org;
  RETURN_IF_ERROR(crypto::WritePrivateKeyFile(base + ".sign.key", sign.pkey()));
  RETURN_IF_ERROR(crypto::WritePrivateKeyFile(base + ".enc.key", enc.pkey()));
  RETURN_IF_ERROR(crypto::WritePublicKeyFile(
      base + ".sign.pub", crypto::Ed25519PublicKeyPem(sign.public_key())));
  RETURN_IF_ERROR(crypto::WritePublicKeyFile(
      base + ".enc.pub", crypto::X25519PublicKeyPem(enc.public_key())));
  ASSIGN_OR_RETURN(std::string token_sha256, MakeToken(base + ".token"));
  const std::string sign_id = HexEncode(crypto::KeyIdOf(sign.public_key()));
  const std::string enc_id = HexEncode(crypto::X25519KeyIdOf(enc.public_key()));
  if (out.json) {
    std::cout << json{{"ok", true},
                      {"org", f.org},
                      {"signing_key_id", sign_id},
                      {"encryption_key_id", enc_id},
                      {"token_sha256", token_sha256},
                      {"files",
                       {base + ".sign.key", base + ".sign.pub",
                        base + ".enc.key", base + ".enc.pub", base + ".token"}}}
                     .dump()
              << "\n";
  } else {
    std::cout << "keys for " << f.org << "\n"
              << "  signing (Ed25519)    key id " << sign_id << "\n"
              << "    " << base << ".sign.key (private, 0600)\n"
              << "    " << base << ".sign.pub\n"
              << "  encryption (X25519)  key id " << enc_id << "\n"
              << "    " << base << ".enc.key (private, 0600)\n"
              << "    " << base << ".enc.pub\n"
              << "  dev token            " << base << ".token (0600)\n"
              << "    token_sha256 for a development node (--insecure-dev): "
              << token_sha256 << "\n";
  }
  return absl::OkStatus();
}

// ---- seal ------------------------------------------------------------------

absl::Status SealCommand(const SealFlags& f, const Output& out) {
  ASSIGN_OR_RETURN(Profile p, ProfileFor(NodeFlags{}));
  ASSIGN_OR_RETURN(Message m, MessageFromFlags(f, &p));
  ASSIGN_OR_RETURN(Sealed sealed, Seal(m, p));
  const v1::Header& h = sealed.header;
  const std::string& wire = sealed.envelope;
  const v1::MessageType type = h.type();
  RETURN_IF_ERROR(WriteOutput(f.out, AsBytes(wire), 0644));
  const std::string id = HexEncode(AsBytes(h.message_id()));
  if (out.json) {
    std::cout << json{{"ok", true},
                      {"message_id", id},
                      {"envelope", f.out},
                      {"bytes", wire.size()}}
                     .dump()
              << "\n";
  } else {
    std::cout << "sealed " << v1::MessageType_Name(type) << " " << id << " for "
              << f.to << " -> " << f.out << " (" << wire.size() << " bytes)\n";
  }
  return absl::OkStatus();
}

// ---- open ------------------------------------------------------------------

struct OpenFlags {
  std::string in, sender_pub, recipient_key, out = "-";
  bool allow_expired = false;
};

absl::Status OpenCommand(const OpenFlags& f, const Output& out) {
  if (out.json && f.out == "-") {
    // stdout carries the one JSON object; the payload never goes there.
    return UsageError(
        "with --json, give --out FILE for the payload: stdout carries the "
        "JSON report, and the payload is never mixed into it");
  }
  ASSIGN_OR_RETURN(std::string wire, ReadInput(f.in));
  ASSIGN_OR_RETURN(envelope::ParsedEnvelope parsed,
                   envelope::ParsedEnvelope::Parse(wire));
  ASSIGN_OR_RETURN(crypto::Ed25519PublicKey sender,
                   crypto::LoadVerifyKey(f.sender_pub));
  ASSIGN_OR_RETURN(crypto::X25519PrivateKey recipient,
                   crypto::LoadEncryptionKey(f.recipient_key));
  envelope::OpenOptions options{absl::Now()};
  options.allow_expired = f.allow_expired;
  ASSIGN_OR_RETURN(SecretBytes payload,
                   envelope::Open(parsed, sender, recipient, options));
  // The header routed it: it must say what the payload says (protocol
  // section 17.2), or the message is not written.
  ASSIGN_OR_RETURN(cases::PayloadFacts facts,
                   cases::ReadPayloadFacts(
                       parsed.header().type(),
                       absl::string_view(
                           reinterpret_cast<const char*>(payload.view().data()),
                           payload.size())));
  RETURN_IF_ERROR(cases::CheckHeaderAgrees(parsed.header(), facts));
  RETURN_IF_ERROR(WriteOutput(f.out, payload.view(), 0600));
  json h = HeaderJson(parsed.header(),
                      HexEncode(AsBytes(parsed.envelope().sender_key_id())));
  std::ostream& report = f.out == "-" ? std::cerr : std::cout;  // text only
  if (out.json) {
    report << json{{"ok", true},
                   {"signature", "valid"},
                   {"header", h},
                   {"payload_bytes", payload.size()},
                   {"payload", f.out}}
                  .dump()
           << "\n";
  } else {
    report << "opened " << h["type"].get<std::string>() << " "
           << h["message_id"].get<std::string>() << ": signature by "
           << h["sender"].get<std::string>() << " valid, " << payload.size()
           << " payload bytes -> " << (f.out == "-" ? "stdout" : f.out) << "\n";
  }
  return absl::OkStatus();
}

// ---- inspect ---------------------------------------------------------------

struct InspectFlags {
  std::string in, sender_pub;
};

absl::Status InspectCommand(const InspectFlags& f, const Output& out) {
  ASSIGN_OR_RETURN(std::string wire, ReadInput(f.in));
  ASSIGN_OR_RETURN(envelope::ParsedEnvelope parsed,
                   envelope::ParsedEnvelope::Parse(wire));
  json h = HeaderJson(parsed.header(),
                      HexEncode(AsBytes(parsed.envelope().sender_key_id())));
  std::string signature = "not checked (give --sender-pub to check it)";
  absl::Status verdict;
  if (!f.sender_pub.empty()) {
    ASSIGN_OR_RETURN(crypto::Ed25519PublicKey sender,
                     crypto::LoadVerifyKey(f.sender_pub));
    verdict = envelope::VerifySignature(parsed, sender);
    signature = verdict.ok() ? "valid" : std::string(verdict.message());
  }
  if (out.json) {
    std::cout << json{{"ok", verdict.ok()},
                      {"header", h},
                      {"signature",
                       verdict.ok() && !f.sender_pub.empty()
                           ? "valid"
                           : (f.sender_pub.empty() ? "unchecked" : "invalid")},
                      {"reason", ErrorReason(verdict)},
                      {"envelope_bytes", wire.size()},
                      {"ciphertext_bytes",
                       parsed.envelope().ciphertext().size()}}
                     .dump()
              << "\n";
    return verdict.ok() ? absl::OkStatus()
                        : absl::Status(verdict.code(), "");  // already shown
  }
  std::cout << "envelope " << f.in << " (" << wire.size() << " bytes, "
            << parsed.envelope().ciphertext().size() << " bytes sealed)\n";
  PrintHeader(h);
  std::cout << "  signature:         " << signature << "\n";
  return verdict.ok() ? absl::OkStatus() : absl::Status(verdict.code(), "");
}

int Report(const absl::Status& status, const Output& out) {
  if (status.ok()) return 0;
  if (!status.message().empty()) {
    if (out.json) {
      std::cout << json{{"ok", false},
                        {"reason", ErrorReason(status)},
                        {"error", std::string(status.message())}}
                       .dump()
                << "\n";
    } else {
      std::cerr << "trmctl: error: " << status.message() << "\n";
    }
  }
  return ErrorReason(status) == "USAGE" ? 2 : kExitRefused;
}

void AddSealFlags(CLI::App* seal, SealFlags* f) {
  seal->add_option("--type", f->type,
                   "message type, e.g. referral-request, consent-record")
      ->required();
  seal->add_option("--case", f->case_ref,
                   "pseudonymous case reference (never a name)")
      ->required();
  seal->add_option("--from", f->from,
                   "sender as ORG@NODE (default: the client profile's)");
  seal->add_option("--to", f->to,
                   "recipient as ORG (its node from the directory) or "
                   "ORG@NODE")
      ->required();
  seal->add_option("--sign-key", f->sign_key,
                   "sender's signing private key (ORG.sign.key; default: "
                   "the client profile's)");
  seal->add_option("--directory", f->directory,
                   "the signed federation directory: seal to the "
                   "recipient's current key from it (default: the client "
                   "profile's)");
  seal->add_option("--authority-pub", f->authority_pub,
                   "the federation authority's public key, to check the "
                   "directory");
  seal->add_option("--recipient-pub", f->recipient_pub,
                   "offline, without a directory: the recipient's "
                   "encryption public key (ORG.enc.pub)");
  CLI::Option* in = seal->add_option(
      "--in", f->in, "payload file (serialised protobuf), - for stdin");
  in->capture_default_str();
  seal->add_option("--payload", f->payload_json,
                   "the payload in JSON (a file, - for stdin); trmctl case "
                   "payload --type T prints an example")
      ->excludes(in);
  seal->add_option("--consent", f->consent, "consent reference");
  seal->add_option("--outcome", f->outcome,
                   "the step's outcome the case rules need, e.g. "
                   "consent-granted, risk-acceptable, plan-agreed");
  seal->add_flag("--minor", f->minor, "the person is a child");
  seal->add_flag("--asylum", f->asylum, "the person seeks asylum");
  seal->add_option("--departure", f->departure,
                   "planned departure, RFC 3339 (travel arrangements)");
  seal->add_option("--in-reply-to", f->in_reply_to,
                   "message id (hex) this message answers");
  seal->add_option("--expires-in", f->expires_in, "lifetime, e.g. 72h")
      ->capture_default_str();
  seal->add_option("--aead", f->aead, "chacha20poly1305 or aes128gcm")
      ->capture_default_str();
}

int Main(int argc, char** argv) {
  CLI::App app{
      "trmctl: keys, sealed envelopes and (with later releases) the node, "
      "for trm-broker.\nExit status: 0 success, 1 refused, 2 usage error."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "trmctl " TRM_VERSION " (protocol v1)");
  Output out;
  app.add_flag("--json", out.json, "print one JSON object for scripts");
  std::string profile_path;
  app.add_option("--config", profile_path,
                 "the client profile (JSON: node, TLS files, your "
                 "organisation and keys, the directory; docs/integration.md). "
                 "Default: $TRM_CONFIG, else ~/.config/trm/client.json when "
                 "it exists");

  KeygenFlags kg;
  CLI::App* keygen = app.add_subcommand(
      "keygen",
      "make an organisation's Ed25519 signing and X25519 encryption keys: "
      "DIR/ORG.sign.key, .sign.pub, .enc.key, .enc.pub (private keys 0600, "
      "never overwritten)");
  keygen->add_option("--org", kg.org, "organisation id, e.g. bg-ngo-animus")
      ->required();
  keygen->add_option("--dir", kg.dir, "directory for the key files")
      ->capture_default_str();

  SealFlags sf;
  CLI::App* seal = app.add_subcommand(
      "seal", "seal a payload to a recipient and sign it (protocol v1)");
  AddSealFlags(seal, &sf);
  seal->add_option("--out", sf.out, "envelope file to write")->required();

  SealFlags send_flags;
  NodeFlags send_node;
  std::string node_pub;
  CLI::App* send = app.add_subcommand(
      "send",
      "seal, sign and submit a payload to your node; prints the "
      "node's signed acceptance receipt");
  AddSealFlags(send, &send_flags);
  AddNodeFlags(send, &send_node);
  send->add_option("--node-pub", node_pub,
                   "the node's signing public key, to check the receipt");

  NodeFlags submit_node;
  std::string submit_in = "-", submit_node_pub;
  CLI::App* submit = app.add_subcommand(
      "submit",
      "submit an envelope sealed before (trmctl seal, or another "
      "implementation of docs/protocol.md) as it is; prints the node's "
      "signed acceptance receipt");
  AddNodeFlags(submit, &submit_node);
  submit->add_option("--in", submit_in, "envelope file, - for stdin")
      ->capture_default_str();
  submit->add_option("--node-pub", submit_node_pub,
                     "the node's signing public key, to check the receipt");

  ReceiveFlags rf;
  NodeFlags receive_node;
  CLI::App* receive = app.add_subcommand(
      "receive",
      "fetch, verify and open your messages; each is acknowledged "
      "only after its payload is written");
  AddNodeFlags(receive, &receive_node);
  receive->add_option("--recipient-key", rf.recipient_key,
                      "your encryption private key (ORG.enc.key; default: "
                      "the client profile's)");
  receive->add_option("--directory", rf.directory,
                      "the signed federation directory, for the senders' "
                      "keys (default: the client profile's)");
  receive->add_option("--authority-pub", rf.authority_pub,
                      "the federation authority's public key");
  receive->add_option("--keys-dir", rf.keys_dir,
                      "offline, without a directory: a folder with the "
                      "senders' ORG.sign.pub files");
  receive->add_option(
      "--sign-key", rf.sign_key,
      "your signing private key (ORG.sign.key), required: each "
      "acknowledgement is signed with it, as proof of receipt for the "
      "sender (nodes refuse unsigned acknowledgements)");
  receive->add_flag("--unsigned-acks", rf.unsigned_acks,
                    "acknowledge without a signature instead of --sign-key "
                    "(only nodes configured with "
                    "require_signed_acknowledgements false take that)");
  receive
      ->add_option("--out-dir", rf.out_dir,
                   "where payloads go, as MESSAGE_ID.payload (0600)")
      ->capture_default_str();
  receive->add_option(
      "--refuse", rf.refuse_ids,
      "refuse this message (MESSAGE_ID, repeatable) when it is delivered, "
      "with a signed refusal instead of opening it; messages that can never "
      "open are refused by themselves (CANNOT_OPEN)");
  receive
      ->add_option("--reason", rf.refuse_reason,
                   "for --refuse: CANNOT_OPEN, WRONG_TYPE, NOT_OURS or "
                   "HEADER_PAYLOAD_MISMATCH")
      ->capture_default_str();
  receive->add_option("--text", rf.refuse_text,
                      "for --refuse: why, for the sender (at most 1000 bytes)");
  receive->add_option("--max", rf.max, "most messages to take")
      ->capture_default_str();
  receive
      ->add_option("--wait-ms", rf.wait_ms,
                   "wait up to this long for a first message")
      ->capture_default_str();

  StatusFlags status_flags;
  NodeFlags status_node;
  CLI::App* status_cmd = app.add_subcommand(
      "status",
      "where a message you sent is: ACCEPTED, RELAYED, DELIVERED, "
      "ACKNOWLEDGED, REFUSED, EXPIRED or REJECTED, with times and evidence");
  AddNodeFlags(status_cmd, &status_node);
  status_cmd
      ->add_option("MESSAGE_ID", status_flags.id_hex, "as send printed it")
      ->required();
  status_cmd->add_option("--directory", status_flags.directory,
                         "the signed federation directory, to check the "
                         "receipts and the signed acknowledgement");
  status_cmd->add_option("--authority-pub", status_flags.authority_pub,
                         "the federation authority's public key");

  OpenFlags of;
  CLI::App* open = app.add_subcommand(
      "open",
      "verify the sender's signature and the times, decrypt the payload, "
      "and check that the header says what the payload does");
  open->add_option("--in", of.in, "envelope file, - for stdin")->required();
  open->add_option("--sender-pub", of.sender_pub,
                   "sender's signing public key (ORG.sign.pub)")
      ->required();
  open->add_option("--recipient-key", of.recipient_key,
                   "your encryption private key (ORG.enc.key)")
      ->required();
  open->add_option("--out", of.out, "payload file (written 0600), - for stdout")
      ->capture_default_str();
  open->add_flag("--allow-expired", of.allow_expired,
                 "forensics: open a message past its expiry");

  InspectFlags inf;
  CLI::App* inspect = app.add_subcommand(
      "inspect",
      "print an envelope's header; with --sender-pub, check its signature");
  inspect->add_option("--in", inf.in, "envelope file, - for stdin")->required();
  inspect->add_option("--sender-pub", inf.sender_pub,
                      "sender's signing public key to check the signature");

  NodeFlags node_status_flags;
  CLI::App* node_cmd =
      app.add_subcommand("node", "the node itself, for its coordinator");
  CLI::App* node_status = node_cmd->add_subcommand(
      "status",
      "peers (reachable, backlog, retry schedule, last success) and queues; "
      "for the node's NATIONAL_COORDINATOR organisation");
  node_cmd->require_subcommand(1);
  AddNodeFlags(node_status, &node_status_flags);
  NodeFlags services_flags;
  CLI::App* node_services = node_cmd->add_subcommand(
      "services",
      "the gRPC services the node serves, listed through standard server "
      "reflection (grpc.reflection.v1alpha)");
  AddNodeFlags(node_services, &services_flags);
  NodeFlags health_flags;
  CLI::App* node_health = node_cmd->add_subcommand(
      "health",
      "the standard gRPC health check (grpc.health.v1): SERVING, or "
      "NOT_SERVING while the node stops; exit 0 only when SERVING");
  AddNodeFlags(node_health, &health_flags);

  NodeFlags backup_node;
  std::string backup_dir;
  CLI::App* admin_cmd =
      app.add_subcommand("admin", "operating the node, for its coordinator");
  admin_cmd->require_subcommand(1);
  CLI::App* backup = admin_cmd->add_subcommand(
      "backup",
      "a consistent online backup of the node's store into a new directory "
      "on the node's host, with a freshly signed audit tree head it holds; "
      "restore with trm-broker --restore DIR");
  AddNodeFlags(backup, &backup_node);
  backup
      ->add_option("--dir", backup_dir,
                   "absolute path on the node's host; must not exist")
      ->required();

  std::string reason_token;
  bool reasons_markdown = false;
  CLI::App* reasons = app.add_subcommand(
      "reasons",
      "every reason token an error can carry, with its gRPC status and what "
      "to do (docs/reasons.md)");
  reasons->add_option("TOKEN", reason_token, "show only this one");
  reasons->add_flag("--markdown", reasons_markdown,
                    "as the table of docs/reasons.md");

  auto run_directory = AddDirectoryCommands(app);
  auto run_audit = AddAuditCommands(app);
  auto run_case = AddCaseCommands(app);
  auto run_org = AddOrgCommands(app);
  auto run_stats = AddStatsCommand(app);
  auto run_contingency = AddContingencyCommand(app);
  // --json counts wherever it is written (before or after the
  // subcommand), and with it even a usage error is one JSON object.
  std::vector<char*> args(argv, argv + argc);
  for (auto it = args.begin() + 1; it != args.end();) {
    if (std::string_view(*it) == "--") break;
    if (std::string_view(*it) == "--json") {
      out.json = true;
      it = args.erase(it);
    } else {
      ++it;
    }
  }
  try {
    app.parse(static_cast<int>(args.size()), args.data());
  } catch (const CLI::ParseError& e) {
    if (out.json && e.get_exit_code() != 0) {
      std::cout << json{{"ok", false},
                        {"reason", "USAGE"},
                        {"error", std::string(e.what())}}
                       .dump()
                << "\n";
      return 2;
    }
    int code = app.exit(e);
    if (code != 0) SuggestSubcommand(app, argc, argv);
    return code == 0 ? 0 : 2;
  }
  SetProfilePath(profile_path.empty() ? DefaultProfilePath() : profile_path);
  absl::Status status;
  if (*keygen) status = Keygen(kg, out);
  if (*seal) status = SealCommand(sf, out);
  if (*open) status = OpenCommand(of, out);
  if (*inspect) status = InspectCommand(inf, out);
  if (*send) status = SendCommand(send_node, send_flags, node_pub, out);
  if (*submit) {
    status = SubmitCommand(submit_node, submit_in, submit_node_pub, out);
  }
  if (*receive) status = ReceiveCommand(receive_node, rf, out);
  if (*status_cmd) status = StatusCommand(status_node, status_flags, out);
  if (app.got_subcommand("directory")) status = run_directory(out);
  if (app.got_subcommand("audit")) status = run_audit(out);
  if (app.got_subcommand("case")) status = run_case(out);
  if (app.got_subcommand("org")) status = run_org(out);
  if (app.got_subcommand("stats")) status = run_stats(out);
  if (app.got_subcommand("contingency")) status = run_contingency(out);
  if (*node_status) status = NodeStatusCommand(node_status_flags, out);
  if (*backup) status = BackupCommand(backup_node, backup_dir, out);
  if (*node_health) status = HealthCommand(health_flags, out);
  if (*node_services) status = ServicesCommand(services_flags, out);
  if (*reasons) status = ReasonsCommand(reason_token, reasons_markdown, out);
  return Report(status, out);
}

}  // namespace
}  // namespace trm::client

int main(int argc, char** argv) {
  trm::process::ConfigureMutexChecks();
  return trm::client::Main(argc, argv);
}
