#include "common/crypto/key_files.h"

#include <fcntl.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/crypto/hash.h"
#include "common/output_file.h"
#include "common/status.h"

namespace trm::crypto {
namespace {

KeyId KeyIdFromSpki(const uint8_t (&prefix)[12], ByteView raw) {
  Sha256Digest d = Sha256({ByteView(prefix, 12), raw});
  KeyId id;
  std::memcpy(id.data(), d.data(), id.size());
  return id;
}

std::string PemOf(EVP_PKEY* pkey) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), pkey) != 1) return "";
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

absl::Status IoError(absl::string_view what, const std::string& path) {
  return Error(
      absl::StatusCode::kFailedPrecondition, "KEY_FILE_IO",
      absl::StrCat("cannot ", what, " ", path, ": ", std::strerror(errno)));
}

absl::StatusOr<std::string> ReadSmallFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("open", path);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      absl::Status s = IoError("read", path);
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > 64 * 1024) {
      ::close(fd);
      return Error(absl::StatusCode::kInvalidArgument, "KEY_FILE_INVALID",
                   absl::StrCat(path,
                                " is larger than 64 KiB; it is not a "
                                "key file"));
    }
  }
  ::close(fd);
  return out;
}

absl::StatusOr<EvpPkeyPtr> LoadPrivatePkey(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return IoError("stat", path);
  if ((st.st_mode & 077) != 0) {
    return Error(
        absl::StatusCode::kFailedPrecondition, "KEY_FILE_PERMISSIONS",
        absl::StrFormat("private key %s has mode %04o and is readable by "
                        "others; run `chmod 600 %s` and keep it secret",
                        path, st.st_mode & 07777, path));
  }
  ASSIGN_OR_RETURN(std::string pem, ReadSmallFile(path));
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EvpPkeyPtr pkey(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  Wipe(MutableByteView(reinterpret_cast<uint8_t*>(pem.data()), pem.size()));
  if (!pkey) {
    DrainOpenSslErrors();
    return Error(absl::StatusCode::kInvalidArgument, "KEY_FILE_INVALID",
                 absl::StrCat(path,
                              " is not an unencrypted PKCS#8 PEM "
                              "private key (BEGIN PRIVATE KEY)"));
  }
  return pkey;
}

absl::StatusOr<EvpPkeyPtr> ParsePublicPem(absl::string_view pem,
                                          absl::string_view source) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EvpPkeyPtr pkey(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!pkey) {
    DrainOpenSslErrors();
    return Error(absl::StatusCode::kInvalidArgument, "KEY_FILE_INVALID",
                 absl::StrCat(source,
                              " is not a SubjectPublicKeyInfo PEM "
                              "public key (BEGIN PUBLIC KEY)"));
  }
  return pkey;
}

absl::Status WrongType(absl::string_view source, absl::string_view wanted) {
  return Error(
      absl::StatusCode::kInvalidArgument, "WRONG_KEY_TYPE",
      absl::StrCat(source, " holds another kind of key; expected ", wanted));
}

}  // namespace

KeyId KeyIdOf(const Ed25519PublicKey& key) {
  return KeyIdFromSpki(kEd25519SpkiPrefix, key.raw());
}

KeyId X25519KeyIdOf(const X25519PublicKey& key) {
  return KeyIdFromSpki(kX25519SpkiPrefix, key);
}

std::string Ed25519PublicKeyPem(const Ed25519PublicKey& key) {
  return PemOf(key.pkey());
}

std::string X25519PublicKeyPem(const X25519PublicKey& key) {
  EvpPkeyPtr pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr,
                                              key.data(), key.size()));
  return pkey ? PemOf(pkey.get()) : "";
}

absl::StatusOr<Ed25519PublicKey> ParseEd25519PublicKeyPem(
    absl::string_view pem) {
  ASSIGN_OR_RETURN(EvpPkeyPtr pkey, ParsePublicPem(pem, "the PEM text"));
  if (EVP_PKEY_get_id(pkey.get()) != EVP_PKEY_ED25519) {
    return WrongType("the PEM text", "an Ed25519 signing public key");
  }
  return Ed25519PublicKey::FromPkey(std::move(pkey));
}

absl::StatusOr<X25519PublicKey> ParseX25519PublicKeyPem(absl::string_view pem) {
  ASSIGN_OR_RETURN(EvpPkeyPtr pkey, ParsePublicPem(pem, "the PEM text"));
  if (EVP_PKEY_get_id(pkey.get()) != EVP_PKEY_X25519) {
    return WrongType("the PEM text", "an X25519 encryption public key");
  }
  X25519PublicKey raw;
  size_t len = raw.size();
  EVP_PKEY_get_raw_public_key(pkey.get(), raw.data(), &len);
  return raw;
}

absl::Status WritePrivateKeyFile(const std::string& path, EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0,
                                       nullptr, nullptr) != 1) {
    return Error(absl::StatusCode::kInternal, "OPENSSL_ERROR",
                 DrainOpenSslErrors());
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return Error(absl::StatusCode::kAlreadyExists, "KEY_FILE_EXISTS",
                   absl::StrCat(path,
                                " already exists; move it away first "
                                "(a key is never overwritten)"));
    }
    return IoError("create", path);
  }
  // The umask cannot widen 0600, but make the mode explicit anyway.
  bool ok = ::fchmod(fd, 0600) == 0 &&
            ::write(fd, data, static_cast<size_t>(len)) == len &&
            ::fsync(fd) == 0;
  absl::Status status = ok ? absl::OkStatus() : IoError("write", path);
  ::close(fd);
  if (!ok) ::unlink(path.c_str());
  return status;
}

absl::Status WritePublicKeyFile(const std::string& path,
                                absl::string_view pem) {
  return WriteOutputFile(path, AsBytes(pem), 0644);
}

absl::StatusOr<Ed25519PrivateKey> LoadSigningKey(const std::string& path) {
  ASSIGN_OR_RETURN(EvpPkeyPtr pkey, LoadPrivatePkey(path));
  if (EVP_PKEY_get_id(pkey.get()) != EVP_PKEY_ED25519) {
    return WrongType(path, "an Ed25519 signing key (*.sign.key)");
  }
  return Ed25519PrivateKey::FromPkey(std::move(pkey));
}

absl::StatusOr<X25519PrivateKey> LoadEncryptionKey(const std::string& path) {
  ASSIGN_OR_RETURN(EvpPkeyPtr pkey, LoadPrivatePkey(path));
  if (EVP_PKEY_get_id(pkey.get()) != EVP_PKEY_X25519) {
    return WrongType(path, "an X25519 encryption key (*.enc.key)");
  }
  return X25519PrivateKey::FromPkey(std::move(pkey));
}

absl::StatusOr<Ed25519PublicKey> LoadVerifyKey(const std::string& path) {
  ASSIGN_OR_RETURN(std::string pem, ReadSmallFile(path));
  ASSIGN_OR_RETURN(EvpPkeyPtr pkey, ParsePublicPem(pem, path));
  if (EVP_PKEY_get_id(pkey.get()) != EVP_PKEY_ED25519) {
    return WrongType(path, "an Ed25519 signing public key (*.sign.pub)");
  }
  return Ed25519PublicKey::FromPkey(std::move(pkey));
}

absl::StatusOr<X25519PublicKey> LoadEncryptionPublicKey(
    const std::string& path) {
  ASSIGN_OR_RETURN(std::string pem, ReadSmallFile(path));
  ASSIGN_OR_RETURN(EvpPkeyPtr pkey, ParsePublicPem(pem, path));
  if (EVP_PKEY_get_id(pkey.get()) != EVP_PKEY_X25519) {
    return WrongType(path, "an X25519 encryption public key (*.enc.pub)");
  }
  X25519PublicKey raw;
  size_t len = raw.size();
  EVP_PKEY_get_raw_public_key(pkey.get(), raw.data(), &len);
  return raw;
}

}  // namespace trm::crypto
