#include "client/node_commands.h"

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
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
#include "server/receipts/receipt_signer.h"
#include "trm/v1/admin.grpc.pb.h"
#include "trm/v1/case.pb.h"
#include "trm/v1/mailbox.grpc.pb.h"

namespace trm::client {
using nlohmann::json;

absl::Status FromGrpc(const grpc::Status& s) { return FromGrpcStatus(s); }

void Connection::Prepare(grpc::ClientContext* ctx,
                         absl::Duration timeout) const {
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(std::chrono::system_clock::now() +
                    absl::ToChronoMilliseconds(timeout));
}

absl::StatusOr<Connection> Connect(const NodeFlags& f) {
  Connection c;
  if (f.insecure_dev) {
    if (f.token_file.empty()) {
      return UsageError(
          "--insecure-dev needs --token-file: your organisation's token "
          "(ORG.token from trmctl keygen)");
    }
    ASSIGN_OR_RETURN(std::string token, ReadInput(f.token_file));
    absl::StripAsciiWhitespace(&token);
    if (token.empty()) return UsageError(f.token_file + " is empty");
    c.channel = grpc::CreateChannel(f.node, grpc::InsecureChannelCredentials());
    c.stub = v1::Mailbox::NewStub(c.channel);
    c.token = std::move(token);
    return c;
  }
  if (f.ca.empty() || f.cert.empty() || f.key.empty()) {
    return UsageError(
        "give --ca (the federation CA), --cert and --key (your "
        "organisation's TLS certificate and key from "
        "deploy/pki/make-pki.sh), or --insecure-dev for a development node");
  }
  grpc::SslCredentialsOptions opts;
  ASSIGN_OR_RETURN(opts.pem_root_certs, ReadInput(f.ca));
  ASSIGN_OR_RETURN(opts.pem_cert_chain, ReadInput(f.cert));
  ASSIGN_OR_RETURN(opts.pem_private_key, ReadInput(f.key));
  c.channel = grpc::CreateChannel(f.node, grpc::SslCredentials(opts));
  c.stub = v1::Mailbox::NewStub(c.channel);
  OPENSSL_cleanse(opts.pem_private_key.data(), opts.pem_private_key.size());
  return c;
}

void AddNodeFlags(CLI::App* command, NodeFlags* f) {
  command->add_option("--node", f->node, "the node's address")
      ->capture_default_str();
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

// Submits the envelope `wire` with header `header`, checks the receipt with
// the node's key in `node_pub` when given, and prints the outcome.
absl::Status SubmitEnvelope(const NodeFlags& node, const std::string& wire,
                            const v1::Header& header,
                            const std::string& node_pub, const Output& out) {
  ASSIGN_OR_RETURN(Connection c, Connect(node));
  v1::SubmitRequest req;
  req.set_envelope(wire);
  v1::SubmitResponse resp;
  grpc::ClientContext ctx;
  c.Prepare(&ctx, absl::Seconds(30));
  const std::string id = HexEncode(AsBytes(header.message_id()));
  if (absl::Status submitted = FromGrpc(c.stub->Submit(&ctx, req, &resp));
      !submitted.ok()) {
    // The id, so that the refusal can be looked up later with `status`.
    if (!out.json && !out.quiet) {
      std::cerr << "message " << id << " not accepted\n";
    }
    return submitted;
  }
  std::string receipt_check = "not checked (give --node-pub to check it)";
  if (!node_pub.empty()) {
    ASSIGN_OR_RETURN(crypto::Ed25519PublicKey key,
                     crypto::LoadVerifyKey(node_pub));
    RETURN_IF_ERROR(receipts::VerifyReceipt(resp.receipt(), key));
    receipt_check = "valid";
  }
  v1::ReceiptLeaf leaf;
  leaf.ParseFromString(resp.receipt().leaf());
  if (out.quiet) return absl::OkStatus();
  if (out.json) {
    std::cout << json{{"ok", true},
                      {"message_id", id},
                      {"accepted_by", leaf.node()},
                      {"accepted_at", IsoMillis(leaf.time_unix_ms())},
                      {"receipt", receipt_check},
                      {"batch_size", resp.receipt().batch_size()}}
                     .dump()
              << "\n";
  } else {
    std::cout << "sent " << v1::MessageType_Name(header.type()) << " " << id
              << ": accepted by node " << leaf.node() << " at "
              << IsoMillis(leaf.time_unix_ms()) << ", receipt " << receipt_check
              << "\n";
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status SendCommand(const NodeFlags& node, const SealFlags& seal,
                         const std::string& node_pub, const Output& out) {
  ASSIGN_OR_RETURN(SealedMessage sealed, SealFromFlags(seal));
  return SubmitEnvelope(node, sealed.wire, sealed.header, node_pub, out);
}

absl::Status SubmitCommand(const NodeFlags& node, const std::string& in,
                           const std::string& node_pub, const Output& out) {
  ASSIGN_OR_RETURN(std::string wire, ReadInput(in));
  ASSIGN_OR_RETURN(envelope::ParsedEnvelope parsed,
                   envelope::ParsedEnvelope::Parse(wire));
  return SubmitEnvelope(node, wire, parsed.header(), node_pub, out);
}

namespace {

// Failures to open that lie in the message itself, whatever keys the
// recipient holds: it will never open, so it is refused (CANNOT_OPEN).
// Anything else (a key file of the wrong organisation or an older key, a
// clock, a disk) is the recipient's to fix, and the message comes again.
bool NeverOpens(const absl::Status& s) {
  static constexpr absl::string_view kPermanent[] = {
      "DECRYPTION_FAILED",
      "SIGNATURE_INVALID",
      "ENVELOPE_MALFORMED",
      "HEADER_MALFORMED",
      "HEADER_NOT_CANONICAL",
      "HEADER_INVALID",
      "UNSUPPORTED_SCHEMA_VERSION",
      "UNKNOWN_AEAD",
      "FIELD_TOO_LARGE"};
  const std::string reason = ErrorReason(s);
  for (absl::string_view p : kPermanent) {
    if (reason == p) return true;
  }
  return false;
}

// Signs `body` for delivery `d` as `recipient_org` and sends it: either an
// acknowledgement (no reason) or a refusal.
absl::Status Answer(Connection& c, const v1::Delivery& d,
                    const std::string& recipient_org,
                    const crypto::Ed25519PrivateKey* key,
                    const v1::RefusalReason* reason, absl::string_view text) {
  const crypto::Sha256Digest digest = crypto::Sha256({AsBytes(d.envelope())});
  const int64_t now = absl::ToUnixMillis(absl::Now());
  v1::AckResponse ignored;
  grpc::ClientContext ctx;
  c.Prepare(&ctx, absl::Seconds(30));
  if (reason != nullptr) {
    v1::RefusalBody body;
    body.set_message_id(d.message_id());
    body.set_envelope_sha256(digest.data(), digest.size());
    body.set_recipient_org(recipient_org);
    body.set_time_unix_ms(now);
    body.set_reason(*reason);
    body.set_text(std::string(text.substr(0, envelope::kMaxRefusalText)));
    v1::RefuseRequest req;
    req.set_message_id(d.message_id());
    ASSIGN_OR_RETURN(*req.mutable_refusal(), envelope::SignRefusal(body, *key));
    return FromGrpc(c.stub->Refuse(&ctx, req, &ignored));
  }
  v1::MessageRef ref;
  ref.set_message_id(d.message_id());
  if (key != nullptr) {
    v1::AcknowledgementBody body;
    body.set_message_id(d.message_id());
    body.set_envelope_sha256(digest.data(), digest.size());
    body.set_recipient_org(recipient_org);
    body.set_time_unix_ms(now);
    ASSIGN_OR_RETURN(*ref.mutable_acknowledgement(),
                     envelope::SignAcknowledgement(body, *key));
  }
  return FromGrpc(c.stub->Ack(&ctx, ref, &ignored));
}

}  // namespace

absl::Status ReceiveCommand(const NodeFlags& node, const ReceiveFlags& f,
                            const Output& out) {
  // Before anything is fetched: without a signature the node would refuse
  // every acknowledgement and hand the messages out again and again.
  if (f.sign_key.empty() && !f.unsigned_acks) {
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
  if (!to_refuse.empty() && f.sign_key.empty()) {
    return UsageError("--refuse needs --sign-key: a refusal is always signed");
  }
  ASSIGN_OR_RETURN(Connection c, Connect(node));
  ASSIGN_OR_RETURN(crypto::X25519PrivateKey me,
                   crypto::LoadEncryptionKey(f.recipient_key));
  std::optional<crypto::Ed25519PrivateKey> sign_key;
  if (!f.sign_key.empty()) {
    ASSIGN_OR_RETURN(sign_key, crypto::LoadSigningKey(f.sign_key));
  }
  const crypto::Ed25519PrivateKey* key =
      sign_key.has_value() ? &*sign_key : nullptr;
  v1::ReceiveRequest req;
  req.set_max_messages(f.max);
  req.set_wait_ms(f.wait_ms);
  grpc::ClientContext ctx;
  c.Prepare(&ctx, absl::Milliseconds(f.wait_ms) + absl::Seconds(30));
  std::unique_ptr<grpc::ClientReader<v1::Delivery>> reader =
      c.stub->Receive(&ctx, req);
  json results = json::array();
  int failed = 0, refused = 0;
  v1::Delivery d;
  while (reader->Read(&d)) {
    const std::string id = HexEncode(AsBytes(d.message_id()));
    json r = {{"message_id", id}, {"attempt", d.attempt()}};
    // Set when the message is refused: why, in the refusal's words.
    std::optional<std::pair<v1::RefusalReason, std::string>> refusal;
    std::string recipient_org;
    absl::Status s = [&]() -> absl::Status {
      ASSIGN_OR_RETURN(envelope::ParsedEnvelope parsed,
                       envelope::ParsedEnvelope::Parse(d.envelope()));
      recipient_org = parsed.header().recipient_org();
      r["type"] = v1::MessageType_Name(parsed.header().type());
      r["from"] = parsed.header().sender_org();
      r["case_ref"] = parsed.header().case_ref();
      if (std::find(to_refuse.begin(), to_refuse.end(), d.message_id()) !=
          to_refuse.end()) {
        refusal.emplace(*refuse_reason, f.refuse_text);
        return absl::OkStatus();
      }
      const std::string sender_file =
          f.keys_dir + "/" + parsed.header().sender_org() + ".sign.pub";
      ASSIGN_OR_RETURN(crypto::Ed25519PublicKey sender,
                       crypto::LoadVerifyKey(sender_file));
      absl::StatusOr<SecretBytes> payload = envelope::Open(
          parsed, sender, me, envelope::OpenOptions{absl::Now()});
      if (!payload.ok()) {
        if (key == nullptr || !NeverOpens(payload.status())) {
          return payload.status();
        }
        refusal.emplace(v1::REFUSAL_CANNOT_OPEN,
                        absl::StrCat(ErrorReason(payload.status()), ": ",
                                     payload.status().message()));
        return absl::OkStatus();
      }
      const std::string path = f.out_dir + "/" + id + ".payload";
      RETURN_IF_ERROR(WriteOutput(path, payload->view(), 0600));
      r["payload"] = path;
      if (parsed.header().type() == v1::DEADLINE_NOTICE) {
        // The node's own notice: what passed, and who owes it.
        v1::DeadlineNotice n;
        if (n.ParseFromArray(payload->view().data(),
                             static_cast<int>(payload->view().size()))) {
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
      const v1::RefusalReason* reason =
          refusal.has_value() ? &refusal->first : nullptr;
      s = Answer(c, d, recipient_org, key, reason,
                 refusal.has_value() ? refusal->second : "");
      if (s.ok() && refusal.has_value()) {
        ++refused;
        r["refused"] = envelope::RefusalReasonToken(refusal->first);
        r["refusal_text"] = refusal->second;
      } else if (s.ok()) {
        r["acknowledgement"] = key != nullptr ? "signed" : "unsigned";
      }
    }
    if (!s.ok()) {
      ++failed;
      r["error"] = std::string(s.message());
      r["reason"] = ErrorReason(s);
      // Not acknowledged: give the lease back so that it comes again at
      // once (best effort; otherwise it does when the lease runs out).
      v1::MessageRef ref;
      ref.set_message_id(d.message_id());
      v1::AckResponse ignored;
      grpc::ClientContext release_ctx;
      c.Prepare(&release_ctx, absl::Seconds(10));
      c.stub->Release(&release_ctx, ref, &ignored).ok();
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
  }
  RETURN_IF_ERROR(FromGrpc(reader->Finish()));
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

// A node's receipt of `kind` for the message of `s`, signed by `node`,
// checked against the signed directory: what the status shows about it.
absl::StatusOr<std::string> CheckNodeReceipt(const v1::StoredStatus& s,
                                             const std::string& bytes,
                                             v1::ReceiptKind kind,
                                             const std::string& node,
                                             const directory::Directory& dir) {
  v1::Receipt receipt;
  v1::ReceiptLeaf leaf;
  if (!receipt.ParseFromString(bytes) ||
      !leaf.ParseFromString(receipt.leaf())) {
    return Error(absl::StatusCode::kDataLoss, "RECEIPT_INVALID",
                 "the node's record of the receipt does not parse");
  }
  if (leaf.kind() != kind || leaf.message_id() != s.message_id() ||
      leaf.envelope_sha256() != s.envelope_sha256() || leaf.node() != node) {
    return Error(
        absl::StatusCode::kDataLoss, "RECEIPT_INVALID",
        absl::StrCat("the ", v1::ReceiptKind_Name(kind),
                     " receipt is not for this message and node ", node));
  }
  ASSIGN_OR_RETURN(
      crypto::Ed25519PublicKey key,
      dir.NodeSigningKey(leaf.node(), receipt.node_key_id(),
                         absl::FromUnixMillis(leaf.time_unix_ms())));
  RETURN_IF_ERROR(receipts::VerifyReceipt(receipt, key));
  return absl::StrCat("valid, signed by node ", leaf.node(), " at ",
                      IsoMillis(leaf.time_unix_ms()));
}

// The recipient's signed acknowledgement in `s`, checked against the
// signed directory.
absl::StatusOr<std::string> CheckAcknowledgement(
    const v1::StoredStatus& s, const directory::Directory& dir) {
  ASSIGN_OR_RETURN(envelope::ParsedAcknowledgement ack,
                   envelope::ParseAcknowledgement(s.acknowledgement()));
  RETURN_IF_ERROR(envelope::CheckAcknowledgementFor(
      ack, s.message_id(), s.envelope_sha256(), s.recipient_org()));
  const absl::Time at = absl::FromUnixMillis(ack.body.time_unix_ms());
  ASSIGN_OR_RETURN(crypto::Ed25519PublicKey key,
                   dir.OrganisationSigningKey(s.recipient_org(),
                                              ack.signed_ack.key_id(), at, at));
  RETURN_IF_ERROR(envelope::VerifyAcknowledgement(ack, key));
  return absl::StrCat("valid, signed by ", s.recipient_org(), " (key ",
                      HexEncode(AsBytes(ack.signed_ack.key_id())), ") at ",
                      IsoMillis(ack.body.time_unix_ms()));
}

// The recipient's signed refusal in `s`, checked against the signed
// directory.
absl::StatusOr<std::string> CheckRefusal(const v1::StoredStatus& s,
                                         const directory::Directory& dir) {
  ASSIGN_OR_RETURN(envelope::ParsedRefusal r,
                   envelope::ParseRefusal(s.refusal()));
  RETURN_IF_ERROR(envelope::CheckRefusalFor(
      r, s.message_id(), s.envelope_sha256(), s.recipient_org()));
  const absl::Time at = absl::FromUnixMillis(r.body.time_unix_ms());
  ASSIGN_OR_RETURN(crypto::Ed25519PublicKey key,
                   dir.OrganisationSigningKey(
                       s.recipient_org(), r.signed_refusal.key_id(), at, at));
  RETURN_IF_ERROR(envelope::VerifyRefusal(r, key));
  return absl::StrCat("valid, signed by ", s.recipient_org(), " (key ",
                      HexEncode(AsBytes(r.signed_refusal.key_id())), ") at ",
                      IsoMillis(r.body.time_unix_ms()));
}

absl::Status StatusCommand(const NodeFlags& node, const StatusFlags& f,
                           const Output& out) {
  const std::string& id_hex = f.id_hex;
  auto id = HexDecode(id_hex);
  if (!id.ok() || id->size() != 16) {
    return UsageError("MESSAGE_ID must be 32 hex digits, as send printed it");
  }
  ASSIGN_OR_RETURN(Connection c, Connect(node));
  v1::MessageRef ref;
  ref.set_message_id(std::string(id->begin(), id->end()));
  v1::MessageStatus resp;
  grpc::ClientContext ctx;
  c.Prepare(&ctx, absl::Seconds(30));
  RETURN_IF_ERROR(FromGrpc(c.stub->GetStatus(&ctx, ref, &resp)));
  const v1::StoredStatus& s = resp.status();
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
  // The evidence for each step, checked against the signed directory when
  // it is given.
  std::shared_ptr<const directory::Directory> dir;
  if (!f.directory.empty()) {
    ASSIGN_OR_RETURN(crypto::Ed25519PublicKey authority,
                     crypto::LoadVerifyKey(f.authority_pub));
    ASSIGN_OR_RETURN(std::string bytes, ReadInput(f.directory));
    ASSIGN_OR_RETURN(dir, directory::Directory::Verify(bytes, authority));
  }
  constexpr absl::string_view kUnchecked =
      "not checked (give --directory and --authority-pub to check it)";
  const std::pair<const char*, std::pair<const std::string*, v1::ReceiptKind>>
      receipts[] = {
          {"relay_receipt", {&s.relay_receipt(), v1::RECEIPT_RELAYED}},
          {"delivery_receipt", {&s.delivery_receipt(), v1::RECEIPT_DELIVERED}},
          {"expiry_receipt", {&s.expiry_receipt(), v1::RECEIPT_EXPIRED}}};
  for (const auto& [name, what] : receipts) {
    if (what.first->empty()) continue;
    if (dir == nullptr) {
      j[name] = kUnchecked;
    } else {
      ASSIGN_OR_RETURN(j[name], CheckNodeReceipt(s, *what.first, what.second,
                                                 s.relayed_to(), *dir));
    }
  }
  if (s.acknowledged_unix_ms() > 0) {
    if (s.acknowledgement().empty()) {
      j["acknowledgement"] =
          "unsigned (the recipient's node took an acknowledgement without "
          "the recipient's signature)";
    } else if (dir == nullptr) {
      j["acknowledgement"] = kUnchecked;
    } else {
      ASSIGN_OR_RETURN(j["acknowledgement"], CheckAcknowledgement(s, *dir));
    }
  }
  if (s.refused_unix_ms() > 0) {
    if (dir == nullptr) {
      j["refusal"] = kUnchecked;
    } else {
      ASSIGN_OR_RETURN(j["refusal"], CheckRefusal(s, *dir));
    }
  }
  if (!s.reason_code().empty()) j["reason_code"] = s.reason_code();
  if (!s.reason().empty()) j["reason"] = s.reason();
  if (out.json) {
    std::cout << json{{"ok", true}, {"status", j}}.dump() << "\n";
    return absl::OkStatus();
  }
  std::cout << "message " << id_hex << ": " << j["state"].get<std::string>()
            << "\n";
  for (const char* k :
       {"recipient", "accepted", "relayed", "relayed_to", "relay_receipt",
        "delivered", "delivery_receipt", "acknowledged", "acknowledgement",
        "refused", "refusal", "expired", "expiry_receipt", "rejected",
        "payload_purged", "reason_code", "reason"}) {
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
      FromGrpc(admin->GetNodeStatus(&ctx, v1::NodeStatusRequest(), &s)));
  auto when = [](int64_t ms) { return ms == 0 ? json() : json(IsoMillis(ms)); };
  json peers = json::array();
  for (const v1::PeerLink& p : s.peers()) {
    peers.push_back(
        {{"node", p.node()},
         {"reachable", p.consecutive_failures() == 0},
         {"breaker", p.breaker()},
         {"consecutive_failures", p.consecutive_failures()},
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
      std::cout << "FAILING, " << p.consecutive_failures()
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
  RETURN_IF_ERROR(FromGrpc(admin->Backup(&ctx, req, &resp)));
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
  RETURN_IF_ERROR(FromGrpc(
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
  RETURN_IF_ERROR(FromGrpc(stream->Finish()));
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
