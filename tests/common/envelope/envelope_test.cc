// Envelope seal/verify/open, and every kind of bad input the protocol
// promises a distinct, clear error for.
#include "common/envelope/envelope.h"

#include <gtest/gtest.h>

#include "common/crypto/key_files.h"
#include "common/status.h"

namespace trm::envelope {
namespace {

using crypto::AeadAlgorithm;
using crypto::Ed25519PrivateKey;
using crypto::X25519PrivateKey;

constexpr int64_t kNowMs = 1795000000000;  // 2026-11-18, a fixed test time

struct Org {
  Ed25519PrivateKey sign;
  X25519PrivateKey enc;
};

Org MakeOrg() {
  return Org{*Ed25519PrivateKey::Generate(), *X25519PrivateKey::Generate()};
}

v1::Header ReferralHeader() {
  v1::Header h;
  h.set_schema_version(kSchemaVersion);
  h.set_message_id(NewMessageId());
  h.set_case_ref("BG-2026-000123");
  h.set_type(v1::REFERRAL_REQUEST);
  h.set_sender_org("bg-ngo-animus");
  h.set_sender_node("bg");
  h.set_recipient_org("ng-naptip");
  h.set_recipient_node("ng");
  h.set_created_unix_ms(kNowMs);
  h.set_expires_unix_ms(kNowMs + 7 * 24 * 3600 * 1000LL);
  h.set_consent_ref("CONSENT-7");
  return h;
}

OpenOptions At(int64_t ms) { return OpenOptions{absl::FromUnixMillis(ms)}; }

class EnvelopeTest : public ::testing::TestWithParam<AeadAlgorithm> {
 protected:
  Org sender_ = MakeOrg();
  Org recipient_ = MakeOrg();
  std::string payload_ = "needs: shelter, medical; reason: return requested";

  std::string SealWire(const v1::Header& h) {
    auto env = Seal(h, AsBytes(payload_), sender_.sign,
                    recipient_.enc.public_key(), GetParam());
    EXPECT_TRUE(env.ok()) << env.status();
    return env->SerializeAsString();
  }
  absl::StatusOr<SecretBytes> OpenWire(absl::string_view wire,
                                       int64_t now_ms = kNowMs) {
    ASSIGN_OR_RETURN(ParsedEnvelope p, ParsedEnvelope::Parse(wire));
    return Open(p, sender_.sign.public_key(), recipient_.enc, At(now_ms));
  }
  std::string OpenReason(absl::string_view wire) {
    auto r = OpenWire(wire);
    EXPECT_FALSE(r.ok());
    EXPECT_FALSE(r.status().message().empty());
    return ErrorReason(r.status());
  }
};

TEST_P(EnvelopeTest, SealThenOpen) {
  v1::Header h = ReferralHeader();
  std::string wire = SealWire(h);
  auto parsed = ParsedEnvelope::Parse(wire);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->header().case_ref(), "BG-2026-000123");
  EXPECT_EQ(static_cast<int>(parsed->aead()), static_cast<int>(GetParam()));
  EXPECT_TRUE(VerifySignature(*parsed, sender_.sign.public_key()).ok());
  auto payload = OpenWire(wire);
  ASSERT_TRUE(payload.ok()) << payload.status();
  EXPECT_EQ(AsChars(payload->view()), payload_);
  // The payload is nowhere in the envelope in clear.
  EXPECT_EQ(wire.find("shelter"), std::string::npos);
}

TEST_P(EnvelopeTest, EmptyAndMaximumPayloads) {
  payload_.clear();
  auto empty = OpenWire(SealWire(ReferralHeader()));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->size(), 0u);
  payload_.assign(Limits().max_payload_bytes, 'x');
  auto big = OpenWire(SealWire(ReferralHeader()));
  ASSERT_TRUE(big.ok()) << big.status();
  EXPECT_EQ(big->size(), payload_.size());
}

TEST_P(EnvelopeTest, EveryTruncationIsRefused) {
  std::string wire = SealWire(ReferralHeader());
  for (size_t len = 0; len < wire.size(); ++len) {
    auto r = OpenWire(absl::string_view(wire).substr(0, len));
    ASSERT_FALSE(r.ok()) << "truncated to " << len;
    std::string reason = ErrorReason(r.status());
    EXPECT_TRUE(reason == "ENVELOPE_MALFORMED" ||
                reason == "HEADER_MALFORMED" || reason == "HEADER_INVALID" ||
                reason == "SIGNATURE_INVALID")
        << len << ": " << r.status();
  }
}

TEST_P(EnvelopeTest, EveryFlippedBitIsRefused) {
  std::string wire = SealWire(ReferralHeader());
  // Each bit of the whole envelope, at a stride that keeps the run short but
  // visits every field; the stride is odd so every bit position is covered.
  for (size_t bit = 0; bit < wire.size() * 8; bit += 7) {
    std::string bad = wire;
    bad[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    auto r = OpenWire(bad);
    ASSERT_FALSE(r.ok()) << "bit " << bit << " flipped was accepted";
  }
}

TEST_P(EnvelopeTest, WrongRecipientKey) {
  std::string wire = SealWire(ReferralHeader());
  Org stranger = MakeOrg();
  auto parsed = ParsedEnvelope::Parse(wire);
  ASSERT_TRUE(parsed.ok());
  auto r = Open(*parsed, sender_.sign.public_key(), stranger.enc, At(kNowMs));
  EXPECT_EQ(ErrorReason(r.status()), "RECIPIENT_KEY_MISMATCH");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_P(EnvelopeTest, WrongSenderKey) {
  std::string wire = SealWire(ReferralHeader());
  Org impostor = MakeOrg();
  auto parsed = ParsedEnvelope::Parse(wire);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(ErrorReason(VerifySignature(*parsed, impostor.sign.public_key())),
            "SENDER_KEY_MISMATCH");
  // Signed by an impostor who claims the real sender's key id.
  auto forged = Seal(ReferralHeader(), AsBytes(payload_), impostor.sign,
                     recipient_.enc.public_key(), GetParam());
  ASSERT_TRUE(forged.ok());
  forged->set_sender_key_id(parsed->envelope().sender_key_id());
  EXPECT_EQ(OpenReason(forged->SerializeAsString()), "SIGNATURE_INVALID");
}

TEST_P(EnvelopeTest, UnknownAeadId) {
  v1::Envelope env;
  ASSERT_TRUE(env.ParseFromString(SealWire(ReferralHeader())));
  v1::Header h;
  ASSERT_TRUE(h.ParseFromString(env.header()));
  h.set_aead_id(static_cast<v1::AeadId>(2));  // AES-256-GCM: not supported
  env.set_header(h.SerializeAsString());
  auto r = ParsedEnvelope::Parse(env.SerializeAsString());
  EXPECT_EQ(ErrorReason(r.status()), "UNKNOWN_AEAD");
  EXPECT_NE(r.status().message().find("use 1 (AES-128-GCM) or 3"),
            std::string::npos);
}

TEST_P(EnvelopeTest, OversizeFields) {
  v1::Header h = ReferralHeader();
  h.set_case_ref(std::string(65, 'C'));
  auto sealed = Seal(h, AsBytes(payload_), sender_.sign,
                     recipient_.enc.public_key(), GetParam());
  EXPECT_EQ(ErrorReason(sealed.status()), "FIELD_TOO_LARGE");
  EXPECT_NE(sealed.status().message().find("case_ref is 65 bytes"),
            std::string::npos);

  std::string big(Limits().max_payload_bytes + 1, 'x');
  sealed = Seal(ReferralHeader(), AsBytes(big), sender_.sign,
                recipient_.enc.public_key(), GetParam());
  EXPECT_EQ(ErrorReason(sealed.status()), "FIELD_TOO_LARGE");

  // A forged envelope with an oversize ciphertext is refused before any
  // crypto, and so is one over the total limit.
  v1::Envelope env;
  ASSERT_TRUE(env.ParseFromString(SealWire(ReferralHeader())));
  env.mutable_ciphertext()->append(Limits().max_payload_bytes, 'x');
  EXPECT_EQ(OpenReason(env.SerializeAsString()), "FIELD_TOO_LARGE");
  env.mutable_ciphertext()->append(16384, 'x');
  EXPECT_EQ(OpenReason(env.SerializeAsString()), "FIELD_TOO_LARGE");
  ASSERT_TRUE(env.ParseFromString(SealWire(ReferralHeader())));
  env.mutable_header()->append(5000, '\0');
  EXPECT_EQ(OpenReason(env.SerializeAsString()), "FIELD_TOO_LARGE");
}

TEST_P(EnvelopeTest, ExpiredAndFutureMessages) {
  v1::Header h = ReferralHeader();
  std::string wire = SealWire(h);
  auto expired = OpenWire(wire, h.expires_unix_ms());
  EXPECT_EQ(ErrorReason(expired.status()), "MESSAGE_EXPIRED");
  EXPECT_NE(expired.status().message().find("expired at 2026-11-25"),
            std::string::npos)
      << expired.status();
  auto early = OpenWire(wire, kNowMs - 6 * 60 * 1000);
  EXPECT_EQ(ErrorReason(early.status()), "CREATED_IN_FUTURE");
  EXPECT_TRUE(OpenWire(wire, kNowMs - 4 * 60 * 1000).ok());
  // Forensics may open an expired message on purpose.
  auto parsed = ParsedEnvelope::Parse(wire);
  OpenOptions opts = At(h.expires_unix_ms() + 1);
  opts.allow_expired = true;
  EXPECT_TRUE(
      Open(*parsed, sender_.sign.public_key(), recipient_.enc, opts).ok());
}

TEST_P(EnvelopeTest, HeaderAndCiphertextSwappedBetweenEnvelopes) {
  v1::Envelope a, b;
  ASSERT_TRUE(a.ParseFromString(SealWire(ReferralHeader())));
  payload_ = "a different message";
  ASSERT_TRUE(b.ParseFromString(SealWire(ReferralHeader())));
  // A relay that moves a body under another header breaks the signature.
  v1::Envelope swapped = a;
  swapped.set_enc(b.enc());
  swapped.set_ciphertext(b.ciphertext());
  EXPECT_EQ(OpenReason(swapped.SerializeAsString()), "SIGNATURE_INVALID");
  // Even the sender cannot re-sign a body under another header: the header is
  // the AEAD's associated data, so it does not decrypt.
  std::string input =
      SignatureInput(swapped.header(), BodyHash(b.enc(), b.ciphertext()));
  auto sig = sender_.sign.Sign(AsBytes(input));
  ASSERT_TRUE(sig.ok());
  swapped.set_signature(sig->data(), sig->size());
  EXPECT_EQ(OpenReason(swapped.SerializeAsString()), "DECRYPTION_FAILED");
}

TEST_P(EnvelopeTest, HeaderRules) {
  struct Case {
    const char* name;
    void (*mutate)(v1::Header&);
    const char* reason;
  };
  const Case cases[] = {
      {"schema", [](v1::Header& h) { h.set_schema_version(2); },
       "UNSUPPORTED_SCHEMA_VERSION"},
      {"id", [](v1::Header& h) { h.set_message_id("short"); },
       "HEADER_INVALID"},
      {"case", [](v1::Header& h) { h.clear_case_ref(); }, "HEADER_INVALID"},
      {"case-space", [](v1::Header& h) { h.set_case_ref("Jane Doe"); },
       "HEADER_INVALID"},
      {"type", [](v1::Header& h) { h.set_type(v1::MESSAGE_TYPE_UNSPECIFIED); },
       "HEADER_INVALID"},
      {"type-unknown",
       [](v1::Header& h) { h.set_type(static_cast<v1::MessageType>(99)); },
       "HEADER_INVALID"},
      {"org", [](v1::Header& h) { h.set_sender_org("-bad"); },
       "HEADER_INVALID"},
      {"node", [](v1::Header& h) { h.clear_recipient_node(); },
       "HEADER_INVALID"},
      {"expiry",
       [](v1::Header& h) { h.set_expires_unix_ms(h.created_unix_ms()); },
       "HEADER_INVALID"},
      {"reply", [](v1::Header& h) { h.set_in_reply_to("x"); },
       "HEADER_INVALID"},
      {"departure", [](v1::Header& h) { h.set_departure_unix_ms(-1); },
       "HEADER_INVALID"},
  };
  for (const Case& c : cases) {
    v1::Header h = ReferralHeader();
    c.mutate(h);
    auto sealed = Seal(h, AsBytes(payload_), sender_.sign,
                       recipient_.enc.public_key(), GetParam());
    EXPECT_EQ(ErrorReason(sealed.status()), c.reason)
        << c.name << ": " << sealed.status();
  }
}

TEST_P(EnvelopeTest, UnknownFieldsAreRefused) {
  std::string wire = SealWire(ReferralHeader());
  wire.append("\xa0\x06\x01", 3);  // field 100, varint 1
  EXPECT_EQ(OpenReason(wire), "ENVELOPE_MALFORMED");
}

// Section 4's decoding rules: whatever a strict reader could read
// differently from this one is refused.
TEST_P(EnvelopeTest, HeadersThatTwoReadersCouldReadDifferentlyAreRefused) {
  v1::Envelope sealed;
  ASSERT_TRUE(sealed.ParseFromString(SealWire(ReferralHeader())));
  v1::Header base;
  ASSERT_TRUE(base.ParseFromString(sealed.header()));
  const std::string canonical = base.SerializeAsString();
  ASSERT_EQ(canonical, sealed.header()) << "Seal writes the canonical form";
  auto with_header = [&](const std::string& header) {
    v1::Envelope env;
    env.set_header(header);
    env.set_enc(std::string(32, 'e'));
    env.set_ciphertext(std::string(32, 'c'));
    env.set_sender_key_id(std::string(16, 'k'));
    env.set_signature(std::string(64, 's'));
    return ErrorReason(ParsedEnvelope::Parse(env.SerializeAsString()).status());
  };
  auto field = [](int number, int wire, const std::string& value) {
    std::string out;
    for (uint64_t key = static_cast<uint64_t>(number) << 3 | wire;;) {
      out.push_back(static_cast<char>((key & 0x7f) | (key > 0x7f ? 0x80 : 0)));
      if ((key >>= 7) == 0) break;
    }
    if (wire == 2) out.push_back(static_cast<char>(value.size()));
    return out + value;
  };
  // The canonical header passes this stage (it fails only at the signature).
  EXPECT_EQ(with_header(canonical), "");
  // recipient_org twice: protobuf takes the last, another reader the first.
  EXPECT_EQ(with_header(canonical + field(7, 2, "it-ngo")),
            "HEADER_NOT_CANONICAL");
  // schema_version 2^32 + 1, which a uint32 reader truncates to 1.
  v1::Header h = base;
  h.clear_schema_version();
  EXPECT_EQ(with_header(field(1, 0, std::string("\x81\x80\x80\x80\x10", 5)) +
                        h.SerializeAsString()),
            "HEADER_NOT_CANONICAL");
  // schema_version 1 in a two-byte varint.
  EXPECT_EQ(with_header(field(1, 0, std::string("\x81\x00", 2)) +
                        h.SerializeAsString()),
            "HEADER_NOT_CANONICAL");
  // A bool written as 2.
  EXPECT_EQ(with_header(canonical + field(13, 0, "\x02")),
            "HEADER_NOT_CANONICAL");
  // A default value written out (minor = false).
  EXPECT_EQ(with_header(canonical + field(13, 0, std::string(1, '\0'))),
            "HEADER_NOT_CANONICAL");
  // Out of order: schema_version last.
  EXPECT_EQ(with_header(h.SerializeAsString() + field(1, 0, "\x01")),
            "HEADER_NOT_CANONICAL");
  // Field number 0, a wrong wire type, invalid UTF-8: not a header at all.
  EXPECT_EQ(with_header(canonical + field(0, 0, "\x01")), "HEADER_MALFORMED");
  EXPECT_EQ(with_header(canonical + field(7, 0, "\x01")), "HEADER_MALFORMED");
  h = base;
  h.clear_case_ref();
  EXPECT_EQ(with_header(field(3, 2, "\xc3\x28") + h.SerializeAsString()),
            "HEADER_MALFORMED");
  // The envelope around it: a field twice.
  std::string wire = SealWire(ReferralHeader());
  EXPECT_EQ(OpenReason(wire + field(5, 2, std::string(64, 's'))),
            "ENVELOPE_MALFORMED");
}

TEST_P(EnvelopeTest, SealRefusesHeaderWithUnknownFields) {
  // Found by the fuzzer: a header carrying unknown fields must be refused by
  // Seal, or it would produce an envelope that every node refuses.
  v1::Header h = ReferralHeader();
  std::string bytes = h.SerializeAsString() + std::string("\xa0\x06\x01", 3);
  ASSERT_TRUE(h.ParseFromString(bytes));
  auto sealed = Seal(h, AsBytes(payload_), sender_.sign,
                     recipient_.enc.public_key(), GetParam());
  EXPECT_EQ(ErrorReason(sealed.status()), "HEADER_MALFORMED");
}

INSTANTIATE_TEST_SUITE_P(Aeads, EnvelopeTest,
                         ::testing::Values(AeadAlgorithm::kChaCha20Poly1305,
                                           AeadAlgorithm::kAes128Gcm),
                         [](const auto& info) {
                           return info.param == AeadAlgorithm::kAes128Gcm
                                      ? "Aes128Gcm"
                                      : "ChaCha20Poly1305";
                         });

TEST(EnvelopeFormat, SignatureInputLayout) {
  crypto::Sha256Digest body{};
  body.fill(0xab);
  std::string input = SignatureInput("HDR", body);
  std::string expected = std::string(kSignatureContext) +
                         std::string("\0\0\0\0\x03HDR", 8) +
                         std::string(32, '\xab');
  EXPECT_EQ(input, expected);
  // BodyHash = SHA-256(u32be(len(enc)) || enc || ct); for "E" and "CT" that is
  // SHA-256 of 00 00 00 01 45 43 54 (checked with sha256sum).
  EXPECT_EQ(HexEncode(BodyHash("E", "CT")),
            "98b3f4f606cdf2a7addc7f38471f00a1566e70edf5a99efab9e1e90db8539f95");
}

}  // namespace
}  // namespace trm::envelope
