#include "server/federation/directory_alarm.h"

#include "absl/strings/str_cat.h"
#include "common/time_text.h"

namespace trm::federation {
namespace {

using directory::Standing;

// "3 days", "5 hours", "40 seconds": how far `d` is, roughly.
std::string Roughly(absl::Duration d) {
  if (d < absl::ZeroDuration()) d = -d;
  if (d >= absl::Hours(48)) {
    return absl::StrCat(absl::ToInt64Hours(d) / 24, " days");
  }
  if (d >= absl::Hours(2)) return absl::StrCat(absl::ToInt64Hours(d), " hours");
  return absl::StrCat(absl::ToInt64Seconds(d), " seconds");
}

}  // namespace

std::string DescribeStanding(const directory::Directory& dir, const Standing& s,
                             absl::Time now) {
  const std::string which =
      absl::StrCat("the federation directory (serial ", dir.serial(), ")");
  const std::string ask =
      "; ask the federation authority to publish a newer one (docs/"
      "operations.md, \"The federation directory\")";
  switch (s.state) {
    case Standing::kNoEnd:
      return absl::StrCat(which, " has no end date");
    case Standing::kValid:
      return absl::StrCat(which, " is valid until ", IsoSeconds(s.valid_until));
    case Standing::kExpiring:
      return absl::StrCat(
          which, " expires at ", IsoSeconds(s.valid_until), ", in ",
          Roughly(s.valid_until - now), "; the node then keeps working until ",
          IsoSeconds(s.grace_ends), " and after that takes no new cases", ask);
    case Standing::kGrace:
      return absl::StrCat(which, " expired at ", IsoSeconds(s.valid_until),
                          "; the node keeps working on it until ",
                          IsoSeconds(s.grace_ends), " (in ",
                          Roughly(s.grace_ends - now),
                          "), then takes no new cases", ask);
    case Standing::kLapsed:
      return absl::StrCat(which, " expired at ", IsoSeconds(s.valid_until),
                          " and its grace period ended at ",
                          IsoSeconds(s.grace_ends),
                          ": the node takes no new cases and keeps "
                          "delivering what it holds",
                          ask);
  }
  return which;
}

std::optional<DirectoryAlarm::Line> DirectoryAlarm::Check(
    const directory::Directory& dir, absl::Time now) {
  const Standing s = dir.StandingAt(now);
  const std::string key =
      absl::StrCat(dir.digest_hex(), "/", directory::StateName(s.state));
  const bool bad = s.state == Standing::kExpiring ||
                   s.state == Standing::kGrace || s.state == Standing::kLapsed;
  const bool first = last_.empty();
  const bool changed = key != last_;
  last_ = key;
  // A good directory is logged when it puts a bad one right, not at start
  // (the start line names the directory already); a bad one when it turns
  // bad and again each day.
  const bool log =
      changed ? bad || !first : bad && now - last_line_ >= absl::Hours(24);
  if (!log) return std::nullopt;
  last_line_ = now;
  return Line{bad,
              s.state == Standing::kNoEnd
                  ? std::string("directory.valid")
                  : absl::StrCat("directory.", directory::StateName(s.state)),
              DescribeStanding(dir, s, now)};
}

}  // namespace trm::federation
