// The node's alarm for its federation directory's validity: one log line
// when the directory starts to near its valid_until, when it passes it (the
// grace period), when the grace period ends (no new cases), and when a newer
// directory puts it right; repeated once a day while it is not valid.
//
//   DirectoryAlarm alarm;
//   if (auto line = alarm.Check(*registry.directory(), clock.Now())) {
//     log::Warn(line->event, line->text);  // log::Info when !line->warning
//   }
//
// Not thread-safe: one thread (the node's sweeper) calls it.
#ifndef TRM_SERVER_FEDERATION_DIRECTORY_ALARM_H_
#define TRM_SERVER_FEDERATION_DIRECTORY_ALARM_H_

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "common/directory/directory.h"

namespace trm::federation {

class DirectoryAlarm {
 public:
  struct Line {
    bool warning = false;
    std::string event;  // "directory.expiring", "directory.lapsed", ...
    std::string text;
  };
  // The line to log now, if any.
  std::optional<Line> Check(const directory::Directory& dir, absl::Time now);

 private:
  std::string last_;  // the directory's digest and its state, last time
  absl::Time last_line_ = absl::InfinitePast();
};

// The alarm's text for `dir` in standing `s` at `now`.
std::string DescribeStanding(const directory::Directory& dir,
                             const directory::Standing& s, absl::Time now);

}  // namespace trm::federation

#endif  // TRM_SERVER_FEDERATION_DIRECTORY_ALARM_H_
