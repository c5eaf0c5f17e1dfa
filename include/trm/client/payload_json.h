// The payload of each message type (proto/trm/v1/case.proto) in JSON,
// through protobuf's own JSON mapping: field names as in case.proto, times
// as RFC 3339 strings, enums by name. docs/protocol.md section 17.
#ifndef TRM_CLIENT_PAYLOAD_JSON_H_
#define TRM_CLIENT_PAYLOAD_JSON_H_

#include <google/protobuf/message.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "trm/v1/envelope.pb.h"

namespace trm::client {

// An empty payload message of `type`, or null for a type without one that
// an organisation writes (DEADLINE_NOTICE is the node's own).
std::unique_ptr<google::protobuf::Message> PayloadOf(v1::MessageType type);

// The payload of `type` from JSON, serialised. JSON_INVALID names the
// field path and what was expected; unknown fields are refused.
absl::StatusOr<std::string> PayloadFromJson(v1::MessageType type,
                                            const std::string& json);

// A serialised payload of `type` as JSON (one line, or indented).
absl::StatusOr<std::string> PayloadToJson(v1::MessageType type,
                                          const std::string& bytes,
                                          bool indent = false);

// A filled-in example payload of `type`, indented: every field, times and
// enums as they are written, each text saying what it holds.
absl::StatusOr<std::string> ExamplePayloadJson(v1::MessageType type);

}  // namespace trm::client

#endif  // TRM_CLIENT_PAYLOAD_JSON_H_
