// The message types an organisation can send, as the agent's API offers
// them (GET /api/v1/types): for each, who sends it, whether it carries the
// person's data, the outcomes its header takes, and the JSON Schema (draft
// 2020-12) of its payload, generated from case.proto's descriptors, so no
// form or client hard-codes a type.
//
//   nlohmann::json types = TypeCatalogue();
//   nlohmann::json schema = PayloadSchema(*v1::ReferralRequest::descriptor());
#ifndef TRM_CLIENT_AGENT_TYPE_CATALOGUE_H_
#define TRM_CLIENT_AGENT_TYPE_CATALOGUE_H_

#include <google/protobuf/descriptor.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "absl/strings/string_view.h"
#include "trm/v1/envelope.pb.h"

namespace trm::agent {

// The schema of a payload message as protobuf's JSON mapping writes it:
// field names as in case.proto, Timestamps as RFC 3339 strings, enums by
// name, 64-bit integers as strings or numbers, unknown fields refused.
nlohmann::json PayloadSchema(const google::protobuf::Descriptor& d);

// Every type an organisation writes, in the order of envelope.proto.
nlohmann::json TypeCatalogue();

// The type named `name` ("REFERRAL_REQUEST"), when an organisation writes
// it.
std::optional<v1::MessageType> TypeFromName(absl::string_view name);

}  // namespace trm::agent

#endif  // TRM_CLIENT_AGENT_TYPE_CATALOGUE_H_
