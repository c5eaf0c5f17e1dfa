// trm-agent's users and sessions: tokens kept only as hashes, Argon2id
// passwords, the users file's mode, role refusals that name the role, and
// sessions that end on sign-out and after idle time on the simulated clock.
#include "client/agent/user_book.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "client/agent/http_api.h"
#include "client/agent/session_table.h"
#include "common/clock.h"
#include "common/status.h"

namespace trm::agent {
namespace {

class UserBookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/trm-agent-users-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/users.json";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_, path_;
};

TEST_F(UserBookTest, TokensAndPasswordsAreKeptOnlyAsHashes) {
  absl::StatusOr<std::string> token =
      UserBook::AddUser(path_, "amira", Role::kCaseworker, "correct horse 9");
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->rfind("trm_", 0), 0u);
  struct stat st;
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  std::ifstream in(path_);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text.find(*token), std::string::npos);
  EXPECT_EQ(text.find("correct horse"), std::string::npos);
  EXPECT_NE(text.find("$argon2id$"), std::string::npos);

  absl::StatusOr<UserBook> book = UserBook::Load(path_);
  ASSERT_TRUE(book.ok()) << book.status();
  absl::StatusOr<User> u = book->ByToken(*token);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->name, "amira");
  EXPECT_EQ(ErrorReason(book->ByToken("trm_" + std::string(64, '0')).status()),
            "AGENT_UNAUTHENTICATED");
  EXPECT_EQ(ErrorReason(book->ByToken("").status()), "AGENT_UNAUTHENTICATED");
  EXPECT_TRUE(book->ByPassword("amira", "correct horse 9").ok());
  EXPECT_EQ(ErrorReason(book->ByPassword("amira", "wrong horse 9").status()),
            "AGENT_UNAUTHENTICATED");
  EXPECT_EQ(ErrorReason(book->ByPassword("nobody", "correct horse 9").status()),
            "AGENT_UNAUTHENTICATED");
  // A second token for the same user leaves the first valid.
  absl::StatusOr<std::string> second =
      UserBook::AddUser(path_, "amira", Role::kCaseworker, "");
  ASSERT_TRUE(second.ok());
  book = UserBook::Load(path_);
  ASSERT_TRUE(book.ok());
  EXPECT_TRUE(book->ByToken(*token).ok());
  EXPECT_TRUE(book->ByToken(*second).ok());
  EXPECT_TRUE(book->ByPassword("amira", "correct horse 9").ok());
}

TEST_F(UserBookTest, BadFilesAreRefusedWithWhatIsWrong) {
  EXPECT_EQ(ErrorReason(UserBook::Load(path_).status()), "FILE_IO");
  { std::ofstream(path_) << R"({"users": [{"name": "a", "role": "boss"}]})"; }
  ::chmod(path_.c_str(), 0644);
  EXPECT_EQ(ErrorReason(UserBook::Load(path_).status()),
            "KEY_FILE_PERMISSIONS");
  ::chmod(path_.c_str(), 0600);
  absl::Status s = UserBook::Load(path_).status();
  EXPECT_EQ(ErrorReason(s), "AGENT_USERS_INVALID");
  EXPECT_NE(s.message().find("users[0].role"), absl::string_view::npos) << s;
  EXPECT_EQ(
      ErrorReason(UserBook::AddUser(path_ + "2", "b", Role::kAuditor, "short")
                      .status()),
      "AGENT_USERS_INVALID");
}

TEST(RoleTest, ARefusalNamesTheRolesThatMay) {
  absl::Status s =
      Require(User{"audrey", Role::kAuditor},
              {Role::kCaseworker, Role::kCoordinator}, "reading a payload");
  EXPECT_EQ(ErrorReason(s), "AGENT_ROLE_REQUIRED");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("caseworker or coordinator"),
            absl::string_view::npos);
  EXPECT_NE(s.message().find("audrey is auditor"), absl::string_view::npos);
  EXPECT_TRUE(Require(User{"c", Role::kCoordinator},
                      {Role::kCaseworker, Role::kCoordinator}, "x")
                  .ok());
  EXPECT_EQ(HttpStatusOf(s), 403);
  EXPECT_EQ(ErrorBody(s)["reason"], "AGENT_ROLE_REQUIRED");
}

TEST(SessionTableTest, SessionsEndOnSignOutAndWhenIdle) {
  SimulatedClock clock(absl::FromUnixSeconds(1796117400));
  SessionTable sessions(clock, absl::Minutes(30));
  const std::string t = sessions.Start(User{"amira", Role::kCaseworker});
  ASSERT_TRUE(sessions.Find(t).ok());
  clock.Advance(absl::Minutes(29));
  ASSERT_TRUE(sessions.Find(t).ok());  // and it renews the session
  clock.Advance(absl::Minutes(29));
  ASSERT_TRUE(sessions.Find(t).ok());
  clock.Advance(absl::Minutes(31));
  EXPECT_EQ(ErrorReason(sessions.Find(t).status()), "AGENT_UNAUTHENTICATED");
  const std::string u = sessions.Start(User{"amira", Role::kCaseworker});
  sessions.End(u);
  EXPECT_EQ(ErrorReason(sessions.Find(u).status()), "AGENT_UNAUTHENTICATED");
}

}  // namespace
}  // namespace trm::agent
