#include "common/contingency/declaration.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/bytes.h"
#include "common/crypto/key_files.h"
#include "common/crypto/signature_input.h"
#include "common/status.h"
#include "common/time_text.h"

namespace trm::contingency {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return Error(absl::StatusCode::kInvalidArgument, "CONTINGENCY_INVALID",
               absl::StrCat("the contingency's ", field, " ", what));
}

}  // namespace

std::string SignatureInput(absl::string_view contingency) {
  return crypto::SignatureInput(kContingencyLabel, contingency);
}

absl::Status CheckShape(const v1::Contingency& c) {
  if (c.id().size() != 16) return Invalid("id", "must be 16 bytes");
  const bool link = !c.link_a().empty() || !c.link_b().empty();
  if (c.country().empty() == !link) {
    return Invalid("scope",
                   "must be a country (--country NG) or a link between two "
                   "nodes (--link bg,ng), not both");
  }
  if (link &&
      (c.link_a().empty() || c.link_b().empty() || c.link_a() == c.link_b())) {
    return Invalid("link", "must name two different nodes");
  }
  if (c.reason().empty() || c.reason().size() > 500) {
    return Invalid("reason",
                   "must say why, in 1 to 500 bytes (no personal data)");
  }
  if (c.declared_by().empty() || c.node().empty()) {
    return Invalid("declared_by", "and node must be given");
  }
  if (c.start_unix_ms() <= 0) return Invalid("start", "must be given");
  if (c.end_unix_ms() != 0 && c.end_unix_ms() < c.start_unix_ms()) {
    return Invalid("end", absl::StrCat("(", IsoSeconds(c.end_unix_ms()),
                                       ") comes before its start (",
                                       IsoSeconds(c.start_unix_ms()), ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::SignedContingency> SignContingency(
    const v1::Contingency& c, const crypto::Ed25519PrivateKey& key) {
  RETURN_IF_ERROR(CheckShape(c));
  v1::SignedContingency s;
  s.set_contingency(c.SerializeAsString());
  const crypto::KeyId id = crypto::KeyIdOf(key.public_key());
  s.set_key_id(id.data(), id.size());
  ASSIGN_OR_RETURN(crypto::Ed25519Signature sig,
                   key.Sign(AsBytes(SignatureInput(s.contingency()))));
  s.set_signature(sig.data(), sig.size());
  return s;
}

absl::StatusOr<v1::Contingency> VerifyContingency(
    const v1::SignedContingency& s, const directory::Directory& dir) {
  v1::Contingency c;
  if (!c.ParseFromString(s.contingency())) {
    return Invalid("bytes", "do not parse");
  }
  RETURN_IF_ERROR(CheckShape(c));
  const v1::DirectoryOrganisation* o = dir.FindOrganisation(c.declared_by());
  const bool coordinator =
      o != nullptr && std::find(o->roles().begin(), o->roles().end(),
                                v1::NATIONAL_COORDINATOR) != o->roles().end();
  if (!coordinator || o->home_node() != c.node()) {
    return Error(
        absl::StatusCode::kPermissionDenied, "CONTINGENCY_INVALID",
        absl::StrCat("'", c.declared_by(),
                     "' is not a NATIONAL_COORDINATOR organisation of node ",
                     c.node(),
                     " in the directory: only a node's coordinator declares "
                     "a contingency"));
  }
  absl::StatusOr<crypto::Ed25519PublicKey> key = dir.OrganisationSigningKey(
      c.declared_by(), s.key_id(), absl::FromUnixMillis(c.start_unix_ms()));
  if (!key.ok() || !key->Verify(AsBytes(SignatureInput(s.contingency())),
                                AsBytes(s.signature()))) {
    return Error(
        absl::StatusCode::kUnauthenticated, "CONTINGENCY_SIGNATURE_INVALID",
        absl::StrCat(
            "the contingency is not signed by ", c.declared_by(), "'s key ",
            HexEncode(AsBytes(s.key_id())),
            key.ok() ? "" : ": " + std::string(key.status().message())));
  }
  return c;
}

bool Covers(const v1::Contingency& c, const Route& r) {
  if (!c.country().empty()) {
    return c.country() == r.country_a || c.country() == r.country_b;
  }
  return (c.link_a() == r.node_a && c.link_b() == r.node_b) ||
         (c.link_a() == r.node_b && c.link_b() == r.node_a);
}

bool HoldsAt(const v1::Contingency& c, absl::Time at) {
  const int64_t t = absl::ToUnixMillis(at);
  return c.start_unix_ms() <= t &&
         (c.end_unix_ms() == 0 || t < c.end_unix_ms());
}

std::string ScopeText(const v1::Contingency& c) {
  return c.country().empty()
             ? absl::StrCat("link ", c.link_a(), "-", c.link_b())
             : absl::StrCat("country ", c.country());
}

}  // namespace trm::contingency
