#include "server/federation/federation_service.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/rpc_status.h"
#include "common/status.h"
#include "server/auth/caller_auth.h"
#include "server/mailbox/mailbox_service.h"

namespace trm::federation {

using absl::StatusCode;

absl::StatusOr<std::string> PeerNodeOf(std::optional<absl::string_view> pem,
                                       const auth::CertVerifier& verifier,
                                       const directory::Directory& dir,
                                       absl::string_view this_node,
                                       absl::Time now) {
  if (!pem.has_value()) {
    return Error(StatusCode::kUnauthenticated, "MISSING_CREDENTIAL",
                 "relay needs mutual TLS with the calling node's "
                 "certificate");
  }
  ASSIGN_OR_RETURN(directory::Principal who,
                   auth::PrincipalOf(verifier, dir, *pem, now));
  if (who.kind != directory::PrincipalKind::kNode) {
    return Error(StatusCode::kPermissionDenied, "WRONG_ROLE",
                 absl::StrCat("the client certificate is ",
                              directory::KindName(who.kind), " '", who.id,
                              "'s; only nodes relay"));
  }
  if (who.id == this_node) {
    return Error(StatusCode::kPermissionDenied, "WRONG_ROLE",
                 "a node does not relay to itself");
  }
  return who.id;
}

absl::StatusOr<std::string> PeerNode(const grpc::ServerContext& ctx,
                                     const auth::CertVerifier& verifier,
                                     const mailbox::OrgRegistry& registry,
                                     const Clock& clock) {
  std::shared_ptr<const grpc::AuthContext> auth = ctx.auth_context();
  std::vector<grpc::string_ref> pems =
      auth ? auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME)
           : std::vector<grpc::string_ref>();
  std::optional<absl::string_view> pem;
  if (!pems.empty()) pem.emplace(pems[0].data(), pems[0].size());
  std::shared_ptr<const directory::Directory> dir = registry.directory();
  return PeerNodeOf(pem, verifier, *dir, registry.node_id(), clock.Now());
}

grpc::Status FederationService::Relay(
    grpc::ServerContext* ctx,
    grpc::ServerReaderWriter<v1::RelayAck, v1::RelayBatch>* stream) {
  absl::StatusOr<std::string> peer =
      PeerNode(*ctx, verifier_, registry_, clock_);
  if (!peer.ok()) return ToGrpcStatus(peer.status());
  // The calling node checks this node's certificate before it sends a batch
  // (docs/protocol.md section 14): answer its wait for our headers at once.
  stream->SendInitialMetadata();
  v1::RelayBatch batch;
  while (stream->Read(&batch)) {
    std::vector<std::string> envelopes(batch.envelopes().begin(),
                                       batch.envelopes().end());
    v1::RelayAck ack;
    ack.set_batch_id(batch.batch_id());
    if (book_ != nullptr) {
      // The peer's coordinators' contingencies, before its messages.
      int taken = 0;
      for (const v1::SignedContingency& c : batch.contingencies()) {
        if (++taken >
            static_cast<int>(contingency::ContingencyBook::kMaxCarried)) {
          break;
        }
        if (absl::Status s = book_->Receive(*peer, c);
            !s.ok() && book_->FirstRefusal(c)) {
          log::Warn("contingency.refused",
                    absl::StrCat("a contingency from node ", *peer,
                                 " was refused: ", s.message(),
                                 " (logged once; the peer may carry it in "
                                 "every batch)"),
                    {{"peer", *peer}});
        }
      }
    }
    for (v1::RelayResult& r : receiver_.Receive(*peer, envelopes)) {
      *ack.add_results() = std::move(r);
    }
    receiver_.AddTreeHead(batch.known_tree_size(), ack);
    if (batch.notices_size() > 0) {
      std::vector<v1::PathNotice> notices(batch.notices().begin(),
                                          batch.notices().end());
      for (v1::NoticeResult& r : receiver_.ReceiveNotices(*peer, notices)) {
        *ack.add_notice_results() = std::move(r);
      }
    }
    if (!stream->Write(ack)) break;
  }
  return grpc::Status::OK;
}

GrpcPeerTransport::GrpcPeerTransport(std::string peer,
                                     const mailbox::OrgRegistry& registry,
                                     const auth::CertVerifier& verifier,
                                     const Clock& clock, Tls tls,
                                     absl::Duration timeout)
    : peer_(std::move(peer)),
      registry_(registry),
      verifier_(verifier),
      clock_(clock),
      tls_(std::move(tls)),
      timeout_(timeout) {}

absl::StatusOr<v1::RelayAck> GrpcPeerTransport::Send(
    const v1::RelayBatch& batch) {
  std::shared_ptr<const directory::Directory> dir = registry_.directory();
  const v1::DirectoryNode* node = dir->FindNode(peer_);
  if (node == nullptr) {
    return Error(StatusCode::kUnavailable, "UNKNOWN_NODE",
                 absl::StrCat("node ", peer_,
                              " is no longer in the federation directory"));
  }
  if (!stub_ || endpoint_ != node->endpoint()) {
    grpc::SslCredentialsOptions opts;
    opts.pem_root_certs = tls_.ca_pem;
    opts.pem_cert_chain = tls_.cert_pem;
    opts.pem_private_key = tls_.key_pem;
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    args.SetMaxReceiveMessageSize(64 << 20);
    args.SetMaxSendMessageSize(64 << 20);
    stub_ = v1::Federation::NewStub(grpc::CreateCustomChannel(
        node->endpoint(), grpc::SslCredentials(opts), args));
    endpoint_ = node->endpoint();
  }
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   absl::ToChronoMilliseconds(timeout_));
  auto stream = stub_->Relay(&ctx);
  // Whoever answers must be the peer itself, not another node with a
  // certificate from the same CA: checked before anything is sent. The
  // called node sends its headers first, so the handshake's certificate is
  // known here.
  stream->WaitForInitialMetadata();
  std::shared_ptr<const grpc::AuthContext> auth = ctx.auth_context();
  std::vector<grpc::string_ref> pems =
      auth ? auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME)
           : std::vector<grpc::string_ref>();
  absl::Status identity_ok = absl::OkStatus();
  if (!pems.empty()) {
    absl::StatusOr<std::string> identity = verifier_.Identity(
        absl::string_view(pems[0].data(), pems[0].size()), clock_.Now());
    if (!identity.ok()) {
      identity_ok = identity.status();
    } else if (*identity != node->tls_identity()) {
      identity_ok =
          Error(StatusCode::kUnauthenticated, "PEER_IDENTITY_MISMATCH",
                absl::StrCat("the node at ", node->endpoint(),
                             " presented the identity ", *identity,
                             ", not node ", peer_, "'s ", node->tls_identity(),
                             "; nothing was sent to it"));
    }
  }
  v1::RelayAck ack;
  bool got = false;
  if (!pems.empty() && identity_ok.ok() && stream->Write(batch)) {
    stream->WritesDone();
    got = stream->Read(&ack);
  }
  if (pems.empty() || !identity_ok.ok()) ctx.TryCancel();
  grpc::Status finished = stream->Finish();
  RETURN_IF_ERROR(identity_ok);
  if (pems.empty() && finished.ok()) {
    return Error(
        StatusCode::kUnauthenticated, "PEER_IDENTITY_MISMATCH",
        absl::StrCat("node ", peer_,
                     " answered without a certificate; nothing was sent"));
  }
  if (!finished.ok()) {
    return Error(static_cast<StatusCode>(finished.error_code()), "RELAY_FAILED",
                 absl::StrCat("relay to node ", peer_, " at ", endpoint_,
                              " failed: ", finished.error_message()));
  }
  if (!got) {
    return Error(StatusCode::kUnavailable, "RELAY_FAILED",
                 absl::StrCat("node ", peer_,
                              " closed the relay stream "
                              "without an answer"));
  }
  return ack;
}

}  // namespace trm::federation
