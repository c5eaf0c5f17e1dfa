#include "server/federation/relay_runner.h"

#include <cstdio>

namespace trm::federation {

RelayRunner::~RelayRunner() {
  stop_.Notify();
  absl::MutexLock lock(&mu_);
  for (auto& [id, p] : peers_) {
    if (p.thread.joinable()) p.thread.join();
  }
}

void RelayRunner::EnsurePeers() {
  std::shared_ptr<const directory::Directory> dir = registry_.directory();
  absl::MutexLock lock(&mu_);
  for (const v1::DirectoryNode& n : dir->doc().nodes()) {
    if (n.id() == registry_.node_id() || peers_.contains(n.id())) continue;
    Peer& p = peers_[n.id()];
    p.transport = std::make_unique<GrpcPeerTransport>(n.id(), registry_,
                                                      verifier_, clock_, tls_);
    auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
    p.dispatcher = std::make_unique<RelayDispatcher>(
        n.id(), policy_, store_, registry_, signer_, *p.transport, clock_,
        [rng] { return std::uniform_real_distribution<double>(0, 1)(*rng); });
    p.dispatcher->set_witness(witness_);
    RelayDispatcher* d = p.dispatcher.get();
    p.thread = std::thread([this, d] { Run(*d); });
  }
}

std::vector<std::pair<std::string, PeerState>> RelayRunner::Links() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::pair<std::string, PeerState>> out;
  for (const auto& [id, p] : peers_)
    out.emplace_back(id, p.dispatcher->state());
  return out;
}

void RelayRunner::Run(RelayDispatcher& d) {
  int failing = 0;
  while (!stop_.HasBeenNotified()) {
    const absl::Time next = d.Step();
    const PeerState s = d.state();
    if (s.consecutive_failures > 0 && failing == 0) {
      std::printf("trm-broker: relay to %s failing: %s\n", d.peer().c_str(),
                  s.last_error.c_str());
      std::fflush(stdout);
    } else if (s.consecutive_failures == 0 && failing > 0) {
      std::printf(
          "trm-broker: relay to %s recovered after %d failed attempts\n",
          d.peer().c_str(), failing);
      std::fflush(stdout);
    }
    if (s.breaker == PeerState::Breaker::kOpen && failing > 0 &&
        s.consecutive_failures != failing && s.consecutive_failures % 5 == 0) {
      std::printf("trm-broker: relay to %s: circuit open after %d failures\n",
                  d.peer().c_str(), s.consecutive_failures);
      std::fflush(stdout);
    }
    failing = s.consecutive_failures;
    const absl::Duration wait = next - clock_.Now();
    if (wait > absl::ZeroDuration()) {
      stop_.WaitForNotificationWithTimeout(std::min(wait, absl::Seconds(1)));
    }
  }
}

}  // namespace trm::federation
