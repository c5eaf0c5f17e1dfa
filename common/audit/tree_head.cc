#include "common/audit/tree_head.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/crypto/key_files.h"
#include "common/crypto/signature_input.h"
#include "common/merkle/merkle.h"
#include "common/status.h"

namespace trm::audit {
namespace {

absl::Status Invalid(absl::string_view reason, absl::string_view what) {
  return Error(absl::StatusCode::kInvalidArgument, reason, what);
}

absl::StatusOr<std::vector<merkle::MerkleHash>> Hashes(
    const google::protobuf::RepeatedPtrField<std::string>& in) {
  std::vector<merkle::MerkleHash> out;
  for (const std::string& h : in) {
    if (h.size() != 32) {
      return Invalid("AUDIT_PROOF_INVALID", "a proof hash is not 32 bytes");
    }
    merkle::MerkleHash m;
    std::copy(h.begin(), h.end(), m.begin());
    out.push_back(m);
  }
  return out;
}

merkle::MerkleHash RootOf(const v1::TreeHead& head) {
  merkle::MerkleHash r{};
  if (head.root_hash().size() == 32) {
    std::copy(head.root_hash().begin(), head.root_hash().end(), r.begin());
  }
  return r;
}

}  // namespace

std::string TreeHeadSignatureInput(absl::string_view tree_head) {
  return crypto::SignatureInput(kTreeHeadLabel, tree_head);
}

absl::StatusOr<v1::SignedTreeHead> SignTreeHead(
    const v1::TreeHead& head, const crypto::Ed25519PrivateKey& key) {
  v1::SignedTreeHead sth;
  sth.set_tree_head(head.SerializeAsString());
  const crypto::KeyId id = crypto::KeyIdOf(key.public_key());
  sth.set_node_key_id(id.data(), id.size());
  ASSIGN_OR_RETURN(crypto::Ed25519Signature sig,
                   key.Sign(AsBytes(TreeHeadSignatureInput(sth.tree_head()))));
  sth.set_signature(sig.data(), sig.size());
  return sth;
}

absl::StatusOr<v1::TreeHead> ParseTreeHead(const v1::SignedTreeHead& sth) {
  v1::TreeHead head;
  if (!head.ParseFromString(sth.tree_head()) || head.root_hash().size() != 32 ||
      head.node().empty()) {
    return Invalid("TREE_HEAD_INVALID",
                   "the signed tree head does not parse, or has no node or "
                   "no 32-byte root");
  }
  return head;
}

absl::StatusOr<v1::TreeHead> VerifyTreeHead(
    const v1::SignedTreeHead& sth, const crypto::Ed25519PublicKey& key) {
  ASSIGN_OR_RETURN(v1::TreeHead head, ParseTreeHead(sth));
  const crypto::KeyId id = crypto::KeyIdOf(key);
  if (!SameBytes(AsBytes(sth.node_key_id()), id) ||
      !key.Verify(AsBytes(TreeHeadSignatureInput(sth.tree_head())),
                  AsBytes(sth.signature()))) {
    return Invalid(
        "TREE_HEAD_INVALID",
        absl::StrCat("the tree head of node ", head.node(), " (size ",
                     head.tree_size(), ") is not signed by the node's key ",
                     HexEncode(id)));
  }
  return head;
}

absl::Status VerifyEntry(const v1::TreeHead& head, const v1::Entry& entry) {
  ASSIGN_OR_RETURN(std::vector<merkle::MerkleHash> path,
                   Hashes(entry.inclusion_proof()));
  if (!merkle::VerifyInclusion(entry.leaf_index(), head.tree_size(),
                               merkle::LeafHash(AsBytes(entry.event())), path,
                               RootOf(head))) {
    return Invalid(
        "AUDIT_PROOF_INVALID",
        absl::StrCat("audit entry ", entry.leaf_index(), " is not in node ",
                     head.node(), "'s signed tree of ", head.tree_size(),
                     " entries: the entry or its proof was altered"));
  }
  return absl::OkStatus();
}

absl::Status VerifyExtends(const v1::TreeHead& first,
                           const v1::TreeHead& second,
                           const v1::Proof& consistency) {
  ASSIGN_OR_RETURN(std::vector<merkle::MerkleHash> proof,
                   Hashes(consistency.hashes()));
  const bool ok =
      first.tree_size() == 0 ||
      (first.tree_size() <= second.tree_size() &&
       merkle::VerifyConsistency(first.tree_size(), second.tree_size(),
                                 RootOf(first), RootOf(second), proof));
  if (!ok) {
    return Error(absl::StatusCode::kDataLoss, "TREE_HEAD_FORK",
                 absl::StrCat("node ", second.node(), "'s tree head of size ",
                              second.tree_size(), " (root ",
                              HexEncode(AsBytes(second.root_hash())),
                              ") does not extend its earlier head of size ",
                              first.tree_size(), " (root ",
                              HexEncode(AsBytes(first.root_hash())),
                              "): the node rewrote or forked its audit log"));
  }
  return absl::OkStatus();
}

}  // namespace trm::audit
