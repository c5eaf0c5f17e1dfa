#include "client/agent/agent_config.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/json/strict_json.h"
#include "common/status.h"

namespace trm::agent {

bool AgentConfig::loopback() const {
  return host == "127.0.0.1" || host == "::1" || host == "localhost";
}

absl::StatusOr<AgentConfig> LoadAgentConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error(absl::StatusCode::kNotFound, "FILE_IO",
                 absl::StrCat("cannot read the agent configuration ", path,
                              ": ", std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  const jsonio::JsonErrors errors{"CONFIG_INVALID", path,
                                  "; see docs/integration.md, \"trm-agent\""};
  ASSIGN_OR_RETURN(nlohmann::json j,
                   jsonio::ParseStrictJson(text.str(), errors));
  jsonio::JsonReader r(j, "", errors);
  RETURN_IF_ERROR(r.Keys(
      {"profile", "listen", "data_dir", "users_file", "tls_cert", "tls_key",
       "retention_days", "pull_window", "session_idle_minutes", "watch_seconds",
       "deadline_warning_hours", "metrics_listen", "audit"}));
  const std::filesystem::path base = std::filesystem::path(path).parent_path();
  auto file = [&](const char* key,
                  bool required) -> absl::StatusOr<std::string> {
    ASSIGN_OR_RETURN(std::string v, r.Str(key, required));
    if (v.empty() || std::filesystem::path(v).is_absolute()) return v;
    return (base / v).string();
  };
  AgentConfig c;
  ASSIGN_OR_RETURN(c.profile, file("profile", true));
  ASSIGN_OR_RETURN(c.data_dir, file("data_dir", true));
  ASSIGN_OR_RETURN(c.users_file, file("users_file", true));
  ASSIGN_OR_RETURN(c.tls_cert, file("tls_cert", false));
  ASSIGN_OR_RETURN(c.tls_key, file("tls_key", false));
  auto host_port = [&](const char* key, std::string* host,
                       int* port) -> absl::Status {
    ASSIGN_OR_RETURN(std::string listen, r.Str(key, false));
    if (listen.empty()) return absl::OkStatus();
    const size_t colon = listen.rfind(':');
    if (colon == std::string::npos ||
        !absl::SimpleAtoi(listen.substr(colon + 1), port) || *port < 0 ||
        *port > 65535) {
      return errors.Bad(r.Path(key),
                        "must be HOST:PORT, e.g. \"127.0.0.1:8480\"");
    }
    *host = listen.substr(0, colon);
    if (host->size() > 2 && host->front() == '[') {
      *host = host->substr(1, host->size() - 2);
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(host_port("listen", &c.host, &c.port));
  RETURN_IF_ERROR(
      host_port("metrics_listen", &c.metrics_host, &c.metrics_port));
  if (!c.loopback() && (c.tls_cert.empty() || c.tls_key.empty())) {
    return errors.Bad(r.Path("listen"),
                      "is not loopback, so the API must use TLS: give "
                      "tls_cert and tls_key (PEM files)");
  }
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    return errors.Bad(r.Path("tls_cert"), "and tls_key go together");
  }
  uint64_t days = 365, window = 64, idle = 30, watch = 30, warn = 48;
  RETURN_IF_ERROR(r.UInt("retention_days", &days));
  RETURN_IF_ERROR(r.UInt("watch_seconds", &watch));
  RETURN_IF_ERROR(r.UInt("deadline_warning_hours", &warn));
  if (watch == 0 || watch > 3600) {
    return errors.Bad(r.Path("watch_seconds"), "must be 1 to 3600");
  }
  if (warn == 0 || warn > 24 * 90) {
    return errors.Bad(r.Path("deadline_warning_hours"), "must be 1 to 2160");
  }
  c.watch_every = absl::Seconds(static_cast<int64_t>(watch));
  c.deadline_warning = absl::Hours(static_cast<int64_t>(warn));
  RETURN_IF_ERROR(r.UInt("pull_window", &window));
  RETURN_IF_ERROR(r.UInt("session_idle_minutes", &idle));
  if (days == 0 || days > 36500) {
    return errors.Bad(r.Path("retention_days"), "must be 1 to 36500");
  }
  if (window == 0 || window > 1000) {
    return errors.Bad(r.Path("pull_window"), "must be 1 to 1000");
  }
  if (idle == 0 || idle > 24 * 60) {
    return errors.Bad(r.Path("session_idle_minutes"), "must be 1 to 1440");
  }
  if (r.Has("audit")) {
    ASSIGN_OR_RETURN(jsonio::JsonReader a, r.Object("audit"));
    RETURN_IF_ERROR(a.Keys({"cert", "key", "ca", "nodes"}));
    auto afile = [&](const char* key,
                     bool required) -> absl::StatusOr<std::string> {
      ASSIGN_OR_RETURN(std::string v, a.Str(key, required));
      if (v.empty() || std::filesystem::path(v).is_absolute()) return v;
      return (base / v).string();
    };
    ASSIGN_OR_RETURN(c.audit.cert_file, afile("cert", true));
    ASSIGN_OR_RETURN(c.audit.key_file, afile("key", true));
    ASSIGN_OR_RETURN(c.audit.ca_file, afile("ca", false));
    ASSIGN_OR_RETURN(std::vector<jsonio::JsonReader> nodes, a.List("nodes"));
    if (nodes.empty()) {
      return errors.Bad(a.Path("nodes"),
                        "must list the nodes in the auditor's scope, e.g. "
                        "[{\"node\": \"bg\", \"address\": "
                        "\"bg-node.example:7400\"}]");
    }
    for (const jsonio::JsonReader& n : nodes) {
      RETURN_IF_ERROR(n.Keys({"node", "address"}));
      AuditScopeConfig::Node node;
      ASSIGN_OR_RETURN(node.node, n.Str("node", true));
      ASSIGN_OR_RETURN(node.address, n.Str("address", true));
      for (const AuditScopeConfig::Node& seen : c.audit.nodes) {
        if (seen.node == node.node) {
          return n.Bad(absl::StrCat("names node ", node.node,
                                    " a second time; list each node once"));
        }
      }
      c.audit.nodes.push_back(std::move(node));
    }
  }
  c.retention = absl::Hours(24 * static_cast<int64_t>(days));
  c.pull_window = static_cast<uint32_t>(window);
  c.session_idle = absl::Minutes(static_cast<int64_t>(idle));
  return c;
}

}  // namespace trm::agent
