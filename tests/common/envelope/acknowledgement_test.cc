// Signed acknowledgements, alone and in batches: the signature inputs,
// round trips, each message's evidence from a batch, and each refusal with
// its reason.
#include "common/envelope/acknowledgement.h"

#include <gtest/gtest.h>

#include <functional>

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
  EXPECT_TRUE(CheckAcknowledgementFor(ack->body, body_.message_id(),
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
  EXPECT_EQ(ErrorReason(CheckAcknowledgementFor(ack->body, std::string(16, 'x'),
                                                body_.envelope_sha256(),
                                                "ng-naptip")),
            "ACKNOWLEDGEMENT_MISMATCH");
  EXPECT_EQ(
      ErrorReason(CheckAcknowledgementFor(ack->body, body_.message_id(),
                                          std::string(32, 'y'), "ng-naptip")),
      "ACKNOWLEDGEMENT_MISMATCH");
  EXPECT_EQ(
      ErrorReason(CheckAcknowledgementFor(ack->body, body_.message_id(),
                                          body_.envelope_sha256(), "bg-ngo")),
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

class AcknowledgementBatchTest : public AcknowledgementTest {
 protected:
  // `n` bodies for distinct messages, one organisation, one time.
  std::vector<v1::AcknowledgementBody> Bodies(size_t n) const {
    std::vector<v1::AcknowledgementBody> out(n, body_);
    for (size_t i = 0; i < n; ++i) {
      out[i].set_message_id(std::string(15, '\x11') + static_cast<char>(i));
    }
    return out;
  }
  std::string Reason(const std::string& batch_bytes) const {
    return ErrorReason(ParseAcknowledgementBatch(batch_bytes).status());
  }
};

TEST_F(AcknowledgementBatchTest, SignatureInputIsLabelZeroSizeRoot) {
  EXPECT_EQ(AcknowledgementBatchSignatureInput(258, "root"),
            std::string("trm-broker/v1 acknowledgement-batch\0"
                        "\0\0\0\0\0\0\x01\x02root",
                        48));
}

TEST_F(AcknowledgementBatchTest, EachMessageKeepsEvidenceThatVerifiesAlone) {
  for (size_t n : {1, 2, 3, 5, 8}) {
    const auto bodies = Bodies(n);
    auto bytes = SignAcknowledgementBatch(bodies, key_);
    ASSERT_TRUE(bytes.ok());
    auto batch = ParseAcknowledgementBatch(*bytes);
    ASSERT_TRUE(batch.ok()) << batch.status();
    EXPECT_TRUE(VerifyAcknowledgementBatch(*batch, key_.public_key()).ok());
    const std::vector<std::string> each = AcknowledgementsOf(*batch);
    ASSERT_EQ(each.size(), n);
    for (size_t i = 0; i < n; ++i) {
      auto ack = ParseAcknowledgement(each[i]);
      ASSERT_TRUE(ack.ok()) << ack.status();
      EXPECT_EQ(ack->signed_ack.batch_size(), n);
      EXPECT_EQ(ack->signed_ack.leaf_index(), i);
      EXPECT_TRUE(CheckAcknowledgementFor(ack->body, bodies[i].message_id(),
                                          body_.envelope_sha256(), "ng-naptip")
                      .ok());
      EXPECT_TRUE(VerifyAcknowledgement(*ack, key_.public_key()).ok())
          << "n " << n << " i " << i;
    }
  }
}

TEST_F(AcknowledgementBatchTest, ChangedEvidenceDoesNotVerify) {
  auto batch =
      ParseAcknowledgementBatch(*SignAcknowledgementBatch(Bodies(5), key_));
  ASSERT_TRUE(batch.ok());
  const std::string evidence = AcknowledgementsOf(*batch)[2];
  auto verdict =
      [&](const std::function<void(v1::SignedAcknowledgement&)>& change) {
        v1::SignedAcknowledgement s;
        EXPECT_TRUE(s.ParseFromString(evidence));
        change(s);
        auto ack = ParseAcknowledgement(s.SerializeAsString());
        if (!ack.ok()) return ErrorReason(ack.status());
        return ErrorReason(VerifyAcknowledgement(*ack, key_.public_key()));
      };
  EXPECT_EQ(verdict([](auto&) {}), "");
  // Another leaf's place, a changed path, body, size or root, or the batch
  // signature presented as a single one.
  EXPECT_EQ(verdict([](auto& s) { s.set_leaf_index(3); }),
            "ACKNOWLEDGEMENT_SIGNATURE_INVALID");
  EXPECT_EQ(verdict([](auto& s) { (*s.mutable_inclusion_path(0))[0] ^= 1; }),
            "ACKNOWLEDGEMENT_SIGNATURE_INVALID");
  EXPECT_EQ(verdict([&](auto& s) {
              v1::AcknowledgementBody b;
              b.ParseFromString(s.body());
              b.set_time_unix_ms(b.time_unix_ms() + 1);
              s.set_body(b.SerializeAsString());
            }),
            "ACKNOWLEDGEMENT_SIGNATURE_INVALID");
  EXPECT_EQ(verdict([](auto& s) { s.set_batch_size(6); }),
            "ACKNOWLEDGEMENT_SIGNATURE_INVALID");
  EXPECT_EQ(verdict([](auto& s) { (*s.mutable_batch_root())[0] ^= 1; }),
            "ACKNOWLEDGEMENT_SIGNATURE_INVALID");
  EXPECT_EQ(verdict([](auto& s) {
              s.clear_batch_size();
              s.clear_leaf_index();
              s.clear_inclusion_path();
              s.clear_batch_root();
            }),
            "ACKNOWLEDGEMENT_SIGNATURE_INVALID");
  // Malformed: a leaf outside the batch, a short root, a path too long, or
  // batch fields on one signed alone.
  EXPECT_EQ(verdict([](auto& s) { s.set_leaf_index(5); }),
            "ACKNOWLEDGEMENT_MALFORMED");
  EXPECT_EQ(verdict([](auto& s) { s.mutable_batch_root()->pop_back(); }),
            "ACKNOWLEDGEMENT_MALFORMED");
  EXPECT_EQ(verdict([](auto& s) {
              for (int i = 0; i < 11; ++i) s.add_inclusion_path(s.batch_root());
            }),
            "ACKNOWLEDGEMENT_MALFORMED");
  EXPECT_EQ(verdict([](auto& s) { s.set_batch_size(5000); }),
            "ACKNOWLEDGEMENT_MALFORMED");
  auto alone = ParseAcknowledgement(*SignAcknowledgement(body_, key_));
  v1::SignedAcknowledgement with_path = alone->signed_ack;
  with_path.add_inclusion_path(std::string(32, 'p'));
  EXPECT_EQ(
      ErrorReason(ParseAcknowledgement(with_path.SerializeAsString()).status()),
      "ACKNOWLEDGEMENT_MALFORMED");
}

TEST_F(AcknowledgementBatchTest, BatchRefusals) {
  auto other = crypto::Ed25519PrivateKey::Generate();
  auto batch =
      ParseAcknowledgementBatch(*SignAcknowledgementBatch(Bodies(3), key_));
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(
      ErrorReason(VerifyAcknowledgementBatch(*batch, other->public_key())),
      "ACKNOWLEDGEMENT_SIGNATURE_INVALID");
  // The bodies in another order than signed.
  v1::AcknowledgementBatch swapped = batch->batch;
  swapped.mutable_bodies()->SwapElements(0, 1);
  auto reordered = ParseAcknowledgementBatch(swapped.SerializeAsString());
  ASSERT_TRUE(reordered.ok());
  EXPECT_EQ(
      ErrorReason(VerifyAcknowledgementBatch(*reordered, key_.public_key())),
      "ACKNOWLEDGEMENT_SIGNATURE_INVALID");

  EXPECT_EQ(Reason("\xff\xff"), "ACKNOWLEDGEMENT_MALFORMED");
  v1::AcknowledgementBatch empty = batch->batch;
  empty.clear_bodies();
  EXPECT_EQ(Reason(empty.SerializeAsString()), "ACKNOWLEDGEMENT_MALFORMED");
  v1::AcknowledgementBatch short_sig = batch->batch;
  short_sig.mutable_signature()->pop_back();
  EXPECT_EQ(Reason(short_sig.SerializeAsString()), "ACKNOWLEDGEMENT_MALFORMED");
  // Bodies of two organisations or two times, a body without its fields,
  // and one body too many.
  auto two_orgs = Bodies(2);
  two_orgs[1].set_recipient_org("bg-ngo");
  EXPECT_EQ(Reason(*SignAcknowledgementBatch(two_orgs, key_)),
            "ACKNOWLEDGEMENT_MALFORMED");
  auto two_times = Bodies(2);
  two_times[1].set_time_unix_ms(two_times[0].time_unix_ms() + 1);
  EXPECT_EQ(Reason(*SignAcknowledgementBatch(two_times, key_)),
            "ACKNOWLEDGEMENT_MALFORMED");
  auto short_id = Bodies(2);
  short_id[1].set_message_id("abc");
  EXPECT_EQ(Reason(*SignAcknowledgementBatch(short_id, key_)),
            "ACKNOWLEDGEMENT_MALFORMED");
  EXPECT_EQ(Reason(*SignAcknowledgementBatch(
                Bodies(kMaxAcknowledgementBatch + 1), key_)),
            "ACKNOWLEDGEMENT_MALFORMED");
  EXPECT_TRUE(
      ParseAcknowledgementBatch(
          *SignAcknowledgementBatch(Bodies(kMaxAcknowledgementBatch), key_))
          .ok());
}

}  // namespace
}  // namespace trm::envelope
