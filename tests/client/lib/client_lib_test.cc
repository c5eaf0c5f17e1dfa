// The client library without a node: the profile file, and sealing to the
// recipient's key from the signed directory.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "absl/time/clock.h"
#include "common/crypto/key_files.h"
#include "common/directory/directory.h"
#include "common/envelope/envelope.h"
#include "common/status.h"
#include "trm/client/client.h"

namespace trm::client {
namespace {

constexpr int64_t kDay = 24 * 3600 * 1000LL;

class ClientLibTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/trm-client-lib-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(
        crypto::WritePrivateKeyFile(dir_ + "/bg-ngo.sign.key", sender_.pkey())
            .ok());
    ASSERT_TRUE(crypto::WritePublicKeyFile(
                    dir_ + "/authority.sign.pub",
                    crypto::Ed25519PublicKeyPem(authority_.public_key()))
                    .ok());
    ASSERT_TRUE(crypto::WritePublicKeyFile(
                    dir_ + "/other.sign.pub",
                    crypto::Ed25519PublicKeyPem(other_.public_key()))
                    .ok());
    // ng-naptip rotated its encryption key yesterday: seal to the new one.
    const int64_t now = absl::ToUnixMillis(absl::Now());
    v1::Directory doc;
    doc.set_federation("trm-test");
    doc.set_serial(1);
    doc.set_issued_unix_ms(now);
    for (const char* id : {"bg", "ng"}) {
      v1::DirectoryNode* n = doc.add_nodes();
      n->set_id(id);
      n->set_country(id == std::string("bg") ? "BG" : "NG");
      n->set_endpoint(std::string(id) + ".example:7400");
    }
    v1::DirectoryOrganisation* o = doc.add_organisations();
    o->set_id("ng-naptip");
    o->set_home_node("ng");
    o->add_roles(v1::RECEIVING_ORGANISATION);
    for (const auto& [key, from] :
         {std::pair{&enc_old_, now - 100 * kDay}, {&enc_new_, now - kDay}}) {
      v1::DirectoryKey* k = o->add_encryption_keys();
      const crypto::KeyId id = crypto::X25519KeyIdOf(key->public_key());
      k->set_key_id(id.data(), id.size());
      k->set_public_key(key->public_key().data(), 32);
      k->set_valid_from_unix_ms(from);
    }
    absl::StatusOr<v1::SignedDirectory> signed_doc =
        directory::Sign(doc, authority_);
    ASSERT_TRUE(signed_doc.ok()) << signed_doc.status();
    std::ofstream(dir_ + "/directory.signed", std::ios::binary)
        << signed_doc->SerializeAsString();
    profile_.identity = {"bg-ngo", "bg", dir_ + "/bg-ngo.sign.key", ""};
    profile_.trust.directory_file = dir_ + "/directory.signed";
    profile_.trust.authority_pub_file = dir_ + "/authority.sign.pub";
    message_.type = v1::REFERRAL_REQUEST;
    message_.case_ref = "BG-2026-1";
    message_.recipient_org = "ng-naptip";
    message_.consent_ref = "C-1";
    v1::ReferralRequest referral;
    referral.set_reason("referral");
    message_.payload = referral.SerializeAsString();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name) << text;
  }

  crypto::Ed25519PrivateKey sender_ = *crypto::Ed25519PrivateKey::Generate();
  crypto::Ed25519PrivateKey authority_ = *crypto::Ed25519PrivateKey::Generate();
  crypto::Ed25519PrivateKey other_ = *crypto::Ed25519PrivateKey::Generate();
  crypto::X25519PrivateKey enc_old_ = *crypto::X25519PrivateKey::Generate();
  crypto::X25519PrivateKey enc_new_ = *crypto::X25519PrivateKey::Generate();
  std::string dir_;
  Profile profile_;
  Message message_;
};

// Where a message waits: only while it is queued for another node, with
// that link's state when the node gave it.
TEST(WhereHeldTest, SaysWhereSinceWhenAndWhy) {
  constexpr int64_t kT = 1'800'000'000'000;  // 2027-01-15T08:00:00Z
  Evidence e;
  e.status.set_state(v1::ACCEPTED);
  e.status.set_queue("ng-naptip");
  e.status.set_accepted_unix_ms(kT);
  e.status.set_expires_unix_ms(kT + 30 * 86'400'000LL);
  EXPECT_EQ(WhereHeld(e, kT), "") << "in the recipient's own mailbox";
  e.status.set_queue(">ng");
  EXPECT_EQ(WhereHeld(e, kT),
            "held at the sender's node for node ng since 2027-01-15T08:00:00Z");
  v1::PeerLink& l = e.link.emplace();
  l.set_node("ng");
  l.set_last_success_unix_ms(kT - 1000);
  EXPECT_NE(WhereHeld(e, kT).find("the link to ng is up (last relay "
                                  "2027-01-15T07:59:59Z): it goes with the "
                                  "next batch"),
            std::string::npos)
      << WhereHeld(e, kT);
  l.set_consecutive_failures(4);
  l.set_failing_since_unix_ms(kT + 60'000);
  l.set_next_attempt_unix_ms(kT + 120'000);
  l.set_last_error("RELAY_FAILED: connection refused");
  const std::string held = WhereHeld(e, kT + 90'000);
  EXPECT_NE(held.find("the link to ng has failed since 2027-01-15T08:01:00Z "
                      "(4 attempts, next at 2027-01-15T08:02:00Z; last error: "
                      "RELAY_FAILED: connection refused). Nothing is lost: it "
                      "goes when ng answers, if before it expires at "
                      "2027-02-14T08:00:00Z"),
            std::string::npos)
      << held;
  e.status.set_state(v1::RELAYED);
  EXPECT_EQ(WhereHeld(e, kT), "");
}

TEST_F(ClientLibTest, TheProfileTakesPathsFromItsOwnFolder) {
  Write("p.json",
        R"({"node": "bg.example:7400", "token_file": "keys/bg-ngo.token",
            "org": "bg-ngo", "home_node": "bg", "sign_key": "/abs/k",
            "directory": "d.signed", "authority_pub": "a.pub",
            "_note": "a comment"})");
  absl::StatusOr<Profile> p = LoadProfile(dir_ + "/p.json");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->connect.address, "bg.example:7400");
  EXPECT_EQ(p->connect.dev_token_file, dir_ + "/keys/bg-ngo.token");
  EXPECT_EQ(p->identity.sign_key_file, "/abs/k");
  EXPECT_EQ(p->trust.directory_file, dir_ + "/d.signed");
  EXPECT_EQ(p->identity.org, "bg-ngo");
}

TEST_F(ClientLibTest, AProfileSaysWhatIsWrongWithIt) {
  Write("typo.json", R"({"nod": "x"})");
  absl::StatusOr<Profile> p = LoadProfile(dir_ + "/typo.json");
  EXPECT_EQ(ReasonOf(p.status()), "CONFIG_INVALID");
  EXPECT_NE(p.status().message().find("unknown key \"nod\""), std::string::npos)
      << p.status();
  Write("half.json", R"({"directory": "d.signed"})");
  p = LoadProfile(dir_ + "/half.json");
  EXPECT_EQ(ReasonOf(p.status()), "CONFIG_INVALID");
  EXPECT_NE(p.status().message().find("authority_pub"), std::string::npos)
      << p.status();
  p = LoadProfile(dir_ + "/missing.json");
  EXPECT_EQ(ReasonOf(p.status()), "FILE_IO");
  EXPECT_EQ(ReasonOf(absl::OkStatus()), "");
}

TEST_F(ClientLibTest, SealTakesTheRecipientsNodeAndCurrentKeyFromTheDirectory) {
  absl::StatusOr<Sealed> sealed = Seal(message_, profile_);
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ(sealed->header.recipient_node(), "ng");
  EXPECT_EQ(sealed->header.sender_org(), "bg-ngo");
  const crypto::KeyId want = crypto::X25519KeyIdOf(enc_new_.public_key());
  EXPECT_EQ(sealed->header.recipient_key_id(),
            std::string(want.begin(), want.end()));
  absl::StatusOr<envelope::ParsedEnvelope> parsed =
      envelope::ParsedEnvelope::Parse(sealed->envelope);
  ASSERT_TRUE(parsed.ok());
  absl::StatusOr<SecretBytes> opened =
      envelope::Open(*parsed, sender_.public_key(), enc_new_, {absl::Now()});
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(std::string(opened->view().begin(), opened->view().end()),
            message_.payload);
}

TEST_F(ClientLibTest, TheHeaderIsTakenFromThePayloadAndMustAgreeWithIt) {
  v1::ConsentRecord consent;
  consent.set_granted(true);
  consent.set_consent_ref("C-9");
  message_.type = v1::CONSENT_RECORD;
  message_.consent_ref.clear();
  message_.payload = consent.SerializeAsString();
  absl::StatusOr<Sealed> sealed = Seal(message_, profile_);
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ(sealed->header.outcome(), v1::CONSENT_GRANTED);
  EXPECT_EQ(sealed->header.consent_ref(), "C-9");
  message_.outcome = v1::CONSENT_WITHDRAWN;  // says what the payload does not
  absl::Status s = Seal(message_, profile_).status();
  EXPECT_EQ(ReasonOf(s), "HEADER_PAYLOAD_MISMATCH");
  EXPECT_EQ(RefusalFor(s), v1::REFUSAL_HEADER_PAYLOAD_MISMATCH);
  message_.outcome = v1::STEP_OUTCOME_UNSPECIFIED;
  message_.consent_ref = "C-8";
  EXPECT_EQ(ReasonOf(Seal(message_, profile_).status()),
            "HEADER_PAYLOAD_MISMATCH");

  v1::TravelArrangement travel;
  travel.mutable_departure()->set_seconds(1900000000);
  message_.type = v1::TRAVEL_ARRANGEMENT;
  message_.consent_ref = "C-9";
  message_.payload = travel.SerializeAsString();
  sealed = Seal(message_, profile_);
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ(sealed->header.departure_unix_ms(), 1900000000000);
  message_.departure = absl::FromUnixSeconds(1900000001);
  EXPECT_EQ(ReasonOf(Seal(message_, profile_).status()),
            "HEADER_PAYLOAD_MISMATCH");

  message_.departure.reset();
  message_.type = v1::RISK_ASSESSMENT;  // the question left unanswered
  message_.payload = v1::RiskAssessment().SerializeAsString();
  s = Seal(message_, profile_).status();
  EXPECT_EQ(ReasonOf(s), "PAYLOAD_FIELD_REQUIRED");
  EXPECT_EQ(RefusalFor(s), v1::REFUSAL_WRONG_TYPE);
  message_.payload = "not a payload";
  EXPECT_EQ(ReasonOf(Seal(message_, profile_).status()), "PAYLOAD_INVALID");
  EXPECT_EQ(RefusalFor(absl::UnavailableError("down")),
            v1::REFUSAL_REASON_UNSPECIFIED);
}

TEST_F(ClientLibTest, SealRefusesWhatItCannotSealSafely) {
  message_.recipient_org = "it-nobody";
  EXPECT_EQ(ReasonOf(Seal(message_, profile_).status()),
            "UNKNOWN_ORGANISATION");
  message_.recipient_org = "ng-naptip";
  // A directory signed by someone else is not trusted.
  Profile forged = profile_;
  forged.trust.authority_pub_file = dir_ + "/other.sign.pub";
  EXPECT_EQ(ReasonOf(Seal(message_, forged).status()),
            "DIRECTORY_SIGNATURE_INVALID");
  // No directory and no key file: nothing to seal to.
  Profile offline = profile_;
  offline.trust = {};
  message_.recipient_node = "ng";
  absl::Status s = Seal(message_, offline).status();
  EXPECT_EQ(ReasonOf(s), "USAGE");
  EXPECT_NE(s.message().find("--recipient-pub"), std::string::npos) << s;
  Profile anonymous = profile_;
  anonymous.identity.org.clear();
  EXPECT_EQ(ReasonOf(Seal(message_, anonymous).status()), "USAGE");
}

}  // namespace
}  // namespace trm::client
