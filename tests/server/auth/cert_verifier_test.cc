#include "server/auth/cert_verifier.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/crypto/openssl_ptr.h"
#include "common/status.h"
#include "server/auth/caller_auth.h"
#include "server/federation/federation_service.h"

namespace trm::auth {
namespace {

using X509Ptr = std::unique_ptr<X509, crypto::OpenSslDeleter<X509, X509_free>>;

constexpr int64_t kDay = 24 * 3600;
const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

crypto::EvpPkeyPtr NewKey() {
  return crypto::EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
}

void AddExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(ext, nullptr);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `key` named `cn`, valid [kNow - 1 day, kNow + days),
// signed by `issuer`/`issuer_key` (itself when null: a CA).
X509Ptr MakeCert(EVP_PKEY* key, const char* cn, X509* issuer,
                 EVP_PKEY* issuer_key, const char* san, int64_t days = 30) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 4242);
  X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, 0,
                   nullptr);  // overwritten below
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), absl::ToTimeT(kNow) - kDay);
  ASN1_TIME_set(X509_getm_notAfter(cert.get()),
                absl::ToTimeT(kNow) + days * kDay);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn), -1, -1,
                             0);
  X509_set_pubkey(cert.get(), key);
  X509* signer = issuer == nullptr ? cert.get() : issuer;
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  if (issuer == nullptr) {
    AddExt(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE");
    AddExt(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign");
  } else if (san != nullptr) {
    AddExt(cert.get(), issuer, NID_subject_alt_name, san);
  }
  X509_sign(cert.get(), issuer_key == nullptr ? key : issuer_key, EVP_sha256());
  return cert;
}

std::string Pem(X509* cert) {
  crypto::BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

class CertVerifierTest : public ::testing::Test {
 protected:
  crypto::EvpPkeyPtr ca_key_ = NewKey(), other_ca_key_ = NewKey(),
                     leaf_key_ = NewKey();
  X509Ptr ca_ =
      MakeCert(ca_key_.get(), "federation CA", nullptr, nullptr, nullptr, 3650);
  X509Ptr other_ca_ = MakeCert(other_ca_key_.get(), "rogue CA", nullptr,
                               nullptr, nullptr, 3650);
  std::unique_ptr<CertVerifier> v_ = *CertVerifier::Create(Pem(ca_.get()));

  // One row of an identity table: a client certificate with this SAN (none
  // when null) from this issuer, judged at `at`.
  struct Row {
    const char* san;
    X509* issuer;
    EVP_PKEY* issuer_key;
    absl::Time at;
    std::string want;
  };
  std::string LeafPem(const Row& r) {
    X509Ptr leaf =
        MakeCert(leaf_key_.get(), "peer", r.issuer, r.issuer_key, r.san, 30);
    return Pem(leaf.get());
  }
};

TEST_F(CertVerifierTest, NamesThePeerByItsUriSan) {
  X509Ptr leaf = MakeCert(leaf_key_.get(), "org bg-ngo", ca_.get(),
                          ca_key_.get(), "URI:trm://org/bg-ngo,DNS:localhost");
  auto id = v_->Identity(Pem(leaf.get()), kNow);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, "trm://org/bg-ngo");
  EXPECT_EQ(*v_->Identity(Pem(leaf.get()), kNow), "trm://org/bg-ngo")
      << "cached";
}

TEST_F(CertVerifierTest, AnotherCaIsRefusedNamingTheCertificate) {
  X509Ptr leaf = MakeCert(leaf_key_.get(), "org bg-ngo", other_ca_.get(),
                          other_ca_key_.get(), "URI:trm://org/bg-ngo");
  auto id = v_->Identity(Pem(leaf.get()), kNow);
  EXPECT_EQ(id.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(ErrorReason(id.status()), "CERT_UNTRUSTED");
  EXPECT_NE(id.status().message().find("CN=org bg-ngo"), std::string::npos)
      << id.status();
  EXPECT_NE(id.status().message().find("rogue CA"), std::string::npos);
  EXPECT_NE(id.status().message().find("federation CA"), std::string::npos);
  // A self-signed one too.
  X509Ptr self =
      MakeCert(leaf_key_.get(), "org bg-ngo", nullptr, nullptr, nullptr);
  EXPECT_EQ(ErrorReason(v_->Identity(Pem(self.get()), kNow).status()),
            "CERT_UNTRUSTED");
}

TEST_F(CertVerifierTest, ValidityIsJudgedAtTheGivenTime) {
  X509Ptr leaf = MakeCert(leaf_key_.get(), "org bg-ngo", ca_.get(),
                          ca_key_.get(), "URI:trm://org/bg-ngo", 30);
  const std::string pem = Pem(leaf.get());
  EXPECT_TRUE(v_->Identity(pem, kNow + absl::Hours(24 * 29)).ok());
  auto expired = v_->Identity(pem, kNow + absl::Hours(24 * 31));
  EXPECT_EQ(ErrorReason(expired.status()), "CERT_EXPIRED");
  EXPECT_NE(expired.status().message().find("expired at"), std::string::npos);
  EXPECT_EQ(ErrorReason(v_->Identity(pem, kNow - absl::Hours(48)).status()),
            "CERT_NOT_YET_VALID");
}

TEST_F(CertVerifierTest, AnExpiredCaExpiresWhatItIssued) {
  X509Ptr leaf = MakeCert(leaf_key_.get(), "org bg-ngo", ca_.get(),
                          ca_key_.get(), "URI:trm://org/bg-ngo", 5000);
  auto later = v_->Identity(Pem(leaf.get()), kNow + absl::Hours(24 * 3700));
  EXPECT_EQ(ErrorReason(later.status()), "CERT_EXPIRED");
  EXPECT_NE(later.status().message().find("'CN=federation CA' (serial"),
            std::string::npos)
      << later.status();
}

TEST_F(CertVerifierTest, ExactlyOneTrmIdentity) {
  X509Ptr none = MakeCert(leaf_key_.get(), "org x", ca_.get(), ca_key_.get(),
                          "DNS:localhost");
  EXPECT_EQ(ErrorReason(v_->Identity(Pem(none.get()), kNow).status()),
            "CERT_NO_IDENTITY");
  X509Ptr two = MakeCert(leaf_key_.get(), "org x", ca_.get(), ca_key_.get(),
                         "URI:trm://org/a,URI:trm://org/b");
  EXPECT_EQ(ErrorReason(v_->Identity(Pem(two.get()), kNow).status()),
            "CERT_NO_IDENTITY");
  EXPECT_EQ(ErrorReason(v_->Identity("not a certificate", kNow).status()),
            "CERT_UNTRUSTED");
  EXPECT_EQ(ErrorReason(CertVerifier::Create("junk").status()),
            "TLS_CONFIG_INVALID");
}

// PrincipalOf: the certificate, checked, names one directory entry, and
// only the kind and id that entry has.
TEST_F(CertVerifierTest, PrincipalOfNamesTheDirectoryEntryOrRefuses) {
  v1::Directory d;
  d.set_federation("test");
  d.set_serial(7);
  v1::DirectoryNode* n = d.add_nodes();
  n->set_id("bg");
  n->set_tls_identity("trm://node/bg");
  v1::DirectoryOrganisation* o = d.add_organisations();
  o->set_id("bg-ngo");
  o->set_home_node("bg");
  o->set_tls_identity("trm://org/bg-ngo");
  v1::DirectoryAuditor* a = d.add_auditors();
  a->set_id("grevio");
  a->set_tls_identity("trm://auditor/grevio");
  a->set_scope(v1::AUDIT_ALL_NODES);
  auto dir = directory::Directory::FromLocal(d);
  ASSERT_TRUE(dir.ok()) << dir.status();
  // want: "kind id", or the reason.
  const Row rows[] = {
      {"URI:trm://org/bg-ngo", ca_.get(), ca_key_.get(), kNow,
       "organisation bg-ngo"},
      {"URI:trm://node/bg", ca_.get(), ca_key_.get(), kNow, "node bg"},
      {"URI:trm://auditor/grevio", ca_.get(), ca_key_.get(), kNow,
       "auditor grevio"},
      // A name the directory does not have, even one that looks like it.
      {"URI:trm://org/bg-ngo2", ca_.get(), ca_key_.get(), kNow,
       "UNKNOWN_IDENTITY"},
      {"URI:trm://node/bg-ngo", ca_.get(), ca_key_.get(), kNow,
       "UNKNOWN_IDENTITY"},
      {"URI:trm://org/bg-ngo", other_ca_.get(), other_ca_key_.get(), kNow,
       "CERT_UNTRUSTED"},
      {"URI:trm://org/bg-ngo", ca_.get(), ca_key_.get(),
       kNow + absl::Hours(24 * 31), "CERT_EXPIRED"},
      {"DNS:localhost", ca_.get(), ca_key_.get(), kNow, "CERT_NO_IDENTITY"},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.san);
    auto who = PrincipalOf(*v_, **dir, LeafPem(r), r.at);
    const std::string got =
        who.ok() ? absl::StrCat(directory::KindName(who->kind), " ", who->id)
                 : ErrorReason(who.status());
    EXPECT_EQ(got, r.want);
  }
}

// The Federation service's caller: a node of the directory other than this
// one, by its checked certificate; anyone else is refused before any batch
// is read.
TEST_F(CertVerifierTest, PeerNodeIsAnotherNodeOfTheDirectory) {
  v1::Directory d;
  d.set_federation("test");
  d.set_serial(7);
  for (const char* id : {"bg", "ng"}) {
    v1::DirectoryNode* n = d.add_nodes();
    n->set_id(id);
    n->set_tls_identity(absl::StrCat("trm://node/", id));
  }
  v1::DirectoryOrganisation* o = d.add_organisations();
  o->set_id("ng-reception");
  o->set_home_node("ng");
  o->set_tls_identity("trm://org/ng-reception");
  v1::DirectoryAuditor* a = d.add_auditors();
  a->set_id("grevio");
  a->set_tls_identity("trm://auditor/grevio");
  a->set_scope(v1::AUDIT_ALL_NODES);
  auto dir = directory::Directory::FromLocal(d);
  ASSERT_TRUE(dir.ok()) << dir.status();
  // want: the peer node, or the reason.
  const Row rows[] = {
      {"URI:trm://node/ng", ca_.get(), ca_key_.get(), kNow, "ng"},
      {nullptr, ca_.get(), ca_key_.get(), kNow, "MISSING_CREDENTIAL"},
      // This node's own identity: a node does not relay to itself.
      {"URI:trm://node/bg", ca_.get(), ca_key_.get(), kNow, "WRONG_ROLE"},
      // An organisation or an auditor of the federation is not a peer.
      {"URI:trm://org/ng-reception", ca_.get(), ca_key_.get(), kNow,
       "WRONG_ROLE"},
      {"URI:trm://auditor/grevio", ca_.get(), ca_key_.get(), kNow,
       "WRONG_ROLE"},
      // A node the directory does not list, one named like an organisation,
      // another CA's certificate for a real node, an expired one.
      {"URI:trm://node/it", ca_.get(), ca_key_.get(), kNow, "UNKNOWN_IDENTITY"},
      {"URI:trm://node/ng-reception", ca_.get(), ca_key_.get(), kNow,
       "UNKNOWN_IDENTITY"},
      {"URI:trm://node/ng", other_ca_.get(), other_ca_key_.get(), kNow,
       "CERT_UNTRUSTED"},
      {"URI:trm://node/ng", ca_.get(), ca_key_.get(),
       kNow + absl::Hours(24 * 31), "CERT_EXPIRED"},
      {"DNS:ng.example", ca_.get(), ca_key_.get(), kNow, "CERT_NO_IDENTITY"},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.san == nullptr ? "no certificate" : r.san);
    std::optional<std::string> pem;
    if (r.san != nullptr) pem = LeafPem(r);
    auto peer = federation::PeerNodeOf(
        pem ? std::optional<absl::string_view>(*pem) : std::nullopt, *v_, **dir,
        "bg", r.at);
    EXPECT_EQ(peer.ok() ? *peer : ErrorReason(peer.status()), r.want);
  }
}

}  // namespace
}  // namespace trm::auth
