#include "server/audit/audit_api.h"

#include "absl/strings/str_cat.h"
#include "common/audit/tree_head.h"
#include "common/status.h"

namespace trm::audit {

using absl::StatusCode;

TreeHeadSigner::TreeHeadSigner(storage::AuditLog& log,
                               const crypto::Ed25519PrivateKey& key,
                               std::string node_id, const Clock& clock)
    : log_(log), key_(key), node_id_(std::move(node_id)), clock_(clock) {}

absl::Status TreeHeadSigner::Init() {
  ASSIGN_OR_RETURN(std::optional<v1::SignedTreeHead> sth,
                   log_.LatestTreeHead());
  absl::MutexLock lock(&mu_);
  if (sth.has_value()) {
    ASSIGN_OR_RETURN(v1::TreeHead head, ParseTreeHead(*sth));
    latest_ = std::move(sth);
    latest_size_ = head.tree_size();
  }
  return absl::OkStatus();
}

absl::Status TreeHeadSigner::SignLocked() {
  const storage::AuditTree now = log_.Current();
  v1::TreeHead head;
  head.set_node(node_id_);
  head.set_tree_size(now.size);
  head.set_root_hash(now.root.data(), now.root.size());
  head.set_timestamp_unix_ms(absl::ToUnixMillis(clock_.Now()));
  ASSIGN_OR_RETURN(v1::SignedTreeHead sth, SignTreeHead(head, key_));
  RETURN_IF_ERROR(log_.StoreTreeHead(sth));
  latest_ = std::move(sth);
  latest_size_ = now.size;
  return absl::OkStatus();
}

absl::StatusOr<v1::SignedTreeHead> TreeHeadSigner::Latest(bool fresh) {
  absl::MutexLock lock(&mu_);
  if (!latest_.has_value() || (fresh && log_.Current().size != latest_size_)) {
    RETURN_IF_ERROR(SignLocked());
  }
  return *latest_;
}

absl::Status TreeHeadSigner::Tick() {
  absl::MutexLock lock(&mu_);
  if (latest_.has_value() && log_.Current().size == latest_size_) {
    return absl::OkStatus();
  }
  return SignLocked();
}

namespace {

v1::Proof ToProof(const std::vector<merkle::MerkleHash>& hashes) {
  v1::Proof out;
  for (const merkle::MerkleHash& h : hashes) out.add_hashes(h.data(), h.size());
  return out;
}

}  // namespace

absl::Status AuditApi::CheckAuditor(const directory::Principal& who) const {
  std::shared_ptr<const directory::Directory> dir = registry_.directory();
  if (who.kind == directory::PrincipalKind::kAuditor) {
    if (dir->AuditorCovers(who.id, registry_.node_id())) {
      return absl::OkStatus();
    }
    return Error(StatusCode::kPermissionDenied, "OUT_OF_SCOPE",
                 absl::StrCat("auditor '", who.id, "' may not audit node ",
                              registry_.node_id(),
                              " (its scope in the directory, serial ",
                              dir->serial(), ", does not list it)"));
  }
  return Error(StatusCode::kPermissionDenied, "NOT_AUDITOR",
               absl::StrCat(directory::KindName(who.kind), " '", who.id,
                            "' is not an auditor: only auditors read the "
                            "whole log; an organisation may query the trail "
                            "of its own messages"));
}

absl::Status AuditApi::CheckKnown(const directory::Principal& who) const {
  if (who.kind == directory::PrincipalKind::kAuditor) return CheckAuditor(who);
  if (who.kind == directory::PrincipalKind::kNode) return absl::OkStatus();
  std::shared_ptr<const directory::Directory> dir = registry_.directory();
  const v1::DirectoryOrganisation* org = dir->FindOrganisation(who.id);
  if (org == nullptr || org->home_node() != registry_.node_id()) {
    return Error(
        StatusCode::kPermissionDenied, "UNKNOWN_ORGANISATION",
        absl::StrCat("organisation '", who.id,
                     "' is not an organisation of node ", registry_.node_id()));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::SignedTreeHead> AuditApi::GetTreeHead(
    const directory::Principal& who, bool fresh) {
  RETURN_IF_ERROR(CheckKnown(who));
  return signer_.Latest(fresh);
}

absl::StatusOr<v1::Proof> AuditApi::GetInclusionProof(
    const directory::Principal& who, const v1::InclusionProofRequest& req) {
  RETURN_IF_ERROR(CheckKnown(who));
  ASSIGN_OR_RETURN(std::vector<merkle::MerkleHash> path,
                   log_.InclusionProof(req.leaf_index(), req.tree_size()));
  return ToProof(path);
}

absl::StatusOr<v1::Proof> AuditApi::GetConsistencyProof(
    const directory::Principal& who, const v1::ConsistencyProofRequest& req) {
  RETURN_IF_ERROR(CheckKnown(who));
  ASSIGN_OR_RETURN(std::vector<merkle::MerkleHash> proof,
                   log_.ConsistencyProof(req.first(), req.second()));
  return ToProof(proof);
}

absl::StatusOr<std::pair<v1::SignedTreeHead, v1::TreeHead>>
AuditApi::CurrentHead() {
  ASSIGN_OR_RETURN(v1::SignedTreeHead sth, signer_.Latest(true));
  ASSIGN_OR_RETURN(v1::TreeHead head, ParseTreeHead(sth));
  return std::pair(std::move(sth), std::move(head));
}

absl::Status AuditApi::AddProof(const v1::TreeHead& head,
                                v1::Entry& entry) const {
  ASSIGN_OR_RETURN(std::vector<merkle::MerkleHash> path,
                   log_.InclusionProof(entry.leaf_index(), head.tree_size()));
  for (const merkle::MerkleHash& h : path) {
    entry.add_inclusion_proof(h.data(), h.size());
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Entries> AuditApi::GetEntries(
    const directory::Principal& who, const v1::GetEntriesRequest& req) {
  RETURN_IF_ERROR(CheckAuditor(who));
  if (req.end() <= req.start() || req.end() - req.start() > 1000) {
    return Error(StatusCode::kInvalidArgument, "RANGE_INVALID",
                 "give start < end, at most 1000 entries at a time");
  }
  ASSIGN_OR_RETURN(auto head, CurrentHead());
  const uint64_t end = std::min<uint64_t>(req.end(), head.second.tree_size());
  v1::Entries out;
  if (req.start() >= end) return out;
  ASSIGN_OR_RETURN(std::vector<storage::AuditEntry> entries,
                   log_.Entries(req.start(), end));
  for (storage::AuditEntry& e : entries) {
    v1::Entry* entry = out.add_entries();
    entry->set_leaf_index(e.index);
    entry->set_event(std::move(e.event));
    RETURN_IF_ERROR(AddProof(head.second, *entry));
  }
  return out;
}

absl::StatusOr<v1::Trail> AuditApi::QueryTrail(const directory::Principal& who,
                                               v1::TrailQuery query) {
  RETURN_IF_ERROR(CheckKnown(who));
  if (who.kind == directory::PrincipalKind::kNode) {
    return Error(StatusCode::kPermissionDenied, "NOT_AUDITOR",
                 "nodes read tree heads and proofs, not trails");
  }
  if (who.kind == directory::PrincipalKind::kOrganisation) {
    if (!query.organisation().empty() && query.organisation() != who.id) {
      return Error(StatusCode::kPermissionDenied, "NOT_YOUR_TRAIL",
                   absl::StrCat("organisation '", who.id,
                                "' may query only the trail of its own "
                                "messages, not '",
                                query.organisation(), "''s"));
    }
    query.set_organisation(who.id);
  }
  ASSIGN_OR_RETURN(auto head, CurrentHead());
  ASSIGN_OR_RETURN(storage::AuditPage page,
                   log_.Query(query, head.second.tree_size()));
  v1::Trail out;
  *out.mutable_tree_head() = std::move(head.first);
  for (storage::AuditEntry& e : page.entries) {
    v1::Entry* entry = out.add_entries();
    entry->set_leaf_index(e.index);
    entry->set_event(std::move(e.event));
    RETURN_IF_ERROR(AddProof(head.second, *entry));
  }
  out.set_more(page.more);
  out.set_next_page_token(page.next);
  return out;
}

}  // namespace trm::audit
