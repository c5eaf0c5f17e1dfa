#include "trm/client/payload_json.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/cases/payload_facts.h"
#include "common/status.h"
#include "trm/v1/case.pb.h"

namespace trm::client {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

absl::Status NoSchema(v1::MessageType type) {
  return Error(absl::StatusCode::kInvalidArgument, "NO_PAYLOAD_SCHEMA",
               absl::StrCat(v1::MessageType_Name(type),
                            " has no payload an organisation writes"));
}

// One example value in every field of `m`, one element in every list.
void FillExample(Message* m, int depth) {
  const Descriptor* d = m->GetDescriptor();
  const Reflection* r = m->GetReflection();
  if (d->full_name() == "google.protobuf.Timestamp") {
    auto* t = static_cast<google::protobuf::Timestamp*>(m);
    t->set_seconds(1796117400);  // 2026-12-01T09:30:00Z
    return;
  }
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    const bool rep = f->is_repeated();
    const std::string text =
        absl::StrCat("(", absl::StrReplaceAll(f->name(), {{"_", " "}}), ")");
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        rep ? r->AddString(m, f, text) : r->SetString(m, f, text);
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        rep ? r->AddBool(m, f, true) : r->SetBool(m, f, true);
        break;
      case FieldDescriptor::CPPTYPE_ENUM: {
        const auto* e = f->enum_type();
        const auto* v = e->value(e->value_count() > 1 ? 1 : 0);
        rep ? r->AddEnum(m, f, v) : r->SetEnum(m, f, v);
        break;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        if (depth < 4) {
          FillExample(rep ? r->AddMessage(m, f) : r->MutableMessage(m, f),
                      depth + 1);
        }
        break;
      case FieldDescriptor::CPPTYPE_INT32:
        rep ? r->AddInt32(m, f, 1) : r->SetInt32(m, f, 1);
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        rep ? r->AddInt64(m, f, 1) : r->SetInt64(m, f, 1);
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        rep ? r->AddUInt32(m, f, 1) : r->SetUInt32(m, f, 1);
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        rep ? r->AddUInt64(m, f, 1) : r->SetUInt64(m, f, 1);
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT:
        break;
    }
  }
}

absl::StatusOr<std::string> ToJson(const Message& m, bool indent) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.add_whitespace = indent;
  std::string out;
  const auto st = google::protobuf::util::MessageToJsonString(m, &out, options);
  if (!st.ok()) {
    return Error(
        absl::StatusCode::kInternal, "PAYLOAD_INVALID",
        absl::StrCat("cannot write the payload as JSON: ", st.ToString()));
  }
  return out;
}

}  // namespace

std::unique_ptr<google::protobuf::Message> PayloadOf(v1::MessageType type) {
  return cases::NewPayload(type);
}

absl::StatusOr<std::string> PayloadFromJson(v1::MessageType type,
                                            const std::string& json) {
  std::unique_ptr<Message> m = PayloadOf(type);
  if (m == nullptr || type == v1::DEADLINE_NOTICE) return NoSchema(type);
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto st =
      google::protobuf::util::JsonStringToMessage(json, m.get(), options);
  if (!st.ok()) {
    // protobuf names the field path in parentheses, e.g.
    // "INVALID_ARGUMENT:(held): invalid time format".
    return Error(
        absl::StatusCode::kInvalidArgument, "JSON_INVALID",
        absl::StrCat("the payload is not a trm.v1.", m->GetDescriptor()->name(),
                     " in JSON: ", st.message().ToString(),
                     ". Times are RFC 3339 strings such as "
                     "\"2026-12-01T09:30:00Z\", enums are names; trmctl case "
                     "payload --type ",
                     v1::MessageType_Name(type), " prints an example"));
  }
  return m->SerializeAsString();
}

absl::StatusOr<std::string> PayloadToJson(v1::MessageType type,
                                          const std::string& bytes,
                                          bool indent) {
  std::unique_ptr<Message> m = PayloadOf(type);
  if (m == nullptr) return NoSchema(type);
  if (!m->ParseFromString(bytes)) {
    return Error(
        absl::StatusCode::kInvalidArgument, "PAYLOAD_INVALID",
        absl::StrCat("the payload is not a trm.v1.", m->GetDescriptor()->name(),
                     " (a sender that does not follow case.proto)"));
  }
  return ToJson(*m, indent);
}

absl::StatusOr<std::string> ExamplePayloadJson(v1::MessageType type) {
  std::unique_ptr<Message> m = PayloadOf(type);
  if (m == nullptr || type == v1::DEADLINE_NOTICE) return NoSchema(type);
  FillExample(m.get(), 0);
  return ToJson(*m, true);
}

}  // namespace trm::client
