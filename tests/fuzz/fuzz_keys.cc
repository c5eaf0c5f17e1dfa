#include "tests/fuzz/fuzz_keys.h"

#include <cstdlib>
#include <vector>

#include "common/envelope/envelope.h"

namespace trm::fuzz {

const crypto::Ed25519PrivateKey& SenderKey() {
  static const auto* key = [] {
    std::vector<uint8_t> seed(32, 0x11);
    auto k = crypto::Ed25519PrivateKey::FromSeed(seed);
    if (!k.ok()) std::abort();
    return new crypto::Ed25519PrivateKey(std::move(*k));
  }();
  return *key;
}

const crypto::X25519PrivateKey& RecipientKey() {
  static const auto* key = [] {
    std::vector<uint8_t> raw(32, 0x22);
    auto k = crypto::X25519PrivateKey::FromRaw(raw);
    if (!k.ok()) std::abort();
    return new crypto::X25519PrivateKey(std::move(*k));
  }();
  return *key;
}

v1::Header SeedHeader(v1::MessageType type) {
  v1::Header h;
  h.set_schema_version(envelope::kSchemaVersion);
  h.set_message_id(std::string(16, '\x5a'));
  h.set_case_ref("BG-2026-000001");
  h.set_type(type);
  h.set_sender_org("bg-ngo");
  h.set_sender_node("bg");
  h.set_recipient_org("ng-naptip");
  h.set_recipient_node("ng");
  h.set_created_unix_ms(kFuzzNowMs);
  h.set_expires_unix_ms(kFuzzNowMs + 7 * 86400000LL);
  h.set_consent_ref("C-1");
  return h;
}

}  // namespace trm::fuzz
