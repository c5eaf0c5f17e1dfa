// The gRPC face of relay: the Federation service a node serves to its peers,
// and the transport a node's dispatchers use to call them. Thin: the logic
// is in RelayReceiver and RelayDispatcher.
#ifndef TRM_SERVER_FEDERATION_FEDERATION_SERVICE_H_
#define TRM_SERVER_FEDERATION_FEDERATION_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "server/auth/cert_verifier.h"
#include "server/contingency/contingency_book.h"
#include "server/federation/relay_dispatcher.h"
#include "server/federation/relay_receiver.h"
#include "server/mailbox/org_registry.h"
#include "trm/v1/federation.grpc.pb.h"

namespace trm::federation {

// The calling node, from its client certificate: a node of the directory,
// not this one (WRONG_ROLE for organisations and auditors).
absl::StatusOr<std::string> PeerNode(const grpc::ServerContext& ctx,
                                     const auth::CertVerifier& verifier,
                                     const mailbox::OrgRegistry& registry,
                                     const Clock& clock);

// The same decision from the first certificate the caller presented
// (nullopt when it presented none), for `this_node` at `now`.
absl::StatusOr<std::string> PeerNodeOf(std::optional<absl::string_view> pem,
                                       const auth::CertVerifier& verifier,
                                       const directory::Directory& dir,
                                       absl::string_view this_node,
                                       absl::Time now);

class FederationService final : public v1::Federation::Service {
 public:
  // References must outlive the service.
  FederationService(RelayReceiver& receiver, const auth::CertVerifier& verifier,
                    const mailbox::OrgRegistry& registry, const Clock& clock)
      : receiver_(receiver),
        verifier_(verifier),
        registry_(registry),
        clock_(clock) {}

  grpc::Status Relay(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<v1::RelayAck, v1::RelayBatch>* stream) override;

  // Takes the contingencies peers carry (null: ignores them).
  void set_contingencies(contingency::ContingencyBook* book) { book_ = book; }

 private:
  RelayReceiver& receiver_;
  const auth::CertVerifier& verifier_;
  const mailbox::OrgRegistry& registry_;
  const Clock& clock_;
  contingency::ContingencyBook* book_ = nullptr;
};

// Calls a peer's Federation.Relay over mutual TLS with this node's
// certificate, one stream per batch, and checks that the answering node's
// certificate is the peer's (its directory tls_identity): a node presenting
// another node's identity is refused (PEER_IDENTITY_MISMATCH).
class GrpcPeerTransport final : public PeerTransport {
 public:
  struct Tls {
    std::string ca_pem, cert_pem, key_pem;
  };
  GrpcPeerTransport(std::string peer, const mailbox::OrgRegistry& registry,
                    const auth::CertVerifier& verifier, const Clock& clock,
                    Tls tls, absl::Duration timeout = absl::Seconds(30));
  absl::StatusOr<v1::RelayAck> Send(const v1::RelayBatch& batch) override;

 private:
  const std::string peer_;
  const mailbox::OrgRegistry& registry_;
  const auth::CertVerifier& verifier_;
  const Clock& clock_;
  const Tls tls_;
  const absl::Duration timeout_;
  std::string endpoint_;  // the channel's; rebuilt when the directory moves it
  std::unique_ptr<v1::Federation::Stub> stub_;
};

}  // namespace trm::federation

#endif  // TRM_SERVER_FEDERATION_FEDERATION_SERVICE_H_
