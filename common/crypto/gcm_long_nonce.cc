#include "common/crypto/gcm_long_nonce.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/crypto/openssl_ptr.h"
#include "common/status.h"

namespace trm::crypto {
namespace {

using Block = std::array<uint8_t, 16>;

absl::Status Internal(absl::string_view what) {
  return Error(absl::StatusCode::kInternal, "OPENSSL_ERROR",
               absl::StrCat(what, ": ", DrainOpenSslErrors()));
}

// x = x * h in GF(2^128) with GCM's bit order, without branches on secret
// data (h is derived from the key).
void GfMul(Block& x, const Block& h) {
  Block z{};
  Block v = h;
  for (int i = 0; i < 128; ++i) {
    const uint8_t bit = (x[i / 8] >> (7 - i % 8)) & 1;
    const uint8_t take = static_cast<uint8_t>(-bit);
    for (int j = 0; j < 16; ++j) z[j] ^= v[j] & take;
    const uint8_t reduce = static_cast<uint8_t>(-(v[15] & 1)) & 0xe1;
    for (int j = 15; j > 0; --j) {
      v[j] = static_cast<uint8_t>((v[j] >> 1) | (v[j - 1] << 7));
    }
    v[0] = static_cast<uint8_t>((v[0] >> 1) ^ reduce);
  }
  x = z;
}

// y = GHASH_H(y, data zero-padded to a block multiple).
void Ghash(Block& y, const Block& h, ByteView data) {
  for (size_t off = 0; off < data.size(); off += 16) {
    const size_t n = std::min<size_t>(16, data.size() - off);
    for (size_t j = 0; j < n; ++j) y[j] ^= data[off + j];
    GfMul(y, h);
  }
}

void GhashLengths(Block& y, const Block& h, uint64_t a_bytes,
                  uint64_t c_bytes) {
  Block lengths;
  const uint64_t a = a_bytes * 8, c = c_bytes * 8;
  for (int i = 0; i < 8; ++i) {
    lengths[i] = static_cast<uint8_t>(a >> (56 - 8 * i));
    lengths[8 + i] = static_cast<uint8_t>(c >> (56 - 8 * i));
  }
  Ghash(y, h, lengths);
}

// AES-128 in ECB mode over whole blocks: the block function E_K.
class AesBlock {
 public:
  absl::Status Init(ByteView key) {
    static EVP_CIPHER* ecb = EVP_CIPHER_fetch(nullptr, "AES-128-ECB", nullptr);
    ctx_.reset(EVP_CIPHER_CTX_new());
    if (ecb == nullptr || !ctx_ ||
        EVP_EncryptInit_ex2(ctx_.get(), ecb, key.data(), nullptr, nullptr) !=
            1 ||
        EVP_CIPHER_CTX_set_padding(ctx_.get(), 0) != 1) {
      return Internal("AES-128-ECB init");
    }
    return absl::OkStatus();
  }
  absl::Status Encrypt(const uint8_t* in, uint8_t* out, size_t blocks) {
    int len = 0;
    if (EVP_EncryptUpdate(ctx_.get(), out, &len, in,
                          static_cast<int>(blocks * 16)) != 1) {
      return Internal("AES-128-ECB");
    }
    return absl::OkStatus();
  }

 private:
  EvpCipherCtxPtr ctx_;
};

struct GcmState {
  AesBlock aes;
  Block h{};
  Block j0{};
};

absl::Status Setup(ByteView key, ByteView nonce, GcmState& s) {
  if (key.size() != 16 || nonce.empty()) {
    return Error(absl::StatusCode::kInvalidArgument, "AEAD_BAD_ARGUMENT",
                 "AES-128-GCM needs a 16-byte key and a non-empty nonce");
  }
  RETURN_IF_ERROR(s.aes.Init(key));
  const Block zero{};
  RETURN_IF_ERROR(s.aes.Encrypt(zero.data(), s.h.data(), 1));
  if (nonce.size() == 12) {
    std::memcpy(s.j0.data(), nonce.data(), 12);
    s.j0[15] = 1;
  } else {
    s.j0 = Block{};
    Ghash(s.j0, s.h, nonce);
    GhashLengths(s.j0, s.h, 0, nonce.size());
  }
  return absl::OkStatus();
}

// out = in XOR keystream from inc32(J0) onwards.
absl::Status Ctr(GcmState& s, ByteView in, uint8_t* out) {
  const size_t blocks = (in.size() + 15) / 16;
  std::vector<uint8_t> stream(blocks * 16);
  uint32_t counter = static_cast<uint32_t>(s.j0[12]) << 24 |
                     static_cast<uint32_t>(s.j0[13]) << 16 |
                     static_cast<uint32_t>(s.j0[14]) << 8 | s.j0[15];
  for (size_t b = 0; b < blocks; ++b) {
    ++counter;  // inc32: wraps modulo 2^32
    uint8_t* cb = &stream[b * 16];
    std::memcpy(cb, s.j0.data(), 12);
    cb[12] = static_cast<uint8_t>(counter >> 24);
    cb[13] = static_cast<uint8_t>(counter >> 16);
    cb[14] = static_cast<uint8_t>(counter >> 8);
    cb[15] = static_cast<uint8_t>(counter);
  }
  if (blocks > 0) {
    RETURN_IF_ERROR(s.aes.Encrypt(stream.data(), stream.data(), blocks));
  }
  for (size_t i = 0; i < in.size(); ++i) out[i] = in[i] ^ stream[i];
  Wipe(stream);
  return absl::OkStatus();
}

absl::Status Tag(GcmState& s, ByteView aad, ByteView ct, Block& tag) {
  Block y{};
  Ghash(y, s.h, aad);
  Ghash(y, s.h, ct);
  GhashLengths(y, s.h, aad.size(), ct.size());
  Block ej0;
  RETURN_IF_ERROR(s.aes.Encrypt(s.j0.data(), ej0.data(), 1));
  for (int i = 0; i < 16; ++i) tag[i] = ej0[i] ^ y[i];
  return absl::OkStatus();
}

}  // namespace

absl::Status GcmSealAnyNonce(ByteView key, ByteView nonce, ByteView aad,
                             ByteView plaintext, MutableByteView out) {
  if (out.size() != plaintext.size() + 16) {
    return Error(absl::StatusCode::kInvalidArgument, "AEAD_BAD_ARGUMENT",
                 "output buffer must be plaintext size + 16");
  }
  GcmState s;
  RETURN_IF_ERROR(Setup(key, nonce, s));
  RETURN_IF_ERROR(Ctr(s, plaintext, out.data()));
  Block tag;
  RETURN_IF_ERROR(Tag(s, aad, ByteView(out.data(), plaintext.size()), tag));
  std::memcpy(out.data() + plaintext.size(), tag.data(), 16);
  return absl::OkStatus();
}

absl::Status GcmOpenAnyNonce(ByteView key, ByteView nonce, ByteView aad,
                             ByteView ciphertext, MutableByteView out) {
  if (ciphertext.size() < 16 || out.size() != ciphertext.size() - 16) {
    return Error(absl::StatusCode::kInvalidArgument, "AEAD_BAD_ARGUMENT",
                 "output buffer must be ciphertext size - 16");
  }
  const size_t body = ciphertext.size() - 16;
  GcmState s;
  RETURN_IF_ERROR(Setup(key, nonce, s));
  Block tag;
  RETURN_IF_ERROR(Tag(s, aad, ciphertext.first(body), tag));
  if (CRYPTO_memcmp(tag.data(), ciphertext.data() + body, 16) != 0) {
    return Error(absl::StatusCode::kUnauthenticated, "AEAD_AUTH_FAILED",
                 "the authentication tag does not match: the ciphertext, its "
                 "associated data, the key or the nonce differ from what was "
                 "sealed");
  }
  return Ctr(s, ciphertext.first(body), out.data());
}

}  // namespace trm::crypto
