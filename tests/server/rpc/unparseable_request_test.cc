// A request gRPC cannot parse gets a reason, not INTERNAL with an empty
// message (issue 15 section 8), over a loopback port with raw bytes.
#include "server/rpc/unparseable_request.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "trm/v1/mailbox.grpc.pb.h"

namespace trm::rpc {
namespace {

// A service whose Submit answers OK, so that a request which parses is seen
// to reach it; every other method keeps gRPC's UNIMPLEMENTED.
class EchoMailbox : public v1::Mailbox::Service {
 public:
  grpc::Status Submit(grpc::ServerContext*, const v1::SubmitRequest* req,
                      v1::SubmitResponse* resp) override {
    resp->set_correlation(req->correlation());
    return grpc::Status::OK;
  }
  grpc::Status GetStatus(grpc::ServerContext*, const v1::MessageRef*,
                         v1::MessageStatus*) override {
    // A service's own INTERNAL, even with no message, is left alone.
    return grpc::Status(grpc::StatusCode::INTERNAL, "");
  }
};

class UnparseableRequestTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.SetMaxReceiveMessageSize(8 << 20);
    if (GetParam())
      builder.experimental().SetInterceptorCreators(NodeInterceptors());
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(8 << 20);
    stub_ = std::make_unique<grpc::GenericStub>(
        grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port),
                                  grpc::InsecureChannelCredentials(), args));
  }
  void TearDown() override { server_->Shutdown(); }

  // Sends `bytes` as the request of unary `method`; returns the status and
  // the raw answer.
  grpc::Status Call(const std::string& method, const std::string& bytes,
                    std::string* answer = nullptr) {
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1), response;
    grpc::ClientContext ctx;
    grpc::Status status;
    absl::Notification done;
    stub_->UnaryCall(&ctx, method, grpc::StubOptions(), &request, &response,
                     [&](grpc::Status s) {
                       status = std::move(s);
                       done.Notify();
                     });
    done.WaitForNotification();
    if (answer != nullptr && status.ok()) {
      std::vector<grpc::Slice> slices;
      (void)response.Dump(&slices);
      answer->clear();
      for (const grpc::Slice& s : slices) {
        answer->append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
    }
    return status;
  }

  EchoMailbox service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::GenericStub> stub_;
};

// 200,000 nested groups of unknown field 15: valid wire format, too deep
// for protobuf's recursion limit.
std::string DeepRequest(int depth) {
  return std::string(depth, '\x7b') + std::string(depth, '\x7c');
}

constexpr char kSubmit[] = "/trm.v1.Mailbox/Submit";

TEST_P(UnparseableRequestTest, ADeepRequestGetsAReason) {
  const grpc::Status s = Call(kSubmit, DeepRequest(200000));
  if (!GetParam()) {
    // What gRPC does on its own, so the test shows what the fix changes.
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INTERNAL);
    EXPECT_EQ(s.error_message(), "");
    return;
  }
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "REQUEST_UNPARSEABLE: "))
      << s.error_message();
  EXPECT_TRUE(absl::StrContains(s.error_message(), kSubmit))
      << s.error_message();
}

TEST_P(UnparseableRequestTest, TruncatedAndInvalidWireTypesGetAReason) {
  // envelope (field 1, bytes) announced as 50 bytes with 3 present; wire
  // type 7, which does not exist; an end-group with no start.
  for (const std::string& bytes :
       {std::string("\x0a\x32"
                    "abc",
                    5),
        std::string("\x0f\x00", 2), std::string("\x0c", 1)}) {
    const grpc::Status s = Call(kSubmit, bytes);
    if (!GetParam()) {
      EXPECT_EQ(s.error_code(), grpc::StatusCode::INTERNAL);
      continue;
    }
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_TRUE(absl::StartsWith(s.error_message(), "REQUEST_UNPARSEABLE: "))
        << s.error_message();
  }
}

TEST_P(UnparseableRequestTest, ARequestThatParsesIsUntouched) {
  v1::SubmitRequest req;
  req.set_correlation(7);
  std::string answer;
  ASSERT_TRUE(Call(kSubmit, req.SerializeAsString(), &answer).ok());
  v1::SubmitResponse resp;
  ASSERT_TRUE(resp.ParseFromString(answer));
  EXPECT_EQ(resp.correlation(), 7u);
  // Nesting within the limit parses.
  EXPECT_TRUE(Call(kSubmit, DeepRequest(50)).ok());
  // The service's own statuses pass unchanged: UNIMPLEMENTED, and an
  // INTERNAL with no message from a request that parsed.
  EXPECT_EQ(Call("/trm.v1.Mailbox/Ack", "").error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  const grpc::Status internal = Call("/trm.v1.Mailbox/GetStatus", "");
  EXPECT_EQ(internal.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(internal.error_message(), "");
}

INSTANTIATE_TEST_SUITE_P(WithAndWithout, UnparseableRequestTest,
                         ::testing::Bool(), [](const auto& info) {
                           return info.param ? "Interceptor" : "GrpcAlone";
                         });

}  // namespace
}  // namespace trm::rpc
