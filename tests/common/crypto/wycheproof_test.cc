// Project Wycheproof vectors: every "valid" case accepted with the exact
// output, every "invalid" case rejected, "acceptable" either way but correct
// if accepted.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/bytes.h"
#include "common/crypto/aead.h"
#include "common/crypto/ed25519.h"
#include "common/crypto/gcm_long_nonce.h"
#include "common/crypto/hkdf.h"
#include "common/crypto/x25519.h"
#include "common/status.h"
#include "tests/common/crypto/test_vectors.h"

namespace trm::crypto {
namespace {

using nlohmann::json;
using testing::Unhex;

json Load(const std::string& name) {
  return json::parse(testing::ReadTestData("wycheproof/" + name));
}

struct Tally {
  int valid = 0, invalid = 0, acceptable = 0;
};

// Runs `check` (which returns whether the case was accepted with the right
// output) over every test in every group `use_group` selects.
template <typename GroupFilter, typename Check>
Tally RunAll(const json& file, GroupFilter use_group, Check check) {
  Tally tally;
  for (const json& group : file["testGroups"]) {
    if (!use_group(group)) continue;
    for (const json& t : group["tests"]) {
      const std::string result = t["result"];
      const std::string trace = "tcId " + std::to_string(t["tcId"].get<int>()) +
                                " (" + result +
                                "): " + t["comment"].get<std::string>();
      SCOPED_TRACE(trace);
      const bool accepted = check(group, t);
      if (result == "valid") {
        EXPECT_TRUE(accepted);
        ++tally.valid;
      } else if (result == "invalid") {
        EXPECT_FALSE(accepted);
        ++tally.invalid;
      } else {
        ++tally.acceptable;
      }
    }
  }
  return tally;
}

TEST(Wycheproof, Ed25519) {
  json file = Load("ed25519_test.json");
  Tally t = RunAll(
      file, [](const json&) { return true; },
      [](const json& group, const json& test) {
        auto pk = Ed25519PublicKey::FromRaw(
            Unhex(group["publicKey"]["pk"].get<std::string>()));
        return pk.ok() && pk->Verify(Unhex(test["msg"]), Unhex(test["sig"]));
      });
  EXPECT_EQ(t.valid, 88);
  EXPECT_EQ(t.invalid, 62);
}

TEST(Wycheproof, X25519) {
  json file = Load("x25519_test.json");
  Tally t = RunAll(
      file, [](const json& g) { return g["curve"] == "curve25519"; },
      [](const json&, const json& test) {
        auto sk = X25519PrivateKey::FromRaw(Unhex(test["private"]));
        if (!sk.ok()) return false;
        auto shared = sk->Agree(Unhex(test["public"]));
        if (!shared.ok()) {
          // Only a zero shared secret may be refused.
          EXPECT_EQ(test["shared"], std::string(64, '0')) << shared.status();
          return false;
        }
        // Accepted, whatever the verdict, means the right answer.
        EXPECT_EQ(HexEncode(shared->view()), test["shared"]);
        return HexEncode(shared->view()) == test["shared"];
      });
  EXPECT_EQ(t.valid, 265);
  EXPECT_EQ(t.acceptable, 253);
}

bool AeadCase(AeadAlgorithm alg, const json& test) {
  const auto key = Unhex(test["key"]);
  const auto iv = Unhex(test["iv"]);
  const auto aad = Unhex(test["aad"]);
  const auto msg = Unhex(test["msg"]);
  auto ct_and_tag = Unhex(test["ct"]);
  const auto tag = Unhex(test["tag"]);
  ct_and_tag.insert(ct_and_tag.end(), tag.begin(), tag.end());

  // Decryption must accept exactly the valid cases.
  std::vector<uint8_t> opened(
      ct_and_tag.size() >= kAeadTagSize ? ct_and_tag.size() - kAeadTagSize : 0);
  const bool open_ok = ct_and_tag.size() >= kAeadTagSize &&
                       AeadOpen(alg, key, iv, aad, ct_and_tag, opened).ok();
  if (open_ok) {
    EXPECT_EQ(opened, msg);
  } else {
    // Nothing unauthenticated is left behind.
    EXPECT_EQ(opened, std::vector<uint8_t>(opened.size(), 0));
  }
  // Encryption of a valid case reproduces ct || tag.
  std::vector<uint8_t> sealed(msg.size() + kAeadTagSize);
  const bool seal_ok = AeadSeal(alg, key, iv, aad, msg, sealed).ok();
  if (test["result"] == "valid") {
    EXPECT_TRUE(seal_ok);
    EXPECT_EQ(HexEncode(sealed), HexEncode(ct_and_tag));
  }
  return open_ok && opened == msg;
}

TEST(Wycheproof, ChaCha20Poly1305) {
  json file = Load("chacha20_poly1305_test.json");
  Tally t = RunAll(
      file, [](const json&) { return true; },
      [](const json&, const json& test) {
        return AeadCase(AeadAlgorithm::kChaCha20Poly1305, test);
      });
  EXPECT_EQ(t.valid, 256);
  EXPECT_EQ(t.invalid, 69);
}

TEST(Wycheproof, Aes128GcmGroups) {
  json file = Load("aes_gcm_test.json");
  Tally t = RunAll(
      file, [](const json& g) { return g["keySize"] == 128; },
      [](const json&, const json& test) {
        return AeadCase(AeadAlgorithm::kAes128Gcm, test);
      });
  EXPECT_EQ(t.valid, 79);
  EXPECT_EQ(t.invalid, 29);
}

// The GHASH-based path that serves nonces OpenSSL's GCM refuses (over 128
// bytes), run over every AES-128 case, whatever its nonce length.
TEST(Wycheproof, Aes128GcmAnyNoncePath) {
  json file = Load("aes_gcm_test.json");
  Tally t = RunAll(
      file, [](const json& g) { return g["keySize"] == 128; },
      [](const json&, const json& test) {
        const auto key = Unhex(test["key"]), iv = Unhex(test["iv"]);
        const auto aad = Unhex(test["aad"]), msg = Unhex(test["msg"]);
        auto ct = Unhex(test["ct"]);
        const auto tag = Unhex(test["tag"]);
        ct.insert(ct.end(), tag.begin(), tag.end());
        std::vector<uint8_t> sealed(msg.size() + kAeadTagSize);
        if (test["result"] == "valid") {
          EXPECT_TRUE(GcmSealAnyNonce(key, iv, aad, msg, sealed).ok());
          EXPECT_EQ(HexEncode(sealed), HexEncode(ct));
        }
        if (ct.size() < kAeadTagSize) return false;
        std::vector<uint8_t> opened(ct.size() - kAeadTagSize);
        return GcmOpenAnyNonce(key, iv, aad, ct, opened).ok() && opened == msg;
      });
  EXPECT_EQ(t.valid, 79);
  EXPECT_EQ(t.invalid, 29);
}

TEST(Wycheproof, HkdfSha256) {
  json file = Load("hkdf_sha256_test.json");
  Tally t = RunAll(
      file, [](const json&) { return true; },
      [](const json&, const json& test) {
        std::vector<uint8_t> okm(test["size"].get<size_t>());
        absl::Status s = Hkdf(Unhex(test["salt"]), Unhex(test["ikm"]),
                              Unhex(test["info"]), okm);
        return s.ok() && HexEncode(okm) == test["okm"];
      });
  EXPECT_EQ(t.valid, 83);
  EXPECT_EQ(t.invalid, 3);
}

}  // namespace
}  // namespace trm::crypto
