#include "common/crypto/hkdf.h"

#include <algorithm>
#include <cstring>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace trm::crypto {

void HkdfExtract(ByteView salt, std::initializer_list<ByteView> ikm_parts,
                 uint8_t prk[kSha256Size]) {
  HmacSha256(salt, ikm_parts, prk);
}

absl::Status HkdfExpand(ByteView prk, std::span<const ByteView> info_parts,
                        MutableByteView out) {
  if (out.size() > kHkdfMaxOutput) {
    return Error(
        absl::StatusCode::kInvalidArgument, "HKDF_OUTPUT_TOO_LONG",
        absl::StrCat("HKDF-SHA256 can produce at most ", kHkdfMaxOutput,
                     " bytes; ", out.size(), " were asked for"));
  }
  SecretArray<kSha256Size> block;
  size_t block_len = 0;  // T(0) is empty
  absl::InlinedVector<ByteView, 8> parts;
  size_t done = 0;
  for (uint8_t counter = 1; done < out.size(); ++counter) {
    parts.clear();
    parts.push_back(ByteView(block.data(), block_len));
    parts.insert(parts.end(), info_parts.begin(), info_parts.end());
    parts.push_back(ByteView(&counter, 1));
    HmacSha256(prk, std::span<const ByteView>(parts.data(), parts.size()),
               block.data());
    block_len = kSha256Size;
    size_t n = std::min(kSha256Size, out.size() - done);
    std::memcpy(out.data() + done, block.data(), n);
    done += n;
  }
  return absl::OkStatus();
}

absl::Status Hkdf(ByteView salt, ByteView ikm, ByteView info,
                  MutableByteView out) {
  SecretArray<kSha256Size> prk;
  HkdfExtract(salt, {ikm}, prk.data());
  return HkdfExpand(prk.view(), {info}, out);
}

}  // namespace trm::crypto
