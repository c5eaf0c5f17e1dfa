// absl::Status to and from grpc::Status. The reason token (common/reasons.h)
// travels as a google.rpc.ErrorInfo detail in the google.rpc.Status of the
// "grpc-status-details-bin" trailer, so a client reads it without parsing
// the message text; the code maps one to one.
#ifndef TRM_COMMON_RPC_STATUS_H_
#define TRM_COMMON_RPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace trm {

// The node's side: the status, its message and its reason as a detail.
grpc::Status ToGrpcStatus(const absl::Status& status);

// The caller's side: the reason from the detail. A status without one (the
// node could not be reached, or something between answered) has the reason
// NODE_ERROR.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace trm

#endif  // TRM_COMMON_RPC_STATUS_H_
