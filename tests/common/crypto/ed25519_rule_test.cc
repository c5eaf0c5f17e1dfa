// The Ed25519 verification rule of docs/protocol.md section 7, pinned: S
// must be below the group order L, R must not be of small order, public keys
// that are not canonical, of small order or of mixed order are refused, and
// the list of small-order encodings is right (each forges signatures under
// OpenSSL's verification, which is why it is refused). The edge-case vectors
// of tests/testdata/ed25519_edge_cases.json (made by
// tests/interop/ed25519_rule.py, which must agree with every verdict) are
// checked here against the libsodium verifier every binary uses.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <nlohmann/json.hpp>
#include <string>

#include "common/crypto/ed25519.h"
#include "common/crypto/openssl_ptr.h"
#include "common/status.h"
#include "tests/common/crypto/test_vectors.h"

namespace trm::crypto {
namespace {

std::string Hex32(const char* hex) {
  auto b = HexDecode(hex);
  return std::string(b->begin(), b->end());
}

// OpenSSL's own verification, without the key checks of FromRaw.
bool RawVerify(const std::string& key, const std::string& msg,
               const std::string& sig) {
  EvpPkeyPtr pkey(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const unsigned char*>(key.data()), key.size()));
  if (!pkey) return false;
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  return EVP_DigestVerifyInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr,
                                 pkey.get(), nullptr) == 1 &&
         EVP_DigestVerify(
             ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
             sig.size(), reinterpret_cast<const unsigned char*>(msg.data()),
             msg.size()) == 1;
}

const char* const kSmallOrder[] = {
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
};

TEST(Ed25519RuleTest, SmallOrderKeysForgeUnderOpenSslAndAreRefused) {
  const std::string identity = Hex32(kSmallOrder[0]);
  const std::string forged = identity + std::string(32, '\0');  // R=0, S=0
  for (const char* hex : kSmallOrder) {
    for (bool sign : {false, true}) {
      std::string key = Hex32(hex);
      if (sign) key[31] = static_cast<char>(key[31] | 0x80);
      SCOPED_TRACE(HexEncode(AsBytes(key)));
      EXPECT_EQ(ErrorReason(Ed25519PublicKey::FromRaw(AsBytes(key)).status()),
                "BAD_KEY");
      // Why: with R = identity and S = 0, one message in (at most) eight
      // verifies "signed" by this key.
      int forgeries = 0;
      for (int m = 0; m < 64; ++m) {
        forgeries += RawVerify(key, "message " + std::to_string(m), forged);
      }
      if (!(sign && (hex == kSmallOrder[0] || hex == kSmallOrder[2]))) {
        EXPECT_GT(forgeries, 0) << "not a small-order point";
      }
    }
  }
  // An honest key never verifies the forgery.
  auto honest = Ed25519PrivateKey::Generate();
  std::string raw(
      reinterpret_cast<const char*>(honest->public_key().raw().data()), 32);
  EXPECT_TRUE(Ed25519PublicKey::FromRaw(AsBytes(raw)).ok());
  for (int m = 0; m < 64; ++m) {
    EXPECT_FALSE(RawVerify(raw, "message " + std::to_string(m), forged));
  }
}

TEST(Ed25519RuleTest, NonCanonicalKeysAreRefused) {
  // y = p .. 2^255 - 1 (p = 2^255 - 19), either sign.
  for (int low = 0xed; low <= 0xff; ++low) {
    std::string key(32, '\xff');
    key[0] = static_cast<char>(low);
    key[31] = 0x7f;
    EXPECT_EQ(ErrorReason(Ed25519PublicKey::FromRaw(AsBytes(key)).status()),
              "BAD_KEY")
        << low;
    key[31] = static_cast<char>(0xff);
    EXPECT_EQ(ErrorReason(Ed25519PublicKey::FromRaw(AsBytes(key)).status()),
              "BAD_KEY")
        << low;
  }
  // OpenSSL alone takes p + 1, the identity written the long way.
  std::string long_identity(32, '\xff');
  long_identity[0] = static_cast<char>(0xee);
  long_identity[31] = 0x7f;
  EXPECT_TRUE(RawVerify(long_identity, "any",
                        Hex32(kSmallOrder[0]) + std::string(32, '\0')));
}

TEST(Ed25519RuleTest, SMustBeBelowTheGroupOrder) {
  auto key = Ed25519PrivateKey::Generate();
  const std::string msg = "trm";
  auto sig = key->Sign(AsBytes(msg));
  std::string s(reinterpret_cast<const char*>(sig->data()), 64);
  EXPECT_TRUE(key->public_key().Verify(AsBytes(msg), AsBytes(s)));
  // S + L: the same scalar mod L, refused.
  static const uint8_t kL[32] = {
      0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
      0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
      0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};
  int carry = 0;
  for (int i = 0; i < 32; ++i) {
    const int v = static_cast<uint8_t>(s[32 + i]) + kL[i] + carry;
    s[32 + i] = static_cast<char>(v & 0xff);
    carry = v >> 8;
  }
  ASSERT_EQ(carry, 0);
  EXPECT_FALSE(key->public_key().Verify(AsBytes(msg), AsBytes(s)));
}

TEST(Ed25519RuleTest, EdgeCaseVectors) {
  const auto vectors =
      nlohmann::json::parse(testing::ReadTestData("ed25519_edge_cases.json"));
  ASSERT_GE(vectors.size(), 30u);
  int refused_but_loose = 0;
  for (const auto& v : vectors) {
    SCOPED_TRACE(v["name"].get<std::string>() + ": " +
                 v["why"].get<std::string>());
    const auto pk = testing::Unhex(v["pk"]);
    const auto msg = testing::Unhex(v["msg"]);
    const auto sig = testing::Unhex(v["sig"]);
    auto key = Ed25519PublicKey::FromRaw(pk);
    EXPECT_EQ(!key.ok(), v["key_refused"].get<bool>()) << key.status();
    if (!key.ok()) {
      EXPECT_EQ(ErrorReason(key.status()), "BAD_KEY");
    }
    const bool valid = key.ok() && key->Verify(msg, sig);
    EXPECT_EQ(valid, v["valid"].get<bool>());
    // OpenSSL without the key checks is the lenient verifier of the file's
    // loose_valid: what each refusal of the rule keeps out.
    const std::string as_str(pk.begin(), pk.end());
    EXPECT_EQ(RawVerify(as_str, std::string(msg.begin(), msg.end()),
                        std::string(sig.begin(), sig.end())),
              v["loose_valid"].get<bool>());
    refused_but_loose += !valid && v["loose_valid"].get<bool>();
  }
  // The file holds cases a lenient verifier takes and the rule refuses.
  EXPECT_GE(refused_but_loose, 8);
}

}  // namespace
}  // namespace trm::crypto
