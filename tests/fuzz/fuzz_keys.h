// Fixed keys and time shared by the envelope fuzzer and its seed generator,
// so that seeds carry valid signatures and reach the decryption path.
#ifndef TRM_TESTS_FUZZ_FUZZ_KEYS_H_
#define TRM_TESTS_FUZZ_FUZZ_KEYS_H_

#include <cstdint>

#include "common/crypto/ed25519.h"
#include "common/crypto/x25519.h"
#include "trm/v1/envelope.pb.h"

namespace trm::fuzz {

inline constexpr int64_t kFuzzNowMs = 1795000000000;

const crypto::Ed25519PrivateKey& SenderKey();
const crypto::X25519PrivateKey& RecipientKey();
// A valid header at kFuzzNowMs, before the recipient key id is filled in.
v1::Header SeedHeader(v1::MessageType type);

}  // namespace trm::fuzz

#endif  // TRM_TESTS_FUZZ_FUZZ_KEYS_H_
