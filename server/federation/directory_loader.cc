#include "server/federation/directory_loader.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/crypto/key_files.h"
#include "common/status.h"

namespace trm::federation {
namespace {

// The single node of a development setup, its organisations and their keys
// as the configuration gives them.
absl::StatusOr<std::shared_ptr<const directory::Directory>> LocalDirectory(
    const config::NodeConfig& c) {
  v1::Directory d;
  d.set_federation("local");
  d.set_serial(1);
  v1::DirectoryNode* node = d.add_nodes();
  node->set_id(c.node_id);
  node->set_endpoint(c.listen);
  for (const config::OrgConfig& o : c.organisations) {
    ASSIGN_OR_RETURN(crypto::Ed25519PublicKey key,
                     crypto::LoadVerifyKey(o.signing_public_key));
    v1::DirectoryOrganisation* org = d.add_organisations();
    org->set_id(o.id);
    org->set_home_node(c.node_id);
    v1::DirectoryKey* k = org->add_signing_keys();
    const crypto::KeyId id = crypto::KeyIdOf(key);
    k->set_key_id(id.data(), id.size());
    k->set_public_key(key.raw().data(), key.raw().size());
    ASSIGN_OR_RETURN(crypto::X25519PublicKey enc,
                     crypto::LoadEncryptionPublicKey(o.encryption_public_key));
    v1::DirectoryKey* e = org->add_encryption_keys();
    const crypto::KeyId eid = crypto::X25519KeyIdOf(enc);
    e->set_key_id(eid.data(), eid.size());
    e->set_public_key(enc.data(), enc.size());
  }
  absl::StatusOr<std::shared_ptr<const directory::Directory>> dir =
      directory::Directory::FromLocal(std::move(d));
  if (!dir.ok()) {
    return Error(absl::StatusCode::kInvalidArgument, "CONFIG_INVALID",
                 absl::StrCat("the organisations in the configuration: ",
                              dir.status().message()));
  }
  return dir;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DirectoryLoader>> DirectoryLoader::Create(
    const config::NodeConfig& c) {
  std::unique_ptr<DirectoryLoader> loader(new DirectoryLoader());
  loader->node_id_ = c.node_id;
  if (c.directory.empty()) {
    ASSIGN_OR_RETURN(loader->initial_, LocalDirectory(c));
    return loader;
  }
  loader->path_ = c.directory;
  ASSIGN_OR_RETURN(crypto::Ed25519PublicKey authority,
                   crypto::LoadVerifyKey(c.authority_public_key));
  loader->authority_ =
      std::make_unique<crypto::Ed25519PublicKey>(std::move(authority));
  {
    absl::MutexLock lock(&loader->mu_);
    loader->last_stamp_ = loader->Stamp();
  }
  ASSIGN_OR_RETURN(loader->initial_, loader->ReadSigned());
  if (loader->initial_->FindNode(c.node_id) == nullptr) {
    return Error(
        absl::StatusCode::kFailedPrecondition, "NODE_NOT_IN_DIRECTORY",
        absl::StrCat("node '", c.node_id,
                     "' is not listed in the federation directory ",
                     c.directory, " (serial ", loader->initial_->serial(),
                     "); check node_id, or ask the federation "
                     "authority to list this node"));
  }
  return loader;
}

std::string DirectoryLoader::Stamp() const {
  struct stat st;
  if (stat(path_.c_str(), &st) != 0) return "missing";
  return absl::StrCat(st.st_size, "/", st.st_mtim.tv_sec, ".",
                      st.st_mtim.tv_nsec, "/", st.st_ino);
}

absl::StatusOr<std::shared_ptr<const directory::Directory>>
DirectoryLoader::ReadSigned() {
  std::ifstream in(path_, std::ios::binary);
  if (!in) {
    return Error(absl::StatusCode::kNotFound, "DIRECTORY_UNREADABLE",
                 absl::StrCat("cannot read the federation directory ", path_));
  }
  std::stringstream bytes;
  bytes << in.rdbuf();
  absl::StatusOr<std::shared_ptr<const directory::Directory>> dir =
      directory::Directory::Verify(bytes.str(), *authority_);
  if (!dir.ok()) {
    return absl::Status(dir.status().code(),
                        absl::StrCat(path_, ": ", dir.status().message()));
  }
  return dir;
}

absl::StatusOr<std::string> DirectoryLoader::Reload(
    mailbox::OrgRegistry& registry) {
  absl::MutexLock lock(&mu_);
  return ReloadLocked(registry);
}

absl::StatusOr<std::string> DirectoryLoader::ReloadLocked(
    mailbox::OrgRegistry& registry) {
  if (path_.empty()) {
    return Error(absl::StatusCode::kFailedPrecondition, "NO_DIRECTORY_FILE",
                 "this node has no signed directory to reload; its "
                 "organisations come from its configuration");
  }
  last_stamp_ = Stamp();
  const std::shared_ptr<const directory::Directory> before =
      registry.directory();
  absl::StatusOr<std::shared_ptr<const directory::Directory>> read =
      ReadSigned();
  if (!read.ok()) {
    return absl::Status(read.status().code(),
                        absl::StrCat(read.status().message(),
                                     "; keeping serial ", before->serial()));
  }
  std::shared_ptr<const directory::Directory> next = std::move(*read);
  if (next->FindNode(node_id_) == nullptr) {
    return Error(absl::StatusCode::kFailedPrecondition, "NODE_NOT_IN_DIRECTORY",
                 absl::StrCat("directory serial ", next->serial(),
                              " does not list this node '", node_id_,
                              "'; keeping serial ", before->serial()));
  }
  if (absl::Status replaced = registry.Replace(next); !replaced.ok()) {
    return absl::Status(replaced.code(),
                        absl::StrCat(replaced.message(), "; keeping serial ",
                                     before->serial()));
  }
  if (next->serial() == before->serial()) {
    return absl::StrCat("directory unchanged (serial ", next->serial(), ")");
  }
  return absl::StrCat("directory serial ", next->serial(), " loaded (sha256 ",
                      next->digest_hex(), "), replacing serial ",
                      before->serial());
}

absl::StatusOr<std::string> DirectoryLoader::ReloadIfChanged(
    mailbox::OrgRegistry& registry) {
  absl::MutexLock lock(&mu_);
  if (path_.empty() || Stamp() == last_stamp_) return std::string();
  return ReloadLocked(registry);
}

}  // namespace trm::federation
