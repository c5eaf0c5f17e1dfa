// The organisations registered on this node: who they are, the key their
// envelopes must be signed with, and the credential their calls carry.
#ifndef TRM_SERVER_MAILBOX_ORG_REGISTRY_H_
#define TRM_SERVER_MAILBOX_ORG_REGISTRY_H_

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "common/crypto/ed25519.h"

namespace trm::mailbox {

struct Organisation {
  std::string id;
  std::shared_ptr<const crypto::Ed25519PublicKey> signing_key;
  // Most envelope bytes that may wait in this organisation's mailbox.
  uint64_t max_queued_bytes = 1ull << 30;
};

// Immutable after construction; safe to share between threads.
class OrgRegistry {
 public:
  void Add(Organisation org) { orgs_[org.id] = std::move(org); }
  const Organisation* Find(const std::string& id) const {
    auto it = orgs_.find(id);
    return it == orgs_.end() ? nullptr : &it->second;
  }

 private:
  absl::flat_hash_map<std::string, Organisation> orgs_;
};

}  // namespace trm::mailbox

#endif  // TRM_SERVER_MAILBOX_ORG_REGISTRY_H_
