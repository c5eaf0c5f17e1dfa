#include "common/directory/directory.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/crypto/key_files.h"
#include "common/status.h"

namespace trm::directory {
namespace {

constexpr int64_t kDay = 24 * 3600 * 1000LL;
constexpr int64_t kT0 = 1'800'000'000'000;  // 2027-01-15

v1::DirectoryKey SigningKey(const crypto::Ed25519PrivateKey& k, int64_t from,
                            int64_t until = 0, int64_t revoked = 0) {
  v1::DirectoryKey d;
  const crypto::KeyId id = crypto::KeyIdOf(k.public_key());
  d.set_key_id(id.data(), id.size());
  d.set_public_key(k.public_key().raw().data(), 32);
  d.set_valid_from_unix_ms(from);
  d.set_valid_until_unix_ms(until);
  d.set_revoked_unix_ms(revoked);
  return d;
}

v1::DirectoryKey EncryptionKey(const crypto::X25519PrivateKey& k,
                               int64_t from) {
  v1::DirectoryKey d;
  const crypto::KeyId id = crypto::X25519KeyIdOf(k.public_key());
  d.set_key_id(id.data(), id.size());
  d.set_public_key(k.public_key().data(), 32);
  d.set_valid_from_unix_ms(from);
  return d;
}

std::string KeyIdBytes(const crypto::Ed25519PrivateKey& k) {
  const crypto::KeyId id = crypto::KeyIdOf(k.public_key());
  return std::string(id.begin(), id.end());
}

class DirectoryTest : public ::testing::Test {
 protected:
  DirectoryTest() {
    doc_.set_federation("trm-eu");
    doc_.set_serial(7);
    doc_.set_issued_unix_ms(kT0);
    for (const char* id : {"bg", "ng"}) {
      v1::DirectoryNode* n = doc_.add_nodes();
      n->set_id(id);
      n->set_country(id == std::string("bg") ? "BG" : "NG");
      n->set_endpoint(absl::StrCat(id, ".example:7400"));
      n->set_tls_identity(absl::StrCat("trm://node/", id));
      *n->add_signing_keys() = SigningKey(node_key_, kT0);
    }
    v1::DirectoryOrganisation* o = doc_.add_organisations();
    o->set_id("bg-ngo");
    o->set_home_node("bg");
    o->add_roles(v1::NGO);
    o->set_tls_identity("trm://org/bg-ngo");
    // Rotation: the old key ends at T0+10d, the new one starts at T0+5d.
    *o->add_signing_keys() =
        SigningKey(old_key_, kT0 - 100 * kDay, kT0 + 10 * kDay);
    *o->add_signing_keys() = SigningKey(new_key_, kT0 + 5 * kDay);
    // Revoked at T0+2d.
    *o->add_signing_keys() =
        SigningKey(stolen_key_, kT0 - 100 * kDay, 0, kT0 + 2 * kDay);
    *o->add_encryption_keys() = EncryptionKey(enc_old_, kT0 - 100 * kDay);
    *o->add_encryption_keys() = EncryptionKey(enc_new_, kT0 + 5 * kDay);
    v1::DirectoryAuditor* a = doc_.add_auditors();
    a->set_id("grevio");
    a->set_tls_identity("trm://auditor/grevio");
    a->set_scope(v1::AUDIT_LISTED_NODES);
    a->add_nodes("bg");
  }

  std::string SignedBytes(const v1::Directory& doc) {
    auto s = Sign(doc, authority_);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? s->SerializeAsString() : "";
  }
  std::shared_ptr<const Directory> Load(const v1::Directory& doc) {
    auto d = Directory::Verify(SignedBytes(doc), authority_.public_key());
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? *d : nullptr;
  }

  crypto::Ed25519PrivateKey authority_ = *crypto::Ed25519PrivateKey::Generate();
  crypto::Ed25519PrivateKey node_key_ = *crypto::Ed25519PrivateKey::Generate();
  crypto::Ed25519PrivateKey old_key_ = *crypto::Ed25519PrivateKey::Generate();
  crypto::Ed25519PrivateKey new_key_ = *crypto::Ed25519PrivateKey::Generate();
  crypto::Ed25519PrivateKey stolen_key_ =
      *crypto::Ed25519PrivateKey::Generate();
  crypto::X25519PrivateKey enc_old_ = *crypto::X25519PrivateKey::Generate();
  crypto::X25519PrivateKey enc_new_ = *crypto::X25519PrivateKey::Generate();
  v1::Directory doc_;
};

TEST_F(DirectoryTest, SignedDocumentVerifiesAndIndexes) {
  auto dir = Load(doc_);
  ASSERT_NE(dir, nullptr);
  EXPECT_EQ(dir->serial(), 7u);
  EXPECT_EQ(dir->FindOrganisation("bg-ngo")->home_node(), "bg");
  EXPECT_EQ(dir->FindNode("ng")->country(), "NG");
  EXPECT_EQ(dir->FindAuditor("grevio")->nodes(0), "bg");
  EXPECT_EQ(dir->FindOrganisation("it-ngo"), nullptr);
  auto p = dir->FindByTlsIdentity("trm://org/bg-ngo");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->kind, PrincipalKind::kOrganisation);
  EXPECT_EQ(p->id, "bg-ngo");
  EXPECT_EQ(dir->FindByTlsIdentity("trm://node/ng")->kind,
            PrincipalKind::kNode);
  EXPECT_EQ(ErrorReason(dir->FindByTlsIdentity("trm://org/evil").status()),
            "UNKNOWN_IDENTITY");
}

TEST_F(DirectoryTest, TamperedOrForeignSignatureIsRefused) {
  std::string bytes = SignedBytes(doc_);
  v1::SignedDirectory s;
  ASSERT_TRUE(s.ParseFromString(bytes));
  std::string doc = s.directory();
  doc[doc.size() / 2] ^= 1;
  s.set_directory(doc);
  auto tampered =
      Directory::Verify(s.SerializeAsString(), authority_.public_key());
  EXPECT_EQ(tampered.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(ErrorReason(tampered.status()), "DIRECTORY_SIGNATURE_INVALID");
  auto other = *crypto::Ed25519PrivateKey::Generate();
  EXPECT_EQ(ErrorReason(Directory::Verify(bytes, other.public_key()).status()),
            "DIRECTORY_SIGNATURE_INVALID");
  EXPECT_EQ(
      ErrorReason(Directory::Verify("junk", authority_.public_key()).status()),
      "DIRECTORY_MALFORMED");
}

TEST_F(DirectoryTest, InconsistentDocumentsAreNeverSigned) {
  auto refused = [&](v1::Directory d) {
    auto s = Sign(d, authority_);
    EXPECT_EQ(ErrorReason(s.status()), "DIRECTORY_INVALID") << s.status();
  };
  v1::Directory d = doc_;
  d.mutable_organisations(0)->set_home_node("xx");
  refused(d);
  d = doc_;
  *d.add_nodes() = d.nodes(0);
  refused(d);
  d = doc_;
  d.mutable_nodes(1)->set_tls_identity("trm://node/bg");
  refused(d);
  d = doc_;
  d.mutable_organisations(0)->mutable_signing_keys(0)->set_key_id(
      std::string(16, 'x'));
  refused(d);
  d = doc_;
  d.mutable_organisations(0)->mutable_signing_keys(1)->set_valid_until_unix_ms(
      kT0);
  refused(d);
  d = doc_;
  d.mutable_auditors(0)->add_nodes("zz");
  refused(d);
  d = doc_;
  d.set_serial(0);
  refused(d);
}

// A signing key is parsed and checked (the subgroup check costs about a
// verification) once, when the directory loads: every lookup hands out that
// same key, the one the document lists.
TEST_F(DirectoryTest, SigningKeysAreCheckedOnceAtLoad) {
  auto dir = Load(doc_);
  ASSERT_NE(dir, nullptr);
  const absl::Time t = absl::FromUnixMillis(kT0);
  auto a = dir->OrganisationSigningKey("bg-ngo", KeyIdBytes(old_key_), t);
  auto b = dir->OrganisationSigningKey("bg-ngo", KeyIdBytes(old_key_), t);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->pkey(), b->pkey());
  EXPECT_EQ(a->raw(), old_key_.public_key().raw());
}

TEST_F(DirectoryTest, KeyRotationValidityAndRevocation) {
  auto dir = Load(doc_);
  ASSERT_NE(dir, nullptr);
  auto at = [](int64_t ms) { return absl::FromUnixMillis(ms); };
  // The old key until its end, the new one from its start: both in overlap.
  EXPECT_TRUE(
      dir->OrganisationSigningKey("bg-ngo", KeyIdBytes(old_key_), at(kT0))
          .ok());
  EXPECT_TRUE(dir->OrganisationSigningKey("bg-ngo", KeyIdBytes(old_key_),
                                          at(kT0 + 7 * kDay))
                  .ok());
  EXPECT_TRUE(dir->OrganisationSigningKey("bg-ngo", KeyIdBytes(new_key_),
                                          at(kT0 + 7 * kDay))
                  .ok());
  EXPECT_EQ(
      ErrorReason(dir->OrganisationSigningKey("bg-ngo", KeyIdBytes(old_key_),
                                              at(kT0 + 10 * kDay))
                      .status()),
      "KEY_EXPIRED");
  EXPECT_EQ(ErrorReason(dir->OrganisationSigningKey(
                               "bg-ngo", KeyIdBytes(new_key_), at(kT0))
                            .status()),
            "KEY_NOT_YET_VALID");
  // Revoked: before the revocation time it still verifies, after it not.
  EXPECT_TRUE(dir->OrganisationSigningKey("bg-ngo", KeyIdBytes(stolen_key_),
                                          at(kT0 + kDay))
                  .ok());
  auto revoked = dir->OrganisationSigningKey("bg-ngo", KeyIdBytes(stolen_key_),
                                             at(kT0 + 2 * kDay));
  EXPECT_EQ(revoked.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(ErrorReason(revoked.status()), "KEY_REVOKED");
  // Where the message is submitted, revocation counts from the time it is
  // presented, whatever creation time it claims.
  EXPECT_EQ(ErrorReason(
                dir->OrganisationSigningKey("bg-ngo", KeyIdBytes(stolen_key_),
                                            at(kT0 + kDay), at(kT0 + 3 * kDay))
                    .status()),
            "KEY_REVOKED");
  EXPECT_TRUE(dir->OrganisationSigningKey("bg-ngo", KeyIdBytes(stolen_key_),
                                          at(kT0 + kDay), at(kT0 + kDay))
                  .ok());
  EXPECT_EQ(ErrorReason(dir->OrganisationSigningKey(
                               "bg-ngo", KeyIdBytes(node_key_), at(kT0))
                            .status()),
            "SENDER_KEY_UNKNOWN");
  EXPECT_EQ(ErrorReason(dir->OrganisationSigningKey(
                               "it-ngo", KeyIdBytes(old_key_), at(kT0))
                            .status()),
            "UNKNOWN_ORGANISATION");
  EXPECT_TRUE(dir->NodeSigningKey("bg", KeyIdBytes(node_key_), at(kT0)).ok());
  // The encryption key to seal to is the newest one valid at the time.
  EXPECT_EQ(*dir->OrganisationEncryptionKey("bg-ngo", at(kT0)),
            enc_old_.public_key());
  EXPECT_EQ(*dir->OrganisationEncryptionKey("bg-ngo", at(kT0 + 6 * kDay)),
            enc_new_.public_key());
}

TEST_F(DirectoryTest, OnlyNewerSerialsReplace) {
  auto current = Load(doc_);
  v1::Directory next = doc_;
  next.set_serial(8);
  next.mutable_organisations(0)->set_display_name("Animus");
  auto newer = Load(next);
  EXPECT_TRUE(CheckSuccessor(*current, *newer).ok());
  EXPECT_EQ(ErrorReason(CheckSuccessor(*newer, *current)), "DIRECTORY_STALE");
  EXPECT_TRUE(CheckSuccessor(*current, *Load(doc_)).ok())
      << "the same document again changes nothing";
  v1::Directory same_serial = doc_;
  same_serial.mutable_nodes(0)->set_endpoint("elsewhere:1");
  EXPECT_EQ(ErrorReason(CheckSuccessor(*current, *Load(same_serial))),
            "DIRECTORY_STALE");
  v1::Directory other = next;
  other.set_federation("other");
  EXPECT_EQ(ErrorReason(CheckSuccessor(*current, *Load(other))),
            "DIRECTORY_STALE");
}

// A policy for the tests below: 48h to answer a referral to NG, 7 days'
// notice from BG to NG, payloads kept at most 3 days.
v1::FederationPolicy Policy(uint64_t version) {
  v1::FederationPolicy p;
  p.set_version(version);
  p.set_max_retention_seconds(3 * 24 * 3600);
  v1::RoutePeriods* ng = p.add_routes();
  ng->set_route("NG");
  ng->mutable_periods()->set_referral_ack_seconds(48 * 3600);
  v1::RoutePeriods* pair = p.add_routes();
  pair->set_route("BG>NG");
  pair->mutable_periods()->set_travel_notice_working_days(7);
  return p;
}

TEST_F(DirectoryTest, APolicyIsCheckedBeforeItIsSigned) {
  v1::Directory d = doc_;
  *d.mutable_policy() = Policy(1);
  auto dir = Load(d);
  ASSERT_NE(dir, nullptr);
  EXPECT_EQ(dir->doc().policy().routes_size(), 2);
  EXPECT_EQ(dir->MaxRetention(absl::Hours(24 * 7)), absl::Hours(72));
  EXPECT_EQ(dir->MaxRetention(absl::Hours(1)), absl::Hours(1));
  EXPECT_EQ(Load(doc_)->MaxRetention(absl::Hours(24 * 7)), absl::Hours(24 * 7));
  auto refused = [&](const v1::FederationPolicy& p, absl::string_view named) {
    v1::Directory bad = doc_;
    *bad.mutable_policy() = p;
    auto s = Sign(bad, authority_);
    EXPECT_EQ(ErrorReason(s.status()), "DIRECTORY_INVALID") << s.status();
    EXPECT_NE(s.status().message().find(named), std::string::npos)
        << s.status();
  };
  refused(Policy(0), "version 0");
  v1::FederationPolicy short_reflection = Policy(1);
  short_reflection.mutable_routes(1)->mutable_periods()->set_reflection_seconds(
      24 * 3600);
  refused(short_reflection, "policy.pairs.BG>NG: \"reflection\" must be");
  v1::FederationPolicy twice = Policy(1);
  *twice.add_routes() = twice.routes(0);
  refused(twice, "policy.countries.NG: given twice");
  v1::FederationPolicy bad_route = Policy(1);
  bad_route.mutable_routes(1)->set_route("BG>");
  refused(bad_route, "not a pair");
}

TEST_F(DirectoryTest, EveryPolicyChangeRaisesItsVersion) {
  v1::Directory a = doc_;
  *a.mutable_policy() = Policy(2);
  auto current = Load(a);
  v1::Directory b = a;
  b.set_serial(8);
  b.mutable_policy()
      ->mutable_routes(0)
      ->mutable_periods()
      ->set_referral_ack_seconds(24 * 3600);
  const absl::Status same_version = CheckSuccessor(*current, *Load(b));
  EXPECT_EQ(ErrorReason(same_version), "DIRECTORY_STALE");
  EXPECT_NE(same_version.message().find("needs a higher policy version"),
            std::string::npos)
      << same_version;
  b.mutable_policy()->set_version(3);
  EXPECT_TRUE(CheckSuccessor(*current, *Load(b)).ok());
  v1::Directory older = a;
  older.set_serial(9);
  older.mutable_policy()->set_version(1);
  EXPECT_NE(CheckSuccessor(*current, *Load(older))
                .message()
                .find("never rolled back"),
            std::string::npos);
  // A directory change that leaves the policy alone keeps its version.
  v1::Directory c = a;
  c.set_serial(10);
  c.mutable_nodes(0)->set_endpoint("bg2.example:7400");
  EXPECT_TRUE(CheckSuccessor(*current, *Load(c)).ok());
  const std::vector<std::string> d = Diff(a, b);
  EXPECT_NE(std::find(d.begin(), d.end(), "~ policy version 2 -> 3"), d.end())
      << absl::StrJoin(d, "\n");
  EXPECT_NE(std::find(d.begin(), d.end(),
                      "~ policy countries.NG.referral_ack: 48h -> 24h"),
            d.end())
      << absl::StrJoin(d, "\n");
}

// A directory's validity: warnings before valid_until, a grace period after
// it, then no new cases.
TEST_F(DirectoryTest, ValidityWarningGraceAndLapse) {
  const absl::Time until = absl::FromUnixMillis(kT0 + 30 * kDay);
  EXPECT_EQ(Load(doc_)->StandingAt(absl::FromUnixMillis(kT0)).state,
            Standing::kNoEnd);
  v1::Directory d = doc_;
  d.set_valid_until_unix_ms(absl::ToUnixMillis(until));
  auto dir = Load(d);
  ASSERT_NE(dir, nullptr);
  auto at = [&](absl::Duration from_until) {
    return dir->StandingAt(until + from_until).state;
  };
  // The defaults: warnings 14 days before, 7 days of grace.
  EXPECT_EQ(at(-absl::Hours(24 * 15)), Standing::kValid);
  EXPECT_EQ(at(-absl::Hours(24 * 14)), Standing::kExpiring);
  EXPECT_EQ(at(-absl::Seconds(1)), Standing::kExpiring);
  EXPECT_EQ(at(absl::ZeroDuration()), Standing::kGrace);
  EXPECT_EQ(at(absl::Hours(24 * 7) - absl::Seconds(1)), Standing::kGrace);
  EXPECT_EQ(at(absl::Hours(24 * 7)), Standing::kLapsed);
  EXPECT_EQ(
      dir->NewCasesRefusal(until + absl::Hours(24 * 7) - absl::Seconds(1)), "");
  const std::string refusal = dir->NewCasesRefusal(until + absl::Hours(24 * 7));
  EXPECT_NE(refusal.find("serial 7) was valid until 2027-02-14T"),
            std::string::npos)
      << refusal;
  EXPECT_NE(refusal.find("takes no new cases"), std::string::npos);
  // The federation sets both periods in its policy.
  d.mutable_policy()->set_version(1);
  d.mutable_policy()->set_directory_warn_seconds(3600);
  d.mutable_policy()->set_directory_grace_seconds(60);
  dir = Load(d);
  EXPECT_EQ(at(-absl::Hours(2)), Standing::kValid);
  EXPECT_EQ(at(-absl::Minutes(59)), Standing::kExpiring);
  EXPECT_EQ(at(absl::Seconds(59)), Standing::kGrace);
  EXPECT_EQ(at(absl::Seconds(60)), Standing::kLapsed);
  // An end before the issue time is refused.
  d.set_valid_until_unix_ms(kT0 - 1);
  auto s = Sign(d, authority_);
  EXPECT_EQ(ErrorReason(s.status()), "DIRECTORY_INVALID") << s.status();
  EXPECT_NE(s.status().message().find("valid_until is not after"),
            std::string::npos);
  v1::Directory next = doc_;
  next.set_valid_until_unix_ms(absl::ToUnixMillis(until));
  const std::vector<std::string> diff = Diff(doc_, next);
  ASSERT_EQ(diff.size(), 1u);
  EXPECT_EQ(diff[0], "~ valid_until (no end) -> 2027-02-14T08:00:00Z");
}

TEST_F(DirectoryTest, DiffNamesEachChange) {
  v1::Directory next = doc_;
  next.set_serial(8);
  next.mutable_nodes(1)->set_endpoint("ng2.example:7400");
  next.mutable_organisations(0)->mutable_signing_keys(2)->set_revocation_reason(
      "laptop stolen");
  v1::DirectoryOrganisation* o = next.add_organisations();
  o->set_id("ng-naptip");
  o->set_home_node("ng");
  next.clear_auditors();
  std::vector<std::string> d = Diff(doc_, next);
  ASSERT_EQ(d.size(), 5u) << absl::StrJoin(d, "\n");
  EXPECT_EQ(d[0], "~ serial 7 -> 8");
  EXPECT_EQ(d[1],
            "~ node ng: endpoint 'ng.example:7400' -> 'ng2.example:7400'");
  EXPECT_NE(d[2].find("~ organisation bg-ngo: signing key"), std::string::npos);
  EXPECT_EQ(d[3], "+ organisation ng-naptip");
  EXPECT_EQ(d[4], "- auditor grevio");
  EXPECT_TRUE(Diff(doc_, doc_).empty());
}

}  // namespace
}  // namespace trm::directory
