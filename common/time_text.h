// Times as RFC 3339 text in UTC, for messages and output.
//
//   IsoSeconds(absl::Now())   -> "2026-11-23T02:30:00Z"
//   IsoMillis(1795000000120)  -> "2026-11-18T11:06:40.120Z"
#ifndef TRM_COMMON_TIME_TEXT_H_
#define TRM_COMMON_TIME_TEXT_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"

namespace trm {

std::string IsoSeconds(absl::Time t);
std::string IsoSeconds(int64_t unix_ms);
std::string IsoMillis(int64_t unix_ms);

}  // namespace trm

#endif  // TRM_COMMON_TIME_TEXT_H_
