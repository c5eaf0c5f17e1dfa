// trm-agent's intake: pulls the organisation's deliveries from its node,
// verifies each (opened in memory, the plaintext dropped at once), stores
// the sealed envelope durably, and only then sends the signed
// acknowledgement. A message that can never open is refused (CANNOT_OPEN);
// one that fails on this side (a key, the clock, the disk) is released to
// come again. Nothing is acknowledged before it is stored.
//
//   ClientMailbox mailbox(client);  // or a fake in tests
//   InboxPuller puller(mailbox, store);
//   ASSIGN_OR_RETURN(PullResult r, puller.PullOnce(64, absl::Seconds(20)));
#ifndef TRM_CLIENT_AGENT_INBOX_PULLER_H_
#define TRM_CLIENT_AGENT_INBOX_PULLER_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/agent/agent_store.h"
#include "trm/client/client.h"

namespace trm::agent {

// The part of the node the puller uses: the seam its tests fake.
class Mailbox {
 public:
  virtual ~Mailbox() = default;
  virtual absl::Status Receive(
      uint32_t max, absl::Duration wait,
      const std::function<void(const client::Delivery&)>& handle) = 0;
  // Verifies and decrypts; the payload is dropped by the caller.
  virtual absl::Status Verify(const client::Delivery& d) = 0;
  virtual absl::Status Acknowledge(const client::Delivery& d) = 0;
  virtual absl::Status Refuse(const client::Delivery& d,
                              v1::RefusalReason reason,
                              absl::string_view text) = 0;
  virtual absl::Status Release(const client::Delivery& d) = 0;
};

// Mailbox over the client library.
class ClientMailbox final : public Mailbox {
 public:
  explicit ClientMailbox(client::Client& client) : client_(client) {}
  absl::Status Receive(
      uint32_t max, absl::Duration wait,
      const std::function<void(const client::Delivery&)>& handle) override;
  absl::Status Verify(const client::Delivery& d) override;
  absl::Status Acknowledge(const client::Delivery& d) override;
  absl::Status Refuse(const client::Delivery& d, v1::RefusalReason reason,
                      absl::string_view text) override;
  absl::Status Release(const client::Delivery& d) override;

 private:
  client::Client& client_;
};

struct PullResult {
  size_t stored = 0;         // new, stored and acknowledged
  size_t duplicates = 0;     // stored before (a lost acknowledgement), acked
  size_t refused = 0;        // can never open: refused, not stored
  size_t released = 0;       // failed on this side: given back, not stored
  absl::Status first_error;  // why the first released one was
};

class InboxPuller {
 public:
  InboxPuller(Mailbox& mailbox, AgentStore& store)
      : mailbox_(mailbox), store_(store) {}
  // Called with each record newly stored and acknowledged (erasure notices,
  // events). Set before the first PullOnce.
  void OnStored(std::function<void(const v1::AgentRecord&)> f) {
    on_stored_ = std::move(f);
  }
  // Called with each delivery refused for good (its id, header and why).
  void OnRefused(
      std::function<void(const client::Delivery&, const absl::Status&)> f) {
    on_refused_ = std::move(f);
  }
  // One Receive call: up to `max` deliveries, waiting up to `wait`.
  absl::StatusOr<PullResult> PullOnce(uint32_t max, absl::Duration wait);

 private:
  void Handle(const client::Delivery& d, PullResult& r);

  Mailbox& mailbox_;
  AgentStore& store_;
  std::function<void(const v1::AgentRecord&)> on_stored_;
  std::function<void(const client::Delivery&, const absl::Status&)> on_refused_;
};

}  // namespace trm::agent

#endif  // TRM_CLIENT_AGENT_INBOX_PULLER_H_
