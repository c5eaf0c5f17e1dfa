// A contingency declared by a national coordinator (docs/workflow.md,
// "Contingency"; docs/protocol.md section 13.6): for a country, or for the
// link between two nodes, from its start until its end. It is signed with
// the coordinator organisation's key and checked by every node against the
// signed directory, so no node and no other organisation can declare one.
//
//   ASSIGN_OR_RETURN(v1::SignedContingency s, SignContingency(c, key));
//   ASSIGN_OR_RETURN(v1::Contingency c, VerifyContingency(s, dir));
//   if (HoldsFor(c, route, now)) ...
#ifndef TRM_COMMON_CONTINGENCY_DECLARATION_H_
#define TRM_COMMON_CONTINGENCY_DECLARATION_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/crypto/ed25519.h"
#include "common/directory/directory.h"
#include "trm/v1/case.pb.h"

namespace trm::contingency {

inline constexpr absl::string_view kContingencyLabel =
    "trm-broker/v1 contingency";

// kContingencyLabel || 0x00 || contingency.
std::string SignatureInput(absl::string_view contingency);

// The checks every node makes (CONTINGENCY_INVALID naming the field):
// a 16-byte id; a country, or a link between two different nodes, not
// both; a reason of 1 to 500 bytes; a start; an end, when given, not
// before the start.
absl::Status CheckShape(const v1::Contingency& c);

absl::StatusOr<v1::SignedContingency> SignContingency(
    const v1::Contingency& c, const crypto::Ed25519PrivateKey& key);

// The declaration, once its shape is right, its declared_by is a
// NATIONAL_COORDINATOR organisation of its `node` in `dir`, and the
// signature checks with that organisation's key (CONTINGENCY_INVALID,
// CONTINGENCY_SIGNATURE_INVALID).
absl::StatusOr<v1::Contingency> VerifyContingency(
    const v1::SignedContingency& s, const directory::Directory& dir);

// What a route between two nodes (each with its country) is.
struct Route {
  std::string node_a, country_a, node_b, country_b;
};
// Whether `c` concerns `route` (either end's country, or its link either
// way) and holds at `at` (start <= at, and no end or at < end).
bool Covers(const v1::Contingency& c, const Route& route);
bool HoldsAt(const v1::Contingency& c, absl::Time at);

// "country NG" or "link bg-ng", for messages.
std::string ScopeText(const v1::Contingency& c);

}  // namespace trm::contingency

#endif  // TRM_COMMON_CONTINGENCY_DECLARATION_H_
