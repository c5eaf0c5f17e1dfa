// An organisation with fresh keys, and its entry in a test directory: for the
// mailbox tests.
#ifndef TRM_TESTS_SERVER_MAILBOX_TEST_ORG_H_
#define TRM_TESTS_SERVER_MAILBOX_TEST_ORG_H_

#include <string>

#include "common/crypto/key_files.h"
#include "trm/v1/directory.pb.h"

namespace trm::mailbox {

struct TestOrg {
  std::string id;
  crypto::Ed25519PrivateKey sign = *crypto::Ed25519PrivateKey::Generate();
  crypto::X25519PrivateKey enc = *crypto::X25519PrivateKey::Generate();
};

// Adds `o` to `d` as an organisation of node `home`, with its signing and
// encryption keys.
inline void AddOrganisation(v1::Directory& d, const TestOrg& o,
                            const std::string& home) {
  v1::DirectoryOrganisation* org = d.add_organisations();
  org->set_id(o.id);
  org->set_home_node(home);
  v1::DirectoryKey* k = org->add_signing_keys();
  const crypto::KeyId id = crypto::KeyIdOf(o.sign.public_key());
  k->set_key_id(id.data(), id.size());
  k->set_public_key(o.sign.public_key().raw().data(), 32);
  v1::DirectoryKey* e = org->add_encryption_keys();
  const crypto::KeyId eid = crypto::X25519KeyIdOf(o.enc.public_key());
  e->set_key_id(eid.data(), eid.size());
  e->set_public_key(o.enc.public_key().data(), 32);
}

}  // namespace trm::mailbox

#endif  // TRM_TESTS_SERVER_MAILBOX_TEST_ORG_H_
