// HPKE behaviour beyond the RFC vectors: round trips with random keys, and
// every way a receiver can be handed the wrong thing.
#include "common/crypto/hpke.h"

#include <gtest/gtest.h>

#include "common/crypto/hkdf.h"
#include "common/status.h"

namespace trm::crypto {
namespace {

std::vector<uint8_t> Bytes(absl::string_view s) { return {s.begin(), s.end()}; }

class HpkeTest : public ::testing::TestWithParam<AeadAlgorithm> {};

TEST_P(HpkeTest, RoundTripAndWrongInputs) {
  auto rcpt = X25519PrivateKey::Generate();
  auto other = X25519PrivateKey::Generate();
  ASSERT_TRUE(rcpt.ok() && other.ok());
  const auto info = Bytes("info");
  const auto aad = Bytes("header bytes");
  const auto pt = Bytes("a referral");

  auto s =
      HpkeSetupSender(HpkeMode::kBase, GetParam(), rcpt->public_key(), info);
  ASSERT_TRUE(s.ok()) << s.status();
  std::vector<uint8_t> ct(pt.size() + kAeadTagSize);
  ASSERT_TRUE(s->context.Seal(aad, pt, ct).ok());

  auto r = HpkeSetupReceiver(HpkeMode::kBase, GetParam(), s->enc, *rcpt, info);
  ASSERT_TRUE(r.ok());
  std::vector<uint8_t> out(pt.size());
  ASSERT_TRUE(r->Open(aad, ct, out).ok());
  EXPECT_EQ(out, pt);

  // Wrong recipient key, wrong info, wrong aad: all fail authentication.
  auto wrong =
      HpkeSetupReceiver(HpkeMode::kBase, GetParam(), s->enc, *other, info);
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(ErrorReason(wrong->Open(aad, ct, out)), "AEAD_AUTH_FAILED");
  auto wrong_info = HpkeSetupReceiver(HpkeMode::kBase, GetParam(), s->enc,
                                      *rcpt, Bytes("other"));
  ASSERT_TRUE(wrong_info.ok());
  EXPECT_FALSE(wrong_info->Open(aad, ct, out).ok());
  auto r2 = HpkeSetupReceiver(HpkeMode::kBase, GetParam(), s->enc, *rcpt, info);
  ASSERT_TRUE(r2.ok());
  EXPECT_FALSE(r2->Open(Bytes("another header"), ct, out).ok());
  EXPECT_EQ(r2->sequence(), 0u) << "a failed open must not advance";
}

INSTANTIATE_TEST_SUITE_P(Aeads, HpkeTest,
                         ::testing::Values(AeadAlgorithm::kAes128Gcm,
                                           AeadAlgorithm::kChaCha20Poly1305));

TEST(Hpke, RejectsLowOrderEncapsulatedKey) {
  auto rcpt = X25519PrivateKey::Generate();
  ASSERT_TRUE(rcpt.ok());
  std::vector<uint8_t> zero(32, 0);  // the point of order 1... encoded as 0
  auto r = HpkeSetupReceiver(HpkeMode::kBase, AeadAlgorithm::kChaCha20Poly1305,
                             zero, *rcpt, {});
  EXPECT_EQ(ErrorReason(r.status()), "X25519_LOW_ORDER_POINT");
  auto s = HpkeSetupSender(HpkeMode::kBase, AeadAlgorithm::kChaCha20Poly1305,
                           zero, {});
  EXPECT_EQ(ErrorReason(s.status()), "X25519_LOW_ORDER_POINT");
}

TEST(Hpke, RejectsBadEncLengthAndPskMisuse) {
  auto rcpt = X25519PrivateKey::Generate();
  ASSERT_TRUE(rcpt.ok());
  std::vector<uint8_t> short_enc(31, 1);
  EXPECT_EQ(
      ErrorReason(HpkeSetupReceiver(HpkeMode::kBase, AeadAlgorithm::kAes128Gcm,
                                    short_enc, *rcpt, {})
                      .status()),
      "HPKE_BAD_ENC");
  auto psk = Bytes("0123456789abcdef0123456789abcdef");
  HpkeSenderOptions only_psk{psk, {}, nullptr, nullptr};
  EXPECT_EQ(
      ErrorReason(HpkeSetupSender(HpkeMode::kPsk, AeadAlgorithm::kAes128Gcm,
                                  rcpt->public_key(), {}, only_psk)
                      .status()),
      "HPKE_BAD_PSK_INPUTS");
  HpkeSenderOptions psk_in_base{psk, Bytes("id"), nullptr, nullptr};
  EXPECT_EQ(
      ErrorReason(HpkeSetupSender(HpkeMode::kBase, AeadAlgorithm::kAes128Gcm,
                                  rcpt->public_key(), {}, psk_in_base)
                      .status()),
      "HPKE_BAD_PSK_INPUTS");
  EXPECT_EQ(
      ErrorReason(HpkeSetupSender(HpkeMode::kAuth, AeadAlgorithm::kAes128Gcm,
                                  rcpt->public_key(), {})
                      .status()),
      "HPKE_BAD_AUTH_INPUTS");
}

TEST(Hkdf, RefusesOverlongOutputWithoutWriting) {
  std::vector<uint8_t> out(kHkdfMaxOutput + 1, 0xaa);
  absl::Status s = Hkdf({}, Bytes("ikm"), {}, out);
  EXPECT_EQ(ErrorReason(s), "HKDF_OUTPUT_TOO_LONG");
  EXPECT_EQ(out[0], 0xaa);
}

}  // namespace
}  // namespace trm::crypto
