#include "server/rpc/unparseable_request.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/rpc_status.h"
#include "common/status.h"

namespace trm::rpc {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::ServerRpcInfo;

class UnparseableRequest : public grpc::experimental::Interceptor {
 public:
  explicit UnparseableRequest(ServerRpcInfo* info)
      : method_(info->method()),
        // Only these parse their one request before the service runs; for
        // the other kinds a missing message is the end of the stream.
        parsed_up_front_(info->type() == ServerRpcInfo::Type::UNARY ||
                         info->type() ==
                             ServerRpcInfo::Type::SERVER_STREAMING) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (parsed_up_front_ &&
        methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      unparseable_ = true;
    }
    if (unparseable_ && methods->QueryInterceptionHookPoint(
                            InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status sent = methods->GetSendStatus();
      if (sent.error_code() == grpc::StatusCode::INTERNAL &&
          sent.error_message().empty()) {
        methods->ModifySendStatus(UnparseableRequestStatus(method_));
      }
    }
    methods->Proceed();
  }

 private:
  const char* method_;
  const bool parsed_up_front_;
  bool unparseable_ = false;
};

}  // namespace

grpc::Status UnparseableRequestStatus(const char* method) {
  return ToGrpcStatus(Error(
      absl::StatusCode::kInvalidArgument, "REQUEST_UNPARSEABLE",
      absl::StrCat(
          "the request to ", method == nullptr ? "this method" : method,
          " is not a valid protobuf message of its type (truncated, of another "
          "type, or nested deeper than 100 levels); nothing was done. Build it "
          "from proto/ with a protobuf library and send it again")));
}

grpc::experimental::Interceptor*
UnparseableRequestFactory::CreateServerInterceptor(ServerRpcInfo* info) {
  return new UnparseableRequest(info);
}

std::vector<
    std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
NodeInterceptors() {
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      creators;
  creators.push_back(std::make_unique<UnparseableRequestFactory>());
  return creators;
}

}  // namespace trm::rpc
