#include "client/contingency_command.h"

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/node_commands.h"
#include "common/bytes.h"
#include "common/contingency/declaration.h"
#include "common/crypto/key_files.h"
#include "common/envelope/envelope.h"
#include "common/status.h"
#include "common/time_text.h"

namespace trm::client {
namespace {

using json = nlohmann::json;

struct ContingencyFlags {
  NodeFlags node;
  std::string from;  // ORG@NODE: the coordinator declaring
  std::string country, link, reason, start, sign_key, id;
};

json ItemJson(const v1::Contingency& c, int64_t now_ms) {
  return {{"id", HexEncode(AsBytes(c.id()))},
          {"scope", contingency::ScopeText(c)},
          {"reason", c.reason()},
          {"declared_by", c.declared_by()},
          {"node", c.node()},
          {"start", IsoSeconds(c.start_unix_ms())},
          {"end",
           c.end_unix_ms() == 0 ? json() : json(IsoSeconds(c.end_unix_ms()))},
          {"holds", contingency::HoldsAt(c, absl::FromUnixMillis(now_ms))}};
}

absl::Status Print(const v1::ContingencyList& list, const Output& out,
                   const std::string& said) {
  json items = json::array();
  std::vector<v1::Contingency> all;
  for (const v1::SignedContingency& s : list.items()) {
    v1::Contingency c;
    if (!c.ParseFromString(s.contingency())) continue;
    items.push_back(ItemJson(c, list.now_unix_ms()));
    all.push_back(std::move(c));
  }
  if (out.json) {
    std::cout << json{{"ok", true},
                      {"contingencies", items},
                      {"deferred", list.deferred()}}
                     .dump()
              << "\n";
    return absl::OkStatus();
  }
  if (!said.empty()) std::cout << said << "\n";
  if (all.empty()) std::cout << "no contingency is known at this node\n";
  for (const v1::Contingency& c : all) {
    const bool holds =
        contingency::HoldsAt(c, absl::FromUnixMillis(list.now_unix_ms()));
    std::cout << HexEncode(AsBytes(c.id())) << "  " << contingency::ScopeText(c)
              << "  "
              << (holds                  ? "HOLDS"
                  : c.end_unix_ms() != 0 ? "ended"
                                         : "not yet")
              << "  from " << IsoSeconds(c.start_unix_ms())
              << (c.end_unix_ms() != 0 ? " to " + IsoSeconds(c.end_unix_ms())
                                       : "")
              << "  by " << c.declared_by() << "@" << c.node() << ": "
              << c.reason() << "\n";
  }
  if (list.deferred_size() > 0) {
    std::cout << "deferred while it held, still open (" << list.deferred_size()
              << "):\n";
    for (const std::string& d : list.deferred()) std::cout << "  " << d << "\n";
  }
  return absl::OkStatus();
}

absl::StatusOr<std::pair<std::string, std::string>> OrgAtNode(
    const std::string& from) {
  std::vector<std::string> parts = absl::StrSplit(from, '@');
  if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
    return UsageError(absl::StrCat("--from '", from,
                                   "' must be ORG@NODE, your coordinator "
                                   "organisation and its node, e.g. "
                                   "bg-nrm@bg"));
  }
  return std::pair{parts[0], parts[1]};
}

absl::Status Declare(const ContingencyFlags& f, const Output& out) {
  ASSIGN_OR_RETURN(auto who, OrgAtNode(f.from));
  v1::Contingency c;
  c.set_id(envelope::NewMessageId());
  c.set_country(f.country);
  if (!f.link.empty()) {
    std::vector<std::string> ends = absl::StrSplit(f.link, ',');
    if (ends.size() != 2) {
      return UsageError(absl::StrCat("--link '", f.link,
                                     "' must be two node ids, e.g. bg,ng"));
    }
    c.set_link_a(ends[0]);
    c.set_link_b(ends[1]);
  }
  c.set_reason(f.reason);
  c.set_declared_by(who.first);
  c.set_node(who.second);
  if (f.start.empty()) {
    c.set_start_unix_ms(absl::ToUnixMillis(absl::Now()));
  } else {
    ASSIGN_OR_RETURN(int64_t start, ParseIsoMs("--start", f.start));
    c.set_start_unix_ms(start);
  }
  ASSIGN_OR_RETURN(crypto::Ed25519PrivateKey key,
                   crypto::LoadSigningKey(f.sign_key));
  ASSIGN_OR_RETURN(v1::SignedContingency s,
                   contingency::SignContingency(c, key));
  ASSIGN_OR_RETURN(Connection conn, Connect(f.node));
  ASSIGN_OR_RETURN(v1::ContingencyList list,
                   conn.client->DeclareContingency(s));
  return Print(list, out,
               absl::StrCat("declared contingency ", HexEncode(AsBytes(c.id())),
                            " for the ", contingency::ScopeText(c),
                            "; the node carries it to its peers"));
}

absl::Status End(const ContingencyFlags& f, const Output& out) {
  ASSIGN_OR_RETURN(Connection conn, Connect(f.node));
  ASSIGN_OR_RETURN(v1::ContingencyList known, conn.client->Contingencies());
  for (const v1::SignedContingency& s : known.items()) {
    v1::Contingency c;
    if (!c.ParseFromString(s.contingency()) ||
        HexEncode(AsBytes(c.id())) != f.id) {
      continue;
    }
    if (c.end_unix_ms() != 0) {
      return Error(absl::StatusCode::kInvalidArgument, "CONTINGENCY_INVALID",
                   absl::StrCat("contingency ", f.id, " already ended at ",
                                IsoSeconds(c.end_unix_ms())));
    }
    c.set_end_unix_ms(
        std::max(absl::ToUnixMillis(absl::Now()), c.start_unix_ms()));
    ASSIGN_OR_RETURN(crypto::Ed25519PrivateKey key,
                     crypto::LoadSigningKey(f.sign_key));
    ASSIGN_OR_RETURN(v1::SignedContingency ended,
                     contingency::SignContingency(c, key));
    ASSIGN_OR_RETURN(v1::ContingencyList list,
                     conn.client->DeclareContingency(ended));
    return Print(list, out,
                 absl::StrCat("ended contingency ", f.id, " for the ",
                              contingency::ScopeText(c),
                              "; the normal case rules apply again"));
  }
  return Error(absl::StatusCode::kNotFound, "CONTINGENCY_INVALID",
               absl::StrCat("no contingency ", f.id,
                            " at this node; trmctl contingency list shows "
                            "their ids"));
}

}  // namespace

std::function<absl::Status(const Output&)> AddContingencyCommand(
    CLI::App& app) {
  auto f = std::make_shared<ContingencyFlags>();
  CLI::App* cmd = app.add_subcommand(
      "contingency",
      "declare, end or list contingencies: a country or a link in crisis, "
      "with the federation policy's contingency rules (a node's coordinator)");
  CLI::App* declare = cmd->add_subcommand(
      "declare", "declare a contingency, signed with your organisation's key");
  CLI::App* end = cmd->add_subcommand(
      "end", "end a contingency you declared; prints what it deferred");
  CLI::App* list = cmd->add_subcommand(
      "list", "the contingencies the node knows, its own and its peers'");
  cmd->require_subcommand(1);
  for (CLI::App* c : {declare, end, list}) AddNodeFlags(c, &f->node);
  declare->add_option("--from", f->from, "your coordinator ORG@NODE")
      ->required();
  declare->add_option("--country", f->country,
                      "the country it concerns, e.g. NG");
  declare->add_option("--link", f->link,
                      "or the link between two nodes, e.g. bg,ng");
  declare->add_option("--reason", f->reason, "why, without personal data")
      ->required();
  declare->add_option("--start", f->start, "from (RFC 3339; default now)");
  declare
      ->add_option("--sign-key", f->sign_key, "your organisation's .sign.key")
      ->required();
  end->add_option("ID", f->id, "the contingency's id (contingency list)")
      ->required();
  end->add_option("--sign-key", f->sign_key, "your organisation's .sign.key")
      ->required();
  return [f, cmd, declare, end](const Output& out) -> absl::Status {
    if (!*cmd) return absl::OkStatus();
    if (*declare) return Declare(*f, out);
    if (*end) return End(*f, out);
    ASSIGN_OR_RETURN(Connection conn, Connect(f->node));
    ASSIGN_OR_RETURN(v1::ContingencyList l, conn.client->Contingencies());
    return Print(l, out, "");
  };
}

}  // namespace trm::client
