// Envelope crypto against the raw OpenSSL primitives it is built from, in one
// run, so the overhead of the envelope layer is a ratio, not a guess.
//
//   build/release/bench/crypto_bench [--table_out=FILE] [benchmark flags]
//
// Ours:      SealSign/N   = envelope::Seal (HPKE base + Ed25519 sign)
//            VerifyOpen/N = ParsedEnvelope::Parse + envelope::Open
// Primitives (direct EVP calls, algorithm objects fetched once; the node
//            itself signs and verifies Ed25519 through libsodium, measured
//            as Ed25519VerifyThroughKey):
//            X25519Keygen, X25519Derive, Ed25519Sign, Ed25519Verify over the
//            signed bytes (and beside it Ed25519VerifyReusedContext and
//            Ed25519VerifySodium: the same check through one reused OpenSSL
//            context and through libsodium), AeadSeal/N, AeadOpen/N, Sha256/N,
//            HkdfSchedule (the HMAC calls of one HPKE base-mode setup).
//            Ed25519VerifySodiumAllCores: the same on every core at once,
//            the machine's verification ceiling.
// Floor:     RawSealSequence/N, RawOpenSequence/N = the same OpenSSL calls in
//            one loop, with no envelope layer (same cache behaviour as ours).
// After the run a table prints, per payload size, ours against (a) the sum of
// the primitives the issue lists, (b) that plus SHA-256 of the body and the
// HKDF schedule, (c) the raw sequence.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "common/crypto/hash.h"
#include "common/crypto/hkdf.h"
#include "common/crypto/hpke.h"
#include "common/envelope/envelope.h"

namespace {

using namespace trm;  // NOLINT

constexpr int64_t kNowMs = 1795000000000;

struct Fixture {
  crypto::Ed25519PrivateKey sender = *crypto::Ed25519PrivateKey::Generate();
  crypto::X25519PrivateKey recipient = *crypto::X25519PrivateKey::Generate();
  v1::Header header;
  Fixture() {
    header.set_schema_version(1);
    header.set_message_id(envelope::NewMessageId());
    header.set_case_ref("BG-2026-000123");
    header.set_type(v1::REFERRAL_REQUEST);
    header.set_sender_org("bg-ngo-animus");
    header.set_sender_node("bg");
    header.set_recipient_org("ng-naptip");
    header.set_recipient_node("ng");
    header.set_created_unix_ms(kNowMs);
    header.set_expires_unix_ms(kNowMs + 86400000);
    header.set_consent_ref("CONSENT-7");
  }
};

Fixture& F() {
  static Fixture* f = new Fixture();
  return *f;
}

std::string Payload(size_t n) { return std::string(n, 'p'); }

size_t PayloadSize(const benchmark::State& state) {
  const int64_t n = state.range(0);
  return n > 0 && n <= (1 << 20) ? static_cast<size_t>(n) : 0;
}

void SealSign(benchmark::State& state) {
  const std::string payload = Payload(state.range(0));
  for (auto _ : state) {
    auto env = envelope::Seal(F().header, AsBytes(payload), F().sender,
                              F().recipient.public_key());
    if (!env.ok()) state.SkipWithError("seal failed");
    benchmark::DoNotOptimize(env);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

void VerifyOpen(benchmark::State& state) {
  const std::string payload = Payload(state.range(0));
  const std::string wire =
      envelope::Seal(F().header, AsBytes(payload), F().sender,
                     F().recipient.public_key())
          ->SerializeAsString();
  const envelope::OpenOptions options{absl::FromUnixMillis(kNowMs)};
  for (auto _ : state) {
    auto parsed = envelope::ParsedEnvelope::Parse(wire);
    auto out = envelope::Open(*parsed, F().sender.public_key(), F().recipient,
                              options);
    if (!out.ok()) state.SkipWithError("open failed");
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

// ---- raw primitives
// ----------------------------------------------------------

void X25519Keygen(benchmark::State& state) {
  for (auto _ : state) {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, nullptr);
    EVP_PKEY* key = nullptr;
    EVP_PKEY_keygen_init(ctx);
    EVP_PKEY_keygen(ctx, &key);
    benchmark::DoNotOptimize(key);
    EVP_PKEY_free(key);
    EVP_PKEY_CTX_free(ctx);
  }
}

void X25519Derive(benchmark::State& state) {
  EVP_PKEY* peer = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_X25519, nullptr, F().recipient.public_key().data(), 32);
  auto eph = *crypto::X25519PrivateKey::Generate();
  uint8_t out[32];
  for (auto _ : state) {
    EVP_PKEY_CTX* ctx =
        EVP_PKEY_CTX_new_from_pkey(nullptr, eph.pkey(), nullptr);
    size_t len = sizeof(out);
    EVP_PKEY_derive_init(ctx);
    EVP_PKEY_derive_set_peer(ctx, peer);
    EVP_PKEY_derive(ctx, out, &len);
    benchmark::DoNotOptimize(out);
    EVP_PKEY_CTX_free(ctx);
  }
  EVP_PKEY_free(peer);
}

// The signed bytes of an envelope: context, header, body hash (~200 bytes).
std::string SignedBytes() {
  return envelope::SignatureInput(F().header.SerializeAsString(),
                                  crypto::Sha256Digest{});
}

void Ed25519Sign(benchmark::State& state) {
  const std::string msg = SignedBytes();
  uint8_t sig[64];
  for (auto _ : state) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t len = sizeof(sig);
    EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, F().sender.pkey());
    EVP_DigestSign(ctx, sig, &len, reinterpret_cast<const uint8_t*>(msg.data()),
                   msg.size());
    benchmark::DoNotOptimize(sig);
    EVP_MD_CTX_free(ctx);
  }
}

// What a node pays to turn a directory key into an OpenSSL key, once per
// lookup (the directory keeps raw key bytes).
void Ed25519KeyFromRaw(benchmark::State& state) {
  const auto raw = F().sender.public_key().raw();
  for (auto _ : state) {
    auto key = crypto::Ed25519PublicKey::FromRaw(raw);
    benchmark::DoNotOptimize(key);
  }
}

// Ed25519PublicKey::Verify, the call the node makes.
void Ed25519VerifyThroughKey(benchmark::State& state) {
  const std::string msg = SignedBytes();
  auto sig = *F().sender.Sign(AsBytes(msg));
  for (auto _ : state) {
    bool ok = F().sender.public_key().Verify(AsBytes(msg), sig);
    benchmark::DoNotOptimize(ok);
  }
}

void Ed25519Verify(benchmark::State& state) {
  const std::string msg = SignedBytes();
  auto sig = *F().sender.Sign(AsBytes(msg));
  EVP_PKEY* pub = F().sender.public_key().pkey();
  for (auto _ : state) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, pub);
    int ok = EVP_DigestVerify(ctx, sig.data(), sig.size(),
                              reinterpret_cast<const uint8_t*>(msg.data()),
                              msg.size());
    if (ok != 1) state.SkipWithError("verify failed");
    EVP_MD_CTX_free(ctx);
  }
}

// Issue 18 section 1: the same verification through each implementation
// the node could use, in one run. OpenSSL with the most reuse its API
// allows: one context, initialised again for each signature (Ed25519 takes
// no digest, so a context cannot be copied past its init).
void Ed25519VerifyReusedContext(benchmark::State& state) {
  const std::string msg = SignedBytes();
  auto sig = *F().sender.Sign(AsBytes(msg));
  EVP_PKEY* pub = F().sender.public_key().pkey();
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  for (auto _ : state) {
    EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, pub);
    int ok = EVP_DigestVerify(ctx, sig.data(), sig.size(),
                              reinterpret_cast<const uint8_t*>(msg.data()),
                              msg.size());
    if (ok != 1) state.SkipWithError("verify failed");
  }
  EVP_MD_CTX_free(ctx);
}

// libsodium 1.0.18's crypto_sign_verify_detached over the same bytes, key
// and signature.
void Ed25519VerifySodium(benchmark::State& state) {
  if (sodium_init() < 0) state.SkipWithError("sodium_init failed");
  const std::string msg = SignedBytes();
  auto sig = *F().sender.Sign(AsBytes(msg));
  const auto raw = F().sender.public_key().raw();
  for (auto _ : state) {
    int rc = crypto_sign_verify_detached(
        sig.data(), reinterpret_cast<const unsigned char*>(msg.data()),
        msg.size(), raw.data());
    if (rc != 0) state.SkipWithError("verify failed");
  }
  state.SetItemsProcessed(state.iterations());
}

void Aead(benchmark::State& state, bool encrypt) {
  static EVP_CIPHER* cipher =
      EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
  const size_t n = PayloadSize(state);
  std::vector<uint8_t> in(n + 16, 'p'), out(n + 16);
  uint8_t key[32] = {1}, nonce[12] = {2}, tag[16];
  const std::string aad = F().header.SerializeAsString();
  if (!encrypt) {  // make a valid ciphertext to open
    EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
    int len;
    EVP_EncryptInit_ex2(c, cipher, key, nonce, nullptr);
    EVP_EncryptUpdate(c, nullptr, &len,
                      reinterpret_cast<const uint8_t*>(aad.data()), aad.size());
    EVP_EncryptUpdate(c, out.data(), &len, in.data(), n);
    EVP_EncryptFinal_ex(c, out.data() + len, &len);
    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, tag);
    EVP_CIPHER_CTX_free(c);
    std::memcpy(in.data(), out.data(), n);
  }
  for (auto _ : state) {
    EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
    int len;
    EVP_CipherInit_ex2(c, cipher, key, nonce, encrypt, nullptr);
    if (!encrypt) EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16, tag);
    EVP_CipherUpdate(c, nullptr, &len,
                     reinterpret_cast<const uint8_t*>(aad.data()), aad.size());
    EVP_CipherUpdate(c, out.data(), &len, in.data(), n);
    if (EVP_CipherFinal_ex(c, out.data() + len, &len) != 1) {
      state.SkipWithError("aead failed");
    }
    if (encrypt) EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, tag);
    benchmark::DoNotOptimize(out.data());
    EVP_CIPHER_CTX_free(c);
  }
  state.SetBytesProcessed(state.iterations() * n);
}
void AeadSeal(benchmark::State& s) { Aead(s, true); }
void AeadOpen(benchmark::State& s) { Aead(s, false); }

void Sha256(benchmark::State& state) {
  const std::string data(state.range(0) + 48, 'c');  // enc + ct + tag
  for (auto _ : state) {
    benchmark::DoNotOptimize(crypto::Sha256({AsBytes(data)}));
  }
}

// The HMAC-SHA256 work of one HPKE base setup: 2 in the KEM (extract,
// expand) and 6 in the key schedule (3 extracts, 3 expands).
void HkdfSchedule(benchmark::State& state) {
  uint8_t prk[32] = {}, ikm[64] = {}, okm[32];
  for (auto _ : state) {
    for (int i = 0; i < 4; ++i) crypto::HkdfExtract({}, {ikm}, prk);
    for (int i = 0; i < 4; ++i) {
      (void)crypto::HkdfExpand(prk, {ByteView(ikm, 40)}, okm).ok();
    }
    benchmark::DoNotOptimize(okm);
  }
}

// ---- the same primitives in one loop, straight OpenSSL
// ----------------------- What seal+sign and verify+open must compute, with no
// envelope layer: the floor for the construction, with the same cache behaviour
// as ours.

EVP_MAC_CTX* HmacTemplate() {
  static EVP_MAC_CTX* tmpl = [] {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string("digest", digest, 0),
        OSSL_PARAM_construct_end()};
    EVP_MAC_CTX_set_params(ctx, params);
    return ctx;
  }();
  return tmpl;
}

void RawHmac(const uint8_t* key, const uint8_t* msg, size_t n, uint8_t* out) {
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_dup(HmacTemplate());
  size_t len;
  EVP_MAC_init(ctx, key, 32, nullptr);
  EVP_MAC_update(ctx, msg, n);
  EVP_MAC_final(ctx, out, &len, 32);
  EVP_MAC_CTX_free(ctx);
}

// HPKE base: 2 HMACs in the KEM, 3 in the key schedule (the constant
// psk_id_hash and info_hash are precomputed, as ours does).
void RawHkdf(const uint8_t* dh, uint8_t* key) {
  uint8_t prk[32], in[120] = {}, out[32];
  std::memcpy(in, dh, 32);
  RawHmac(in, in, 100, prk);
  RawHmac(prk, in, 110, out);
  RawHmac(out, in, 60, prk);
  RawHmac(prk, in, 100, key);
  RawHmac(prk, in, 100, out);
}

void RawAead(EVP_CIPHER* cipher, bool encrypt, const uint8_t* key,
             const std::string& aad, const uint8_t* in, size_t n, uint8_t* out,
             uint8_t* tag) {
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  int len;
  uint8_t nonce[12] = {2};
  EVP_CipherInit_ex2(c, cipher, key, nonce, encrypt, nullptr);
  if (!encrypt) EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16, tag);
  EVP_CipherUpdate(c, nullptr, &len,
                   reinterpret_cast<const uint8_t*>(aad.data()), aad.size());
  EVP_CipherUpdate(c, out, &len, in, n);
  EVP_CipherFinal_ex(c, out + len, &len);
  if (encrypt) EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, tag);
  EVP_CIPHER_CTX_free(c);
}

EVP_CIPHER* ChaCha() {
  static EVP_CIPHER* c =
      EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
  return c;
}

void RawSealSequence(benchmark::State& state) {
  const size_t n = PayloadSize(state);
  const std::string aad = F().header.SerializeAsString();
  const std::string msg = SignedBytes();
  std::vector<uint8_t> pt(n, 'p'), ct(n + 16);
  EVP_PKEY* peer = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_X25519, nullptr, F().recipient.public_key().data(), 32);
  EVP_PKEY_CTX* kg = EVP_PKEY_CTX_new_from_name(nullptr, "X25519", nullptr);
  EVP_PKEY_keygen_init(kg);
  uint8_t dh[32], key[32], sig[64];
  for (auto _ : state) {
    EVP_PKEY* eph = nullptr;
    EVP_PKEY_keygen(kg, &eph);
    EVP_PKEY_CTX* d = EVP_PKEY_CTX_new_from_pkey(nullptr, eph, nullptr);
    size_t len = 32;
    EVP_PKEY_derive_init(d);
    EVP_PKEY_derive_set_peer(d, peer);
    EVP_PKEY_derive(d, dh, &len);
    EVP_PKEY_CTX_free(d);
    EVP_PKEY_free(eph);
    RawHkdf(dh, key);
    RawAead(ChaCha(), true, key, aad, pt.data(), n, ct.data(), ct.data() + n);
    benchmark::DoNotOptimize(crypto::Sha256({ct}));
    EVP_MD_CTX* s = EVP_MD_CTX_new();
    size_t siglen = 64;
    EVP_DigestSignInit(s, nullptr, nullptr, nullptr, F().sender.pkey());
    EVP_DigestSign(s, sig, &siglen,
                   reinterpret_cast<const uint8_t*>(msg.data()), msg.size());
    EVP_MD_CTX_free(s);
    benchmark::DoNotOptimize(sig);
  }
  EVP_PKEY_CTX_free(kg);
  EVP_PKEY_free(peer);
}

// The recipient's side of HPKE: import enc, X25519 with the recipient's key,
// HKDF to the AEAD key.
void RawRecipientKey(const uint8_t enc[32], uint8_t key[32]) {
  uint8_t dh[32];
  EVP_PKEY* peer =
      EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, enc, 32);
  EVP_PKEY_CTX* d =
      EVP_PKEY_CTX_new_from_pkey(nullptr, F().recipient.pkey(), nullptr);
  size_t len = 32;
  EVP_PKEY_derive_init(d);
  EVP_PKEY_derive_set_peer(d, peer);
  EVP_PKEY_derive(d, dh, &len);
  EVP_PKEY_CTX_free(d);
  EVP_PKEY_free(peer);
  RawHkdf(dh, key);
}

void RawOpenSequence(benchmark::State& state) {
  const size_t n = PayloadSize(state);
  const std::string aad = F().header.SerializeAsString();
  const std::string msg = SignedBytes();
  auto sig = *F().sender.Sign(AsBytes(msg));
  std::vector<uint8_t> ct(n + 16, 'c'), pt(n);
  auto eph = *crypto::X25519PrivateKey::Generate();
  uint8_t key[32], tag[16];
  // A ciphertext that opens under the key the sequence derives.
  {
    RawRecipientKey(eph.public_key().data(), key);
    RawAead(ChaCha(), true, key, aad, pt.data(), n, ct.data(), tag);
  }
  for (auto _ : state) {
    EVP_MD_CTX* v = EVP_MD_CTX_new();
    EVP_DigestVerifyInit(v, nullptr, nullptr, nullptr,
                         F().sender.public_key().pkey());
    benchmark::DoNotOptimize(crypto::Sha256({ct}));
    if (EVP_DigestVerify(v, sig.data(), 64,
                         reinterpret_cast<const uint8_t*>(msg.data()),
                         msg.size()) != 1) {
      state.SkipWithError("verify failed");
    }
    EVP_MD_CTX_free(v);
    RawRecipientKey(eph.public_key().data(), key);
    RawAead(ChaCha(), false, key, aad, ct.data(), n, pt.data(), tag);
    benchmark::DoNotOptimize(pt.data());
  }
}

BENCHMARK(SealSign)->Arg(256)->Arg(4096)->Arg(65536);
BENCHMARK(VerifyOpen)->Arg(256)->Arg(4096)->Arg(65536);
BENCHMARK(X25519Keygen);
BENCHMARK(X25519Derive);
BENCHMARK(Ed25519Sign);
BENCHMARK(Ed25519Verify);
BENCHMARK(Ed25519VerifyReusedContext);
BENCHMARK(Ed25519VerifySodium);
// The verification ceiling (bench/compare.sh): every core verifying and
// doing nothing else; items_per_second is the machine's rate.
BENCHMARK(Ed25519VerifySodium)
    ->Name("Ed25519VerifySodiumAllCores")
    ->Threads(static_cast<int>(std::max(1u,
                                        std::thread::hardware_concurrency())))
    ->UseRealTime();
BENCHMARK(Ed25519KeyFromRaw);
BENCHMARK(Ed25519VerifyThroughKey);
BENCHMARK(AeadSeal)->Arg(256)->Arg(4096)->Arg(65536);
BENCHMARK(AeadOpen)->Arg(256)->Arg(4096)->Arg(65536);
BENCHMARK(Sha256)->Arg(256)->Arg(4096)->Arg(65536);
BENCHMARK(HkdfSchedule);
BENCHMARK(RawSealSequence)->Arg(256)->Arg(4096)->Arg(65536);
BENCHMARK(RawOpenSequence)->Arg(256)->Arg(4096)->Arg(65536);

// Keeps each benchmark's time per iteration (us) for the ratio table.
class RecordingReporter : public benchmark::ConsoleReporter {
 public:
  RecordingReporter()
      : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_Color : OO_None) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") {
        continue;
      }
      us_[r.run_name.str()] = r.GetAdjustedRealTime() /
                              benchmark::GetTimeUnitMultiplier(r.time_unit) *
                              1e6;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  double us(const std::string& name) const {
    auto it = us_.find(name);
    return it == us_.end() ? 0 : it->second;
  }

 private:
  std::map<std::string, double> us_;
};

std::string Table(const RecordingReporter& r) {
  std::string t =
      "| operation | payload | ours us | listed primitives us | ratio | all "
      "primitives us | ratio | same calls in one loop us | ratio |\n"
      "|---|---|---|---|---|---|---|---|---|\n";
  for (int n : {256, 4096, 65536}) {
    const std::string s = std::to_string(n);
    // Listed in the issue: X25519 keygen + derive, Ed25519 sign/verify, AEAD.
    const double seal_listed = r.us("X25519Keygen") + r.us("X25519Derive") +
                               r.us("Ed25519Sign") + r.us("AeadSeal/" + s);
    const double open_listed =
        r.us("X25519Derive") + r.us("Ed25519Verify") + r.us("AeadOpen/" + s);
    // Everything the construction must compute: + body hash + HKDF schedule.
    const double extra = r.us("Sha256/" + s) + r.us("HkdfSchedule");
    const double seal = r.us("SealSign/" + s), open = r.us("VerifyOpen/" + s);
    const double raw_seal = r.us("RawSealSequence/" + s);
    const double raw_open = r.us("RawOpenSequence/" + s);
    t += absl::StrFormat(
        "| seal+sign | %d B | %.1f | %.1f | %.2fx | %.1f | %.2fx | %.1f | "
        "%.2fx |\n",
        n, seal, seal_listed, seal / seal_listed, seal_listed + extra,
        seal / (seal_listed + extra), raw_seal, seal / raw_seal);
    t += absl::StrFormat(
        "| verify+open | %d B | %.1f | %.1f | %.2fx | %.1f | %.2fx | %.1f | "
        "%.2fx |\n",
        n, open, open_listed, open / open_listed, open_listed + extra,
        open / (open_listed + extra), raw_open, open / raw_open);
  }
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  std::string table_out;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--table_out=", 12) == 0) {
      table_out = argv[i] + 12;
    } else {
      args.push_back(argv[i]);
    }
  }
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  RecordingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  const std::string table = Table(reporter);
  std::printf(
      "\nEnvelope cost against the primitives, same run (target at "
      "4 KiB: <= 1.15x; docs/benchmarks.md explains the columns):\n%s",
      table.c_str());
  if (!table_out.empty()) std::ofstream(table_out) << table;
  benchmark::Shutdown();
  return 0;
}
