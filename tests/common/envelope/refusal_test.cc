// Signed refusals: the signature input, round trip, the reasons, and each
// refusal of a refusal with its reason.
#include "common/envelope/refusal.h"

#include <gtest/gtest.h>

#include "common/envelope/acknowledgement.h"
#include "common/status.h"

namespace trm::envelope {
namespace {

class RefusalTest : public ::testing::Test {
 protected:
  RefusalTest() {
    body_.set_message_id(std::string(16, '\x11'));
    body_.set_envelope_sha256(std::string(32, '\x22'));
    body_.set_recipient_org("ng-naptip");
    body_.set_time_unix_ms(1'800'000'000'000);
    body_.set_reason(v1::REFUSAL_CANNOT_OPEN);
    body_.set_text("DECRYPTION_FAILED: the ciphertext does not open");
  }
  crypto::Ed25519PrivateKey key_ = *crypto::Ed25519PrivateKey::Generate();
  v1::RefusalBody body_;
};

TEST_F(RefusalTest, SignatureInputIsLabelZeroBody) {
  EXPECT_EQ(RefusalSignatureInput("abc"),
            std::string("trm-broker/v1 refusal\0abc", 25));
}

TEST_F(RefusalTest, SignParseCheckVerify) {
  auto bytes = SignRefusal(body_, key_);
  ASSERT_TRUE(bytes.ok());
  auto r = ParseRefusal(*bytes);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body.reason(), v1::REFUSAL_CANNOT_OPEN);
  EXPECT_TRUE(CheckRefusalFor(*r, body_.message_id(), body_.envelope_sha256(),
                              "ng-naptip")
                  .ok());
  EXPECT_TRUE(VerifyRefusal(*r, key_.public_key()).ok());
  // The signature is over exactly the label and the body bytes.
  EXPECT_TRUE(key_.public_key().Verify(
      AsBytes(RefusalSignatureInput(r->signed_refusal.body())),
      AsBytes(r->signed_refusal.signature())));
}

TEST_F(RefusalTest, ARefusalIsNeverAnAcknowledgementNorTheOtherWayRound) {
  // The same bytes under the other label do not verify: a refusal cannot be
  // shown as an acknowledgement, nor an acknowledgement as a refusal.
  auto r = ParseRefusal(*SignRefusal(body_, key_));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(key_.public_key().Verify(
      AsBytes(AcknowledgementSignatureInput(r->signed_refusal.body())),
      AsBytes(r->signed_refusal.signature())));
  v1::AcknowledgementBody ack;
  ack.set_message_id(body_.message_id());
  ack.set_envelope_sha256(body_.envelope_sha256());
  ack.set_recipient_org("ng-naptip");
  ack.set_time_unix_ms(body_.time_unix_ms());
  auto as_refusal = ParseRefusal(*SignAcknowledgement(ack, key_));
  // An acknowledgement body names no reason, so it is not a refusal.
  EXPECT_EQ(ErrorReason(as_refusal.status()), "REFUSAL_MALFORMED");
}

TEST_F(RefusalTest, Refusals) {
  auto r = ParseRefusal(*SignRefusal(body_, key_));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ErrorReason(CheckRefusalFor(*r, std::string(16, 'x'),
                                        body_.envelope_sha256(), "ng-naptip")),
            "REFUSAL_MISMATCH");
  EXPECT_EQ(ErrorReason(CheckRefusalFor(*r, body_.message_id(),
                                        std::string(32, 'y'), "ng-naptip")),
            "REFUSAL_MISMATCH");
  EXPECT_EQ(ErrorReason(CheckRefusalFor(*r, body_.message_id(),
                                        body_.envelope_sha256(), "bg-ngo")),
            "REFUSAL_MISMATCH");
  auto other = crypto::Ed25519PrivateKey::Generate();
  EXPECT_EQ(ErrorReason(VerifyRefusal(*r, other->public_key())),
            "REFUSAL_SIGNATURE_INVALID");
  // A reason changed after signing.
  v1::SignedRefusal changed = r->signed_refusal;
  v1::RefusalBody b = r->body;
  b.set_reason(v1::REFUSAL_NOT_OURS);
  changed.set_body(b.SerializeAsString());
  auto reparsed = ParseRefusal(changed.SerializeAsString());
  ASSERT_TRUE(reparsed.ok());
  EXPECT_EQ(ErrorReason(VerifyRefusal(*reparsed, key_.public_key())),
            "REFUSAL_SIGNATURE_INVALID");
  // Malformed: not a message, no reason, an unknown reason, a long text.
  EXPECT_EQ(ErrorReason(ParseRefusal("\xff\xff").status()),
            "REFUSAL_MALFORMED");
  for (int reason : {0, 99}) {
    v1::RefusalBody bad = body_;
    bad.set_reason(static_cast<v1::RefusalReason>(reason));
    EXPECT_EQ(ErrorReason(ParseRefusal(*SignRefusal(bad, key_)).status()),
              "REFUSAL_MALFORMED")
        << reason;
  }
  v1::RefusalBody longer = body_;
  longer.set_text(std::string(kMaxRefusalText, 'x'));
  EXPECT_TRUE(ParseRefusal(*SignRefusal(longer, key_)).ok());
  longer.set_text(std::string(kMaxRefusalText + 1, 'x'));
  EXPECT_EQ(ErrorReason(ParseRefusal(*SignRefusal(longer, key_)).status()),
            "REFUSAL_MALFORMED");
  v1::RefusalBody empty;
  empty.set_reason(v1::REFUSAL_WRONG_TYPE);
  EXPECT_EQ(ErrorReason(ParseRefusal(*SignRefusal(empty, key_)).status()),
            "REFUSAL_MALFORMED");
}

TEST(RefusalReasonTest, TokensBothWays) {
  EXPECT_EQ(RefusalReasonToken(v1::REFUSAL_CANNOT_OPEN), "CANNOT_OPEN");
  EXPECT_EQ(RefusalReasonToken(v1::REFUSAL_NOT_OURS), "NOT_OURS");
  EXPECT_EQ(*ParseRefusalReason("wrong_type"), v1::REFUSAL_WRONG_TYPE);
  EXPECT_EQ(*ParseRefusalReason("NOT_OURS"), v1::REFUSAL_NOT_OURS);
  EXPECT_FALSE(ParseRefusalReason("REASON_UNSPECIFIED").ok());
  EXPECT_FALSE(ParseRefusalReason("bogus").ok());
}

}  // namespace
}  // namespace trm::envelope
