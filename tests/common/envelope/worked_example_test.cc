// The worked examples of docs/protocol.md: fixed keys, header and payload
// give exactly the bytes the document shows (section 11), as do fixed keys
// and bodies for a batch of acknowledgements (section 15.1.1), so the
// document cannot drift from the code. Run with TRM_PRINT_EXAMPLE=1 to print
// the values.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/crypto/hpke.h"
#include "common/crypto/key_files.h"
#include "common/envelope/acknowledgement.h"
#include "common/envelope/envelope.h"

namespace trm::envelope {
namespace {

std::vector<uint8_t> Counting(uint8_t start) {
  std::vector<uint8_t> v(32);
  for (int i = 0; i < 32; ++i) v[i] = static_cast<uint8_t>(start + i);
  return v;
}

// The document with all whitespace removed, so hex wrapped across lines is
// found whole.
std::string ProtocolDocCompact() {
  std::ifstream in(TRM_DOCS "/protocol.md");
  EXPECT_TRUE(in.good()) << "cannot read docs/protocol.md";
  std::stringstream ss;
  ss << in.rdbuf();
  std::string out;
  for (char c : ss.str()) {
    if (c != ' ' && c != '\n' && c != '\t') out += c;
  }
  return out;
}

// Prints `values` as the document shows them (with TRM_PRINT_EXAMPLE) and
// checks that the document shows each one.
void CheckShown(const std::vector<std::pair<std::string, std::string>>& values,
                const std::string& prefix) {
  if (std::getenv("TRM_PRINT_EXAMPLE") != nullptr) {
    for (const auto& [name, hex] : values) {
      std::printf("%s%s:\n", prefix.c_str(), name.c_str());
      for (size_t i = 0; i < hex.size(); i += 64) {
        std::printf("%s\n", hex.substr(i, 64).c_str());
      }
    }
  }
  const std::string doc = ProtocolDocCompact();
  for (const auto& [name, hex] : values) {
    EXPECT_NE(doc.find(prefix + name + ":" + hex), std::string::npos)
        << "docs/protocol.md does not show " << prefix << name << " = " << hex;
  }
}

// `prefix`: "" for the ChaCha20Poly1305 example, "aes128gcm_" for the same
// message sealed with AES-128-GCM (section 11.1).
void CheckExample(crypto::AeadAlgorithm aead, const std::string& prefix) {
  auto sender = crypto::Ed25519PrivateKey::FromSeed(Counting(0x00));
  auto recipient = crypto::X25519PrivateKey::FromRaw(Counting(0x20));
  auto ephemeral = crypto::X25519PrivateKey::FromRaw(Counting(0x40));
  ASSERT_TRUE(sender.ok() && recipient.ok() && ephemeral.ok());

  v1::Header h;
  h.set_schema_version(1);
  std::string id;
  for (int i = 0; i < 16; ++i) id += static_cast<char>(i);
  h.set_message_id(id);
  h.set_case_ref("BG-2026-000123");
  h.set_type(v1::REFERRAL_REQUEST);
  h.set_sender_org("bg-ngo-animus");
  h.set_sender_node("bg");
  h.set_recipient_org("ng-naptip");
  h.set_recipient_node("ng");
  h.set_created_unix_ms(1795000000000);
  h.set_expires_unix_ms(1795604800000);
  h.set_consent_ref("CONSENT-7");
  const std::string payload =
      "needs: shelter, medical care; services: reintegration";

  auto env = Seal(h, AsBytes(payload), *sender, recipient->public_key(), aead,
                  Limits(), &*ephemeral);
  ASSERT_TRUE(env.ok()) << env.status();

  auto encap = crypto::HpkeEncap(recipient->public_key(), *ephemeral, nullptr);
  ASSERT_TRUE(encap.ok());
  auto ctx = crypto::HpkeContext::KeySchedule(crypto::HpkeMode::kBase, aead,
                                              encap->shared_secret,
                                              AsBytes(kHpkeInfo), {}, {});
  ASSERT_TRUE(ctx.ok());
  const crypto::Sha256Digest body = BodyHash(env->enc(), env->ciphertext());
  const std::string signed_bytes = SignatureInput(env->header(), body);

  const std::vector<std::pair<std::string, std::string>> values = {
      {"sender_public_key", HexEncode(sender->public_key().raw())},
      {"sender_key_id", HexEncode(crypto::KeyIdOf(sender->public_key()))},
      {"recipient_public_key", HexEncode(recipient->public_key())},
      {"recipient_key_id",
       HexEncode(crypto::X25519KeyIdOf(recipient->public_key()))},
      {"header", HexEncode(AsBytes(env->header()))},
      {"enc", HexEncode(AsBytes(env->enc()))},
      {"shared_secret", HexEncode(encap->shared_secret.view())},
      {"key", HexEncode(ctx->key())},
      {"base_nonce", HexEncode(ctx->base_nonce())},
      {"ciphertext", HexEncode(AsBytes(env->ciphertext()))},
      {"body_hash", HexEncode(body)},
      {"signature_input", HexEncode(AsBytes(signed_bytes))},
      {"signature", HexEncode(AsBytes(env->signature()))},
      {"envelope", HexEncode(AsBytes(env->SerializeAsString()))},
  };
  // The second example shows only what the AEAD changes.
  std::vector<std::pair<std::string, std::string>> shown;
  for (const auto& v : values) {
    if (prefix.empty() ||
        (v.first != "sender_public_key" && v.first != "sender_key_id" &&
         v.first != "recipient_public_key" && v.first != "recipient_key_id" &&
         v.first != "enc" && v.first != "shared_secret")) {
      shown.push_back(v);
    }
  }
  CheckShown(shown, prefix);

  // And the example opens.
  auto parsed = ParsedEnvelope::Parse(env->SerializeAsString());
  ASSERT_TRUE(parsed.ok());
  auto opened = Open(*parsed, sender->public_key(), *recipient,
                     OpenOptions{absl::FromUnixMillis(1795000000000)});
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(AsChars(opened->view()), payload);
}

TEST(WorkedExample, MatchesProtocolDocument) {
  CheckExample(crypto::AeadAlgorithm::kChaCha20Poly1305, "");
}

TEST(WorkedExample, TheAes128GcmExampleMatchesProtocolDocument) {
  CheckExample(crypto::AeadAlgorithm::kAes128Gcm, "aes128gcm_");
}

// Section 15.1.1: three messages acknowledged with one signature, and the
// third one's evidence.
TEST(WorkedExample, TheAcknowledgementBatchMatchesProtocolDocument) {
  std::vector<uint8_t> seed(32);
  for (int i = 0; i < 32; ++i) seed[i] = static_cast<uint8_t>(0x60 + i);
  auto key = crypto::Ed25519PrivateKey::FromSeed(seed);
  ASSERT_TRUE(key.ok());
  std::vector<v1::AcknowledgementBody> bodies(3);
  for (int i = 0; i < 3; ++i) {
    bodies[i].set_message_id(std::string(16, static_cast<char>(i + 1)));
    bodies[i].set_envelope_sha256(std::string(32, static_cast<char>(0xa1 + i)));
    bodies[i].set_recipient_org("ng-naptip");
    bodies[i].set_time_unix_ms(1795000060000);
  }
  auto batch_bytes = SignAcknowledgementBatch(bodies, *key);
  ASSERT_TRUE(batch_bytes.ok());
  auto batch = ParseAcknowledgementBatch(*batch_bytes);
  ASSERT_TRUE(batch.ok()) << batch.status();
  const std::vector<std::string> each = AcknowledgementsOf(*batch);
  auto third = ParseAcknowledgement(each[2]);
  ASSERT_TRUE(third.ok());
  EXPECT_TRUE(VerifyAcknowledgement(*third, key->public_key()).ok());

  std::vector<std::pair<std::string, std::string>> values = {
      {"acknowledger_public_key", HexEncode(key->public_key().raw())},
      {"acknowledger_key_id", HexEncode(crypto::KeyIdOf(key->public_key()))}};
  for (int i = 0; i < 3; ++i) {
    values.push_back({absl::StrCat("body_", i + 1),
                      HexEncode(AsBytes(bodies[i].SerializeAsString()))});
  }
  values.push_back(
      {"batch_root", HexEncode(AsBytes(third->signed_ack.batch_root()))});
  values.push_back(
      {"batch_signature", HexEncode(AsBytes(batch->batch.signature()))});
  values.push_back({"acknowledgement_batch", HexEncode(AsBytes(*batch_bytes))});
  values.push_back({"acknowledgement_3", HexEncode(AsBytes(each[2]))});
  CheckShown(values, "");
}

}  // namespace
}  // namespace trm::envelope
