#include "common/time_text.h"

namespace trm {

std::string IsoSeconds(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

std::string IsoSeconds(int64_t unix_ms) {
  return IsoSeconds(absl::FromUnixMillis(unix_ms));
}

std::string IsoMillis(int64_t unix_ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(unix_ms),
                          absl::UTCTimeZone());
}

}  // namespace trm
