#include "common/directory/directory.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/bytes.h"
#include "common/cases/periods.h"
#include "common/crypto/hash.h"
#include "common/crypto/key_files.h"
#include "common/crypto/signature_input.h"
#include "common/status.h"
#include "common/time_text.h"

namespace trm::directory {
namespace {

using absl::StatusCode;

std::string SignatureInput(absl::string_view doc) {
  return crypto::SignatureInput(kSignatureContext, doc);
}

absl::Status Invalid(absl::string_view what) {
  return Error(StatusCode::kInvalidArgument, "DIRECTORY_INVALID",
               absl::StrCat("the directory is inconsistent: ", what,
                            "; fix the document and sign it again"));
}

enum class KeyAlg { kEd25519, kX25519 };

// Checks `keys`; an Ed25519 key, parsed and checked once here, is kept in
// `parsed` by its raw bytes for the verifications to come.
absl::Status CheckKeys(
    const google::protobuf::RepeatedPtrField<v1::DirectoryKey>& keys,
    KeyAlg alg, absl::string_view owner,
    absl::flat_hash_map<std::string, crypto::Ed25519PublicKey>& parsed) {
  absl::flat_hash_map<std::string, bool> seen;
  for (const v1::DirectoryKey& k : keys) {
    if (k.public_key().size() != 32) {
      return Invalid(absl::StrCat(owner, " has a key of ",
                                  k.public_key().size(),
                                  " bytes; keys are 32 raw bytes"));
    }
    crypto::KeyId id;
    if (alg == KeyAlg::kEd25519) {
      auto key = crypto::Ed25519PublicKey::FromRaw(AsBytes(k.public_key()));
      if (!key.ok()) {
        return Invalid(absl::StrCat(owner, " has an unusable Ed25519 key"));
      }
      id = crypto::KeyIdOf(*key);
      parsed.emplace(k.public_key(), *std::move(key));
    } else {
      crypto::X25519PublicKey raw;
      std::copy(k.public_key().begin(), k.public_key().end(), raw.begin());
      id = crypto::X25519KeyIdOf(raw);
    }
    if (!SameBytes(AsBytes(k.key_id()), id)) {
      return Invalid(absl::StrCat(owner, " lists key id ",
                                  HexEncode(AsBytes(k.key_id())),
                                  " for a key whose id is ", HexEncode(id)));
    }
    if (!seen.emplace(k.key_id(), true).second) {
      return Invalid(absl::StrCat(owner, " lists key ",
                                  HexEncode(AsBytes(k.key_id())), " twice"));
    }
    if (k.valid_until_unix_ms() != 0 &&
        k.valid_until_unix_ms() <= k.valid_from_unix_ms()) {
      return Invalid(absl::StrCat(owner, "'s key ",
                                  HexEncode(AsBytes(k.key_id())),
                                  " ends before it begins"));
    }
  }
  return absl::OkStatus();
}

// The key `key_id` among `keys`, if a signature made at `signed_at` may be
// checked with it.
absl::StatusOr<const v1::DirectoryKey*> UsableKey(
    const google::protobuf::RepeatedPtrField<v1::DirectoryKey>& keys,
    absl::string_view owner, absl::string_view key_id, absl::Time signed_at,
    absl::Time revocation_checked_at = absl::InfinitePast()) {
  const int64_t at = absl::ToUnixMillis(signed_at);
  const int64_t revoked_by =
      absl::ToUnixMillis(std::max(signed_at, revocation_checked_at));
  for (const v1::DirectoryKey& k : keys) {
    if (k.key_id() != key_id) continue;
    const std::string name = HexEncode(AsBytes(k.key_id()));
    if (k.revoked_unix_ms() != 0 && revoked_by >= k.revoked_unix_ms()) {
      return Error(
          StatusCode::kUnauthenticated, "KEY_REVOKED",
          absl::StrCat(owner, "'s key ", name, " was revoked at ",
                       IsoSeconds(k.revoked_unix_ms()),
                       k.revocation_reason().empty()
                           ? std::string()
                           : absl::StrCat(" (", k.revocation_reason(), ")"),
                       "; a signature made with it and presented at ",
                       IsoSeconds(revoked_by),
                       " is refused. Sign with a current key"));
    }
    if (at < k.valid_from_unix_ms()) {
      return Error(
          StatusCode::kUnauthenticated, "KEY_NOT_YET_VALID",
          absl::StrCat(owner, "'s key ", name, " is valid from ",
                       IsoSeconds(k.valid_from_unix_ms()),
                       ", after the signature's time ", IsoSeconds(at)));
    }
    if (k.valid_until_unix_ms() != 0 && at >= k.valid_until_unix_ms()) {
      return Error(StatusCode::kUnauthenticated, "KEY_EXPIRED",
                   absl::StrCat(owner, "'s key ", name, " was valid until ",
                                IsoSeconds(k.valid_until_unix_ms()),
                                ", before the signature's time ",
                                IsoSeconds(at), ". Sign with the current key"));
    }
    return &k;
  }
  return Error(StatusCode::kUnauthenticated, "SENDER_KEY_UNKNOWN",
               absl::StrCat("the directory lists no key ",
                            HexEncode(AsBytes(key_id)), " for ", owner,
                            "; sign with a key the directory lists, or ask "
                            "the federation authority to publish yours"));
}

}  // namespace

absl::string_view KindName(PrincipalKind kind) {
  switch (kind) {
    case PrincipalKind::kNode:
      return "node";
    case PrincipalKind::kOrganisation:
      return "organisation";
    case PrincipalKind::kAuditor:
      return "auditor";
  }
  return "?";
}

absl::StatusOr<v1::SignedDirectory> Sign(
    const v1::Directory& doc, const crypto::Ed25519PrivateKey& authority) {
  v1::SignedDirectory signed_doc;
  signed_doc.set_directory(doc.SerializeAsString());
  const crypto::KeyId id = crypto::KeyIdOf(authority.public_key());
  signed_doc.set_authority_key_id(id.data(), id.size());
  ASSIGN_OR_RETURN(
      crypto::Ed25519Signature sig,
      authority.Sign(AsBytes(SignatureInput(signed_doc.directory()))));
  signed_doc.set_signature(sig.data(), sig.size());
  // Publish nothing a node would refuse.
  RETURN_IF_ERROR(
      Directory::Verify(signed_doc.SerializeAsString(), authority.public_key())
          .status());
  return signed_doc;
}

absl::StatusOr<std::shared_ptr<const Directory>> Directory::Verify(
    absl::string_view signed_bytes, const crypto::Ed25519PublicKey& authority) {
  v1::SignedDirectory signed_doc;
  if (!signed_doc.ParseFromArray(signed_bytes.data(),
                                 static_cast<int>(signed_bytes.size()))) {
    return Error(StatusCode::kInvalidArgument, "DIRECTORY_MALFORMED",
                 "the directory file is not a signed directory; give the "
                 "file `trmctl directory sign` wrote");
  }
  const crypto::KeyId expected = crypto::KeyIdOf(authority);
  if (!SameBytes(AsBytes(signed_doc.authority_key_id()), expected)) {
    return Error(StatusCode::kUnauthenticated, "DIRECTORY_SIGNATURE_INVALID",
                 absl::StrCat("the directory was signed by key ",
                              HexEncode(AsBytes(signed_doc.authority_key_id())),
                              " but the federation authority's key is ",
                              HexEncode(expected),
                              "; it is not this federation's directory"));
  }
  if (!authority.Verify(AsBytes(SignatureInput(signed_doc.directory())),
                        AsBytes(signed_doc.signature()))) {
    return Error(StatusCode::kUnauthenticated, "DIRECTORY_SIGNATURE_INVALID",
                 "the directory's signature does not verify with the "
                 "federation authority's key: it was changed after signing. "
                 "Fetch the published directory again");
  }
  std::shared_ptr<Directory> dir(new Directory());
  if (!dir->doc_.ParseFromString(signed_doc.directory())) {
    return Error(StatusCode::kInvalidArgument, "DIRECTORY_MALFORMED",
                 "the signed directory's document does not parse");
  }
  const crypto::Sha256Digest digest = crypto::Sha256({AsBytes(signed_bytes)});
  dir->digest_hex_ = HexEncode(digest);
  RETURN_IF_ERROR(dir->Index());
  return std::shared_ptr<const Directory>(std::move(dir));
}

absl::StatusOr<std::shared_ptr<const Directory>> Directory::FromLocal(
    v1::Directory doc) {
  std::shared_ptr<Directory> dir(new Directory());
  dir->doc_ = std::move(doc);
  const crypto::Sha256Digest digest =
      crypto::Sha256({AsBytes(dir->doc_.SerializeAsString())});
  dir->digest_hex_ = HexEncode(digest);
  RETURN_IF_ERROR(dir->Index());
  return std::shared_ptr<const Directory>(std::move(dir));
}

absl::Status Directory::Index() {
  if (doc_.federation().empty()) return Invalid("it names no federation");
  if (doc_.serial() == 0) return Invalid("its serial is 0; start at 1");
  auto add_identity = [&](const std::string& uri, PrincipalKind kind,
                          const std::string& id) -> absl::Status {
    if (uri.empty()) return absl::OkStatus();
    if (!identities_.emplace(uri, Principal{kind, id}).second) {
      return Invalid(absl::StrCat("TLS identity ", uri, " is given twice"));
    }
    return absl::OkStatus();
  };
  for (int i = 0; i < doc_.nodes_size(); ++i) {
    const v1::DirectoryNode& n = doc_.nodes(i);
    if (n.id().empty()) return Invalid("a node has no id");
    if (!nodes_.emplace(n.id(), i).second) {
      return Invalid(absl::StrCat("node ", n.id(), " is listed twice"));
    }
    RETURN_IF_ERROR(
        add_identity(n.tls_identity(), PrincipalKind::kNode, n.id()));
    RETURN_IF_ERROR(CheckKeys(n.signing_keys(), KeyAlg::kEd25519,
                              absl::StrCat("node ", n.id()), signing_keys_));
  }
  for (int i = 0; i < doc_.organisations_size(); ++i) {
    const v1::DirectoryOrganisation& o = doc_.organisations(i);
    if (o.id().empty()) return Invalid("an organisation has no id");
    if (!orgs_.emplace(o.id(), i).second) {
      return Invalid(absl::StrCat("organisation ", o.id(), " is listed twice"));
    }
    if (!nodes_.contains(o.home_node())) {
      return Invalid(absl::StrCat("organisation ", o.id(), "'s home node '",
                                  o.home_node(), "' is not listed"));
    }
    RETURN_IF_ERROR(
        add_identity(o.tls_identity(), PrincipalKind::kOrganisation, o.id()));
    RETURN_IF_ERROR(CheckKeys(o.signing_keys(), KeyAlg::kEd25519,
                              absl::StrCat("organisation ", o.id()),
                              signing_keys_));
    RETURN_IF_ERROR(CheckKeys(o.encryption_keys(), KeyAlg::kX25519,
                              absl::StrCat("organisation ", o.id()),
                              signing_keys_));
  }
  for (int i = 0; i < doc_.auditors_size(); ++i) {
    const v1::DirectoryAuditor& a = doc_.auditors(i);
    if (a.id().empty()) return Invalid("an auditor has no id");
    if (!auditors_.emplace(a.id(), i).second) {
      return Invalid(absl::StrCat("auditor ", a.id(), " is listed twice"));
    }
    RETURN_IF_ERROR(
        add_identity(a.tls_identity(), PrincipalKind::kAuditor, a.id()));
    for (const std::string& n : a.nodes()) {
      if (!nodes_.contains(n)) {
        return Invalid(absl::StrCat("auditor ", a.id(), " may query node '", n,
                                    "', which is not listed"));
      }
    }
  }
  if (doc_.valid_until_unix_ms() != 0 &&
      doc_.valid_until_unix_ms() <= doc_.issued_unix_ms()) {
    return Invalid("its valid_until is not after its issued time");
  }
  return CheckPolicy();
}

absl::Status Directory::CheckPolicy() const {
  if (!doc_.has_policy()) return absl::OkStatus();
  const v1::FederationPolicy& p = doc_.policy();
  if (p.version() == 0) {
    return Invalid("its policy has version 0; a policy starts at version 1");
  }
  absl::StatusOr<cases::CasePolicies> periods =
      cases::Resolve(p, "policy", "DIRECTORY_INVALID");
  if (!periods.ok()) return Invalid(periods.status().message());
  if (p.statistics_min_cell() != 0 && p.statistics_min_cell() < 3) {
    return Invalid(absl::StrCat("its policy's statistics_min_cell is ",
                                p.statistics_min_cell(),
                                "; below 3 a published count can single out "
                                "a person (docs/security.md)"));
  }
  return absl::OkStatus();
}

crypto::Ed25519PublicKey Directory::SigningKey(
    const v1::DirectoryKey& k) const {
  // Index() parsed and checked every signing key of the document.
  return signing_keys_.at(k.public_key());
}

const v1::DirectoryNode* Directory::FindNode(const std::string& id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : &doc_.nodes(it->second);
}

const v1::DirectoryOrganisation* Directory::FindOrganisation(
    const std::string& id) const {
  auto it = orgs_.find(id);
  return it == orgs_.end() ? nullptr : &doc_.organisations(it->second);
}

const v1::DirectoryAuditor* Directory::FindAuditor(
    const std::string& id) const {
  auto it = auditors_.find(id);
  return it == auditors_.end() ? nullptr : &doc_.auditors(it->second);
}

bool Directory::AuditorCovers(const std::string& id,
                              const std::string& node) const {
  const v1::DirectoryAuditor* a = FindAuditor(id);
  return a != nullptr && (a->scope() == v1::AUDIT_ALL_NODES ||
                          std::find(a->nodes().begin(), a->nodes().end(),
                                    node) != a->nodes().end());
}

absl::StatusOr<Principal> Directory::FindByTlsIdentity(
    const std::string& uri) const {
  auto it = identities_.find(uri);
  if (it == identities_.end()) {
    return Error(StatusCode::kPermissionDenied, "UNKNOWN_IDENTITY",
                 absl::StrCat("no node, organisation or auditor in directory "
                              "serial ",
                              serial(), " has the TLS identity '", uri,
                              "'; the certificate's URI SAN must match a "
                              "directory entry"));
  }
  return it->second;
}

absl::StatusOr<crypto::Ed25519PublicKey> Directory::OrganisationSigningKey(
    const std::string& org, absl::string_view key_id, absl::Time signed_at,
    absl::Time revocation_checked_at) const {
  const v1::DirectoryOrganisation* o = FindOrganisation(org);
  if (o == nullptr) {
    return Error(StatusCode::kUnauthenticated, "UNKNOWN_ORGANISATION",
                 absl::StrCat("organisation '", org,
                              "' is not in the federation directory (serial ",
                              serial(), ")"));
  }
  ASSIGN_OR_RETURN(
      const v1::DirectoryKey* k,
      UsableKey(o->signing_keys(), absl::StrCat("organisation ", org), key_id,
                signed_at, revocation_checked_at));
  return SigningKey(*k);
}

absl::StatusOr<crypto::Ed25519PublicKey> Directory::NodeSigningKey(
    const std::string& node, absl::string_view key_id,
    absl::Time signed_at) const {
  const v1::DirectoryNode* n = FindNode(node);
  if (n == nullptr) {
    return Error(StatusCode::kUnauthenticated, "UNKNOWN_NODE",
                 absl::StrCat("node '", node,
                              "' is not in the federation directory (serial ",
                              serial(), ")"));
  }
  ASSIGN_OR_RETURN(const v1::DirectoryKey* k,
                   UsableKey(n->signing_keys(), absl::StrCat("node ", node),
                             key_id, signed_at));
  return SigningKey(*k);
}

namespace {
bool ValidAt(const v1::DirectoryKey& k, int64_t ms) {
  return k.valid_from_unix_ms() <= ms &&
         (k.valid_until_unix_ms() == 0 || ms < k.valid_until_unix_ms()) &&
         (k.revoked_unix_ms() == 0 || ms < k.revoked_unix_ms());
}
}  // namespace

absl::StatusOr<const v1::DirectoryOrganisation*> Directory::RequireOrganisation(
    const std::string& org) const {
  const v1::DirectoryOrganisation* o = FindOrganisation(org);
  if (o == nullptr) {
    return Error(StatusCode::kNotFound, "UNKNOWN_ORGANISATION",
                 absl::StrCat("organisation '", org,
                              "' is not in the federation directory"));
  }
  return o;
}

absl::Status Directory::CheckRecipientKey(const std::string& org,
                                          absl::string_view key_id,
                                          absl::Time at) const {
  ASSIGN_OR_RETURN(const v1::DirectoryOrganisation* o,
                   RequireOrganisation(org));
  const int64_t ms = absl::ToUnixMillis(at);
  std::vector<std::string> valid;
  for (const v1::DirectoryKey& k : o->encryption_keys()) {
    if (!ValidAt(k, ms)) continue;
    if (k.key_id() == key_id) return absl::OkStatus();
    valid.push_back(HexEncode(AsBytes(k.key_id())));
  }
  return Error(
      StatusCode::kFailedPrecondition, "RECIPIENT_KEY_NOT_IN_DIRECTORY",
      absl::StrCat("the envelope is sealed to key ", HexEncode(AsBytes(key_id)),
                   ", which is not a current encryption key of '", org,
                   "' in directory serial ", serial(), "; it accepts ",
                   valid.empty() ? std::string("no key now")
                                 : absl::StrJoin(valid, ", "),
                   ". Seal it again to the recipient's key from the signed "
                   "directory"));
}

absl::string_view StateName(Standing::State s) {
  switch (s) {
    case Standing::kNoEnd:
      return "no end";
    case Standing::kValid:
      return "valid";
    case Standing::kExpiring:
      return "expiring";
    case Standing::kGrace:
      return "grace";
    case Standing::kLapsed:
      return "lapsed";
  }
  return "unknown";
}

Standing Directory::StandingAt(absl::Time now) const {
  Standing s;
  if (doc_.valid_until_unix_ms() == 0) return s;
  auto period = [](uint64_t seconds, absl::Duration fallback) {
    return seconds == 0 ? fallback
                        : absl::Seconds(static_cast<int64_t>(std::min<uint64_t>(
                              seconds, 100ull * 365 * 86400)));
  };
  s.valid_until = absl::FromUnixMillis(doc_.valid_until_unix_ms());
  s.warn_from = s.valid_until - period(doc_.policy().directory_warn_seconds(),
                                       kDefaultDirectoryWarn);
  s.grace_ends = s.valid_until + period(doc_.policy().directory_grace_seconds(),
                                        kDefaultDirectoryGrace);
  s.state = now >= s.grace_ends    ? Standing::kLapsed
            : now >= s.valid_until ? Standing::kGrace
            : now >= s.warn_from   ? Standing::kExpiring
                                   : Standing::kValid;
  return s;
}

std::string Directory::NewCasesRefusal(absl::Time now) const {
  const Standing s = StandingAt(now);
  if (s.state != Standing::kLapsed) return "";
  return absl::StrCat(
      "the federation directory this node holds (serial ", serial(),
      ") was valid until ", IsoSeconds(s.valid_until),
      " and its grace period ended at ", IsoSeconds(s.grace_ends),
      "; the node takes no new cases until the federation authority "
      "publishes a newer directory. Messages of open cases still go");
}

absl::Duration Directory::MaxRetention(absl::Duration node_limit) const {
  const uint64_t s = doc_.policy().max_retention_seconds();
  if (s == 0) return node_limit;
  return std::min(
      node_limit,
      absl::Seconds(static_cast<int64_t>(std::min<uint64_t>(s, INT64_MAX))));
}

absl::Duration Directory::MaxMessageLifetime(absl::Duration node_limit) const {
  const uint64_t s = doc_.max_message_lifetime_seconds();
  if (s == 0) return node_limit;
  return std::min(
      node_limit,
      absl::Seconds(static_cast<int64_t>(std::min<uint64_t>(s, INT64_MAX))));
}

absl::StatusOr<crypto::X25519PublicKey> Directory::OrganisationEncryptionKey(
    const std::string& org, absl::Time at) const {
  ASSIGN_OR_RETURN(const v1::DirectoryOrganisation* o,
                   RequireOrganisation(org));
  const int64_t ms = absl::ToUnixMillis(at);
  const v1::DirectoryKey* best = nullptr;
  for (const v1::DirectoryKey& k : o->encryption_keys()) {
    if (ValidAt(k, ms) && (best == nullptr || k.valid_from_unix_ms() >
                                                  best->valid_from_unix_ms())) {
      best = &k;
    }
  }
  if (best == nullptr) {
    return Error(StatusCode::kFailedPrecondition, "NO_ENCRYPTION_KEY",
                 absl::StrCat("organisation ", org,
                              " has no encryption key valid now; ask the "
                              "federation authority to publish one"));
  }
  crypto::X25519PublicKey out;
  std::copy(best->public_key().begin(), best->public_key().end(), out.begin());
  return out;
}

absl::Status CheckSuccessor(const Directory& current, const Directory& next) {
  if (next.doc().federation() != current.doc().federation()) {
    return Error(StatusCode::kFailedPrecondition, "DIRECTORY_STALE",
                 absl::StrCat("the new directory is for federation '",
                              next.doc().federation(), "', not '",
                              current.doc().federation(), "'"));
  }
  if (next.serial() == current.serial()) {
    if (next.digest_hex() == current.digest_hex()) return absl::OkStatus();
    return Error(StatusCode::kFailedPrecondition, "DIRECTORY_STALE",
                 absl::StrCat("the new directory has serial ", next.serial(),
                              ", the same as the loaded one, but other "
                              "content; every change needs a higher serial"));
  }
  const v1::FederationPolicy& was = current.doc().policy();
  const v1::FederationPolicy& is = next.doc().policy();
  if (is.version() < was.version() ||
      (is.version() == was.version() &&
       is.SerializeAsString() != was.SerializeAsString())) {
    return Error(
        StatusCode::kFailedPrecondition, "DIRECTORY_STALE",
        absl::StrCat("the new directory's policy has version ", is.version(),
                     " against the loaded version ", was.version(),
                     is.version() < was.version()
                         ? "; a policy is never rolled back"
                         : " but other content; every change of the policy "
                           "needs a higher policy version",
                     " (deadline records name the version that set them)"));
  }
  if (next.serial() < current.serial()) {
    return Error(
        StatusCode::kFailedPrecondition, "DIRECTORY_STALE",
        absl::StrCat("the new directory has serial ", next.serial(),
                     ", older than the loaded serial ", current.serial(),
                     "; a directory is never rolled back"));
  }
  return absl::OkStatus();
}

namespace {

std::string KeyLine(const v1::DirectoryKey& k) {
  std::string s = HexEncode(AsBytes(k.key_id()));
  absl::StrAppend(&s, " from ", IsoSeconds(k.valid_from_unix_ms()));
  if (k.valid_until_unix_ms() != 0) {
    absl::StrAppend(&s, " until ", IsoSeconds(k.valid_until_unix_ms()));
  }
  if (k.revoked_unix_ms() != 0) {
    absl::StrAppend(&s, " revoked ", IsoSeconds(k.revoked_unix_ms()));
  }
  return s;
}

void DiffKeys(const std::string& owner, absl::string_view what,
              const google::protobuf::RepeatedPtrField<v1::DirectoryKey>& a,
              const google::protobuf::RepeatedPtrField<v1::DirectoryKey>& b,
              std::vector<std::string>& out) {
  std::map<std::string, const v1::DirectoryKey*> ka, kb;
  for (const auto& k : a) ka[k.key_id()] = &k;
  for (const auto& k : b) kb[k.key_id()] = &k;
  for (const auto& [id, k] : ka) {
    if (!kb.contains(id)) {
      out.push_back(absl::StrCat("~ ", owner, ": - ", what, " ", KeyLine(*k)));
    } else if (kb[id]->SerializeAsString() != k->SerializeAsString()) {
      out.push_back(absl::StrCat("~ ", owner, ": ", what, " ", KeyLine(*k),
                                 " -> ", KeyLine(*kb[id])));
    }
  }
  for (const auto& [id, k] : kb) {
    if (!ka.contains(id)) {
      out.push_back(absl::StrCat("~ ", owner, ": + ", what, " ", KeyLine(*k)));
    }
  }
}

template <typename T, typename F>
void DiffEntries(absl::string_view kind,
                 const google::protobuf::RepeatedPtrField<T>& a,
                 const google::protobuf::RepeatedPtrField<T>& b, F&& fields,
                 std::vector<std::string>& out) {
  std::map<std::string, const T*> ea, eb;
  for (const T& e : a) ea[e.id()] = &e;
  for (const T& e : b) eb[e.id()] = &e;
  for (const auto& [id, e] : ea) {
    if (!eb.contains(id)) out.push_back(absl::StrCat("- ", kind, " ", id));
  }
  for (const auto& [id, e] : eb) {
    auto it = ea.find(id);
    if (it == ea.end()) {
      out.push_back(absl::StrCat("+ ", kind, " ", id));
      continue;
    }
    fields(absl::StrCat(kind, " ", id), *it->second, *e, out);
  }
}

void Field(const std::string& owner, absl::string_view name,
           const std::string& a, const std::string& b,
           std::vector<std::string>& out) {
  if (a != b) {
    out.push_back(
        absl::StrCat("~ ", owner, ": ", name, " '", a, "' -> '", b, "'"));
  }
}

}  // namespace

std::vector<std::string> Diff(const v1::Directory& a, const v1::Directory& b) {
  std::vector<std::string> out;
  if (a.serial() != b.serial()) {
    out.push_back(absl::StrCat("~ serial ", a.serial(), " -> ", b.serial()));
  }
  Field("directory", "federation", a.federation(), b.federation(), out);
  if (a.valid_until_unix_ms() != b.valid_until_unix_ms()) {
    auto when = [](int64_t ms) {
      return ms == 0 ? std::string("(no end)") : IsoSeconds(ms);
    };
    out.push_back(absl::StrCat("~ valid_until ", when(a.valid_until_unix_ms()),
                               " -> ", when(b.valid_until_unix_ms())));
  }
  if (a.max_message_lifetime_seconds() != b.max_message_lifetime_seconds()) {
    out.push_back(absl::StrCat("~ policy max_message_lifetime_seconds: ",
                               a.max_message_lifetime_seconds(), " -> ",
                               b.max_message_lifetime_seconds()));
  }
  DiffEntries(
      "node", a.nodes(), b.nodes(),
      [](const std::string& owner, const v1::DirectoryNode& x,
         const v1::DirectoryNode& y, std::vector<std::string>& o) {
        Field(owner, "country", x.country(), y.country(), o);
        Field(owner, "endpoint", x.endpoint(), y.endpoint(), o);
        Field(owner, "tls_identity", x.tls_identity(), y.tls_identity(), o);
        DiffKeys(owner, "signing key", x.signing_keys(), y.signing_keys(), o);
      },
      out);
  DiffEntries(
      "organisation", a.organisations(), b.organisations(),
      [](const std::string& owner, const v1::DirectoryOrganisation& x,
         const v1::DirectoryOrganisation& y, std::vector<std::string>& o) {
        Field(owner, "home_node", x.home_node(), y.home_node(), o);
        Field(owner, "tls_identity", x.tls_identity(), y.tls_identity(), o);
        Field(owner, "display_name", x.display_name(), y.display_name(), o);
        auto roles = [](const v1::DirectoryOrganisation& e) {
          std::vector<std::string> r;
          for (int role : e.roles()) {
            r.push_back(v1::Role_Name(static_cast<v1::Role>(role)));
          }
          return absl::StrJoin(r, ",");
        };
        Field(owner, "roles", roles(x), roles(y), o);
        DiffKeys(owner, "signing key", x.signing_keys(), y.signing_keys(), o);
        DiffKeys(owner, "encryption key", x.encryption_keys(),
                 y.encryption_keys(), o);
      },
      out);
  DiffEntries(
      "auditor", a.auditors(), b.auditors(),
      [](const std::string& owner, const v1::DirectoryAuditor& x,
         const v1::DirectoryAuditor& y, std::vector<std::string>& o) {
        Field(owner, "tls_identity", x.tls_identity(), y.tls_identity(), o);
        Field(owner, "scope", v1::AuditScope_Name(x.scope()),
              v1::AuditScope_Name(y.scope()), o);
        Field(owner, "nodes", absl::StrJoin(x.nodes(), ","),
              absl::StrJoin(y.nodes(), ","), o);
      },
      out);
  for (std::string& line : cases::DiffPolicy(a.policy(), b.policy())) {
    out.push_back(std::move(line));
  }
  return out;
}

}  // namespace trm::directory
