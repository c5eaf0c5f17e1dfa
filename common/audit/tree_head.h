// Signed tree heads of a node's audit log (docs/protocol.md section 16), and
// the checks an auditor makes without trusting the node: the head's
// signature, an entry's inclusion proof, a consistency proof between heads.
//
//   ASSIGN_OR_RETURN(v1::SignedTreeHead sth, SignTreeHead(head, node_key));
//   ASSIGN_OR_RETURN(v1::TreeHead head, VerifyTreeHead(sth, node_public_key));
//   RETURN_IF_ERROR(VerifyEntry(head, entry));
#ifndef TRM_COMMON_AUDIT_TREE_HEAD_H_
#define TRM_COMMON_AUDIT_TREE_HEAD_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/crypto/ed25519.h"
#include "trm/v1/audit.pb.h"

namespace trm::audit {

inline constexpr absl::string_view kTreeHeadLabel = "trm-broker/v1 tree-head";

// kTreeHeadLabel || 0x00 || tree_head.
std::string TreeHeadSignatureInput(absl::string_view tree_head);

absl::StatusOr<v1::SignedTreeHead> SignTreeHead(
    const v1::TreeHead& head, const crypto::Ed25519PrivateKey& key);

// The head, once its key id and signature check with `key`;
// TREE_HEAD_INVALID otherwise.
absl::StatusOr<v1::TreeHead> VerifyTreeHead(
    const v1::SignedTreeHead& sth, const crypto::Ed25519PublicKey& key);

// The head's fields without checking the signature (to find the key).
absl::StatusOr<v1::TreeHead> ParseTreeHead(const v1::SignedTreeHead& sth);

// The entry (its event bytes, leaf index and inclusion proof) is in the tree
// the head describes; AUDIT_PROOF_INVALID naming the index otherwise.
absl::Status VerifyEntry(const v1::TreeHead& head, const v1::Entry& entry);

// The tree `second` extends the tree `first` (same node); otherwise
// TREE_HEAD_FORK. Equal sizes need equal roots.
absl::Status VerifyExtends(const v1::TreeHead& first,
                           const v1::TreeHead& second,
                           const v1::Proof& consistency);

}  // namespace trm::audit

#endif  // TRM_COMMON_AUDIT_TREE_HEAD_H_
