// What a detached Ed25519 signature of the protocol covers (docs/protocol.md):
// a domain label naming what is signed, one zero byte, then the signed
// bytes, so that a signature over one kind of document can never pass for
// another's.
//
//   std::string input = crypto::SignatureInput("trm-broker/v1 directory", doc);
#ifndef TRM_COMMON_CRYPTO_SIGNATURE_INPUT_H_
#define TRM_COMMON_CRYPTO_SIGNATURE_INPUT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace trm::crypto {

// label || 0x00 || bytes.
inline std::string SignatureInput(absl::string_view label,
                                  absl::string_view bytes) {
  std::string input;
  input.reserve(label.size() + 1 + bytes.size());
  input.append(label.data(), label.size());
  input.push_back('\0');
  input.append(bytes.data(), bytes.size());
  return input;
}

}  // namespace trm::crypto

#endif  // TRM_COMMON_CRYPTO_SIGNATURE_INPUT_H_
