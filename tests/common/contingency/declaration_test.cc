// Contingency declarations: only a node's coordinator, with its own key,
// declares one; every field is checked; a route is covered by its country
// at either end or by its link either way.
#include "common/contingency/declaration.h"

#include <gtest/gtest.h>

#include "common/crypto/key_files.h"
#include "common/status.h"

namespace trm::contingency {
namespace {

constexpr int64_t kT = 1'800'000'000'000;

class DeclarationTest : public ::testing::Test {
 protected:
  DeclarationTest() {
    v1::Directory d;
    d.set_federation("trm-test");
    d.set_serial(1);
    for (auto [id, country] : {std::pair{"bg", "BG"}, std::pair{"ng", "NG"}}) {
      v1::DirectoryNode* n = d.add_nodes();
      n->set_id(id);
      n->set_country(country);
    }
    for (auto [id, home, role, key] :
         {std::tuple{"bg-nrm", "bg", v1::NATIONAL_COORDINATOR, &nrm_key_},
          std::tuple{"bg-ngo", "bg", v1::NGO, &ngo_key_}}) {
      v1::DirectoryOrganisation* o = d.add_organisations();
      o->set_id(id);
      o->set_home_node(home);
      o->add_roles(role);
      v1::DirectoryKey* k = o->add_signing_keys();
      const crypto::KeyId kid = crypto::KeyIdOf(key->public_key());
      k->set_key_id(kid.data(), kid.size());
      k->set_public_key(key->public_key().raw().data(), 32);
    }
    dir_ = *directory::Directory::FromLocal(d);
  }

  static v1::Contingency ForNigeria() {
    v1::Contingency c;
    c.set_id(std::string(16, '\x07'));
    c.set_country("NG");
    c.set_reason("flooding: offices closed");
    c.set_declared_by("bg-nrm");
    c.set_node("bg");
    c.set_start_unix_ms(kT);
    return c;
  }

  crypto::Ed25519PrivateKey nrm_key_ = *crypto::Ed25519PrivateKey::Generate();
  crypto::Ed25519PrivateKey ngo_key_ = *crypto::Ed25519PrivateKey::Generate();
  std::shared_ptr<const directory::Directory> dir_;
};

TEST_F(DeclarationTest, ACoordinatorsDeclarationVerifiesAndNothingElseDoes) {
  absl::StatusOr<v1::SignedContingency> s =
      SignContingency(ForNigeria(), nrm_key_);
  ASSERT_TRUE(s.ok()) << s.status();
  absl::StatusOr<v1::Contingency> c = VerifyContingency(*s, *dir_);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->country(), "NG");
  // Altered after signing.
  v1::SignedContingency altered = *s;
  v1::Contingency longer = ForNigeria();
  longer.set_end_unix_ms(kT + 1);
  altered.set_contingency(longer.SerializeAsString());
  EXPECT_EQ(ErrorReason(VerifyContingency(altered, *dir_).status()),
            "CONTINGENCY_SIGNATURE_INVALID");
  // Signed with another organisation's key.
  EXPECT_EQ(ErrorReason(VerifyContingency(
                            *SignContingency(ForNigeria(), ngo_key_), *dir_)
                            .status()),
            "CONTINGENCY_SIGNATURE_INVALID");
  // Declared by an NGO, with its own key.
  v1::Contingency by_ngo = ForNigeria();
  by_ngo.set_declared_by("bg-ngo");
  absl::Status refused =
      VerifyContingency(*SignContingency(by_ngo, ngo_key_), *dir_).status();
  EXPECT_EQ(ErrorReason(refused), "CONTINGENCY_INVALID");
  EXPECT_NE(refused.message().find("not a NATIONAL_COORDINATOR"),
            std::string::npos);
  // A coordinator claiming another node.
  v1::Contingency elsewhere = ForNigeria();
  elsewhere.set_node("ng");
  EXPECT_EQ(ErrorReason(
                VerifyContingency(*SignContingency(elsewhere, nrm_key_), *dir_)
                    .status()),
            "CONTINGENCY_INVALID");
}

TEST_F(DeclarationTest, EveryFieldIsChecked) {
  auto refused = [](void (*change)(v1::Contingency&), const char* word) {
    v1::Contingency c = ForNigeria();
    change(c);
    absl::Status s = CheckShape(c);
    EXPECT_EQ(ErrorReason(s), "CONTINGENCY_INVALID") << word;
    EXPECT_NE(s.message().find(word), std::string::npos) << s.message();
  };
  refused([](v1::Contingency& c) { c.set_id("short"); }, "id");
  refused([](v1::Contingency& c) { c.set_link_a("bg"); }, "scope");
  refused([](v1::Contingency& c) { c.clear_country(); }, "scope");
  refused(
      [](v1::Contingency& c) {
        c.clear_country();
        c.set_link_a("bg");
        c.set_link_b("bg");
      },
      "two different nodes");
  refused([](v1::Contingency& c) { c.clear_reason(); }, "reason");
  refused([](v1::Contingency& c) { c.set_reason(std::string(501, 'x')); },
          "reason");
  refused([](v1::Contingency& c) { c.set_start_unix_ms(0); }, "start");
  refused([](v1::Contingency& c) { c.set_end_unix_ms(kT - 1); },
          "before its start");
  EXPECT_TRUE(CheckShape(ForNigeria()).ok());
}

TEST_F(DeclarationTest, ARouteIsCoveredByItsCountriesOrItsLink) {
  const Route bg_ng{"bg", "BG", "ng", "NG"};
  const Route bg_it{"bg", "BG", "it", "IT"};
  v1::Contingency c = ForNigeria();
  EXPECT_TRUE(Covers(c, bg_ng));
  EXPECT_TRUE(Covers(c, Route{"ng", "NG", "bg", "BG"}));
  EXPECT_FALSE(Covers(c, bg_it));
  c.clear_country();
  c.set_link_a("ng");
  c.set_link_b("bg");
  EXPECT_TRUE(Covers(c, bg_ng)) << "a link either way";
  EXPECT_FALSE(Covers(c, bg_it));
  EXPECT_FALSE(HoldsAt(c, absl::FromUnixMillis(kT - 1)));
  EXPECT_TRUE(HoldsAt(c, absl::FromUnixMillis(kT)));
  c.set_end_unix_ms(kT + 10);
  EXPECT_TRUE(HoldsAt(c, absl::FromUnixMillis(kT + 9)));
  EXPECT_FALSE(HoldsAt(c, absl::FromUnixMillis(kT + 10)));
}

}  // namespace
}  // namespace trm::contingency
