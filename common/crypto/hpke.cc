#include "common/crypto/hpke.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/crypto/hkdf.h"
#include "common/status.h"

namespace trm::crypto {
namespace {

constexpr uint8_t kVersionLabel[] = {'H', 'P', 'K', 'E', '-', 'v', '1'};
// suite_id for the KEM: "KEM" || I2OSP(0x0020, 2).
constexpr uint8_t kKemSuiteId[] = {'K', 'E', 'M', 0x00, 0x20};

using HpkeSuiteId = std::array<uint8_t, 10>;

// suite_id for the key schedule: "HPKE" || kem_id || kdf_id || aead_id.
HpkeSuiteId HpkeSuite(AeadAlgorithm aead) {
  uint16_t a = static_cast<uint16_t>(aead);
  return {'H',
          'P',
          'K',
          'E',
          0x00,
          0x20,
          0x00,
          0x01,
          static_cast<uint8_t>(a >> 8),
          static_cast<uint8_t>(a & 0xff)};
}

void LabeledExtract(ByteView suite, ByteView salt, absl::string_view label,
                    ByteView ikm, uint8_t out[kSha256Size]) {
  HkdfExtract(salt, {kVersionLabel, suite, AsBytes(label), ikm}, out);
}

absl::Status LabeledExpand(ByteView suite, ByteView prk,
                           absl::string_view label, ByteView info,
                           MutableByteView out) {
  if (out.size() > 0xffff) {
    return Error(absl::StatusCode::kInvalidArgument, "HKDF_OUTPUT_TOO_LONG",
                 "HPKE labelled expansion is limited to 65535 bytes");
  }
  const uint8_t length[2] = {static_cast<uint8_t>(out.size() >> 8),
                             static_cast<uint8_t>(out.size() & 0xff)};
  return HkdfExpand(prk, {length, kVersionLabel, suite, AsBytes(label), info},
                    out);
}

absl::StatusOr<HpkeSharedSecret> ExtractAndExpand(ByteView dh,
                                                  ByteView kem_context) {
  SecretArray<kSha256Size> eae_prk;
  LabeledExtract(kKemSuiteId, {}, "eae_prk", dh, eae_prk.data());
  HpkeSharedSecret shared;
  RETURN_IF_ERROR(LabeledExpand(kKemSuiteId, eae_prk.view(), "shared_secret",
                                kem_context, shared.mutable_view()));
  return shared;
}

absl::Status BadPskInputs(absl::string_view what) {
  return Error(absl::StatusCode::kInvalidArgument, "HPKE_BAD_PSK_INPUTS", what);
}

}  // namespace

absl::StatusOr<X25519PrivateKey> HpkeDeriveKeyPair(ByteView ikm) {
  SecretArray<kSha256Size> dkp_prk;
  LabeledExtract(kKemSuiteId, {}, "dkp_prk", ikm, dkp_prk.data());
  SecretArray<kX25519KeySize> sk;
  RETURN_IF_ERROR(
      LabeledExpand(kKemSuiteId, dkp_prk.view(), "sk", {}, sk.mutable_view()));
  return X25519PrivateKey::FromRaw(sk.view());
}

absl::StatusOr<HpkeEncapsulation> HpkeEncap(ByteView recipient_public,
                                            const X25519PrivateKey& ephemeral,
                                            const X25519PrivateKey* sender) {
  SecretArray<2 * kX25519KeySize> dh;
  ASSIGN_OR_RETURN(SecretArray<kX25519KeySize> dh1,
                   ephemeral.Agree(recipient_public));
  std::memcpy(dh.data(), dh1.data(), kX25519KeySize);
  // kem_context = enc || pkR [|| pkS]
  uint8_t kem_context[3 * kX25519KeySize];
  std::memcpy(kem_context, ephemeral.public_key().data(), kX25519KeySize);
  std::memcpy(kem_context + kX25519KeySize, recipient_public.data(),
              kX25519KeySize);
  size_t dh_len = kX25519KeySize;
  size_t context_len = 2 * kX25519KeySize;
  if (sender != nullptr) {
    ASSIGN_OR_RETURN(SecretArray<kX25519KeySize> dh2,
                     sender->Agree(recipient_public));
    std::memcpy(dh.data() + kX25519KeySize, dh2.data(), kX25519KeySize);
    std::memcpy(kem_context + context_len, sender->public_key().data(),
                kX25519KeySize);
    dh_len += kX25519KeySize;
    context_len += kX25519KeySize;
  }
  ASSIGN_OR_RETURN(HpkeSharedSecret shared,
                   ExtractAndExpand(dh.view().first(dh_len),
                                    ByteView(kem_context, context_len)));
  return HpkeEncapsulation{ephemeral.public_key(), shared};
}

absl::StatusOr<HpkeSharedSecret> HpkeDecap(
    ByteView enc, const X25519PrivateKey& recipient,
    const std::optional<X25519PublicKey>& sender) {
  if (enc.size() != kHpkeEncSize) {
    return Error(absl::StatusCode::kInvalidArgument, "HPKE_BAD_ENC",
                 absl::StrCat("the encapsulated key must be 32 bytes, got ",
                              enc.size()));
  }
  SecretArray<2 * kX25519KeySize> dh;
  ASSIGN_OR_RETURN(SecretArray<kX25519KeySize> dh1, recipient.Agree(enc));
  std::memcpy(dh.data(), dh1.data(), kX25519KeySize);
  uint8_t kem_context[3 * kX25519KeySize];
  std::memcpy(kem_context, enc.data(), kX25519KeySize);
  std::memcpy(kem_context + kX25519KeySize, recipient.public_key().data(),
              kX25519KeySize);
  size_t dh_len = kX25519KeySize;
  size_t context_len = 2 * kX25519KeySize;
  if (sender.has_value()) {
    ASSIGN_OR_RETURN(SecretArray<kX25519KeySize> dh2, recipient.Agree(*sender));
    std::memcpy(dh.data() + kX25519KeySize, dh2.data(), kX25519KeySize);
    std::memcpy(kem_context + context_len, sender->data(), kX25519KeySize);
    dh_len += kX25519KeySize;
    context_len += kX25519KeySize;
  }
  return ExtractAndExpand(dh.view().first(dh_len),
                          ByteView(kem_context, context_len));
}

absl::StatusOr<HpkeContext> HpkeContext::KeySchedule(
    HpkeMode mode, AeadAlgorithm aead, const HpkeSharedSecret& shared_secret,
    ByteView info, ByteView psk, ByteView psk_id, Trace* trace) {
  const bool got_psk = !psk.empty();
  if (got_psk != !psk_id.empty()) {
    return BadPskInputs("a PSK and its id must be given together");
  }
  const bool psk_mode = mode == HpkeMode::kPsk || mode == HpkeMode::kAuthPsk;
  if (got_psk != psk_mode) {
    return BadPskInputs(psk_mode ? "this HPKE mode needs a PSK"
                                 : "this HPKE mode takes no PSK");
  }
  const HpkeSuiteId suite = HpkeSuite(aead);
  // key_schedule_context = mode || psk_id_hash || info_hash
  uint8_t context[1 + 2 * kSha256Size];
  context[0] = static_cast<uint8_t>(mode);
  LabeledExtract(suite, {}, "psk_id_hash", psk_id, context + 1);
  LabeledExtract(suite, {}, "info_hash", info, context + 1 + kSha256Size);
  SecretArray<kSha256Size> secret;
  LabeledExtract(suite, shared_secret.view(), "secret", psk, secret.data());
  if (trace != nullptr) {
    std::memcpy(trace->key_schedule_context.data(), context, sizeof(context));
    trace->secret = secret;
  }

  HpkeContext ctx(aead);
  RETURN_IF_ERROR(
      LabeledExpand(suite, secret.view(), "key", context,
                    ctx.key_.mutable_view().first(AeadKeySize(aead))));
  RETURN_IF_ERROR(LabeledExpand(suite, secret.view(), "base_nonce", context,
                                ctx.base_nonce_.mutable_view()));
  RETURN_IF_ERROR(LabeledExpand(suite, secret.view(), "exp", context,
                                ctx.exporter_secret_.mutable_view()));
  return ctx;
}

absl::Status HpkeContext::NextNonce(SecretArray<kAeadNonceSize>& nonce) const {
  if (seq_ == UINT64_MAX) {
    return Error(absl::StatusCode::kResourceExhausted,
                 "HPKE_SEQUENCE_EXHAUSTED",
                 "this HPKE context has sealed its last message; set up a new "
                 "one");
  }
  nonce = base_nonce_;
  for (int i = 0; i < 8; ++i) {
    nonce.data()[kAeadNonceSize - 1 - i] ^=
        static_cast<uint8_t>(seq_ >> (8 * i));
  }
  return absl::OkStatus();
}

absl::Status HpkeContext::Seal(ByteView aad, ByteView pt, MutableByteView out) {
  SecretArray<kAeadNonceSize> nonce;
  RETURN_IF_ERROR(NextNonce(nonce));
  RETURN_IF_ERROR(AeadSeal(aead_, key(), nonce.view(), aad, pt, out));
  ++seq_;
  return absl::OkStatus();
}

absl::Status HpkeContext::Open(ByteView aad, ByteView ct, MutableByteView out) {
  SecretArray<kAeadNonceSize> nonce;
  RETURN_IF_ERROR(NextNonce(nonce));
  RETURN_IF_ERROR(AeadOpen(aead_, key(), nonce.view(), aad, ct, out));
  ++seq_;
  return absl::OkStatus();
}

absl::Status HpkeContext::Export(ByteView exporter_context,
                                 MutableByteView out) const {
  return LabeledExpand(HpkeSuite(aead_), exporter_secret_.view(), "sec",
                       exporter_context, out);
}

absl::StatusOr<HpkeSenderSetup> HpkeSetupSender(
    HpkeMode mode, AeadAlgorithm aead, ByteView recipient_public, ByteView info,
    const HpkeSenderOptions& options) {
  const bool auth = mode == HpkeMode::kAuth || mode == HpkeMode::kAuthPsk;
  if (auth != (options.sender != nullptr)) {
    return Error(absl::StatusCode::kInvalidArgument, "HPKE_BAD_AUTH_INPUTS",
                 auth ? "this HPKE mode needs the sender's private key"
                      : "this HPKE mode takes no sender key");
  }
  std::optional<X25519PrivateKey> generated;
  const X25519PrivateKey* ephemeral = options.ephemeral;
  if (ephemeral == nullptr) {
    ASSIGN_OR_RETURN(generated, X25519PrivateKey::Generate());
    ephemeral = &*generated;
  }
  ASSIGN_OR_RETURN(HpkeEncapsulation encap,
                   HpkeEncap(recipient_public, *ephemeral, options.sender));
  ASSIGN_OR_RETURN(HpkeContext ctx,
                   HpkeContext::KeySchedule(mode, aead, encap.shared_secret,
                                            info, options.psk, options.psk_id));
  return HpkeSenderSetup{encap.enc, std::move(ctx)};
}

absl::StatusOr<HpkeContext> HpkeSetupReceiver(
    HpkeMode mode, AeadAlgorithm aead, ByteView enc,
    const X25519PrivateKey& recipient, ByteView info,
    const HpkeReceiverOptions& options) {
  const bool auth = mode == HpkeMode::kAuth || mode == HpkeMode::kAuthPsk;
  if (auth != options.sender.has_value()) {
    return Error(absl::StatusCode::kInvalidArgument, "HPKE_BAD_AUTH_INPUTS",
                 auth ? "this HPKE mode needs the sender's public key"
                      : "this HPKE mode takes no sender key");
  }
  ASSIGN_OR_RETURN(HpkeSharedSecret shared,
                   HpkeDecap(enc, recipient, options.sender));
  return HpkeContext::KeySchedule(mode, aead, shared, info, options.psk,
                                  options.psk_id);
}

HpkeBaseSuite::HpkeBaseSuite(AeadAlgorithm aead, ByteView info)
    : aead_(aead), suite_id_(HpkeSuite(aead)) {
  schedule_context_[0] = static_cast<uint8_t>(HpkeMode::kBase);
  LabeledExtract(suite_id_, {}, "psk_id_hash", {}, &schedule_context_[1]);
  LabeledExtract(suite_id_, {}, "info_hash", info,
                 &schedule_context_[1 + kSha256Size]);
}

absl::Status HpkeBaseSuite::Derive(const HpkeSharedSecret& shared,
                                   SecretArray<32>& key,
                                   SecretArray<kAeadNonceSize>& nonce) const {
  SecretArray<kSha256Size> secret;
  LabeledExtract(suite_id_, shared.view(), "secret", {}, secret.data());
  RETURN_IF_ERROR(LabeledExpand(suite_id_, secret.view(), "key",
                                schedule_context_,
                                key.mutable_view().first(AeadKeySize(aead_))));
  return LabeledExpand(suite_id_, secret.view(), "base_nonce",
                       schedule_context_, nonce.mutable_view());
}

absl::StatusOr<X25519PublicKey> HpkeBaseSuite::Seal(
    ByteView recipient_public, ByteView aad, ByteView pt, MutableByteView out,
    const X25519PrivateKey* ephemeral) const {
  std::optional<X25519PrivateKey> generated;
  if (ephemeral == nullptr) {
    ASSIGN_OR_RETURN(generated, X25519PrivateKey::Generate());
    ephemeral = &*generated;
  }
  ASSIGN_OR_RETURN(HpkeEncapsulation encap,
                   HpkeEncap(recipient_public, *ephemeral, nullptr));
  SecretArray<32> key;
  SecretArray<kAeadNonceSize> nonce;
  RETURN_IF_ERROR(Derive(encap.shared_secret, key, nonce));
  RETURN_IF_ERROR(AeadSeal(aead_, key.view().first(AeadKeySize(aead_)),
                           nonce.view(), aad, pt, out));
  return encap.enc;
}

absl::Status HpkeBaseSuite::Open(ByteView enc,
                                 const X25519PrivateKey& recipient,
                                 ByteView aad, ByteView ct,
                                 MutableByteView out) const {
  ASSIGN_OR_RETURN(HpkeSharedSecret shared,
                   HpkeDecap(enc, recipient, std::nullopt));
  SecretArray<32> key;
  SecretArray<kAeadNonceSize> nonce;
  RETURN_IF_ERROR(Derive(shared, key, nonce));
  return AeadOpen(aead_, key.view().first(AeadKeySize(aead_)), nonce.view(),
                  aad, ct, out);
}

}  // namespace trm::crypto
