#include "client/directory_commands.h"

#include <filesystem>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/cases/periods.h"
#include "common/crypto/key_files.h"
#include "common/directory/directory.h"
#include "common/json/strict_json.h"
#include "common/status.h"
#include "common/time_text.h"

namespace trm::client {
namespace {

using nlohmann::json;

const jsonio::JsonErrors kSpecErrors{"DIRECTORY_SPEC_INVALID", "",
                                     "; see docs/trmctl.md, \"directory\""};

absl::Status Bad(const std::string& where, absl::string_view what) {
  return kSpecErrors.Bad(where, what);
}

// Reads JSON objects strictly: unknown keys and wrong types are errors that
// name their path ("organisations[2].signing_keys[0].valid_from").
using Reader = jsonio::JsonReader;

enum class KeyAlg { kEd25519, kX25519 };

absl::StatusOr<v1::DirectoryKey> KeyFromJson(const Reader& r, KeyAlg alg,
                                             const std::string& base) {
  RETURN_IF_ERROR(
      r.Keys({"public_key_file", "public_key_pem", "valid_from", "valid_until",
              "revoked", "revocation_reason", "key_id"}));
  ASSIGN_OR_RETURN(std::string file, r.Str("public_key_file", false));
  ASSIGN_OR_RETURN(std::string pem, r.Str("public_key_pem", false));
  if (file.empty() == pem.empty()) {
    return Bad(
        r.path(),
        "give exactly one of \"public_key_file\" and \"public_key_pem\"");
  }
  if (!file.empty()) {
    std::filesystem::path p(file);
    if (p.is_relative()) p = std::filesystem::path(base) / p;
    ASSIGN_OR_RETURN(pem, ReadInput(p.string()));
  }
  v1::DirectoryKey k;
  crypto::KeyId id;
  if (alg == KeyAlg::kEd25519) {
    auto key = crypto::ParseEd25519PublicKeyPem(pem);
    if (!key.ok()) {
      return Bad(r.path(), absl::StrCat("not an Ed25519 public key: ",
                                        key.status().message()));
    }
    k.set_public_key(key->raw().data(), key->raw().size());
    id = crypto::KeyIdOf(*key);
  } else {
    auto key = crypto::ParseX25519PublicKeyPem(pem);
    if (!key.ok()) {
      return Bad(r.path(), absl::StrCat("not an X25519 public key: ",
                                        key.status().message()));
    }
    k.set_public_key(key->data(), key->size());
    id = crypto::X25519KeyIdOf(*key);
  }
  k.set_key_id(id.data(), id.size());
  ASSIGN_OR_RETURN(std::string listed_id, r.Str("key_id", false));
  if (!listed_id.empty() && listed_id != HexEncode(id)) {
    return Bad(r.Path("key_id"), absl::StrCat("the key's id is ", HexEncode(id),
                                              ", not ", listed_id));
  }
  ASSIGN_OR_RETURN(int64_t from, r.Time("valid_from"));
  ASSIGN_OR_RETURN(int64_t until, r.Time("valid_until"));
  ASSIGN_OR_RETURN(int64_t revoked, r.Time("revoked"));
  ASSIGN_OR_RETURN(std::string reason, r.Str("revocation_reason", false));
  k.set_valid_from_unix_ms(from);
  k.set_valid_until_unix_ms(until);
  k.set_revoked_unix_ms(revoked);
  k.set_revocation_reason(reason);
  return k;
}

absl::Status KeysFromJson(
    const Reader& r, const char* key, KeyAlg alg, const std::string& base,
    google::protobuf::RepeatedPtrField<v1::DirectoryKey>* out) {
  ASSIGN_OR_RETURN(std::vector<Reader> keys, r.List(key));
  for (const Reader& k : keys) {
    ASSIGN_OR_RETURN(*out->Add(), KeyFromJson(k, alg, base));
  }
  return absl::OkStatus();
}

json KeyToJson(const v1::DirectoryKey& k, KeyAlg alg) {
  json j;
  j["key_id"] = HexEncode(AsBytes(k.key_id()));
  if (alg == KeyAlg::kEd25519) {
    auto key = crypto::Ed25519PublicKey::FromRaw(AsBytes(k.public_key()));
    if (key.ok()) j["public_key_pem"] = crypto::Ed25519PublicKeyPem(*key);
  } else if (k.public_key().size() == 32) {
    crypto::X25519PublicKey key;
    std::copy(k.public_key().begin(), k.public_key().end(), key.begin());
    j["public_key_pem"] = crypto::X25519PublicKeyPem(key);
  }
  if (k.valid_from_unix_ms() != 0)
    j["valid_from"] = IsoMillis(k.valid_from_unix_ms());
  if (k.valid_until_unix_ms() != 0) {
    j["valid_until"] = IsoMillis(k.valid_until_unix_ms());
  }
  if (k.revoked_unix_ms() != 0) j["revoked"] = IsoMillis(k.revoked_unix_ms());
  if (!k.revocation_reason().empty()) {
    j["revocation_reason"] = k.revocation_reason();
  }
  return j;
}

json KeysToJson(const google::protobuf::RepeatedPtrField<v1::DirectoryKey>& ks,
                KeyAlg alg) {
  json a = json::array();
  for (const auto& k : ks) a.push_back(KeyToJson(k, alg));
  return a;
}

}  // namespace

absl::StatusOr<v1::Directory> DirectoryFromJson(const json& j,
                                                const std::string& base) {
  Reader r(j, "", kSpecErrors);
  RETURN_IF_ERROR(r.Keys({"federation", "serial", "issued", "valid_until",
                          "max_message_lifetime_seconds", "policy", "nodes",
                          "organisations", "auditors"}));
  v1::Directory d;
  ASSIGN_OR_RETURN(*d.mutable_federation(), r.Str("federation", true));
  if (!j.contains("serial") || !j["serial"].is_number_unsigned()) {
    return Bad("serial", "must be a positive whole number");
  }
  d.set_serial(j["serial"].get<uint64_t>());
  if (j.contains("max_message_lifetime_seconds")) {
    const json& l = j["max_message_lifetime_seconds"];
    if (!l.is_number_unsigned() || l.get<uint64_t>() == 0) {
      return Bad("max_message_lifetime_seconds",
                 "must be a positive whole number of seconds");
    }
    d.set_max_message_lifetime_seconds(l.get<uint64_t>());
  }
  ASSIGN_OR_RETURN(int64_t issued, r.Time("issued"));
  d.set_issued_unix_ms(issued);
  ASSIGN_OR_RETURN(int64_t valid_until, r.Time("valid_until"));
  d.set_valid_until_unix_ms(valid_until);
  if (r.Has("policy")) {
    // The federation's policy: the shape of a node's case_rules
    // (docs/workflow.md), with its version and the retention limit.
    ASSIGN_OR_RETURN(Reader p, r.Object("policy"));
    RETURN_IF_ERROR(p.Keys({"version", "periods", "countries", "pairs",
                            "max_retention_seconds", "directory_warn_seconds",
                            "directory_grace_seconds", "statistics_min_cell",
                            "contingency"}));
    v1::FederationPolicy* policy = d.mutable_policy();
    uint64_t version = 0;
    RETURN_IF_ERROR(p.UInt("version", &version));
    if (version == 0) {
      return Bad(p.Path("version"),
                 "give the policy a version of 1 or more, and raise it with "
                 "every change of the policy");
    }
    policy->set_version(version);
    uint64_t retention = 0;
    RETURN_IF_ERROR(p.UInt("max_retention_seconds", &retention));
    policy->set_max_retention_seconds(retention);
    uint64_t warn = 0, grace = 0;
    RETURN_IF_ERROR(p.UInt("directory_warn_seconds", &warn));
    RETURN_IF_ERROR(p.UInt("directory_grace_seconds", &grace));
    policy->set_directory_warn_seconds(warn);
    policy->set_directory_grace_seconds(grace);
    uint64_t min_cell = 0;
    RETURN_IF_ERROR(p.UInt("statistics_min_cell", &min_cell));
    if (min_cell > 1000) {
      return Bad(p.Path("statistics_min_cell"), "must be at most 1000");
    }
    policy->set_statistics_min_cell(static_cast<uint32_t>(min_cell));
    if (p.Has("contingency")) {
      ASSIGN_OR_RETURN(Reader c, p.Object("contingency"));
      RETURN_IF_ERROR(c.Keys({"failed_link", "deadline_extension_seconds",
                              "lifetime_extension_seconds", "urgent_types"}));
      ASSIGN_OR_RETURN(std::vector<Reader> urgent, c.List("urgent_types"));
      for (size_t i = 0; i < urgent.size(); ++i) {
        const nlohmann::json& v = urgent[i].value();
        v1::MessageType t = v1::MESSAGE_TYPE_UNSPECIFIED;
        const std::string where =
            absl::StrCat(c.Path("urgent_types"), "[", i, "]");
        if (!v.is_string() ||
            !v1::MessageType_Parse(v.get<std::string>(), &t) ||
            t == v1::MESSAGE_TYPE_UNSPECIFIED || t == v1::DEADLINE_NOTICE) {
          return Bad(where,
                     "give the name of a message type organisations send, "
                     "such as \"RISK_FEEDBACK\" (docs/protocol.md, "
                     "MessageType)");
        }
        for (int seen : policy->contingency().urgent_types()) {
          if (seen == t) {
            return Bad(where, absl::StrCat(v1::MessageType_Name(t),
                                           " is listed twice"));
          }
        }
        policy->mutable_contingency()->add_urgent_types(t);
      }
      for (auto [key, set] :
           {std::pair{"deadline_extension_seconds",
                      &v1::ContingencyRules::set_deadline_extension_seconds},
            std::pair{"lifetime_extension_seconds",
                      &v1::ContingencyRules::set_lifetime_extension_seconds}}) {
        uint64_t seconds = 0;
        RETURN_IF_ERROR(c.UInt(key, &seconds));
        if (seconds > 90 * 24 * 3600) {
          return Bad(c.Path(key), "must be at most 90 days (7776000)");
        }
        (policy->mutable_contingency()->*set)(seconds);
      }
      ASSIGN_OR_RETURN(std::string rule, c.Str("failed_link", false));
      if (!rule.empty()) {
        std::optional<v1::FailedLinkRule> parsed =
            cases::FailedLinkRuleOf(rule);
        if (!parsed) {
          return Bad(c.Path("failed_link"),
                     absl::StrCat("is '", rule,
                                  "'; give \"pause\" or "
                                  "\"escalate_to_coordinators\""));
        }
        policy->mutable_contingency()->set_failed_link(*parsed);
      }
    }
    RETURN_IF_ERROR(cases::RulesFromJson(p, policy));
  }
  ASSIGN_OR_RETURN(std::vector<Reader> nodes, r.List("nodes"));
  for (const Reader& n : nodes) {
    RETURN_IF_ERROR(
        n.Keys({"id", "country", "endpoint", "tls_identity", "signing_keys"}));
    v1::DirectoryNode* out = d.add_nodes();
    ASSIGN_OR_RETURN(*out->mutable_id(), n.Str("id", true));
    ASSIGN_OR_RETURN(*out->mutable_country(), n.Str("country", true));
    ASSIGN_OR_RETURN(*out->mutable_endpoint(), n.Str("endpoint", true));
    ASSIGN_OR_RETURN(*out->mutable_tls_identity(),
                     n.Str("tls_identity", false));
    RETURN_IF_ERROR(KeysFromJson(n, "signing_keys", KeyAlg::kEd25519, base,
                                 out->mutable_signing_keys()));
  }
  ASSIGN_OR_RETURN(std::vector<Reader> orgs, r.List("organisations"));
  for (const Reader& o : orgs) {
    RETURN_IF_ERROR(
        o.Keys({"id", "home_node", "roles", "tls_identity", "display_name",
                "signing_keys", "encryption_keys"}));
    v1::DirectoryOrganisation* out = d.add_organisations();
    ASSIGN_OR_RETURN(*out->mutable_id(), o.Str("id", true));
    ASSIGN_OR_RETURN(*out->mutable_home_node(), o.Str("home_node", true));
    ASSIGN_OR_RETURN(*out->mutable_tls_identity(),
                     o.Str("tls_identity", false));
    ASSIGN_OR_RETURN(*out->mutable_display_name(),
                     o.Str("display_name", false));
    if (o.value().contains("roles")) {
      const json& roles = o.value()["roles"];
      if (!roles.is_array()) return Bad(o.Path("roles"), "must be a list");
      for (const json& role : roles) {
        v1::Role value;
        if (!role.is_string() ||
            !v1::Role_Parse(role.get<std::string>(), &value) ||
            value == v1::ROLE_UNSPECIFIED) {
          return Bad(o.Path("roles"),
                     "each role is one of NATIONAL_COORDINATOR, NGO, "
                     "RECEIVING_ORGANISATION, LAW_ENFORCEMENT, "
                     "CONSULAR_SERVICE");
        }
        out->add_roles(value);
      }
    }
    RETURN_IF_ERROR(KeysFromJson(o, "signing_keys", KeyAlg::kEd25519, base,
                                 out->mutable_signing_keys()));
    RETURN_IF_ERROR(KeysFromJson(o, "encryption_keys", KeyAlg::kX25519, base,
                                 out->mutable_encryption_keys()));
  }
  ASSIGN_OR_RETURN(std::vector<Reader> auditors, r.List("auditors"));
  for (const Reader& a : auditors) {
    RETURN_IF_ERROR(a.Keys({"id", "tls_identity", "scope", "nodes"}));
    v1::DirectoryAuditor* out = d.add_auditors();
    ASSIGN_OR_RETURN(*out->mutable_id(), a.Str("id", true));
    ASSIGN_OR_RETURN(*out->mutable_tls_identity(),
                     a.Str("tls_identity", false));
    ASSIGN_OR_RETURN(std::string scope, a.Str("scope", true));
    if (scope == "ALL_NODES") {
      out->set_scope(v1::AUDIT_ALL_NODES);
    } else if (scope == "LISTED_NODES") {
      out->set_scope(v1::AUDIT_LISTED_NODES);
    } else {
      return Bad(a.Path("scope"), "must be ALL_NODES or LISTED_NODES");
    }
    if (a.value().contains("nodes")) {
      const json& nodes = a.value()["nodes"];
      if (!nodes.is_array()) return Bad(a.Path("nodes"), "must be a list");
      for (const json& n : nodes) {
        if (!n.is_string()) return Bad(a.Path("nodes"), "must list node ids");
        out->add_nodes(n.get<std::string>());
      }
    }
  }
  return d;
}

json DirectoryToJson(const v1::Directory& d) {
  json j;
  j["federation"] = d.federation();
  j["serial"] = d.serial();
  if (d.issued_unix_ms() != 0) j["issued"] = IsoMillis(d.issued_unix_ms());
  if (d.valid_until_unix_ms() != 0) {
    j["valid_until"] = IsoMillis(d.valid_until_unix_ms());
  }
  if (d.max_message_lifetime_seconds() != 0) {
    j["max_message_lifetime_seconds"] = d.max_message_lifetime_seconds();
  }
  if (d.has_policy()) {
    json p = cases::RulesToJson(d.policy());
    p["version"] = d.policy().version();
    for (auto [key, value] :
         {std::pair{"max_retention_seconds",
                    d.policy().max_retention_seconds()},
          std::pair{"directory_warn_seconds",
                    d.policy().directory_warn_seconds()},
          std::pair{"directory_grace_seconds",
                    d.policy().directory_grace_seconds()},
          std::pair{"statistics_min_cell",
                    uint64_t{d.policy().statistics_min_cell()}}}) {
      if (value != 0) p[key] = value;
    }
    if (d.policy().contingency().failed_link() !=
        v1::FAILED_LINK_RULE_UNSPECIFIED) {
      p["contingency"]["failed_link"] =
          cases::FailedLinkRuleName(d.policy().contingency());
    }
    if (d.policy().contingency().deadline_extension_seconds() != 0) {
      p["contingency"]["deadline_extension_seconds"] =
          d.policy().contingency().deadline_extension_seconds();
    }
    if (d.policy().contingency().lifetime_extension_seconds() != 0) {
      p["contingency"]["lifetime_extension_seconds"] =
          d.policy().contingency().lifetime_extension_seconds();
    }
    for (int t : d.policy().contingency().urgent_types()) {
      p["contingency"]["urgent_types"].push_back(
          v1::MessageType_Name(static_cast<v1::MessageType>(t)));
    }
    j["policy"] = p;
  }
  j["nodes"] = json::array();
  for (const auto& n : d.nodes()) {
    j["nodes"].push_back(
        {{"id", n.id()},
         {"country", n.country()},
         {"endpoint", n.endpoint()},
         {"tls_identity", n.tls_identity()},
         {"signing_keys", KeysToJson(n.signing_keys(), KeyAlg::kEd25519)}});
  }
  j["organisations"] = json::array();
  for (const auto& o : d.organisations()) {
    json roles = json::array();
    for (int r : o.roles())
      roles.push_back(v1::Role_Name(static_cast<v1::Role>(r)));
    json e = {
        {"id", o.id()},
        {"home_node", o.home_node()},
        {"roles", roles},
        {"tls_identity", o.tls_identity()},
        {"signing_keys", KeysToJson(o.signing_keys(), KeyAlg::kEd25519)},
        {"encryption_keys", KeysToJson(o.encryption_keys(), KeyAlg::kX25519)}};
    if (!o.display_name().empty()) e["display_name"] = o.display_name();
    j["organisations"].push_back(e);
  }
  j["auditors"] = json::array();
  for (const auto& a : d.auditors()) {
    j["auditors"].push_back(
        {{"id", a.id()},
         {"tls_identity", a.tls_identity()},
         {"scope",
          a.scope() == v1::AUDIT_ALL_NODES ? "ALL_NODES" : "LISTED_NODES"},
         {"nodes", a.nodes()}});
  }
  return j;
}

std::function<absl::Status(const Output&)> AddDirectoryCommands(CLI::App& app) {
  struct Flags {
    std::string federation, in, out, authority_key, authority_pub, old_path,
        new_path;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* dir = app.add_subcommand(
      "directory", "create, sign, inspect and diff the federation directory");
  dir->require_subcommand(1);
  CLI::App* create = dir->add_subcommand(
      "create", "write a starting directory source (JSON) to edit");
  create->add_option("--federation", f->federation, "the federation's name")
      ->required();
  create->add_option("--out", f->out, "JSON file to write")->required();
  CLI::App* sign = dir->add_subcommand(
      "sign", "check a directory source and sign it as the authority");
  sign->add_option("--in", f->in, "directory source (JSON)")->required();
  sign->add_option("--authority-key", f->authority_key,
                   "the federation authority's Ed25519 private key")
      ->required();
  sign->add_option("--out", f->out, "signed directory to write")->required();
  CLI::App* inspect = dir->add_subcommand(
      "inspect", "verify a signed directory and print it as JSON");
  inspect->add_option("--in", f->in, "signed directory")->required();
  inspect
      ->add_option("--authority-pub", f->authority_pub,
                   "the federation authority's public key")
      ->required();
  CLI::App* diff = dir->add_subcommand(
      "diff", "verify two signed directories and print what changed");
  diff->add_option("--authority-pub", f->authority_pub,
                   "the federation authority's public key")
      ->required();
  diff->add_option("OLD", f->old_path, "the older signed directory")
      ->required();
  diff->add_option("NEW", f->new_path, "the newer signed directory")
      ->required();

  return [=](const Output& out) -> absl::Status {
    if (!*dir) return absl::OkStatus();
    if (*create) {
      json j = {{"_comment",
                 "Edit, then: trmctl directory sign --in THIS --authority-key "
                 "K --out directory.signed. Key files are relative to this "
                 "file. See docs/trmctl.md."},
                {"federation", f->federation},
                {"serial", 1},
                {"nodes", json::array()},
                {"organisations", json::array()},
                {"auditors", json::array()}};
      const std::string text = j.dump(2) + "\n";
      if (std::filesystem::exists(f->out)) {
        // A source being edited is never overwritten by a fresh one.
        return Error(absl::StatusCode::kAlreadyExists, "OUTPUT_EXISTS",
                     absl::StrCat(f->out,
                                  " already exists; directory create "
                                  "writes a new source only. Edit it, or "
                                  "give another --out"));
      }
      RETURN_IF_ERROR(WriteOutput(f->out, AsBytes(text), 0644));
      if (out.json) {
        std::cout << json{{"ok", true}, {"out", f->out}}.dump() << "\n";
      } else {
        std::cout << "wrote " << f->out << "\n";
      }
      return absl::OkStatus();
    }
    if (*sign) {
      ASSIGN_OR_RETURN(std::string text, ReadInput(f->in));
      ASSIGN_OR_RETURN(
          json j, jsonio::ParseStrictJson(
                      text, {kSpecErrors.reason, f->in, kSpecErrors.hint}));
      const std::string base =
          std::filesystem::absolute(f->in).parent_path().string();
      ASSIGN_OR_RETURN(v1::Directory d, DirectoryFromJson(j, base));
      if (d.issued_unix_ms() == 0) {
        d.set_issued_unix_ms(absl::ToUnixMillis(absl::Now()));
      }
      ASSIGN_OR_RETURN(crypto::Ed25519PrivateKey key,
                       crypto::LoadSigningKey(f->authority_key));
      ASSIGN_OR_RETURN(v1::SignedDirectory s, directory::Sign(d, key));
      const std::string bytes = s.SerializeAsString();
      RETURN_IF_ERROR(WriteOutput(f->out, AsBytes(bytes), 0644));
      auto verified = directory::Directory::Verify(bytes, key.public_key());
      RETURN_IF_ERROR(verified.status());
      if (out.json) {
        std::cout << json{{"ok", true},
                          {"serial", d.serial()},
                          {"sha256", (*verified)->digest_hex()},
                          {"nodes", d.nodes_size()},
                          {"organisations", d.organisations_size()},
                          {"auditors", d.auditors_size()}}
                         .dump()
                  << "\n";
      } else {
        std::cout << "signed directory " << d.federation() << " serial "
                  << d.serial() << " (" << d.nodes_size() << " nodes, "
                  << d.organisations_size() << " organisations, "
                  << d.auditors_size() << " auditors), sha256 "
                  << (*verified)->digest_hex() << " -> " << f->out << "\n";
      }
      return absl::OkStatus();
    }
    if (*inspect) {
      ASSIGN_OR_RETURN(auto d, LoadSignedDirectory(f->in, f->authority_pub));
      json j = DirectoryToJson(d->doc());
      j["sha256"] = d->digest_hex();
      std::cout << (out.json ? j.dump() : j.dump(2)) << "\n";
      return absl::OkStatus();
    }
    if (*diff) {
      ASSIGN_OR_RETURN(auto a,
                       LoadSignedDirectory(f->old_path, f->authority_pub));
      ASSIGN_OR_RETURN(auto b,
                       LoadSignedDirectory(f->new_path, f->authority_pub));
      std::vector<std::string> lines = directory::Diff(a->doc(), b->doc());
      const absl::Status successor = directory::CheckSuccessor(*a, *b);
      if (out.json) {
        std::cout << json{{"ok", true},
                          {"changes", lines},
                          {"may_replace", successor.ok()},
                          {"why_not", std::string(successor.message())}}
                         .dump()
                  << "\n";
      } else {
        for (const std::string& l : lines) std::cout << l << "\n";
        if (lines.empty()) std::cout << "no changes\n";
        std::cout << (successor.ok()
                          ? "a node would accept NEW after OLD\n"
                          : absl::StrCat("a node would refuse NEW after OLD: ",
                                         successor.message(), "\n"));
      }
      return absl::OkStatus();
    }
    return absl::OkStatus();
  };
}

}  // namespace trm::client
