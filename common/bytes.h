// Byte views, hex, and secret buffers that wipe themselves.
//
// ByteView is the currency of the crypto layer: it never owns. SecretBytes and
// SecretArray own key material and OPENSSL_cleanse it when they die, so a key
// never outlives its use in freed memory.
#ifndef TRM_COMMON_BYTES_H_
#define TRM_COMMON_BYTES_H_

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trm {

using ByteView = std::span<const uint8_t>;
using MutableByteView = std::span<uint8_t>;

inline ByteView AsBytes(absl::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline absl::string_view AsChars(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// Byte-wise equality (not constant-time; for public values such as key ids).
inline bool SameBytes(ByteView a, ByteView b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// Lower-case hex of `bytes`.
std::string HexEncode(ByteView bytes);
// Decodes hex (either case, even length, no separators).
absl::StatusOr<std::vector<uint8_t>> HexDecode(absl::string_view hex);

// Overwrites `bytes` with zeros in a way the compiler may not elide.
void Wipe(MutableByteView bytes);

// A fixed-size secret, wiped on destruction. Copyable on purpose only through
// explicit construction from a view.
template <size_t N>
class SecretArray {
 public:
  SecretArray() { data_.fill(0); }
  ~SecretArray() { Wipe(data_); }
  SecretArray(const SecretArray& other) : data_(other.data_) {}
  SecretArray& operator=(const SecretArray& other) {
    data_ = other.data_;
    return *this;
  }

  uint8_t* data() { return data_.data(); }
  const uint8_t* data() const { return data_.data(); }
  static constexpr size_t size() { return N; }
  ByteView view() const { return data_; }
  MutableByteView mutable_view() { return data_; }

 private:
  std::array<uint8_t, N> data_;
};

// A variable-size secret, wiped on destruction and before reallocation.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(size_t size) : data_(size, 0) {}
  explicit SecretBytes(ByteView bytes) : data_(bytes.begin(), bytes.end()) {}
  ~SecretBytes() { Wipe(data_); }
  SecretBytes(SecretBytes&& other) noexcept = default;
  SecretBytes& operator=(SecretBytes&& other) noexcept {
    Wipe(data_);
    data_ = std::move(other.data_);
    return *this;
  }
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  uint8_t* data() { return data_.data(); }
  const uint8_t* data() const { return data_.data(); }
  size_t size() const { return data_.size(); }
  bool empty() const { return data_.empty(); }
  ByteView view() const { return data_; }
  MutableByteView mutable_view() { return data_; }
  // Shrinks to `size` (never grows, so no secret is left in a freed buffer).
  void Truncate(size_t size) {
    if (size < data_.size()) {
      Wipe(MutableByteView(data_).subspan(size));
      data_.resize(size);
    }
  }

 private:
  std::vector<uint8_t> data_;
};

}  // namespace trm

#endif  // TRM_COMMON_BYTES_H_
