// Key files and key ids.
//
// Private keys are PKCS#8 PEM ("BEGIN PRIVATE KEY"), unencrypted, mode 0600;
// a private key file readable by group or others is refused. Public keys are
// SubjectPublicKeyInfo PEM ("BEGIN PUBLIC KEY"). A key id is the first 16
// bytes of SHA-256 over the key's SubjectPublicKeyInfo DER (docs/protocol.md).
//
//   ASSIGN_OR_RETURN(Ed25519PrivateKey sk, LoadSigningKey("org.sign.key"));
//   KeyId id = KeyIdOf(sk.public_key());
#ifndef TRM_COMMON_CRYPTO_KEY_FILES_H_
#define TRM_COMMON_CRYPTO_KEY_FILES_H_

#include <array>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/bytes.h"
#include "common/crypto/ed25519.h"
#include "common/crypto/x25519.h"

namespace trm::crypto {

inline constexpr size_t kKeyIdSize = 16;
using KeyId = std::array<uint8_t, kKeyIdSize>;

// The 12-byte DER prefix of a SubjectPublicKeyInfo for each algorithm; the
// 32-byte raw key follows it.
inline constexpr uint8_t kEd25519SpkiPrefix[12] = {
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
inline constexpr uint8_t kX25519SpkiPrefix[12] = {
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00};

KeyId KeyIdOf(const Ed25519PublicKey& key);
KeyId X25519KeyIdOf(const X25519PublicKey& key);

// PEM text of public keys (SubjectPublicKeyInfo).
std::string Ed25519PublicKeyPem(const Ed25519PublicKey& key);
std::string X25519PublicKeyPem(const X25519PublicKey& key);

// Parse PEM text; the error names what was expected and what was found.
absl::StatusOr<Ed25519PublicKey> ParseEd25519PublicKeyPem(
    absl::string_view pem);
absl::StatusOr<X25519PublicKey> ParseX25519PublicKeyPem(absl::string_view pem);

// Writes a private key as PKCS#8 PEM, mode 0600. Refuses to replace an
// existing file (ALREADY_EXISTS), so a key is never silently lost. The PEM
// text is wiped from memory after writing.
absl::Status WritePrivateKeyFile(const std::string& path, EVP_PKEY* key);
// Writes PEM text to `path` with mode 0644, replacing it atomically.
absl::Status WritePublicKeyFile(const std::string& path, absl::string_view pem);

absl::StatusOr<Ed25519PrivateKey> LoadSigningKey(const std::string& path);
absl::StatusOr<X25519PrivateKey> LoadEncryptionKey(const std::string& path);
absl::StatusOr<Ed25519PublicKey> LoadVerifyKey(const std::string& path);
absl::StatusOr<X25519PublicKey> LoadEncryptionPublicKey(
    const std::string& path);

}  // namespace trm::crypto

#endif  // TRM_COMMON_CRYPTO_KEY_FILES_H_
