// The node's alarm for its directory's validity, on a simulated timeline:
// one line per change of standing, repeated daily while not valid, and one
// when a newer directory puts it right.
#include "server/federation/directory_alarm.h"

#include <gtest/gtest.h>

namespace trm::federation {
namespace {

constexpr int64_t kIssued = 1'800'000'000'000;

std::shared_ptr<const directory::Directory> Dir(uint64_t serial,
                                                absl::Time valid_until) {
  v1::Directory d;
  d.set_federation("trm-test");
  d.set_serial(serial);
  d.set_issued_unix_ms(kIssued);
  d.set_valid_until_unix_ms(absl::ToUnixMillis(valid_until));
  d.add_nodes()->set_id("bg");
  auto dir = directory::Directory::FromLocal(std::move(d));
  EXPECT_TRUE(dir.ok()) << dir.status();
  return dir.ok() ? *dir : nullptr;
}

TEST(DirectoryAlarmTest, OneLinePerChangeAndDailyWhileNotValid) {
  const absl::Time t0 = absl::FromUnixMillis(kIssued);
  const absl::Time until = t0 + absl::Hours(24 * 30);
  auto dir = Dir(4, until);
  DirectoryAlarm alarm;
  auto check = [&](const directory::Directory& d, absl::Time now) {
    std::optional<DirectoryAlarm::Line> line = alarm.Check(d, now);
    return line ? line->event + ": " + line->text : std::string();
  };
  EXPECT_EQ(check(*dir, t0), "") << "a valid directory at start says nothing";
  EXPECT_EQ(check(*dir, t0 + absl::Hours(24)), "");
  std::string line = check(*dir, until - absl::Hours(24 * 10));
  EXPECT_EQ(line.rfind("directory.expiring: the federation directory (serial "
                       "4) expires at ",
                       0),
            0u)
      << line;
  EXPECT_NE(line.find("in 10 days"), std::string::npos) << line;
  EXPECT_EQ(check(*dir, until - absl::Hours(24 * 10) + absl::Hours(1)), "");
  line = check(*dir, until - absl::Hours(24 * 9));
  EXPECT_NE(line.find("in 9 days"), std::string::npos) << "daily: " << line;
  line = check(*dir, until + absl::Hours(1));
  EXPECT_EQ(line.rfind("directory.grace: ", 0), 0u) << line;
  EXPECT_NE(line.find("then takes no new cases"), std::string::npos) << line;
  line = check(*dir, until + absl::Hours(24 * 7));
  EXPECT_EQ(line.rfind("directory.lapsed: ", 0), 0u) << line;
  EXPECT_NE(line.find("keeps delivering what it holds"), std::string::npos);
  EXPECT_EQ(check(*dir, until + absl::Hours(24 * 7 + 5)), "");
  // A newer directory valid for another year.
  auto next = Dir(5, until + absl::Hours(24 * 365));
  line = check(*next, until + absl::Hours(24 * 8));
  EXPECT_EQ(line.rfind("directory.valid: the federation directory (serial 5) "
                       "is valid until ",
                       0),
            0u)
      << line;
  EXPECT_EQ(check(*next, until + absl::Hours(24 * 9)), "");
}

TEST(DirectoryAlarmTest, ABadDirectoryAtStartIsReportedAtOnce) {
  const absl::Time t0 = absl::FromUnixMillis(kIssued);
  auto dir = Dir(2, t0 + absl::Hours(1));
  DirectoryAlarm alarm;
  std::optional<DirectoryAlarm::Line> line =
      alarm.Check(*dir, t0 + absl::Hours(2));
  ASSERT_TRUE(line.has_value());
  EXPECT_TRUE(line->warning);
  EXPECT_EQ(line->event, "directory.grace");
}

}  // namespace
}  // namespace trm::federation
