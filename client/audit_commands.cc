#include "client/audit_commands.h"

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/node_commands.h"
#include "common/audit/bundle.h"
#include "common/audit/tree_head.h"
#include "common/crypto/key_files.h"
#include "common/directory/directory.h"
#include "common/json/strict_json.h"
#include "common/status.h"
#include "common/time_text.h"
#include "trm/v1/audit.grpc.pb.h"

namespace trm::client {
namespace {

using audit::EventJson;
using audit::kBundleFormat;
using nlohmann::json;

struct AuditFlags {
  NodeFlags node;
  std::string directory, authority_pub, node_pub;
  std::string case_ref, message_hex, org, kind, from, to;
  std::string out, bundle;
  bool fresh = false;
  bool trust_bundle_key = false;
};

Trust TrustOf(const AuditFlags& f) {
  Trust t;
  t.directory_file = f.directory;
  t.authority_pub_file = f.authority_pub;
  t.node_pub_file = f.node_pub;
  return t;
}

// The key that must have signed `sth`: the node's key in the signed
// directory, or the --node-pub file; none when neither is given.
absl::StatusOr<std::unique_ptr<crypto::Ed25519PublicKey>> TrustedKey(
    const AuditFlags& f, const v1::SignedTreeHead& sth) {
  ASSIGN_OR_RETURN(std::string raw, TrustedNodeKey(TrustOf(f), sth));
  if (raw.empty()) return nullptr;
  ASSIGN_OR_RETURN(crypto::Ed25519PublicKey k,
                   crypto::Ed25519PublicKey::FromRaw(AsBytes(raw)));
  return std::make_unique<crypto::Ed25519PublicKey>(std::move(k));
}

absl::StatusOr<v1::TrailQuery> QueryOf(const AuditFlags& f) {
  v1::TrailQuery q;
  q.set_case_ref(f.case_ref);
  if (!f.message_hex.empty()) {
    auto id = HexDecode(f.message_hex);
    if (!id.ok() || id->size() != 16) {
      return UsageError("--message must be 32 hex digits, as send printed it");
    }
    q.set_message_id(std::string(id->begin(), id->end()));
  }
  q.set_organisation(f.org);
  if (!f.kind.empty()) {
    v1::AuditEventKind kind;
    if (!v1::AuditEventKind_Parse(f.kind, &kind)) {
      std::string kinds;
      const auto* d = v1::AuditEventKind_descriptor();
      for (int i = 1; i < d->value_count(); ++i) {
        absl::StrAppend(&kinds, i > 1 ? ", " : "", d->value(i)->name());
      }
      return UsageError(absl::StrCat(
          "--kind ", f.kind, " is not an event kind; use one of ", kinds));
    }
    q.set_kind(kind);
  }
  for (auto [text, set] :
       {std::pair{&f.from, &v1::TrailQuery::set_from_unix_ms},
        std::pair{&f.to, &v1::TrailQuery::set_to_unix_ms}}) {
    if (text->empty()) continue;
    absl::Time t;
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, *text, &t, &err)) {
      return UsageError(
          absl::StrCat("--from/--to take RFC 3339 times such as "
                       "2026-11-23T00:00:00Z, not ",
                       *text));
    }
    (q.*set)(absl::ToUnixMillis(t));
  }
  q.set_page_size(1000);
  return q;
}

std::string Line(const v1::Entry& entry) {
  v1::AuditEvent e;
  e.ParseFromString(entry.event());
  std::string line =
      absl::StrCat(IsoMillis(e.time_unix_ms()), "  #", entry.leaf_index(), "  ",
                   v1::AuditEventKind_Name(e.kind()));
  if (!e.message_id().empty()) {
    absl::StrAppend(&line, "  ", HexEncode(AsBytes(e.message_id())));
  }
  if (!e.case_ref().empty()) absl::StrAppend(&line, "  case ", e.case_ref());
  if (e.message_type() != v1::MESSAGE_TYPE_UNSPECIFIED) {
    absl::StrAppend(&line, "  ", v1::MessageType_Name(e.message_type()));
  }
  if (!e.sender_org().empty()) {
    absl::StrAppend(&line, "  ", e.sender_org(), " -> ", e.recipient_org());
  }
  if (!e.peer_node().empty()) absl::StrAppend(&line, "  node ", e.peer_node());
  if (!e.reason_code().empty()) absl::StrAppend(&line, "  ", e.reason_code());
  if (!e.detail().empty()) absl::StrAppend(&line, "  ", e.detail());
  return line;
}

json EventsJson(const v1::Trail& trail) {
  json events = json::array();
  for (const v1::Entry& e : trail.entries()) events.push_back(EventJson(e));
  return events;
}

// Every page of the trail, against one tree head.
absl::StatusOr<v1::Trail> FetchTrail(const AuditFlags& f) {
  ASSIGN_OR_RETURN(Connection c, Connect(f.node));
  ASSIGN_OR_RETURN(v1::TrailQuery q, QueryOf(f));
  return c.client->AuditTrail(std::move(q));
}

// Checks the head with `key` and every entry against it.
absl::StatusOr<v1::TreeHead> Check(const v1::Trail& trail,
                                   const crypto::Ed25519PublicKey& key) {
  return VerifyTrail(trail, std::string(key.raw().begin(), key.raw().end()));
}

absl::Status TreeHead(const AuditFlags& f, const Output& out) {
  ASSIGN_OR_RETURN(Connection c, Connect(f.node));
  ASSIGN_OR_RETURN(v1::SignedTreeHead sth, c.client->AuditTreeHead(f.fresh));
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::Ed25519PublicKey> key,
                   TrustedKey(f, sth));
  ASSIGN_OR_RETURN(v1::TreeHead head, audit::ParseTreeHead(sth));
  std::string signature =
      "not checked (give --directory and "
      "--authority-pub, or --node-pub)";
  if (key != nullptr) {
    RETURN_IF_ERROR(audit::VerifyTreeHead(sth, *key).status());
    signature = "valid";
  }
  if (out.json) {
    std::cout << json{{"ok", true},
                      {"node", head.node()},
                      {"tree_size", head.tree_size()},
                      {"root", HexEncode(AsBytes(head.root_hash()))},
                      {"signed_at", IsoMillis(head.timestamp_unix_ms())},
                      {"signature", signature}}
                     .dump()
              << "\n";
  } else {
    std::cout << "node " << head.node() << ": " << head.tree_size()
              << " entries, root " << HexEncode(AsBytes(head.root_hash()))
              << ", signed at " << IsoMillis(head.timestamp_unix_ms())
              << ", signature " << signature << "\n";
  }
  return absl::OkStatus();
}

absl::Status Trail(const AuditFlags& f, const Output& out) {
  ASSIGN_OR_RETURN(v1::Trail trail, FetchTrail(f));
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::Ed25519PublicKey> key,
                   TrustedKey(f, trail.tree_head()));
  ASSIGN_OR_RETURN(v1::TreeHead head, audit::ParseTreeHead(trail.tree_head()));
  std::string proofs =
      "not checked (give --directory and --authority-pub, "
      "or --node-pub)";
  if (key != nullptr) {
    ASSIGN_OR_RETURN(head, Check(trail, *key));
    proofs = "every entry verified against the signed tree head";
  }
  if (out.json) {
    std::cout << json{{"ok", true},
                      {"node", head.node()},
                      {"tree_size", head.tree_size()},
                      {"proofs", proofs},
                      {"events", EventsJson(trail)}}
                     .dump()
              << "\n";
    return absl::OkStatus();
  }
  for (const v1::Entry& e : trail.entries()) std::cout << Line(e) << "\n";
  std::cout << trail.entries_size() << " events in node " << head.node()
            << "'s log of " << head.tree_size() << " entries (tree head signed "
            << IsoMillis(head.timestamp_unix_ms()) << "); " << proofs << "\n";
  return absl::OkStatus();
}

absl::Status Export(const AuditFlags& f, const Output& out) {
  if (f.node_pub.empty() && f.directory.empty()) {
    return UsageError(
        "export needs the node's key to put in the bundle: give --directory "
        "and --authority-pub (or --node-pub)");
  }
  ASSIGN_OR_RETURN(v1::Trail trail, FetchTrail(f));
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::Ed25519PublicKey> key,
                   TrustedKey(f, trail.tree_head()));
  ASSIGN_OR_RETURN(v1::TreeHead head, Check(trail, *key));
  const json bundle = audit::BundleJson(
      trail, head, std::string(key->raw().begin(), key->raw().end()));
  const std::string text = bundle.dump(1) + "\n";
  RETURN_IF_ERROR(WriteOutput(f.out, AsBytes(text), 0644));
  if (out.json) {
    std::cout << json{{"ok", true},
                      {"bundle", f.out},
                      {"entries", trail.entries_size()},
                      {"tree_size", head.tree_size()}}
                     .dump()
              << "\n";
  } else {
    std::cout << "wrote " << f.out << ": " << trail.entries_size()
              << " entries of node " << head.node() << "'s log, with proofs "
              << "against its tree head of " << head.tree_size()
              << " entries and its public key\n";
  }
  return absl::OkStatus();
}

absl::Status Malformed(absl::string_view what) {
  return Error(absl::StatusCode::kInvalidArgument, "BUNDLE_MALFORMED",
               absl::StrCat("the audit bundle ", what,
                            "; export it again with trmctl audit export"));
}

absl::Status Verify(const AuditFlags& f, const Output& out) {
  // What the bundle is checked against must come from outside it.
  if (f.node_pub.empty() && f.directory.empty() && !f.trust_bundle_key) {
    return UsageError(
        "verify needs a key it can trust: give --directory and "
        "--authority-pub (the node's key in the signed directory) or "
        "--node-pub NODE.sign.pub; --trust-bundle-key checks the bundle "
        "against its own key only, which proves nothing about who wrote it");
  }
  ASSIGN_OR_RETURN(std::string text, ReadInput(f.bundle));
  ASSIGN_OR_RETURN(const json b,
                   jsonio::ParseStrictJson(
                       text, {"BUNDLE_MALFORMED", f.bundle,
                              "; export it again with trmctl audit export"}));
  if (!b.is_object() || !b.contains("format") || !b.at("format").is_string() ||
      b.at("format").get<std::string>() != kBundleFormat) {
    return Malformed(absl::StrCat("is not a ", kBundleFormat, " file"));
  }
  // Every field read through here: present, of its type, or a refusal.
  auto hex = [&](const json& j,
                 absl::string_view what) -> absl::StatusOr<std::string> {
    if (!j.is_string())
      return Malformed(absl::StrCat("has ", what, " that is not hex text"));
    auto d = HexDecode(j.get<std::string>());
    if (!d.ok())
      return Malformed(absl::StrCat("has ", what, " that is not hex"));
    return std::string(d->begin(), d->end());
  };
  auto field = [&](const json& obj,
                   const char* key) -> absl::StatusOr<const json*> {
    if (!obj.is_object() || !obj.contains(key)) {
      return Malformed(absl::StrCat("has no \"", key, "\""));
    }
    return &obj.at(key);
  };
  ASSIGN_OR_RETURN(const json* key_field, field(b, "node_public_key"));
  ASSIGN_OR_RETURN(std::string raw_key, hex(*key_field, "a node_public_key"));
  ASSIGN_OR_RETURN(crypto::Ed25519PublicKey key,
                   crypto::Ed25519PublicKey::FromRaw(AsBytes(raw_key)));
  ASSIGN_OR_RETURN(const json* head_field, field(b, "tree_head"));
  ASSIGN_OR_RETURN(std::string sth_bytes, hex(*head_field, "a tree_head"));
  v1::SignedTreeHead sth;
  if (!sth.ParseFromString(sth_bytes)) {
    return Malformed("has a tree head that does not parse");
  }
  ASSIGN_OR_RETURN(const json* entries, field(b, "entries"));
  if (!entries->is_array()) return Malformed("has entries that are not a list");
  // With a trusted source, the bundled key must be the node's.
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::Ed25519PublicKey> trusted,
                   TrustedKey(f, sth));
  if (trusted != nullptr && trusted->raw() != key.raw()) {
    return Error(absl::StatusCode::kPermissionDenied, "BUNDLE_KEY_MISMATCH",
                 "the bundle carries another key than the one you trust "
                 "for the node (--node-pub or the signed directory); do not "
                 "trust it");
  }
  ASSIGN_OR_RETURN(v1::TreeHead head, audit::VerifyTreeHead(sth, key));
  // The bundle says whose log it is; its signed head must say the same.
  if (b.contains("node") && (!b.at("node").is_string() ||
                             b.at("node").get<std::string>() != head.node())) {
    return Malformed(absl::StrCat("names node ", b.at("node").dump(),
                                  " but its signed tree head is node ",
                                  head.node(), "'s"));
  }
  v1::Trail trail;
  for (const json& j : *entries) {
    ASSIGN_OR_RETURN(const json* index, field(j, "leaf_index"));
    ASSIGN_OR_RETURN(const json* event, field(j, "event"));
    ASSIGN_OR_RETURN(const json* proof, field(j, "inclusion_proof"));
    if (!index->is_number_unsigned() || !proof->is_array()) {
      return Malformed(
          "has an entry whose leaf_index or proof is of the "
          "wrong type");
    }
    v1::Entry* e = trail.add_entries();
    e->set_leaf_index(index->get<uint64_t>());
    ASSIGN_OR_RETURN(*e->mutable_event(), hex(*event, "an event"));
    for (const json& h : *proof) {
      ASSIGN_OR_RETURN(*e->add_inclusion_proof(), hex(h, "a proof hash"));
    }
    RETURN_IF_ERROR(audit::VerifyEntry(head, *e));
  }
  const std::string key_id = HexEncode(AsBytes(sth.node_key_id()));
  const std::string key_check =
      !f.node_pub.empty()
          ? absl::StrCat("the key in ", f.node_pub, " (key id ", key_id, ")")
      : !f.directory.empty()
          ? absl::StrCat("node ", head.node(),
                         "'s key in the signed directory ", f.directory,
                         " (key id ", key_id, ")")
          : absl::StrCat("the bundle's own key (key id ", key_id,
                         "), trusted because of --trust-bundle-key: this "
                         "shows the bundle is consistent, not that node ",
                         head.node(), " signed it");
  if (out.json) {
    std::cout << json{{"ok", true},
                      {"node", head.node()},
                      {"tree_size", head.tree_size()},
                      {"root", HexEncode(AsBytes(head.root_hash()))},
                      {"key", key_check},
                      {"events", EventsJson(trail)}}
                     .dump()
              << "\n";
    return absl::OkStatus();
  }
  for (const v1::Entry& e : trail.entries()) std::cout << Line(e) << "\n";
  std::cout << "verified: " << trail.entries_size() << " entries are in node "
            << head.node() << "'s audit log of " << head.tree_size()
            << " entries (root " << HexEncode(AsBytes(head.root_hash()))
            << ", signed " << IsoMillis(head.timestamp_unix_ms()) << " with "
            << key_check << ")\n";
  return absl::OkStatus();
}

}  // namespace

std::function<absl::Status(const Output&)> AddAuditCommands(CLI::App& app) {
  auto f = std::make_shared<AuditFlags>();
  CLI::App* audit = app.add_subcommand(
      "audit", "the node's audit log: tree heads, trails, bundles");
  audit->require_subcommand(1);
  auto add_trust = [&](CLI::App* cmd) {
    cmd->add_option("--directory", f->directory,
                    "the signed federation directory, for the node's key");
    cmd->add_option("--authority-pub", f->authority_pub,
                    "the federation authority's public key");
    cmd->add_option("--node-pub", f->node_pub,
                    "the node's signing public key, instead of the directory");
  };
  auto add_filters = [&](CLI::App* cmd) {
    cmd->add_option("--case", f->case_ref, "case reference");
    cmd->add_option("--message", f->message_hex, "message id (32 hex digits)");
    cmd->add_option("--org", f->org, "organisation (sender or recipient)");
    cmd->add_option("--kind", f->kind, "event kind, e.g. MESSAGE_RELAYED");
    cmd->add_option("--from", f->from, "from this time (RFC 3339)");
    cmd->add_option("--to", f->to, "before this time (RFC 3339)");
  };
  CLI::App* head = audit->add_subcommand(
      "tree-head", "the node's newest signed tree head, checked");
  AddNodeFlags(head, &f->node);
  add_trust(head);
  head->add_flag("--fresh", f->fresh, "ask the node to sign one now");
  CLI::App* trail = audit->add_subcommand(
      "trail", "a timeline of events, each proven against a signed head");
  AddNodeFlags(trail, &f->node);
  add_trust(trail);
  add_filters(trail);
  CLI::App* exp = audit->add_subcommand(
      "export",
      "write a self-contained bundle: entries, proofs, tree head, key");
  AddNodeFlags(exp, &f->node);
  add_trust(exp);
  add_filters(exp);
  exp->add_option("--out", f->out, "bundle file to write")->required();
  CLI::App* verify = audit->add_subcommand(
      "verify", "check a bundle offline, without the node");
  verify->add_option("BUNDLE", f->bundle, "the bundle file")->required();
  add_trust(verify);
  verify->add_flag("--trust-bundle-key", f->trust_bundle_key,
                   "check against the key inside the bundle (proves only "
                   "that the bundle is consistent)");
  return [f, head, trail, exp, verify](const Output& out) -> absl::Status {
    if (*head) return TreeHead(*f, out);
    if (*trail) return Trail(*f, out);
    if (*exp) return Export(*f, out);
    if (*verify) return Verify(*f, out);
    return absl::OkStatus();
  };
}

}  // namespace trm::client
