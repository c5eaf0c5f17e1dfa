#include "common/bytes.h"

#include <openssl/crypto.h>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace trm {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string HexEncode(ByteView bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0x0f];
  }
  return out;
}

absl::StatusOr<std::vector<uint8_t>> HexDecode(absl::string_view hex) {
  if (hex.size() % 2 != 0) {
    return Error(absl::StatusCode::kInvalidArgument, "BAD_HEX",
                 absl::StrCat("hex string has odd length ", hex.size(),
                              "; give two hex digits per byte"));
  }
  std::vector<uint8_t> out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return Error(absl::StatusCode::kInvalidArgument, "BAD_HEX",
                   absl::StrCat("non-hex character near offset ", 2 * i,
                                "; use only 0-9 and a-f"));
    }
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

void Wipe(MutableByteView bytes) {
  if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
}

}  // namespace trm
