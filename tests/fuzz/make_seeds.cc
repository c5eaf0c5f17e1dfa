// Writes the envelope fuzzer's seed corpus into the directory given as the
// only argument: valid envelopes of several types, sizes and both AEADs
// (mode byte 0), and header+payload round-trip inputs (mode byte 1).
#include <cstdio>
#include <fstream>
#include <string>

#include "common/crypto/key_files.h"
#include "common/envelope/envelope.h"
#include "tests/fuzz/fuzz_keys.h"

int main(int argc, char** argv) {
  using namespace trm;  // NOLINT
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  std::system(("mkdir -p '" + dir + "'").c_str());
  const v1::MessageType types[] = {v1::CONSENT_RECORD, v1::REFERRAL_REQUEST,
                                   v1::TRAVEL_ARRANGEMENT, v1::CASE_CLOSURE};
  const size_t sizes[] = {0, 1, 64, 700};
  int n = 0;
  for (v1::MessageType type : types) {
    for (size_t size : sizes) {
      for (auto aead : {crypto::AeadAlgorithm::kChaCha20Poly1305,
                        crypto::AeadAlgorithm::kAes128Gcm}) {
        v1::Header h = fuzz::SeedHeader(type);
        if (type == v1::TRAVEL_ARRANGEMENT) {
          h.set_departure_unix_ms(fuzz::kFuzzNowMs + 86400000LL * 10);
          h.set_minor(true);
        }
        std::string payload(size, 'p');
        auto env = envelope::Seal(h, AsBytes(payload), fuzz::SenderKey(),
                                  fuzz::RecipientKey().public_key(), aead);
        if (!env.ok()) {
          std::fprintf(stderr, "seal failed: %s\n",
                       std::string(env.status().message()).c_str());
          return 1;
        }
        std::ofstream(dir + "/wire-" + std::to_string(n))
            << '\0' << env->SerializeAsString();
        const crypto::KeyId rid =
            crypto::X25519KeyIdOf(fuzz::RecipientKey().public_key());
        h.set_recipient_key_id(rid.data(), rid.size());
        h.set_aead_id(static_cast<v1::AeadId>(aead));
        std::ofstream(dir + "/roundtrip-" + std::to_string(n))
            << '\x01' << h.SerializeAsString() << '\xff' << payload;
        ++n;
      }
    }
  }
  std::printf("wrote %d seeds to %s\n", 2 * n, dir.c_str());
  return 0;
}
