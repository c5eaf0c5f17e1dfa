// RFC 9180 Appendix A.1 and A.2: every X25519 vector, all four modes, for
// AES-128-GCM and ChaCha20Poly1305: setup values, every encryption by
// sequence number, and every export.
#include <gtest/gtest.h>

#include "common/bytes.h"
#include "common/crypto/hpke.h"
#include "common/status.h"
#include "tests/common/crypto/test_vectors.h"

namespace trm::crypto {
namespace {

using testing::HpkeVector;
using testing::Unhex;

std::string Hex(ByteView b) { return HexEncode(b); }

class HpkeRfcVectorTest : public ::testing::TestWithParam<HpkeVector> {};

TEST_P(HpkeRfcVectorTest, MatchesRfc) {
  const HpkeVector& v = GetParam();
  const auto& s = v.setup;
  const auto mode = static_cast<HpkeMode>(std::stoi(s.at("mode")));
  ASSERT_EQ(s.at("kem_id"), "32");
  ASSERT_EQ(s.at("kdf_id"), "1");
  std::optional<AeadAlgorithm> aead =
      AeadFromId(static_cast<uint16_t>(std::stoi(s.at("aead_id"))));
  ASSERT_TRUE(aead.has_value());

  // DeriveKeyPair reproduces the RFC's key pairs.
  auto eph = HpkeDeriveKeyPair(Unhex(s.at("ikmE")));
  auto rcpt = HpkeDeriveKeyPair(Unhex(s.at("ikmR")));
  ASSERT_TRUE(eph.ok() && rcpt.ok());
  EXPECT_EQ(Hex(eph->RawPrivate().view()), s.at("skEm"));
  EXPECT_EQ(Hex(eph->public_key()), s.at("pkEm"));
  EXPECT_EQ(Hex(rcpt->RawPrivate().view()), s.at("skRm"));
  EXPECT_EQ(Hex(rcpt->public_key()), s.at("pkRm"));

  const bool auth = mode == HpkeMode::kAuth || mode == HpkeMode::kAuthPsk;
  std::optional<X25519PrivateKey> sender;
  if (auth) {
    auto sk = HpkeDeriveKeyPair(Unhex(s.at("ikmS")));
    ASSERT_TRUE(sk.ok());
    EXPECT_EQ(Hex(sk->RawPrivate().view()), s.at("skSm"));
    EXPECT_EQ(Hex(sk->public_key()), s.at("pkSm"));
    sender.emplace(std::move(*sk));
  }
  std::vector<uint8_t> psk, psk_id;
  if (s.count("psk")) {
    psk = Unhex(s.at("psk"));
    psk_id = Unhex(s.at("psk_id"));
  }
  const std::vector<uint8_t> info = Unhex(s.at("info"));

  auto encap = HpkeEncap(rcpt->public_key(), *eph, sender ? &*sender : nullptr);
  ASSERT_TRUE(encap.ok()) << encap.status();
  EXPECT_EQ(Hex(encap->enc), s.at("enc"));
  EXPECT_EQ(Hex(encap->shared_secret.view()), s.at("shared_secret"));

  HpkeContext::Trace trace;
  auto traced = HpkeContext::KeySchedule(mode, *aead, encap->shared_secret,
                                         info, psk, psk_id, &trace);
  ASSERT_TRUE(traced.ok()) << traced.status();
  EXPECT_EQ(Hex(trace.key_schedule_context), s.at("key_schedule_context"));
  EXPECT_EQ(Hex(trace.secret.view()), s.at("secret"));

  HpkeSenderOptions sopts{psk, psk_id, sender ? &*sender : nullptr, &*eph};
  auto sctx = HpkeSetupSender(mode, *aead, rcpt->public_key(), info, sopts);
  ASSERT_TRUE(sctx.ok()) << sctx.status();
  EXPECT_EQ(Hex(sctx->enc), s.at("enc"));
  EXPECT_EQ(Hex(sctx->context.key()), s.at("key"));
  EXPECT_EQ(Hex(sctx->context.base_nonce()), s.at("base_nonce"));
  EXPECT_EQ(Hex(sctx->context.exporter_secret()), s.at("exporter_secret"));

  HpkeReceiverOptions ropts{psk, psk_id, std::nullopt};
  if (sender) ropts.sender = sender->public_key();
  auto rctx = HpkeSetupReceiver(mode, *aead, sctx->enc, *rcpt, info, ropts);
  ASSERT_TRUE(rctx.ok()) << rctx.status();
  EXPECT_EQ(Hex(rctx->key()), s.at("key"));
  EXPECT_EQ(Hex(rctx->base_nonce()), s.at("base_nonce"));

  ASSERT_FALSE(v.encryptions.empty());
  for (const auto& e : v.encryptions) {
    SCOPED_TRACE("sequence number " + e.at("sequence number"));
    const uint64_t seq = std::stoull(e.at("sequence number"));
    const auto pt = Unhex(e.at("pt"));
    const auto aad = Unhex(e.at("aad"));
    std::vector<uint8_t> ct(pt.size() + kAeadTagSize);
    sctx->context.set_sequence(seq);
    ASSERT_TRUE(sctx->context.Seal(aad, pt, ct).ok());
    EXPECT_EQ(Hex(ct), e.at("ct"));
    EXPECT_EQ(sctx->context.sequence(), seq + 1);

    std::vector<uint8_t> opened(pt.size());
    rctx->set_sequence(seq);
    ASSERT_TRUE(rctx->Open(aad, Unhex(e.at("ct")), opened).ok());
    EXPECT_EQ(opened, pt);
    // The same ciphertext under the next sequence number must not open.
    EXPECT_FALSE(rctx->Open(aad, Unhex(e.at("ct")), opened).ok());
  }
  // The single-shot base suite the envelope uses gives the same sequence-0
  // ciphertext, and opens it.
  if (mode == HpkeMode::kBase) {
    HpkeBaseSuite suite(*aead, info);
    const auto& e0 = v.encryptions.front();
    ASSERT_EQ(e0.at("sequence number"), "0");
    const auto pt = Unhex(e0.at("pt"));
    std::vector<uint8_t> ct(pt.size() + kAeadTagSize);
    auto enc =
        suite.Seal(rcpt->public_key(), Unhex(e0.at("aad")), pt, ct, &*eph);
    ASSERT_TRUE(enc.ok()) << enc.status();
    EXPECT_EQ(Hex(*enc), s.at("enc"));
    EXPECT_EQ(Hex(ct), e0.at("ct"));
    std::vector<uint8_t> opened(pt.size());
    ASSERT_TRUE(suite.Open(*enc, *rcpt, Unhex(e0.at("aad")), ct, opened).ok());
    EXPECT_EQ(opened, pt);
    ct[0] ^= 1;
    EXPECT_EQ(
        ErrorReason(suite.Open(*enc, *rcpt, Unhex(e0.at("aad")), ct, opened)),
        "AEAD_AUTH_FAILED");
  }

  ASSERT_FALSE(v.exports.empty());
  for (const auto& x : v.exports) {
    std::vector<uint8_t> out(std::stoul(x.at("L")));
    ASSERT_TRUE(
        sctx->context.Export(Unhex(x.at("exporter_context")), out).ok());
    EXPECT_EQ(Hex(out), x.at("exported_value"));
    std::vector<uint8_t> out2(out.size());
    ASSERT_TRUE(rctx->Export(Unhex(x.at("exporter_context")), out2).ok());
    EXPECT_EQ(out2, out);
  }
}

std::vector<HpkeVector> AllVectors() {
  return testing::ParseHpkeVectors(
      testing::ReadTestData("hpke/rfc9180-appendix-a-x25519.txt"));
}

TEST(HpkeRfcVectorFile, HasBothSuitesAndAllModes) {
  std::vector<HpkeVector> all = AllVectors();
  ASSERT_EQ(all.size(), 8u);
  int per_aead[4] = {0, 0, 0, 0};
  for (const auto& v : all) {
    per_aead[std::stoi(v.setup.at("aead_id"))] +=
        1 << std::stoi(v.setup.at("mode"));
  }
  EXPECT_EQ(per_aead[1], 0b1111);  // AES-128-GCM: modes 0..3
  EXPECT_EQ(per_aead[3], 0b1111);  // ChaCha20Poly1305: modes 0..3
}

std::string VectorName(const ::testing::TestParamInfo<HpkeVector>& info) {
  static const char* const kModes[] = {"Base", "Psk", "Auth", "AuthPsk"};
  return std::string(info.param.setup.at("aead_id") == "1" ? "Aes128Gcm"
                                                           : "ChaCha20") +
         kModes[std::stoi(info.param.setup.at("mode"))];
}

INSTANTIATE_TEST_SUITE_P(Rfc9180, HpkeRfcVectorTest,
                         ::testing::ValuesIn(AllVectors()), VectorName);

}  // namespace
}  // namespace trm::crypto
