// Who may ask what of the audit log (server/audit/audit_api.h), as one table:
// every kind of caller against every call, with the refusal's reason, and
// an organisation's trail holds only its own messages.
#include "server/audit/audit_api.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "common/status.h"
#include "server/storage/rocksdb_store.h"
#include "tests/server/mailbox/test_org.h"

namespace trm::audit {
namespace {

namespace fs = std::filesystem;
using directory::Principal;
using directory::PrincipalKind;

std::string Id(uint64_t n) {
  std::string id(16, '\0');
  id[15] = static_cast<char>(n);
  return id;
}

class AuditApiTest : public ::testing::Test {
 protected:
  AuditApiTest() {
    v1::Directory d;
    d.set_federation("test");
    d.set_serial(1);
    for (const char* n : {"bg", "ng", "it"}) d.add_nodes()->set_id(n);
    for (auto [org, home] : {std::pair{"bg-ngo", "bg"},
                             {"bg-naptip", "bg"},
                             {"bg-other", "bg"},
                             {"ng-naptip", "ng"}}) {
      mailbox::AddOrganisation(d, mailbox::TestOrg{org}, home);
    }
    auto auditor = [&](const char* id, v1::AuditScope scope,
                       std::vector<std::string> nodes) {
      v1::DirectoryAuditor* a = d.add_auditors();
      a->set_id(id);
      a->set_tls_identity(std::string("trm://auditor/") + id);
      a->set_scope(scope);
      for (const std::string& n : nodes) a->add_nodes(n);
    };
    auditor("grevio", v1::AUDIT_ALL_NODES, {});
    auditor("bg-only", v1::AUDIT_LISTED_NODES, {"bg", "ng"});
    auditor("it-only", v1::AUDIT_LISTED_NODES, {"it"});
    auto dir = directory::Directory::FromLocal(d);
    EXPECT_TRUE(dir.ok()) << dir.status();
    registry_ = std::make_unique<mailbox::OrgRegistry>(
        "bg", *dir, absl::flat_hash_map<std::string, uint64_t>());
    storage::RocksStoreOptions o;
    o.path = dir_;
    o.node_id = "bg";
    store_ = std::move(*storage::RocksMessageStore::Open(o));
    // M1 bg-ngo -> bg-naptip, M2 bg-naptip -> bg-other.
    for (auto [n, from, to] :
         {std::tuple{1, "bg-ngo", "bg-naptip"}, {2, "bg-naptip", "bg-other"}}) {
      storage::AcceptRequest r;
      r.message_id = Id(n);
      r.sender_org = from;
      r.recipient_org = to;
      r.envelope = "e";
      r.envelope_sha256 = std::string(32, 's');
      r.expires_unix_ms = 1'000'000;
      r.now_unix_ms = 1000;
      EXPECT_TRUE(store_->Accept(r).ok());
    }
    signer_ =
        std::make_unique<TreeHeadSigner>(*store_->audit(), key_, "bg", clock_);
    EXPECT_TRUE(signer_->Init().ok());
    api_ = std::make_unique<AuditApi>(*store_->audit(), *signer_, *registry_);
  }
  ~AuditApiTest() override {
    api_.reset();
    signer_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  std::string dir_ = (fs::temp_directory_path() /
                      ("audit-api-test-" + std::to_string(::getpid())))
                         .string();
  std::unique_ptr<mailbox::OrgRegistry> registry_;
  std::unique_ptr<storage::RocksMessageStore> store_;
  crypto::Ed25519PrivateKey key_ = *crypto::Ed25519PrivateKey::Generate();
  SimulatedClock clock_{absl::FromUnixMillis(5000)};
  std::unique_ptr<TreeHeadSigner> signer_;
  std::unique_ptr<AuditApi> api_;
};

// "" for allowed, else the reason token.
template <typename T>
std::string Outcome(const absl::StatusOr<T>& r) {
  return r.ok() ? "" : ErrorReason(r.status());
}

TEST_F(AuditApiTest, EachCallerMayAskWhatItsRoleAllows) {
  const auto kAud = PrincipalKind::kAuditor;
  const auto kOrg = PrincipalKind::kOrganisation;
  const auto kNode = PrincipalKind::kNode;
  struct Row {
    Principal who;
    std::string head, entries, trail, trail_of_naptip, proof;
  } rows[] = {
      {{kAud, "grevio"}, "", "", "", "", ""},
      {{kAud, "bg-only"}, "", "", "", "", ""},
      {{kAud, "it-only"},
       "OUT_OF_SCOPE",
       "OUT_OF_SCOPE",
       "OUT_OF_SCOPE",
       "OUT_OF_SCOPE",
       "OUT_OF_SCOPE"},
      {{kAud, "nobody"},
       "OUT_OF_SCOPE",
       "OUT_OF_SCOPE",
       "OUT_OF_SCOPE",
       "OUT_OF_SCOPE",
       "OUT_OF_SCOPE"},
      {{kOrg, "bg-ngo"}, "", "NOT_AUDITOR", "", "NOT_YOUR_TRAIL", ""},
      {{kOrg, "bg-naptip"}, "", "NOT_AUDITOR", "", "", ""},
      {{kOrg, "ng-naptip"},
       "UNKNOWN_ORGANISATION",
       "NOT_AUDITOR",
       "UNKNOWN_ORGANISATION",
       "UNKNOWN_ORGANISATION",
       "UNKNOWN_ORGANISATION"},
      {{kOrg, "grevio"},
       "UNKNOWN_ORGANISATION",
       "NOT_AUDITOR",
       "UNKNOWN_ORGANISATION",
       "UNKNOWN_ORGANISATION",
       "UNKNOWN_ORGANISATION"},
      {{kNode, "ng"}, "", "NOT_AUDITOR", "NOT_AUDITOR", "NOT_AUDITOR", ""},
  };
  v1::GetEntriesRequest entries;
  entries.set_start(0);
  entries.set_end(10);
  v1::TrailQuery of_naptip;
  of_naptip.set_organisation("bg-naptip");
  v1::InclusionProofRequest proof;
  proof.set_leaf_index(0);
  proof.set_tree_size(2);
  for (const Row& r : rows) {
    SCOPED_TRACE(std::string(directory::KindName(r.who.kind)) + " " + r.who.id);
    EXPECT_EQ(Outcome(api_->GetTreeHead(r.who, true)), r.head);
    EXPECT_EQ(Outcome(api_->GetEntries(r.who, entries)), r.entries);
    EXPECT_EQ(Outcome(api_->QueryTrail(r.who, v1::TrailQuery())), r.trail);
    EXPECT_EQ(Outcome(api_->QueryTrail(r.who, of_naptip)), r.trail_of_naptip);
    EXPECT_EQ(Outcome(api_->GetInclusionProof(r.who, proof)), r.proof);
  }
}

TEST_F(AuditApiTest, AnOrganisationsTrailHoldsOnlyItsOwnMessages) {
  auto count = [&](const Principal& who) {
    std::set<std::string> ids;
    auto trail = api_->QueryTrail(who, v1::TrailQuery());
    EXPECT_TRUE(trail.ok()) << trail.status();
    for (const v1::Entry& e : trail->entries()) {
      v1::AuditEvent ev;
      EXPECT_TRUE(ev.ParseFromString(e.event()));
      ids.insert(ev.message_id());
    }
    return ids;
  };
  EXPECT_EQ(count({PrincipalKind::kOrganisation, "bg-ngo"}),
            (std::set<std::string>{Id(1)}));
  EXPECT_EQ(count({PrincipalKind::kOrganisation, "bg-other"}),
            (std::set<std::string>{Id(2)}));
  EXPECT_EQ(count({PrincipalKind::kOrganisation, "bg-naptip"}),
            (std::set<std::string>{Id(1), Id(2)}));
  EXPECT_EQ(count({PrincipalKind::kAuditor, "grevio"}),
            (std::set<std::string>{Id(1), Id(2)}));
}

}  // namespace
}  // namespace trm::audit
