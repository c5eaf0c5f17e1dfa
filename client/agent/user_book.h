// Who may use a trm-agent: its named users and their roles, from the users
// file (JSON, mode 0600, written by `trm-agent user add`). A user signs in
// with an API token (integrations: a long random token, kept only as its
// SHA-256) or with a password (people, for the console: kept only as an
// Argon2id hash, libsodium's crypto_pwhash_str).
//
//   ASSIGN_OR_RETURN(UserBook book, UserBook::Load(path));
//   ASSIGN_OR_RETURN(User u, book.ByToken(bearer));
//   RETURN_IF_ERROR(Require(u, {Role::kCaseworker}, "reading a message"));
//
// Immutable once loaded; safe to share between threads.
#ifndef TRM_CLIENT_AGENT_USER_BOOK_H_
#define TRM_CLIENT_AGENT_USER_BOOK_H_

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trm::agent {

enum class Role {
  // The organisation's own messages and cases, payloads included.
  kCaseworker,
  // A caseworker's view, and the node's view too when the organisation is
  // its country's national coordinator.
  kCoordinator,
  // Trails and evidence in the organisation's scope; never a payload.
  kAuditor,
};
absl::string_view RoleName(Role role);
std::optional<Role> RoleFromName(absl::string_view name);

struct User {
  std::string name;
  Role role = Role::kCaseworker;
};

// OK when `user` holds one of `roles`; otherwise PERMISSION_DENIED
// AGENT_ROLE_REQUIRED naming what was asked and the roles that may.
absl::Status Require(const User& user, std::initializer_list<Role> roles,
                     absl::string_view what);

class UserBook {
 public:
  struct Entry {
    User user;
    std::string password_hash;              // Argon2id string, or ""
    std::vector<std::string> token_sha256;  // hex
  };

  // AGENT_USERS_INVALID naming the entry that is wrong; FILE_IO when the
  // file cannot be read; KEY_FILE_PERMISSIONS when others may read it.
  static absl::StatusOr<UserBook> Load(const std::string& path);
  static UserBook FromEntries(std::vector<Entry> entries);

  // AGENT_UNAUTHENTICATED when no user holds `token`.
  absl::StatusOr<User> ByToken(absl::string_view token) const;
  // AGENT_UNAUTHENTICATED when the name or the password is wrong (which,
  // is not said).
  absl::StatusOr<User> ByPassword(absl::string_view name,
                                  absl::string_view password) const;

  const std::vector<Entry>& entries() const { return entries_; }

  // Adds `name` with `role` (or replaces its role) in the users file at
  // `path`, creating it 0600. A new API token is made and returned (it is
  // shown once; only its hash is kept); a non-empty `password` is set too.
  static absl::StatusOr<std::string> AddUser(const std::string& path,
                                             absl::string_view name, Role role,
                                             absl::string_view password);

 private:
  explicit UserBook(std::vector<Entry> entries)
      : entries_(std::move(entries)) {}
  std::vector<Entry> entries_;
};

// An Argon2id hash of `password` (libsodium's interactive limits); a
// random "trm_..." API token; a token's SHA-256 in hex.
absl::StatusOr<std::string> HashPassword(absl::string_view password);
std::string NewToken();
std::string TokenHash(absl::string_view token);

}  // namespace trm::agent

#endif  // TRM_CLIENT_AGENT_USER_BOOK_H_
