// The federation directory (proto/trm/v1/directory.proto): nodes,
// organisations and auditors with their keys, signed by the federation
// authority. docs/protocol.md section 13 gives the byte layout and the rules.
//
//   ASSIGN_OR_RETURN(std::shared_ptr<const Directory> dir,
//                    Directory::Verify(signed_bytes, authority_public_key));
//   ASSIGN_OR_RETURN(crypto::Ed25519PublicKey key,
//                    dir->OrganisationSigningKey("bg-ngo", key_id, created));
//   RETURN_IF_ERROR(CheckSuccessor(*current, *next));  // before replacing
//
// A Directory is immutable once verified; share it with shared_ptr and swap
// the pointer to reload.
#ifndef TRM_COMMON_DIRECTORY_DIRECTORY_H_
#define TRM_COMMON_DIRECTORY_DIRECTORY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/crypto/ed25519.h"
#include "common/crypto/x25519.h"
#include "trm/v1/directory.pb.h"

namespace trm::directory {

inline constexpr absl::string_view kSignatureContext =
    "trm-broker/v1 directory";

// Signs `doc` with the authority's key. Refuses a document that Verify would
// refuse (so a bad one is never published).
absl::StatusOr<v1::SignedDirectory> Sign(
    const v1::Directory& doc, const crypto::Ed25519PrivateKey& authority);

// A directory entry, found by the URI identity of a TLS certificate.
enum class PrincipalKind { kNode, kOrganisation, kAuditor };
struct Principal {
  PrincipalKind kind;
  std::string id;
};
absl::string_view KindName(PrincipalKind kind);

// Where a directory stands at a time, against its valid_until and the
// policy's warning and grace periods.
struct Standing {
  enum State { kNoEnd, kValid, kExpiring, kGrace, kLapsed };
  State state = kNoEnd;
  absl::Time warn_from, valid_until, grace_ends;  // unset with kNoEnd
};
absl::string_view StateName(Standing::State s);  // "valid", "lapsed", ...
inline constexpr absl::Duration kDefaultDirectoryWarn = absl::Hours(24 * 14);
inline constexpr absl::Duration kDefaultDirectoryGrace = absl::Hours(24 * 7);

class Directory {
 public:
  // Parses `signed_bytes` (a serialized SignedDirectory), checks the
  // authority's signature and the document's consistency (unique ids and
  // identities, known home nodes, key ids that match their keys, sane
  // validity). DIRECTORY_MALFORMED, DIRECTORY_SIGNATURE_INVALID or
  // DIRECTORY_INVALID on failure.
  static absl::StatusOr<std::shared_ptr<const Directory>> Verify(
      absl::string_view signed_bytes,
      const crypto::Ed25519PublicKey& authority);

  // A directory the operator gave directly (a node's configuration without
  // a published directory): the same consistency checks, no signature.
  static absl::StatusOr<std::shared_ptr<const Directory>> FromLocal(
      v1::Directory doc);

  const v1::Directory& doc() const { return doc_; }
  uint64_t serial() const { return doc_.serial(); }
  // SHA-256 of the signed document, hex: names this exact version.
  const std::string& digest_hex() const { return digest_hex_; }

  const v1::DirectoryNode* FindNode(const std::string& id) const;
  const v1::DirectoryOrganisation* FindOrganisation(
      const std::string& id) const;
  const v1::DirectoryAuditor* FindAuditor(const std::string& id) const;
  // Whether auditor `id` is listed and its scope covers node `node`.
  bool AuditorCovers(const std::string& id, const std::string& node) const;
  // NOT_FOUND (UNKNOWN_IDENTITY) when no entry has this TLS identity.
  absl::StatusOr<Principal> FindByTlsIdentity(const std::string& uri) const;

  // The organisation's Ed25519 key with `key_id`, if a signature made at
  // `signed_at` may be verified with it: UNKNOWN_ORGANISATION,
  // SENDER_KEY_UNKNOWN, KEY_NOT_YET_VALID, KEY_EXPIRED or KEY_REVOKED
  // otherwise (all UNAUTHENTICATED).
  // `revocation_checked_at`, when later than `signed_at`, also refuses a key
  // revoked by then: the node a message is submitted to uses the time of
  // submission, since a stolen key can claim any creation time.
  absl::StatusOr<crypto::Ed25519PublicKey> OrganisationSigningKey(
      const std::string& org, absl::string_view key_id, absl::Time signed_at,
      absl::Time revocation_checked_at = absl::InfinitePast()) const;
  // The same for a node's signing key (receipts, tree heads).
  absl::StatusOr<crypto::Ed25519PublicKey> NodeSigningKey(
      const std::string& node, absl::string_view key_id,
      absl::Time signed_at) const;
  // The encryption key to seal to at `at`: of the keys valid then, the one
  // valid from the latest time.
  absl::StatusOr<crypto::X25519PublicKey> OrganisationEncryptionKey(
      const std::string& org, absl::Time at) const;
  // OK when `key_id` names an encryption key of `org` valid at `at`;
  // RECIPIENT_KEY_NOT_IN_DIRECTORY (FAILED_PRECONDITION) otherwise, naming
  // the key ids it would accept. Nodes check it on submit and on relay, so
  // that nothing sealed to the wrong key is queued.
  absl::Status CheckRecipientKey(const std::string& org,
                                 absl::string_view key_id, absl::Time at) const;
  // The longest a node keeps a message: its own `node_limit`, or the
  // federation's max_message_lifetime_seconds when that is lower.
  absl::Duration MaxMessageLifetime(absl::Duration node_limit) const;
  // How long an acknowledged payload is kept: `node_limit`, or the policy's
  // max_retention_seconds when that is lower.
  absl::Duration MaxRetention(absl::Duration node_limit) const;
  // Where this directory stands at `now` (see Standing).
  Standing StandingAt(absl::Time now) const;
  // For a node at `now` with this directory lapsed: why it takes no new
  // cases, and what will change that; empty when it does.
  std::string NewCasesRefusal(absl::Time now) const;

 private:
  Directory() = default;
  absl::Status Index();
  // The federation policy's periods hold (docs/protocol.md 13.4).
  absl::Status CheckPolicy() const;
  // The parsed form of signing key `k` of the document.
  crypto::Ed25519PublicKey SigningKey(const v1::DirectoryKey& k) const;
  // FindOrganisation, or UNKNOWN_ORGANISATION (NOT_FOUND).
  absl::StatusOr<const v1::DirectoryOrganisation*> RequireOrganisation(
      const std::string& org) const;

  v1::Directory doc_;
  std::string digest_hex_;
  absl::flat_hash_map<std::string, int> nodes_, orgs_, auditors_;
  absl::flat_hash_map<std::string, Principal> identities_;
  // Every Ed25519 key of the document by its raw bytes, parsed and checked
  // (docs/protocol.md section 7) once, when the directory was loaded: a
  // verification does not pay for the key's subgroup check again.
  absl::flat_hash_map<std::string, crypto::Ed25519PublicKey> signing_keys_;
};

// OK when `next` may replace `current`: the same federation and a higher
// serial (DIRECTORY_STALE otherwise, FAILED_PRECONDITION). The same serial
// with the same bytes is OK (nothing changes); with other bytes it is refused.
absl::Status CheckSuccessor(const Directory& current, const Directory& next);

// What changed from `a` to `b`, one human-readable line per change, in a
// stable order ("+ organisation it-ngo", "~ organisation bg-ngo: ...").
std::vector<std::string> Diff(const v1::Directory& a, const v1::Directory& b);

}  // namespace trm::directory

#endif  // TRM_COMMON_DIRECTORY_DIRECTORY_H_
