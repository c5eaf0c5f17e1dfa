#include "server/federation/relay_runner.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/process/thread_name.h"

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
    p.transport = std::make_unique<GrpcPeerTransport>(
        n.id(), registry_, verifier_, clock_, tls_, policy_.call_timeout);
    auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
    p.dispatcher = std::make_unique<RelayDispatcher>(
        n.id(), policy_, store_, registry_, signer_, *p.transport, clock_,
        [rng] { return std::uniform_real_distribution<double>(0, 1)(*rng); });
    p.dispatcher->set_witness(witness_);
    p.dispatcher->set_contingencies(book_);
    RelayDispatcher* d = p.dispatcher.get();
    p.thread = std::thread([this, d] {
      process::NameThisThread(absl::StrCat("trm-relay-", d->peer()));
      Run(*d);
    });
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
  std::string logged_reason;  // of the failure last logged
  while (!stop_.HasBeenNotified()) {
    const absl::Time next = d.Step();
    const PeerState s = d.state();
    // The reason token of the error (its text up to the first ':'): a link
    // that keeps failing is logged again when the cause changes, say from
    // a refused connection to a peer with the wrong identity.
    const std::string reason = s.last_error.substr(0, s.last_error.find(':'));
    if (s.consecutive_failures > 0 &&
        (failing == 0 || reason != logged_reason)) {
      logged_reason = reason;
      log::Warn("relay.failing",
                absl::StrCat("relay to ", d.peer(), " failing: ", s.last_error),
                {{"peer", d.peer()}});
    } else if (s.consecutive_failures == 0 && failing > 0) {
      logged_reason.clear();
      log::Info("relay.recovered",
                absl::StrCat("relay to ", d.peer(), " recovered after ",
                             failing, " failed attempts"),
                {{"peer", d.peer()}});
    }
    if (s.breaker == PeerState::Breaker::kOpen && failing > 0 &&
        s.consecutive_failures != failing && s.consecutive_failures % 5 == 0) {
      log::Warn("relay.circuit_open",
                absl::StrCat("relay to ", d.peer(), ": circuit open after ",
                             s.consecutive_failures, " failures"),
                {{"peer", d.peer()}});
    }
    failing = s.consecutive_failures;
    const absl::Duration wait = next - clock_.Now();
    if (wait > absl::ZeroDuration()) {
      stop_.WaitForNotificationWithTimeout(std::min(wait, absl::Seconds(1)));
    }
  }
}

}  // namespace trm::federation
