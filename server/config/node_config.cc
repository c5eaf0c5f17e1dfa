#include "server/config/node_config.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/json/strict_json.h"
#include "common/status.h"

namespace trm::config {
namespace {

using nlohmann::json;

absl::Status Bad(const std::string& path, absl::string_view what) {
  return Error(absl::StatusCode::kInvalidArgument, "CONFIG_INVALID",
               absl::StrCat(path, ": ", what));
}

std::string Resolve(const std::filesystem::path& base, const std::string& p) {
  if (p.empty() || std::filesystem::path(p).is_absolute()) return p;
  return (base / p).lexically_normal().string();
}

}  // namespace

bool IsLoopback(const std::string& a) {
  return absl::StartsWith(a, "127.") || absl::StartsWith(a, "[::1]") ||
         absl::StartsWith(a, "localhost:");
}

absl::StatusOr<NodeConfig> LoadNodeConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return Error(absl::StatusCode::kNotFound, "CONFIG_INVALID",
                 absl::StrCat("cannot read the configuration file ", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  const jsonio::JsonErrors errors{"CONFIG_INVALID", path,
                                  "; see docs/operations.md"};
  ASSIGN_OR_RETURN(json j, jsonio::ParseStrictJson(text.str(), errors));
  if (!j.is_object()) {
    return Bad(path, "not a JSON object; see deploy/node.example.json");
  }
  const std::filesystem::path base =
      std::filesystem::absolute(path).parent_path();
  NodeConfig c;
  // A misspelt key would silently fall back to a default: refuse it.
  auto unknown_keys = [&](const json& obj,
                          std::initializer_list<const char*> known,
                          const std::string& where) -> absl::Status {
    for (const auto& [key, value] : obj.items()) {
      if (key.empty() || key[0] == '_') continue;
      bool found = false;
      for (const char* k : known) found = found || key == k;
      if (!found) {
        return Bad(path, absl::StrCat(where, "unknown key \"", key,
                                      "\"; see docs/operations.md for the "
                                      "keys (prefix a key with '_' to "
                                      "comment)"));
      }
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(unknown_keys(j,
                               {"node_id",
                                "listen",
                                "data_dir",
                                "node_signing_key",
                                "max_payload_bytes",
                                "max_clock_skew_seconds",
                                "max_message_lifetime_seconds",
                                "visibility_timeout_seconds",
                                "retention_seconds",
                                "organisations",
                                "directory",
                                "authority_public_key",
                                "tls",
                                "relay",
                                "disk",
                                "limits",
                                "require_signed_acknowledgements",
                                "audit_tree_head_seconds",
                                "case_rules",
                                "metrics_listen",
                                "log_format",
                                "log_messages"},
                               ""));
  auto str = [&](const char* key, std::string* out,
                 bool required) -> absl::Status {
    if (!j.contains(key)) {
      return required ? Bad(path, absl::StrCat("\"", key, "\" is missing"))
                      : absl::OkStatus();
    }
    if (!j[key].is_string()) {
      return Bad(path, absl::StrCat("\"", key, "\" must be a string"));
    }
    *out = j[key].get<std::string>();
    return absl::OkStatus();
  };
  // `where` is "limits: " or "" (the top level).
  auto num = [&](const json& obj, const char* key, uint64_t* out,
                 const std::string& where) -> absl::Status {
    return jsonio::JsonReader(
               obj, where.substr(0, where.size() < 2 ? 0 : where.size() - 2),
               errors)
        .UInt(key, out);
  };
  RETURN_IF_ERROR(str("node_id", &c.node_id, true));
  RETURN_IF_ERROR(str("listen", &c.listen, false));
  RETURN_IF_ERROR(str("data_dir", &c.data_dir, true));
  RETURN_IF_ERROR(str("node_signing_key", &c.node_signing_key, true));
  RETURN_IF_ERROR(str("directory", &c.directory, false));
  RETURN_IF_ERROR(str("metrics_listen", &c.metrics_listen, false));
  RETURN_IF_ERROR(str("log_format", &c.log_format, false));
  if (c.log_format != "text" && c.log_format != "json") {
    return Bad(path, "\"log_format\" must be \"text\" or \"json\"");
  }
  if (j.contains("log_messages")) {
    if (!j["log_messages"].is_boolean()) {
      return Bad(path, "\"log_messages\" must be true or false");
    }
    c.log_messages = j["log_messages"].get<bool>();
  }
  if (!c.metrics_listen.empty() &&
      c.metrics_listen.rfind(':') == std::string::npos) {
    return Bad(path,
               "\"metrics_listen\" must be HOST:PORT, e.g. 127.0.0.1:9400");
  }
  RETURN_IF_ERROR(str("authority_public_key", &c.authority_public_key, false));
  if (c.directory.empty() != c.authority_public_key.empty()) {
    return Bad(path,
               "give both \"directory\" (the signed federation directory) "
               "and \"authority_public_key\" (the key that signs it), or "
               "neither");
  }
  if (j.contains("require_signed_acknowledgements")) {
    if (!j["require_signed_acknowledgements"].is_boolean()) {
      return Bad(path,
                 "\"require_signed_acknowledgements\" must be true or false");
    }
    c.require_signed_acknowledgements =
        j["require_signed_acknowledgements"].get<bool>();
  }
  if (j.contains("case_rules")) {
    const json& cr = j["case_rules"];
    if (!cr.is_object()) {
      return Bad(path,
                 "\"case_rules\" must be an object such as {\"enforce\": "
                 "true, \"periods\": {\"referral_ack\": \"72h\"}}");
    }
    RETURN_IF_ERROR(
        unknown_keys(cr,
                     {"enforce", "travel_notice_working_days", "periods",
                      "countries", "pairs", "deadline_check_seconds"},
                     "case_rules: "));
    if (cr.contains("enforce")) {
      if (!cr["enforce"].is_boolean()) {
        return Bad(path, "case_rules: \"enforce\" must be true or false");
      }
      c.case_rules = cr["enforce"].get<bool>();
    }
    uint64_t check_seconds = 1;
    RETURN_IF_ERROR(
        num(cr, "deadline_check_seconds", &check_seconds, "case_rules: "));
    if (check_seconds == 0) {
      return Bad(path, "case_rules: \"deadline_check_seconds\" must be >= 1");
    }
    c.deadline_check_interval = absl::Seconds(check_seconds);
    // The periods, in the shape of the directory's policy
    // (common/cases/periods.h): checked here, compared with the
    // federation's when the directory is loaded.
    const jsonio::JsonReader rules(cr, "case_rules", errors);
    RETURN_IF_ERROR(cases::RulesFromJson(rules, &c.case_rules_set));
    if (cr.contains("travel_notice_working_days")) {
      // The older spelling, outside "periods".
      if (c.case_rules_set.defaults().travel_notice_working_days() != 0) {
        return Bad(path,
                   "case_rules: give \"travel_notice_working_days\" once, "
                   "in \"periods\"");
      }
      RETURN_IF_ERROR(cases::PeriodsFromJson(
          jsonio::JsonReader(json{{"travel_notice_working_days",
                                   cr["travel_notice_working_days"]}},
                             "case_rules", errors),
          c.case_rules_set.mutable_defaults()));
    }
    ASSIGN_OR_RETURN(
        c.case_policies,
        cases::Resolve(c.case_rules_set, absl::StrCat(path, ": case_rules"),
                       "CONFIG_INVALID"));
  }
  if (j.contains("tls")) {
    const json& t = j["tls"];
    if (!t.is_object()) {
      return Bad(path, "\"tls\" must be an object with ca, cert and key");
    }
    RETURN_IF_ERROR(unknown_keys(t, {"ca", "cert", "key"}, "tls: "));
    for (auto [key, out] :
         {std::pair{"ca", &c.tls_ca}, std::pair{"cert", &c.tls_cert},
          std::pair{"key", &c.tls_key}}) {
      if (!t.contains(key) || !t[key].is_string()) {
        return Bad(path, absl::StrCat("tls: \"", key,
                                      "\" is missing or not a string (a PEM "
                                      "file from deploy/pki/make-pki.sh)"));
      }
      *out = Resolve(base, t[key].get<std::string>());
    }
  }
  if (j.contains("limits")) {
    const json& l = j["limits"];
    if (!l.is_object()) return Bad(path, "\"limits\" must be an object");
    RETURN_IF_ERROR(unknown_keys(
        l,
        {"max_calls_per_organisation", "max_threads", "stream_stall_seconds",
         "refusal_records_per_minute", "refusal_record_burst"},
        "limits: "));
    RETURN_IF_ERROR(num(l, "max_calls_per_organisation",
                        &c.max_calls_per_organisation, "limits: "));
    RETURN_IF_ERROR(num(l, "max_threads", &c.max_threads, "limits: "));
    RETURN_IF_ERROR(
        num(l, "stream_stall_seconds", &c.stream_stall_seconds, "limits: "));
    RETURN_IF_ERROR(num(l, "refusal_records_per_minute",
                        &c.refusal_records_per_minute, "limits: "));
    RETURN_IF_ERROR(
        num(l, "refusal_record_burst", &c.refusal_record_burst, "limits: "));
    if (c.max_calls_per_organisation == 0 || c.max_threads < 16 ||
        c.max_threads > 100000 || c.stream_stall_seconds == 0) {
      return Bad(path,
                 "limits: \"max_calls_per_organisation\" and "
                 "\"stream_stall_seconds\" must be at least 1, "
                 "\"max_threads\" between 16 and 100000");
    }
  }
  if (j.contains("disk")) {
    const json& d = j["disk"];
    if (!d.is_object()) return Bad(path, "\"disk\" must be an object");
    RETURN_IF_ERROR(unknown_keys(
        d, {"min_free_bytes", "reserve_bytes", "max_wal_bytes"}, "disk: "));
    RETURN_IF_ERROR(num(d, "min_free_bytes", &c.disk_min_free_bytes, "disk: "));
    RETURN_IF_ERROR(num(d, "reserve_bytes", &c.disk_reserve_bytes, "disk: "));
    RETURN_IF_ERROR(num(d, "max_wal_bytes", &c.disk_max_wal_bytes, "disk: "));
    if (c.disk_min_free_bytes < (1u << 20) ||
        c.disk_max_wal_bytes < (1u << 20)) {
      return Bad(path,
                 "disk: \"min_free_bytes\" and \"max_wal_bytes\" must be "
                 "at least 1048576 (1 MiB)");
    }
    if (c.disk_reserve_bytes != 0 &&
        c.disk_reserve_bytes < c.disk_max_wal_bytes) {
      return Bad(path,
                 "disk: \"reserve_bytes\" must be 0 (no reserve) or at "
                 "least \"max_wal_bytes\": the reserve is what lets a "
                 "restart on a full disk replay the write-ahead log");
    }
  }
  if (j.contains("relay")) {
    const json& r = j["relay"];
    if (!r.is_object()) return Bad(path, "\"relay\" must be an object");
    RETURN_IF_ERROR(unknown_keys(
        r,
        {"batch", "base_backoff_ms", "max_backoff_seconds", "breaker_failures",
         "breaker_open_seconds", "witness_seconds", "call_timeout_seconds"},
        "relay: "));
    RETURN_IF_ERROR(num(r, "batch", &c.relay_batch, "relay: "));
    RETURN_IF_ERROR(
        num(r, "base_backoff_ms", &c.relay_base_backoff_ms, "relay: "));
    RETURN_IF_ERROR(
        num(r, "max_backoff_seconds", &c.relay_max_backoff_seconds, "relay: "));
    RETURN_IF_ERROR(
        num(r, "breaker_failures", &c.relay_breaker_failures, "relay: "));
    RETURN_IF_ERROR(num(r, "breaker_open_seconds",
                        &c.relay_breaker_open_seconds, "relay: "));
    RETURN_IF_ERROR(
        num(r, "witness_seconds", &c.relay_witness_seconds, "relay: "));
    RETURN_IF_ERROR(num(r, "call_timeout_seconds",
                        &c.relay_call_timeout_seconds, "relay: "));
    if (c.relay_batch == 0 || c.relay_batch > 1024 ||
        c.relay_breaker_failures == 0) {
      return Bad(path,
                 "relay: \"batch\" must be 1..1024 and "
                 "\"breaker_failures\" at least 1");
    }
    if (c.relay_call_timeout_seconds == 0 ||
        c.relay_call_timeout_seconds > 3600) {
      return Bad(path, absl::StrCat("relay: want \"call_timeout_seconds\" "
                                    "1..3600 (how long one relay call may "
                                    "take, in seconds), not ",
                                    c.relay_call_timeout_seconds));
    }
  }
  c.directory = Resolve(base, c.directory);
  c.authority_public_key = Resolve(base, c.authority_public_key);
  c.data_dir = Resolve(base, c.data_dir);
  c.node_signing_key = Resolve(base, c.node_signing_key);
  uint64_t v = c.max_payload_bytes;
  RETURN_IF_ERROR(num(j, "max_payload_bytes", &v, ""));
  c.max_payload_bytes = v;
  v = absl::ToInt64Seconds(c.max_clock_skew);
  RETURN_IF_ERROR(num(j, "max_clock_skew_seconds", &v, ""));
  c.max_clock_skew = absl::Seconds(v);
  v = absl::ToInt64Seconds(c.max_message_lifetime);
  RETURN_IF_ERROR(num(j, "max_message_lifetime_seconds", &v, ""));
  c.max_message_lifetime_set = j.contains("max_message_lifetime_seconds");
  if (v == 0 || v > 366 * 24 * 3600) {
    return Bad(path,
               "\"max_message_lifetime_seconds\" must be between 1 and "
               "31622400 (366 days)");
  }
  c.max_message_lifetime = absl::Seconds(v);
  v = absl::ToInt64Seconds(c.visibility_timeout);
  RETURN_IF_ERROR(num(j, "visibility_timeout_seconds", &v, ""));
  if (v == 0) return Bad(path, "\"visibility_timeout_seconds\" must be > 0");
  c.visibility_timeout = absl::Seconds(v);
  v = absl::ToInt64Seconds(c.audit_tree_head_interval);
  RETURN_IF_ERROR(num(j, "audit_tree_head_seconds", &v, ""));
  if (v == 0) return Bad(path, "\"audit_tree_head_seconds\" must be > 0");
  c.audit_tree_head_interval = absl::Seconds(v);
  v = absl::ToInt64Seconds(c.retention);
  RETURN_IF_ERROR(num(j, "retention_seconds", &v, ""));
  c.retention = absl::Seconds(v);
  c.retention_set = j.contains("retention_seconds");
  // With a directory the organisations come from it; entries here only add
  // development tokens and quotas.
  if (j.contains("organisations") && !j["organisations"].is_array()) {
    return Bad(path, "\"organisations\" must be a list");
  }
  if (c.directory.empty() &&
      (!j.contains("organisations") || j["organisations"].empty())) {
    return Bad(path,
               "\"organisations\" must list the organisations on this "
               "node (or give a signed \"directory\")");
  }
  const json no_orgs = json::array();
  for (const json& o :
       j.contains("organisations") ? j["organisations"] : no_orgs) {
    const std::string where =
        absl::StrCat("organisation ", c.organisations.size() + 1, ": ");
    if (!o.is_object()) return Bad(path, where + "must be an object");
    RETURN_IF_ERROR(
        unknown_keys(o,
                     {"id", "signing_public_key", "encryption_public_key",
                      "token_sha256", "max_queued_bytes"},
                     where));
    OrgConfig org;
    for (auto [key, out] :
         {std::pair{"id", &org.id},
          std::pair{"signing_public_key", &org.signing_public_key},
          std::pair{"encryption_public_key", &org.encryption_public_key},
          std::pair{"token_sha256", &org.token_sha256}}) {
      // Tokens stand in for certificates only in development.
      if (std::string(key) == "token_sha256" && !o.contains(key)) continue;
      const bool key_from_directory =
          absl::EndsWith(key, "_public_key") && !c.directory.empty();
      if (key_from_directory) {
        if (o.contains(key)) {
          return Bad(path, absl::StrCat(where, "\"", key,
                                        "\" is not used with a directory: "
                                        "keys come from the signed directory "
                                        "only. Remove it"));
        }
        continue;
      }
      if (!o.contains(key) || !o[key].is_string()) {
        return Bad(path, absl::StrCat(where, "\"", key,
                                      "\" is missing or not a string"));
      }
      *out = o[key].get<std::string>();
    }
    if (!org.token_sha256.empty() && org.token_sha256.size() != 64) {
      return Bad(path, where +
                           "\"token_sha256\" must be 64 hex digits (the "
                           "SHA-256 that trmctl keygen prints)");
    }
    RETURN_IF_ERROR(num(o, "max_queued_bytes", &org.max_queued_bytes, where));
    if (!org.signing_public_key.empty()) {
      org.signing_public_key = Resolve(base, org.signing_public_key);
    }
    if (!org.encryption_public_key.empty()) {
      org.encryption_public_key = Resolve(base, org.encryption_public_key);
    }
    c.organisations.push_back(std::move(org));
  }
  return c;
}

}  // namespace trm::config

namespace trm::config {

absl::Status CheckNodeAgainstPolicy(const NodeConfig& c,
                                    const v1::Directory& dir) {
  if (c.case_rules) {
    RETURN_IF_ERROR(
        cases::CheckNotLooser(c.case_rules_set, dir.policy(), "case_rules"));
  }
  auto limit = [&](bool set, absl::Duration mine, uint64_t theirs,
                   absl::string_view key,
                   absl::string_view what) -> absl::Status {
    if (!set || theirs == 0 ||
        mine <= absl::Seconds(static_cast<int64_t>(theirs))) {
      return absl::OkStatus();
    }
    return Error(
        absl::StatusCode::kFailedPrecondition, "POLICY_LOOSER_THAN_FEDERATION",
        absl::StrCat("\"", key, "\" is ", absl::ToInt64Seconds(mine),
                     ", longer than the federation's ", theirs, " (", what,
                     " in the signed directory, serial ", dir.serial(),
                     "). A node may keep messages for less time than "
                     "the federation allows, never more: remove the "
                     "key or set it to ",
                     theirs, " or less"));
  };
  RETURN_IF_ERROR(limit(c.max_message_lifetime_set, c.max_message_lifetime,
                        dir.max_message_lifetime_seconds(),
                        "max_message_lifetime_seconds",
                        "max_message_lifetime_seconds"));
  return limit(c.retention_set, c.retention,
               dir.policy().max_retention_seconds(), "retention_seconds",
               absl::StrCat("policy version ", dir.policy().version(),
                            ", max_retention_seconds"));
}

}  // namespace trm::config
