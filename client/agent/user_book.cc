#include "client/agent/user_book.h"

#include <sodium.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/bytes.h"
#include "common/crypto/hash.h"
#include "common/json/strict_json.h"
#include "common/output_file.h"
#include "common/status.h"

namespace trm::agent {
namespace {

absl::Status Unauthenticated(absl::string_view what) {
  return Error(absl::StatusCode::kUnauthenticated, "AGENT_UNAUTHENTICATED",
               absl::StrCat(what,
                            "; sign in again, or ask the agent's operator for "
                            "a token (trm-agent user add)"));
}

absl::Status EnsureSodium() {
  if (sodium_init() < 0) {
    return Error(absl::StatusCode::kInternal, "AGENT_USERS_INVALID",
                 "libsodium could not be initialised");
  }
  return absl::OkStatus();
}

nlohmann::json ToJson(const std::vector<UserBook::Entry>& entries) {
  nlohmann::json users = nlohmann::json::array();
  for (const auto& e : entries) {
    nlohmann::json u = {{"name", e.user.name},
                        {"role", std::string(RoleName(e.user.role))},
                        {"tokens_sha256", e.token_sha256}};
    if (!e.password_hash.empty()) u["password_argon2id"] = e.password_hash;
    users.push_back(std::move(u));
  }
  return {{"users", users}};
}

}  // namespace

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kCaseworker:
      return "caseworker";
    case Role::kCoordinator:
      return "coordinator";
    case Role::kAuditor:
      return "auditor";
  }
  return "caseworker";
}

std::optional<Role> RoleFromName(absl::string_view name) {
  for (Role r : {Role::kCaseworker, Role::kCoordinator, Role::kAuditor}) {
    if (RoleName(r) == name) return r;
  }
  return std::nullopt;
}

absl::Status Require(const User& user, std::initializer_list<Role> roles,
                     absl::string_view what) {
  for (Role r : roles) {
    if (user.role == r) return absl::OkStatus();
  }
  std::vector<std::string> names;
  for (Role r : roles) names.emplace_back(RoleName(r));
  return Error(
      absl::StatusCode::kPermissionDenied, "AGENT_ROLE_REQUIRED",
      absl::StrCat(what, " needs the role ", absl::StrJoin(names, " or "), "; ",
                   user.name, " is ", RoleName(user.role)));
}

absl::StatusOr<std::string> HashPassword(absl::string_view password) {
  RETURN_IF_ERROR(EnsureSodium());
  if (password.size() < 10) {
    return Error(absl::StatusCode::kInvalidArgument, "AGENT_USERS_INVALID",
                 "a password needs at least 10 characters");
  }
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(),
                        crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return Error(absl::StatusCode::kResourceExhausted, "AGENT_USERS_INVALID",
                 "Argon2id ran out of memory hashing the password");
  }
  return std::string(out);
}

std::string NewToken() {
  uint8_t raw[32];
  randombytes_buf(raw, sizeof(raw));
  std::string token = absl::StrCat("trm_", HexEncode(ByteView(raw)));
  sodium_memzero(raw, sizeof(raw));
  return token;
}

std::string TokenHash(absl::string_view token) {
  return HexEncode(crypto::Sha256({AsBytes(token)}));
}

UserBook UserBook::FromEntries(std::vector<Entry> entries) {
  return UserBook(std::move(entries));
}

absl::StatusOr<UserBook> UserBook::Load(const std::string& path) {
  RETURN_IF_ERROR(EnsureSodium());
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return Error(absl::StatusCode::kNotFound, "FILE_IO",
                 absl::StrCat("cannot read the users file ", path, ": ",
                              std::strerror(errno),
                              "; make it with `trm-agent user add`"));
  }
  if ((st.st_mode & 077) != 0) {
    return Error(absl::StatusCode::kFailedPrecondition, "KEY_FILE_PERMISSIONS",
                 absl::StrFormat("the users file %s has mode %04o; run "
                                 "`chmod 600 %s`",
                                 path, st.st_mode & 07777, path));
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  const jsonio::JsonErrors errors{"AGENT_USERS_INVALID", path,
                                  "; see docs/integration.md"};
  ASSIGN_OR_RETURN(nlohmann::json j,
                   jsonio::ParseStrictJson(text.str(), errors));
  jsonio::JsonReader top(j, "", errors);
  RETURN_IF_ERROR(top.Keys({"users"}));
  ASSIGN_OR_RETURN(std::vector<jsonio::JsonReader> list, top.List("users"));
  std::vector<Entry> entries;
  for (const jsonio::JsonReader& u : list) {
    RETURN_IF_ERROR(
        u.Keys({"name", "role", "password_argon2id", "tokens_sha256"}));
    Entry e;
    ASSIGN_OR_RETURN(e.user.name, u.Str("name", true));
    ASSIGN_OR_RETURN(std::string role, u.Str("role", true));
    std::optional<Role> r = RoleFromName(role);
    if (!r.has_value()) {
      return errors.Bad(u.Path("role"),
                        "is not caseworker, coordinator or auditor");
    }
    e.user.role = *r;
    ASSIGN_OR_RETURN(e.password_hash, u.Str("password_argon2id", false));
    if (u.Has("tokens_sha256")) {
      const nlohmann::json& t = u.value()["tokens_sha256"];
      if (!t.is_array()) {
        return errors.Bad(u.Path("tokens_sha256"), "must be a list");
      }
      for (const auto& h : t) {
        if (!h.is_string() || h.get<std::string>().size() != 64) {
          return errors.Bad(u.Path("tokens_sha256"),
                            "must hold 64-digit hex SHA-256 hashes");
        }
        e.token_sha256.push_back(h.get<std::string>());
      }
    }
    for (const Entry& other : entries) {
      if (other.user.name == e.user.name) {
        return errors.Bad(u.Path("name"), "names a user twice");
      }
    }
    entries.push_back(std::move(e));
  }
  return UserBook(std::move(entries));
}

absl::StatusOr<User> UserBook::ByToken(absl::string_view token) const {
  if (token.empty()) {
    return Unauthenticated(
        "no credential: send the header `Authorization: Bearer TOKEN`");
  }
  const std::string hash = TokenHash(token);
  for (const Entry& e : entries_) {
    for (const std::string& h : e.token_sha256) {
      if (h.size() == hash.size() &&
          sodium_memcmp(h.data(), hash.data(), hash.size()) == 0) {
        return e.user;
      }
    }
  }
  return Unauthenticated("the token is not one this agent issued");
}

absl::StatusOr<User> UserBook::ByPassword(absl::string_view name,
                                          absl::string_view password) const {
  RETURN_IF_ERROR(EnsureSodium());
  for (const Entry& e : entries_) {
    if (e.user.name != name || e.password_hash.empty()) continue;
    if (crypto_pwhash_str_verify(e.password_hash.c_str(), password.data(),
                                 password.size()) == 0) {
      return e.user;
    }
    break;
  }
  return Unauthenticated("the user name or the password is wrong");
}

absl::StatusOr<std::string> UserBook::AddUser(const std::string& path,
                                              absl::string_view name, Role role,
                                              absl::string_view password) {
  if (name.empty() || name.size() > 64) {
    return Error(absl::StatusCode::kInvalidArgument, "AGENT_USERS_INVALID",
                 "a user name needs 1 to 64 characters");
  }
  std::vector<Entry> entries;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    ASSIGN_OR_RETURN(UserBook old, Load(path));
    entries = old.entries_;
  }
  Entry* e = nullptr;
  for (Entry& x : entries) {
    if (x.user.name == name) e = &x;
  }
  if (e == nullptr) {
    entries.push_back(Entry{User{std::string(name), role}, "", {}});
    e = &entries.back();
  }
  e->user.role = role;
  if (!password.empty()) {
    ASSIGN_OR_RETURN(e->password_hash, HashPassword(password));
  }
  std::string token = NewToken();
  e->token_sha256.push_back(TokenHash(token));
  const std::string text = ToJson(entries).dump(2) + "\n";
  RETURN_IF_ERROR(WriteOutputFile(path, AsBytes(text), 0600));
  return token;
}

}  // namespace trm::agent
