#include "common/crypto/key_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/status.h"

namespace trm::crypto {
namespace {

namespace fs = std::filesystem;

class KeyFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/trm-keyfiles-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) { return dir_ + "/" + name; }
  std::string dir_;
};

TEST_F(KeyFilesTest, SigningKeyRoundTripWithModes) {
  auto sk = Ed25519PrivateKey::Generate();
  ASSERT_TRUE(sk.ok());
  ASSERT_TRUE(WritePrivateKeyFile(Path("a.sign.key"), sk->pkey()).ok());
  ASSERT_TRUE(WritePublicKeyFile(Path("a.sign.pub"),
                                 Ed25519PublicKeyPem(sk->public_key()))
                  .ok());
  struct stat st;
  ASSERT_EQ(stat(Path("a.sign.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto loaded = LoadSigningKey(Path("a.sign.key"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->public_key().raw(), sk->public_key().raw());
  auto pub = LoadVerifyKey(Path("a.sign.pub"));
  ASSERT_TRUE(pub.ok()) << pub.status();
  EXPECT_EQ(KeyIdOf(*pub), KeyIdOf(sk->public_key()));

  // PKCS#8 and SPKI PEM, as documented.
  std::ifstream key(Path("a.sign.key"));
  std::string first;
  std::getline(key, first);
  EXPECT_EQ(first, "-----BEGIN PRIVATE KEY-----");
  std::ifstream pubf(Path("a.sign.pub"));
  std::getline(pubf, first);
  EXPECT_EQ(first, "-----BEGIN PUBLIC KEY-----");
}

TEST_F(KeyFilesTest, NeverOverwritesAPrivateKey) {
  auto sk = Ed25519PrivateKey::Generate();
  ASSERT_TRUE(sk.ok());
  ASSERT_TRUE(WritePrivateKeyFile(Path("k"), sk->pkey()).ok());
  EXPECT_EQ(ErrorReason(WritePrivateKeyFile(Path("k"), sk->pkey())),
            "KEY_FILE_EXISTS");
}

TEST_F(KeyFilesTest, RefusesWorldReadablePrivateKey) {
  auto sk = X25519PrivateKey::Generate();
  ASSERT_TRUE(sk.ok());
  ASSERT_TRUE(WritePrivateKeyFile(Path("e.key"), sk->pkey()).ok());
  ASSERT_EQ(chmod(Path("e.key").c_str(), 0644), 0);
  auto loaded = LoadEncryptionKey(Path("e.key"));
  EXPECT_EQ(ErrorReason(loaded.status()), "KEY_FILE_PERMISSIONS");
  EXPECT_NE(loaded.status().message().find("chmod 600"), std::string::npos);
}

TEST_F(KeyFilesTest, WrongKindAndGarbageAreNamed) {
  auto sk = X25519PrivateKey::Generate();
  ASSERT_TRUE(sk.ok());
  ASSERT_TRUE(WritePrivateKeyFile(Path("e.key"), sk->pkey()).ok());
  EXPECT_EQ(ErrorReason(LoadSigningKey(Path("e.key")).status()),
            "WRONG_KEY_TYPE");
  ASSERT_TRUE(
      WritePublicKeyFile(Path("e.pub"), X25519PublicKeyPem(sk->public_key()))
          .ok());
  EXPECT_EQ(ErrorReason(LoadVerifyKey(Path("e.pub")).status()),
            "WRONG_KEY_TYPE");
  auto raw = LoadEncryptionPublicKey(Path("e.pub"));
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(*raw, sk->public_key());
  ASSERT_TRUE(WritePublicKeyFile(Path("junk"), "not a key").ok());
  EXPECT_EQ(ErrorReason(LoadVerifyKey(Path("junk")).status()),
            "KEY_FILE_INVALID");
  EXPECT_EQ(ErrorReason(LoadVerifyKey(Path("missing")).status()),
            "KEY_FILE_IO");
}

TEST(KeyId, IsSha256OfSpkiDer) {
  // RFC 8032 test 1 public key; id = SHA-256(SPKI DER)[0:16], computed
  // independently with: printf '302a300506032b6570032100<pk>' | xxd -r -p |
  // sha256sum
  auto pk = Ed25519PublicKey::FromRaw(
      *HexDecode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707"
                 "511a"));
  ASSERT_TRUE(pk.ok());
  EXPECT_EQ(HexEncode(KeyIdOf(*pk)), "06e3fd8fda29bb60ab59557de61edb0a");
}

}  // namespace
}  // namespace trm::crypto
