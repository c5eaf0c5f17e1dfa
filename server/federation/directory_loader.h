// Where a node's federation directory comes from, and its reloads.
//
// With "directory" and "authority_public_key" in the configuration the node
// loads the signed directory at start (and refuses to start without a good
// one), then reloads it on SIGHUP and whenever the file changes (checked
// every second). A reload that fails its checks (docs/protocol.md 13.2) or
// does not succeed the loaded one leaves the loaded one in place; either way
// one log line says what happened and why.
//
// Without them (a single node for development), the node builds a local
// directory from the organisations and keys in its configuration.
#ifndef TRM_SERVER_FEDERATION_DIRECTORY_LOADER_H_
#define TRM_SERVER_FEDERATION_DIRECTORY_LOADER_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/crypto/ed25519.h"
#include "common/directory/directory.h"
#include "server/config/node_config.h"
#include "server/mailbox/org_registry.h"

namespace trm::federation {

class DirectoryLoader {
 public:
  // The directory to start with, checked; for a signed one also checks that
  // it lists this node.
  static absl::StatusOr<std::unique_ptr<DirectoryLoader>> Create(
      const config::NodeConfig& config);

  std::shared_ptr<const directory::Directory> initial() const {
    return initial_;
  }

  // Reads the file again and offers it to `registry`. Returns what a log
  // line should say: "loaded serial N ..." / "unchanged ..." on success, or
  // the refusal. Without a signed directory: FAILED_PRECONDITION.
  absl::StatusOr<std::string> Reload(mailbox::OrgRegistry& registry)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Reload() when the file's size or modification time changed since the
  // last look; otherwise nothing (an empty string).
  absl::StatusOr<std::string> ReloadIfChanged(mailbox::OrgRegistry& registry)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  DirectoryLoader() = default;
  absl::StatusOr<std::shared_ptr<const directory::Directory>> ReadSigned();
  std::string Stamp() const;

  std::string node_id_;
  std::string path_;  // empty: local directory
  std::unique_ptr<crypto::Ed25519PublicKey> authority_;
  std::shared_ptr<const directory::Directory> initial_;
  // SIGHUP and the file watch reload from different threads.
  absl::Mutex mu_;
  std::string last_stamp_ ABSL_GUARDED_BY(mu_);
  absl::StatusOr<std::string> ReloadLocked(mailbox::OrgRegistry& registry)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
};

}  // namespace trm::federation

#endif  // TRM_SERVER_FEDERATION_DIRECTORY_LOADER_H_
