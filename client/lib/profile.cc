// LoadProfile: a client's connection, identity and trust as one JSON file.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "client/lib/internal.h"
#include "common/json/strict_json.h"
#include "common/status.h"

namespace trm::client {
namespace internal {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error(
        absl::StatusCode::kNotFound, "FILE_IO",
        absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

absl::Status Missing(absl::string_view what, absl::string_view key,
                     absl::string_view flag) {
  return Error(absl::StatusCode::kInvalidArgument, "USAGE",
               absl::StrCat(what, ": give ", flag, " (\"", key,
                            "\" in the client profile, --config)"));
}

}  // namespace internal

std::string ReasonOf(const absl::Status& status) {
  return status.ok() ? "" : ErrorReason(status);
}

absl::StatusOr<Profile> LoadProfile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, internal::ReadFile(path));
  const jsonio::JsonErrors errors{"CONFIG_INVALID", path,
                                  "; docs/integration.md lists the fields"};
  ASSIGN_OR_RETURN(nlohmann::json j, jsonio::ParseStrictJson(text, errors));
  jsonio::JsonReader r(j, "", errors);
  RETURN_IF_ERROR(
      r.Keys({"node", "ca", "cert", "key", "token_file", "org", "home_node",
              "sign_key", "encryption_key", "directory", "authority_pub",
              "keys_dir", "node_pub"}));
  // Relative paths are the profile's folder's, wherever it is used from.
  const size_t slash = path.rfind('/');
  const std::string base =
      slash == std::string::npos ? "" : path.substr(0, slash + 1);
  auto file = [&](const char* key) -> absl::StatusOr<std::string> {
    absl::StatusOr<std::string> v = r.Str(key, false);
    if (!v.ok() || v->empty() || v->front() == '/') return v;
    return base + *v;
  };
  Profile p;
  ASSIGN_OR_RETURN(std::string node, r.Str("node", false));
  if (!node.empty()) p.connect.address = node;
  ASSIGN_OR_RETURN(p.connect.ca_file, file("ca"));
  ASSIGN_OR_RETURN(p.connect.cert_file, file("cert"));
  ASSIGN_OR_RETURN(p.connect.key_file, file("key"));
  ASSIGN_OR_RETURN(p.connect.dev_token_file, file("token_file"));
  ASSIGN_OR_RETURN(p.identity.org, r.Str("org", false));
  ASSIGN_OR_RETURN(p.identity.node, r.Str("home_node", false));
  ASSIGN_OR_RETURN(p.identity.sign_key_file, file("sign_key"));
  ASSIGN_OR_RETURN(p.identity.encryption_key_file, file("encryption_key"));
  ASSIGN_OR_RETURN(p.trust.directory_file, file("directory"));
  ASSIGN_OR_RETURN(p.trust.authority_pub_file, file("authority_pub"));
  ASSIGN_OR_RETURN(p.trust.keys_dir, file("keys_dir"));
  ASSIGN_OR_RETURN(p.trust.node_pub_file, file("node_pub"));
  if (p.trust.directory_file.empty() != p.trust.authority_pub_file.empty()) {
    return errors.Bad(
        p.trust.directory_file.empty() ? "directory" : "authority_pub",
        "give both directory and authority_pub: the directory "
        "is only trusted when its signature is checked");
  }
  return p;
}

}  // namespace trm::client
