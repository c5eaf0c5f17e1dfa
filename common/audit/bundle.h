// The audit bundle (docs/auditors.md): a node's signed tree head, its public
// key and the entries of a trail with their inclusion proofs, as one JSON
// document an auditor verifies offline with `trmctl audit verify`. trmctl
// audit export and trm-agent's auditor page write the same bundle.
//
//   nlohmann::json b = BundleJson(trail, head, node_key_raw);
#ifndef TRM_COMMON_AUDIT_BUNDLE_H_
#define TRM_COMMON_AUDIT_BUNDLE_H_

#include <nlohmann/json.hpp>

#include "absl/strings/string_view.h"
#include "trm/v1/audit.pb.h"

namespace trm::audit {

inline constexpr char kBundleFormat[] = "trm-broker audit bundle v1";

// One entry's event as JSON: leaf_index, kind, time (ISO 8601), node, and
// whichever of message_id, case_ref, sender, recipient, peer_node,
// reason_code, detail and type it has. Metadata only, as the log is.
nlohmann::json EventJson(const v1::Entry& entry);

// The bundle of `trail`, whose head `head` was verified with `node_key`
// (raw Ed25519, 32 bytes).
nlohmann::json BundleJson(const v1::Trail& trail, const v1::TreeHead& head,
                          absl::string_view node_key);

}  // namespace trm::audit

#endif  // TRM_COMMON_AUDIT_BUNDLE_H_
