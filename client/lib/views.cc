// The node's views beyond the mailbox: cases, deadlines and the audit log,
// with the audit log's proofs checked.
#include "absl/strings/str_cat.h"
#include "client/lib/internal.h"
#include "common/audit/tree_head.h"
#include "common/crypto/key_files.h"
#include "common/rpc_status.h"
#include "common/status.h"
#include "trm/client/client.h"
#include "trm/v1/admin.grpc.pb.h"
#include "trm/v1/audit.grpc.pb.h"
#include "trm/v1/case.grpc.pb.h"

namespace trm::client {

absl::StatusOr<std::string> TrustedNodeKey(const Trust& trust,
                                           const v1::SignedTreeHead& sth) {
  if (!trust.node_pub_file.empty()) {
    ASSIGN_OR_RETURN(crypto::Ed25519PublicKey k,
                     crypto::LoadVerifyKey(trust.node_pub_file));
    return std::string(k.raw().begin(), k.raw().end());
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const directory::Directory> dir,
                   internal::LoadDirectory(trust));
  if (dir == nullptr) return std::string();
  ASSIGN_OR_RETURN(v1::TreeHead head, audit::ParseTreeHead(sth));
  ASSIGN_OR_RETURN(
      crypto::Ed25519PublicKey k,
      dir->NodeSigningKey(head.node(), sth.node_key_id(),
                          absl::FromUnixMillis(head.timestamp_unix_ms())));
  return std::string(k.raw().begin(), k.raw().end());
}

absl::StatusOr<v1::TreeHead> VerifyTrail(const v1::Trail& trail,
                                         absl::string_view node_key) {
  ASSIGN_OR_RETURN(crypto::Ed25519PublicKey key,
                   crypto::Ed25519PublicKey::FromRaw(AsBytes(node_key)));
  ASSIGN_OR_RETURN(v1::TreeHead head,
                   audit::VerifyTreeHead(trail.tree_head(), key));
  for (const v1::Entry& e : trail.entries()) {
    RETURN_IF_ERROR(audit::VerifyEntry(head, e));
  }
  return head;
}

absl::StatusOr<v1::CaseView> Client::Case(const std::string& case_ref) {
  auto cases = v1::Cases::NewStub(channel());
  grpc::ClientContext ctx;
  Prepare(&ctx, absl::Seconds(30));
  v1::GetCaseRequest req;
  req.set_case_ref(case_ref);
  v1::CaseView view;
  RETURN_IF_ERROR(FromGrpcStatus(cases->GetCase(&ctx, req, &view)));
  return view;
}

absl::StatusOr<v1::OverdueList> Client::Overdue(uint32_t max,
                                                absl::Duration upcoming) {
  auto cases = v1::Cases::NewStub(channel());
  grpc::ClientContext ctx;
  Prepare(&ctx, absl::Seconds(30));
  v1::ListOverdueRequest req;
  req.set_max(max);
  req.set_upcoming_within_ms(absl::ToInt64Milliseconds(upcoming));
  v1::OverdueList list;
  RETURN_IF_ERROR(FromGrpcStatus(cases->ListOverdue(&ctx, req, &list)));
  return list;
}

absl::StatusOr<v1::StatisticsReport> Client::Statistics(
    const v1::StatisticsRequest& req) {
  auto cases = v1::Cases::NewStub(channel());
  grpc::ClientContext ctx;
  Prepare(&ctx, absl::Seconds(60));
  v1::StatisticsReport report;
  RETURN_IF_ERROR(FromGrpcStatus(cases->GetStatistics(&ctx, req, &report)));
  return report;
}

absl::StatusOr<v1::ContingencyList> Client::DeclareContingency(
    const v1::SignedContingency& s) {
  auto cases = v1::Cases::NewStub(channel());
  grpc::ClientContext ctx;
  Prepare(&ctx, absl::Seconds(60));
  v1::ContingencyList out;
  RETURN_IF_ERROR(FromGrpcStatus(cases->DeclareContingency(&ctx, s, &out)));
  return out;
}

absl::StatusOr<v1::ContingencyList> Client::Contingencies() {
  auto cases = v1::Cases::NewStub(channel());
  grpc::ClientContext ctx;
  Prepare(&ctx, absl::Seconds(30));
  v1::ContingencyList out;
  RETURN_IF_ERROR(FromGrpcStatus(
      cases->ListContingencies(&ctx, v1::ListContingenciesRequest(), &out)));
  return out;
}

absl::StatusOr<v1::SignedStatistics> Client::ExportStatistics(
    const v1::StatisticsRequest& req) {
  auto cases = v1::Cases::NewStub(channel());
  grpc::ClientContext ctx;
  Prepare(&ctx, absl::Seconds(60));
  v1::SignedStatistics out;
  RETURN_IF_ERROR(FromGrpcStatus(cases->ExportStatistics(&ctx, req, &out)));
  return out;
}

absl::StatusOr<v1::SignedTreeHead> Client::AuditTreeHead(bool fresh) {
  auto stub = v1::Audit::NewStub(channel());
  grpc::ClientContext ctx;
  Prepare(&ctx, absl::Seconds(30));
  v1::GetTreeHeadRequest req;
  req.set_fresh(fresh);
  v1::SignedTreeHead sth;
  RETURN_IF_ERROR(FromGrpcStatus(stub->GetTreeHead(&ctx, req, &sth)));
  return sth;
}

absl::StatusOr<v1::Trail> Client::AuditTrail(v1::TrailQuery q) {
  auto stub = v1::Audit::NewStub(channel());
  v1::Trail all;
  for (;;) {
    grpc::ClientContext ctx;
    Prepare(&ctx, absl::Seconds(30));
    v1::Trail page;
    RETURN_IF_ERROR(FromGrpcStatus(stub->QueryTrail(&ctx, q, &page)));
    if (!all.has_tree_head()) {
      *all.mutable_tree_head() = page.tree_head();
    } else if (page.tree_head().tree_head() != all.tree_head().tree_head()) {
      // A newer head: ask again from the start against one head.
      all.Clear();
      q.set_page_token(0);
      continue;
    }
    for (v1::Entry& e : *page.mutable_entries()) {
      *all.add_entries() = std::move(e);
    }
    if (!page.more()) break;
    q.set_page_token(page.next_page_token());
  }
  return all;
}

absl::StatusOr<v1::Proof> Client::AuditConsistency(uint64_t first,
                                                   uint64_t second) {
  auto stub = v1::Audit::NewStub(channel());
  grpc::ClientContext ctx;
  Prepare(&ctx, absl::Seconds(30));
  v1::ConsistencyProofRequest req;
  req.set_first(first);
  req.set_second(second);
  v1::Proof proof;
  RETURN_IF_ERROR(FromGrpcStatus(stub->GetConsistencyProof(&ctx, req, &proof)));
  return proof;
}

absl::StatusOr<v1::NodeStatus> Client::NodeStatus() {
  auto stub = v1::NodeAdmin::NewStub(channel());
  grpc::ClientContext ctx;
  Prepare(&ctx, absl::Seconds(30));
  v1::NodeStatus status;
  RETURN_IF_ERROR(FromGrpcStatus(
      stub->GetNodeStatus(&ctx, v1::NodeStatusRequest(), &status)));
  return status;
}

}  // namespace trm::client
