// Gives a request that gRPC could not parse a reason.
//
// gRPC's generated handlers parse a unary or server-streaming request before
// any service code runs. When protobuf refuses it (nested deeper than its
// recursion limit of 100, truncated, or bytes of another type), gRPC answers
// INTERNAL with an empty message: the caller cannot tell its own mistake from
// a node fault. This interceptor notes the failed parse and replaces that
// status with INVALID_ARGUMENT REQUEST_UNPARSEABLE, which says what to check.
// Requests that parsed are never touched, nor is any status the service set.
//
// A client-streaming or bidirectional stream reports a message it cannot
// parse to the service as the end of the stream (gRPC gives an interceptor
// no way to tell the two apart): the message gets no receipt, so the client
// sees it was not accepted.
#ifndef TRM_SERVER_RPC_UNPARSEABLE_REQUEST_H_
#define TRM_SERVER_RPC_UNPARSEABLE_REQUEST_H_

#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <vector>

namespace trm::rpc {

// The status sent in place of gRPC's INTERNAL for an unparseable request.
grpc::Status UnparseableRequestStatus(const char* method);

class UnparseableRequestFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;
};

// The interceptor creators a node registers with
// ServerBuilder::experimental().SetInterceptorCreators().
std::vector<
    std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
NodeInterceptors();

}  // namespace trm::rpc

#endif  // TRM_SERVER_RPC_UNPARSEABLE_REQUEST_H_
