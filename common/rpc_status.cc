#include "common/rpc_status.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/reasons.h"
#include "common/status.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace trm {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  std::string message(status.message());
  const std::string reason = ErrorReason(status);
  if (reason.empty()) return grpc::Status(code, message);
  google::rpc::ErrorInfo info;
  info.set_reason(reason);
  info.set_domain(std::string(kReasonDomain));
  google::rpc::Status details;
  details.set_code(static_cast<int>(status.code()));
  details.set_message(message);
  details.add_details()->PackFrom(info);
  return grpc::Status(code, std::move(message), details.SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  google::rpc::Status details;
  std::string reason;
  if (!status.error_details().empty() &&
      details.ParseFromString(status.error_details())) {
    for (const google::protobuf::Any& any : details.details()) {
      google::rpc::ErrorInfo info;
      if (any.UnpackTo(&info) && info.domain() == kReasonDomain) {
        reason = info.reason();
        break;
      }
    }
  }
  std::string message = status.error_message();
  if (reason.empty()) {
    return Error(code, "NODE_ERROR",
                 message.empty() ? "the node could not be reached or gave no "
                                   "reason; check the address and that the "
                                   "node runs"
                                 : message);
  }
  // The node's message starts with the token too (common/status.h): once.
  if (absl::StartsWith(message, absl::StrCat(reason, ": "))) {
    message.erase(0, reason.size() + 2);
  }
  return Error(code, reason, message);
}

}  // namespace trm
