#include "common/reasons.h"

#include <gtest/gtest.h>

#include <string>

#include "common/rpc_status.h"
#include "common/status.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace trm {
namespace {

TEST(ReasonsTest, TheRegistryIsSortedUniqueAndSaysWhatToDo) {
  absl::string_view previous;
  ASSERT_GT(Reasons().size(), 100u);
  for (const ReasonInfo& r : Reasons()) {
    EXPECT_LT(previous, r.token) << "not sorted or repeated: " << r.token;
    previous = r.token;
    EXPECT_EQ(
        r.token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"),
        absl::string_view::npos)
        << r.token;
    EXPECT_NE(r.code(), absl::StatusCode::kOk) << r.token;
    EXPECT_GT(r.action.size(), 20u) << r.token;
    EXPECT_EQ(FindReason(r.token), &r);
  }
  EXPECT_EQ(FindReason("NO_SUCH_TOKEN"), nullptr);
  EXPECT_EQ(FindReason(""), nullptr);
  EXPECT_TRUE(FindReason("FILE_IO")->Allows(absl::StatusCode::kNotFound));
  EXPECT_FALSE(FindReason("USAGE")->Allows(absl::StatusCode::kNotFound));
}

TEST(RpcStatusTest, TheReasonTravelsAsAnErrorInfoDetail) {
  const absl::Status refused =
      Error(absl::StatusCode::kFailedPrecondition, "CONSENT_REQUIRED",
            "send a CONSENT_RECORD first");
  const grpc::Status wire = ToGrpcStatus(refused);
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(wire.error_message(),
            "CONSENT_REQUIRED: send a CONSENT_RECORD first");
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(wire.error_details()));
  EXPECT_EQ(details.code(), 9);
  ASSERT_EQ(details.details_size(), 1);
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(details.details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "CONSENT_REQUIRED");
  EXPECT_EQ(info.domain(), "trm-broker.v1");

  const absl::Status back = FromGrpcStatus(wire);
  EXPECT_EQ(back.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(back), "CONSENT_REQUIRED");
  // The token once, not twice.
  EXPECT_EQ(back.message(), "CONSENT_REQUIRED: send a CONSENT_RECORD first");
  EXPECT_TRUE(FromGrpcStatus(ToGrpcStatus(absl::OkStatus())).ok());
}

TEST(RpcStatusTest, TheTextIsNeverTakenForAReason) {
  // A proxy or an old peer answered with a token-like text and no detail.
  const absl::Status s = FromGrpcStatus(
      grpc::Status(grpc::StatusCode::UNAVAILABLE, "MAILBOX_FULL: try later"));
  EXPECT_EQ(ErrorReason(s), "NODE_ERROR");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  // A detail of another domain is not ours either.
  google::rpc::ErrorInfo other;
  other.set_reason("MAILBOX_FULL");
  other.set_domain("example.com");
  google::rpc::Status details;
  details.add_details()->PackFrom(other);
  EXPECT_EQ(
      ErrorReason(FromGrpcStatus(grpc::Status(
          grpc::StatusCode::UNAVAILABLE, "x", details.SerializeAsString()))),
      "NODE_ERROR");
  // Nothing at all: the node was not reached.
  const absl::Status unreached =
      FromGrpcStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE, ""));
  EXPECT_NE(unreached.message().find("could not be reached"),
            absl::string_view::npos);
  // Garbage in the trailer is no detail, and no crash.
  EXPECT_EQ(ErrorReason(FromGrpcStatus(
                grpc::Status(grpc::StatusCode::INTERNAL, "x", "\xff\xff\xff"))),
            "NODE_ERROR");
}

}  // namespace
}  // namespace trm
