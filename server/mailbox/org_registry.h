// The organisations a node knows: the federation directory it holds (whose
// organisations with this node as home node are its own), plus the local
// settings of each own organisation (its mailbox quota). The directory can
// be replaced while the node runs (a reload); readers take a snapshot.
//
// Thread-safe.
#ifndef TRM_SERVER_MAILBOX_ORG_REGISTRY_H_
#define TRM_SERVER_MAILBOX_ORG_REGISTRY_H_

#include <algorithm>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/directory/directory.h"

namespace trm::mailbox {

inline constexpr uint64_t kDefaultMaxQueuedBytes = 1ull << 30;

class OrgRegistry {
 public:
  // `quotas`: most envelope bytes that may wait in each own organisation's
  // mailbox; organisations not listed get kDefaultMaxQueuedBytes.
  OrgRegistry(std::string node_id,
              std::shared_ptr<const directory::Directory> initial,
              absl::flat_hash_map<std::string, uint64_t> quotas = {})
      : node_id_(std::move(node_id)),
        quotas_(std::move(quotas)),
        directory_(std::move(initial)) {}

  const std::string& node_id() const { return node_id_; }

  // The directory now; it stays valid for as long as the caller holds it.
  std::shared_ptr<const directory::Directory> directory() const {
    absl::MutexLock lock(&mu_);
    return directory_;
  }

  // Replaces the directory if `next` may succeed the current one
  // (directory::CheckSuccessor); otherwise keeps it and says why.
  absl::Status Replace(std::shared_ptr<const directory::Directory> next) {
    absl::MutexLock lock(&mu_);
    absl::Status ok = directory::CheckSuccessor(*directory_, *next);
    if (ok.ok()) directory_ = std::move(next);
    return ok;
  }

  // Whether `org` is a NATIONAL_COORDINATOR organisation of this node in
  // the directory now.
  bool IsCoordinator(const std::string& org) const {
    std::shared_ptr<const directory::Directory> dir = directory();
    const v1::DirectoryOrganisation* o = dir->FindOrganisation(org);
    return o != nullptr && o->home_node() == node_id_ &&
           std::find(o->roles().begin(), o->roles().end(),
                     v1::NATIONAL_COORDINATOR) != o->roles().end();
  }

  uint64_t QuotaOf(const std::string& org) const {
    auto it = quotas_.find(org);
    return it == quotas_.end() ? kDefaultMaxQueuedBytes : it->second;
  }

 private:
  const std::string node_id_;
  const absl::flat_hash_map<std::string, uint64_t> quotas_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const directory::Directory> directory_ ABSL_GUARDED_BY(mu_);
};

}  // namespace trm::mailbox

#endif  // TRM_SERVER_MAILBOX_ORG_REGISTRY_H_
