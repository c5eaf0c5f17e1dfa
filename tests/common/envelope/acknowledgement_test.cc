// Signed acknowledgements: the signature input, round trip, and each
// refusal with its reason.
#include "common/envelope/acknowledgement.h"

#include <gtest/gtest.h>

#include "common/status.h"

namespace trm::envelope {
namespace {

class AcknowledgementTest : public ::testing::Test {
 protected:
  AcknowledgementTest() {
    body_.set_message_id(std::string(16, '\x11'));
    body_.set_envelope_sha256(std::string(32, '\x22'));
    body_.set_recipient_org("ng-naptip");
    body_.set_time_unix_ms(1'800'000'000'000);
  }
  crypto::Ed25519PrivateKey key_ = *crypto::Ed25519PrivateKey::Generate();
  v1::AcknowledgementBody body_;
};

TEST_F(AcknowledgementTest, SignatureInputIsLabelZeroBody) {
  EXPECT_EQ(AcknowledgementSignatureInput("abc"),
            std::string("trm-broker/v1 acknowledgement\0abc", 33));
}

TEST_F(AcknowledgementTest, SignParseCheckVerify) {
  auto bytes = SignAcknowledgement(body_, key_);
  ASSERT_TRUE(bytes.ok());
  auto ack = ParseAcknowledgement(*bytes);
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->body.recipient_org(), "ng-naptip");
  EXPECT_TRUE(CheckAcknowledgementFor(*ack, body_.message_id(),
                                      body_.envelope_sha256(), "ng-naptip")
                  .ok());
  EXPECT_TRUE(VerifyAcknowledgement(*ack, key_.public_key()).ok());
  // The signature is over exactly the label and the body bytes.
  EXPECT_TRUE(key_.public_key().Verify(
      AsBytes(AcknowledgementSignatureInput(ack->signed_ack.body())),
      AsBytes(ack->signed_ack.signature())));
}

TEST_F(AcknowledgementTest, Refusals) {
  auto ack = ParseAcknowledgement(*SignAcknowledgement(body_, key_));
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(
      ErrorReason(CheckAcknowledgementFor(
          *ack, std::string(16, 'x'), body_.envelope_sha256(), "ng-naptip")),
      "ACKNOWLEDGEMENT_MISMATCH");
  EXPECT_EQ(ErrorReason(CheckAcknowledgementFor(
                *ack, body_.message_id(), std::string(32, 'y'), "ng-naptip")),
            "ACKNOWLEDGEMENT_MISMATCH");
  EXPECT_EQ(ErrorReason(CheckAcknowledgementFor(
                *ack, body_.message_id(), body_.envelope_sha256(), "bg-ngo")),
            "ACKNOWLEDGEMENT_MISMATCH");
  auto other = crypto::Ed25519PrivateKey::Generate();
  EXPECT_EQ(ErrorReason(VerifyAcknowledgement(*ack, other->public_key())),
            "ACKNOWLEDGEMENT_SIGNATURE_INVALID");
  // A body changed after signing.
  v1::SignedAcknowledgement changed = ack->signed_ack;
  v1::AcknowledgementBody b = ack->body;
  b.set_time_unix_ms(b.time_unix_ms() + 1);
  changed.set_body(b.SerializeAsString());
  auto reparsed = ParseAcknowledgement(changed.SerializeAsString());
  ASSERT_TRUE(reparsed.ok());
  EXPECT_EQ(ErrorReason(VerifyAcknowledgement(*reparsed, key_.public_key())),
            "ACKNOWLEDGEMENT_SIGNATURE_INVALID");
  // Malformed: not a message, short key id, missing body fields.
  EXPECT_EQ(ErrorReason(ParseAcknowledgement("\xff\xff").status()),
            "ACKNOWLEDGEMENT_MALFORMED");
  v1::SignedAcknowledgement short_id = ack->signed_ack;
  short_id.set_key_id("abc");
  EXPECT_EQ(
      ErrorReason(ParseAcknowledgement(short_id.SerializeAsString()).status()),
      "ACKNOWLEDGEMENT_MALFORMED");
  v1::AcknowledgementBody empty;
  auto unsigned_body = SignAcknowledgement(empty, key_);
  EXPECT_EQ(ErrorReason(ParseAcknowledgement(*unsigned_body).status()),
            "ACKNOWLEDGEMENT_MALFORMED");
}

}  // namespace
}  // namespace trm::envelope
