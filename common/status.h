// Small helpers around absl::Status that Abseil 20220623 does not ship:
// RETURN_IF_ERROR / ASSIGN_OR_RETURN, and a stable machine-readable reason
// attached to every error a user can meet.
//
//   absl::Status Load() {
//     RETURN_IF_ERROR(CheckMode(path));
//     ASSIGN_OR_RETURN(std::string pem, ReadFile(path));
//     ...
//   }
//   return trm::Error(absl::StatusCode::kInvalidArgument, "FIELD_TOO_LARGE",
//                     "case_ref is 300 bytes; the limit is 64");
//
// The reason is an UPPER_SNAKE token that never changes once published; the
// message says what was wrong and what to do. The reason is both the prefix of
// the message and a payload, so logs and programs see the same thing.
#ifndef TRM_COMMON_STATUS_H_
#define TRM_COMMON_STATUS_H_

#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trm {

inline constexpr absl::string_view kReasonPayloadUrl =
    "type.googleapis.com/trm.v1.ErrorReason";

// Builds a status whose message is "REASON: message" and which carries REASON
// as a payload under kReasonPayloadUrl.
absl::Status Error(absl::StatusCode code, absl::string_view reason,
                   absl::string_view message);

// The reason attached by Error(), or "" for OK and for statuses from
// elsewhere.
std::string ErrorReason(const absl::Status& status);

}  // namespace trm

#define TRM_STATUS_CONCAT_INNER_(a, b) a##b
#define TRM_STATUS_CONCAT_(a, b) TRM_STATUS_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)                                   \
  do {                                                          \
    if (::absl::Status _trm_status = (expr); !_trm_status.ok()) \
      return _trm_status;                                       \
  } while (0)

#define ASSIGN_OR_RETURN(lhs, expr)                                        \
  TRM_ASSIGN_OR_RETURN_IMPL_(TRM_STATUS_CONCAT_(_trm_statusor_, __LINE__), \
                             lhs, expr)

#define TRM_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr)    \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // TRM_COMMON_STATUS_H_
