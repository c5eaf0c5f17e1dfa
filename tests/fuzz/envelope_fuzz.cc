// libFuzzer target: envelope parsing, signature verification and opening.
//
// The first input byte picks the mode:
//   even: the rest is an envelope off the wire. Parse, verify, open; any
//         outcome is fine as long as nothing crashes, leaks or half-succeeds
//         (an open that succeeds must have a valid signature).
//   odd:  the rest is header bytes, a 0xff separator, then a payload. If the
//         header is valid, Seal must succeed and Open must return the payload.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "absl/time/time.h"
#include "common/envelope/envelope.h"
#include "google/protobuf/stubs/logging.h"
#include "tests/fuzz/fuzz_keys.h"

namespace {

using namespace trm;  // NOLINT

void FuzzWire(const uint8_t* data, size_t size) {
  absl::string_view wire(reinterpret_cast<const char*>(data), size);
  auto parsed = envelope::ParsedEnvelope::Parse(wire);
  if (!parsed.ok()) return;
  const bool signature_ok =
      envelope::VerifySignature(*parsed, fuzz::SenderKey().public_key()).ok();
  envelope::OpenOptions options{absl::FromUnixMillis(fuzz::kFuzzNowMs)};
  auto opened = envelope::Open(*parsed, fuzz::SenderKey().public_key(),
                               fuzz::RecipientKey(), options);
  if (opened.ok() && !signature_ok) std::abort();  // opened unverified bytes
  if (opened.ok() &&
      opened->size() + 16 != parsed->envelope().ciphertext().size()) {
    std::abort();
  }
}

void FuzzRoundTrip(const uint8_t* data, size_t size) {
  const uint8_t* sep =
      static_cast<const uint8_t*>(std::memchr(data, 0xff, size));
  if (sep == nullptr) return;
  v1::Header header;
  if (!header.ParseFromArray(data, static_cast<int>(sep - data))) return;
  ByteView payload(sep + 1, size - static_cast<size_t>(sep + 1 - data));
  auto env = envelope::Seal(header, payload, fuzz::SenderKey(),
                            fuzz::RecipientKey().public_key());
  if (!env.ok()) return;  // an invalid header is refused, which is correct
  auto parsed = envelope::ParsedEnvelope::Parse(env->SerializeAsString());
  if (!parsed.ok()) std::abort();  // Seal produced what Parse refuses
  envelope::OpenOptions options{
      absl::FromUnixMillis(parsed->header().created_unix_ms())};
  options.allow_expired = true;
  auto opened = envelope::Open(*parsed, fuzz::SenderKey().public_key(),
                               fuzz::RecipientKey(), options);
  if (!opened.ok() || !SameBytes(opened->view(), payload)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Invalid UTF-8 in string fields is refused by parsing; do not log each one.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (data[0] % 2 == 0) {
    FuzzWire(data + 1, size - 1);
  } else {
    FuzzRoundTrip(data + 1, size - 1);
  }
  return 0;
}
