#include "common/status.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace trm {

absl::Status Error(absl::StatusCode code, absl::string_view reason,
                   absl::string_view message) {
  absl::Status status(code, absl::StrCat(reason, ": ", message));
  status.SetPayload(kReasonPayloadUrl, absl::Cord(reason));
  return status;
}

std::string ErrorReason(const absl::Status& status) {
  auto reason = status.GetPayload(kReasonPayloadUrl);
  return reason ? std::string(*reason) : std::string();
}

}  // namespace trm
