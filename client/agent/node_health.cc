#include "client/agent/node_health.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

namespace trm::agent {
namespace {

using nlohmann::json;

json Warning(const char* code, const char* severity, json params = {}) {
  json w = params.is_object() ? std::move(params) : json::object();
  w["code"] = code;
  w["severity"] = severity;
  return w;
}

// Whole days from `now` to `end`, rounded down (negative once passed).
int64_t DaysLeft(int64_t end_ms, absl::Time now) {
  return absl::ToInt64Hours(absl::FromUnixMillis(end_ms) - now) / 24;
}

void Expiry(json& warnings, const char* soon, const char* passed,
            int64_t end_ms, absl::Time now) {
  if (end_ms == 0) return;
  const absl::Time end = absl::FromUnixMillis(end_ms);
  if (end <= now) {
    warnings.push_back(Warning(passed, "error", {{"since_unix_ms", end_ms}}));
  } else if (end - now <= kExpiryWarning) {
    warnings.push_back(
        Warning(soon, "warning",
                {{"days", DaysLeft(end_ms, now)}, {"at_unix_ms", end_ms}}));
  }
}

}  // namespace

json NodeHealth(const v1::NodeStatus& s, absl::Time now) {
  json warnings = json::array();
  Expiry(warnings, "TLS_CERT_EXPIRES", "TLS_CERT_EXPIRED",
         s.tls_cert_not_after_unix_ms(), now);
  Expiry(warnings, "NODE_KEY_EXPIRES", "NODE_KEY_EXPIRED",
         s.node_key_valid_until_unix_ms(), now);
  // The federation directory nearing or past its validity (the node's own
  // judgement, with the federation's warning and grace periods).
  const std::string& standing = s.directory_standing();
  if (standing == "expiring") {
    warnings.push_back(
        Warning("DIRECTORY_EXPIRES", "warning",
                {{"days", DaysLeft(s.directory_valid_until_unix_ms(), now)},
                 {"at_unix_ms", s.directory_valid_until_unix_ms()},
                 {"grace_ends_unix_ms", s.directory_grace_ends_unix_ms()}}));
  } else if (standing == "grace") {
    warnings.push_back(
        Warning("DIRECTORY_IN_GRACE", "error",
                {{"since_unix_ms", s.directory_valid_until_unix_ms()},
                 {"grace_ends_unix_ms", s.directory_grace_ends_unix_ms()}}));
  } else if (standing == "lapsed") {
    warnings.push_back(
        Warning("DIRECTORY_LAPSED", "error",
                {{"since_unix_ms", s.directory_grace_ends_unix_ms()}}));
  }
  if (!s.relay_enabled()) {
    warnings.push_back(Warning("RELAY_DISABLED", "warning"));
  }
  if (s.disk_low()) {
    warnings.push_back(Warning("DISK_LOW", "error",
                               {{"free_bytes", s.disk_free_bytes()},
                                {"min_free_bytes", s.disk_min_free_bytes()}}));
  }
  if (s.overdue_deadlines() > 0) {
    warnings.push_back(Warning("DEADLINES_OVERDUE", "warning",
                               {{"count", s.overdue_deadlines()}}));
  }
  json peers = json::array();
  for (const v1::PeerLink& p : s.peers()) {
    const bool reachable = p.consecutive_failures() == 0;
    peers.push_back({{"node", p.node()},
                     {"reachable", reachable},
                     {"breaker", p.breaker()},
                     {"consecutive_failures", p.consecutive_failures()},
                     {"next_attempt_unix_ms", p.next_attempt_unix_ms()},
                     {"last_success_unix_ms", p.last_success_unix_ms()},
                     {"last_error", p.last_error()},
                     {"relayed", p.relayed()},
                     {"refused", p.refused()},
                     {"outbound_queued", p.outbound_queued()},
                     {"outbound_bytes", p.outbound_bytes()},
                     {"notices_queued", p.notices_queued()},
                     {"witnessed_tree_size", p.witnessed_tree_size()},
                     {"witnessed_signed_unix_ms", p.witnessed_signed_unix_ms()},
                     {"forks", p.forks()}});
    if (p.forks() > 0) {
      warnings.push_back(Warning("PEER_FORK", "error",
                                 {{"peer", p.node()}, {"count", p.forks()}}));
    }
    if (p.breaker() == "open") {
      warnings.push_back(Warning("PEER_BREAKER_OPEN", "error",
                                 {{"peer", p.node()},
                                  {"error", p.last_error()},
                                  {"queued", p.outbound_queued()}}));
    } else if (!reachable) {
      warnings.push_back(Warning("PEER_UNREACHABLE", "warning",
                                 {{"peer", p.node()},
                                  {"failures", p.consecutive_failures()},
                                  {"error", p.last_error()},
                                  {"queued", p.outbound_queued()}}));
    }
    const int64_t last = p.last_success_unix_ms();
    if (p.outbound_queued() > 0 && last != 0 &&
        now - absl::FromUnixMillis(last) > kPeerSilence) {
      warnings.push_back(Warning("PEER_BACKLOG_WAITING", "warning",
                                 {{"peer", p.node()},
                                  {"queued", p.outbound_queued()},
                                  {"since_unix_ms", last}}));
    }
  }
  json queues = json::array();
  for (const v1::QueueSummary& q : s.queues()) {
    queues.push_back({{"organisation", q.organisation()},
                      {"queued", q.queued()},
                      {"bytes", q.bytes()}});
  }
  return json{
      {"node_id", s.node_id()},
      {"directory_serial", s.directory_serial()},
      {"now_unix_ms", s.now_unix_ms()},
      {"relay_enabled", s.relay_enabled()},
      {"overdue_deadlines", s.overdue_deadlines()},
      {"tls_cert_not_after_unix_ms", s.tls_cert_not_after_unix_ms()},
      {"node_key_valid_until_unix_ms", s.node_key_valid_until_unix_ms()},
      {"disk",
       {{"free_bytes", s.disk_free_bytes()},
        {"min_free_bytes", s.disk_min_free_bytes()},
        {"low", s.disk_low()},
        {"refusals", s.disk_refusals()}}},
      {"peers", peers},
      {"queues", queues},
      {"warnings", warnings}};
}

json OrgKeyWarnings(const v1::DirectoryOrganisation& org, absl::Time now) {
  json warnings = json::array();
  auto check = [&](const auto& keys, const char* soon, const char* passed) {
    // The furthest end of a key valid now (0: one has no end).
    bool any = false;
    int64_t end = -1;
    for (const v1::DirectoryKey& k : keys) {
      const absl::Time from = absl::FromUnixMillis(k.valid_from_unix_ms());
      const bool revoked = k.revoked_unix_ms() != 0 &&
                           absl::FromUnixMillis(k.revoked_unix_ms()) <= now;
      const bool ended = k.valid_until_unix_ms() != 0 &&
                         absl::FromUnixMillis(k.valid_until_unix_ms()) <= now;
      if (revoked || ended || from > now) continue;
      any = true;
      if (k.valid_until_unix_ms() == 0) return;  // one never ends
      end = std::max(end, k.valid_until_unix_ms());
    }
    if (!any) {
      warnings.push_back(
          Warning(passed, "error", {{"organisation", org.id()}}));
      return;
    }
    Expiry(warnings, soon, passed, end, now);
  };
  check(org.signing_keys(), "ORG_SIGN_KEY_EXPIRES", "ORG_SIGN_KEY_EXPIRED");
  check(org.encryption_keys(), "ORG_ENC_KEY_EXPIRES", "ORG_ENC_KEY_EXPIRED");
  return warnings;
}

}  // namespace trm::agent
