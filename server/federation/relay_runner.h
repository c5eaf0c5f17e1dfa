// Runs one RelayDispatcher per peer node on its own thread, with the gRPC
// transport, and logs each link's failures and recoveries. EnsurePeers()
// starts dispatchers for nodes the directory lists that have none yet (at
// start and after a directory reload). Destroying it stops them all.
#ifndef TRM_SERVER_FEDERATION_RELAY_RUNNER_H_
#define TRM_SERVER_FEDERATION_RELAY_RUNNER_H_

#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "server/admin/node_status.h"
#include "server/federation/federation_service.h"
#include "server/federation/relay_dispatcher.h"

namespace trm::federation {

class RelayRunner final : public admin::PeerLinks {
 public:
  RelayRunner(storage::MessageStore& store,
              const mailbox::OrgRegistry& registry,
              const auth::CertVerifier& verifier,
              receipts::ReceiptSigner& signer, const Clock& clock,
              GrpcPeerTransport::Tls tls, RelayPolicy policy = RelayPolicy())
      : store_(store),
        registry_(registry),
        verifier_(verifier),
        signer_(signer),
        clock_(clock),
        tls_(std::move(tls)),
        policy_(policy) {}
  ~RelayRunner() override;

  void EnsurePeers() ABSL_LOCKS_EXCLUDED(mu_);
  // Checks peers' tree heads; set before EnsurePeers.
  void set_witness(audit::Witness* witness) { witness_ = witness; }
  void set_contingencies(contingency::ContingencyBook* book) { book_ = book; }
  std::vector<std::pair<std::string, PeerState>> Links() const override
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Peer {
    std::unique_ptr<GrpcPeerTransport> transport;
    std::unique_ptr<RelayDispatcher> dispatcher;
    std::thread thread;
  };
  void Run(RelayDispatcher& d);

  storage::MessageStore& store_;
  const mailbox::OrgRegistry& registry_;
  const auth::CertVerifier& verifier_;
  receipts::ReceiptSigner& signer_;
  const Clock& clock_;
  const GrpcPeerTransport::Tls tls_;
  const RelayPolicy policy_;
  audit::Witness* witness_ = nullptr;
  contingency::ContingencyBook* book_ = nullptr;
  absl::Notification stop_;
  mutable absl::Mutex mu_;
  std::map<std::string, Peer> peers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace trm::federation

#endif  // TRM_SERVER_FEDERATION_RELAY_RUNNER_H_
