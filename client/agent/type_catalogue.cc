#include "client/agent/type_catalogue.h"

#include <string>

#include "common/cases/type_table.h"
#include "trm/client/payload_json.h"
#include "trm/v1/case.pb.h"

namespace trm::agent {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

nlohmann::json FieldSchema(const FieldDescriptor& f, int depth);

nlohmann::json ScalarSchema(const FieldDescriptor& f, int depth) {
  switch (f.cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return {{"type", "string"}};
    case FieldDescriptor::CPPTYPE_BOOL:
      return {{"type", "boolean"}};
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_UINT32:
      return {{"type", "integer"}};
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT64:
      // protobuf's JSON mapping writes these as strings, reads either.
      return {{"type", {"integer", "string"}}, {"pattern", "^-?[0-9]+$"}};
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return {{"type", "number"}};
    case FieldDescriptor::CPPTYPE_ENUM: {
      nlohmann::json names = nlohmann::json::array();
      const auto* e = f.enum_type();
      for (int i = 0; i < e->value_count(); ++i) {
        names.push_back(e->value(i)->name());
      }
      return {{"type", "string"}, {"enum", names}};
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const Descriptor& m = *f.message_type();
      if (m.full_name() == "google.protobuf.Timestamp") {
        return {{"type", "string"}, {"format", "date-time"}};
      }
      if (depth > 8) return {{"type", "object"}};
      return PayloadSchema(m);
    }
  }
  return nlohmann::json::object();
}

nlohmann::json FieldSchema(const FieldDescriptor& f, int depth) {
  nlohmann::json s = ScalarSchema(f, depth);
  if (f.is_repeated()) s = {{"type", "array"}, {"items", s}};
  s["title"] = f.name();
  return s;
}

}  // namespace

nlohmann::json PayloadSchema(const Descriptor& d) {
  nlohmann::json props = nlohmann::json::object();
  nlohmann::json required = nlohmann::json::array();
  for (int i = 0; i < d.field_count(); ++i) {
    const FieldDescriptor& f = *d.field(i);
    props[f.name()] = FieldSchema(f, 1);
    // Marked in case.proto; a payload without it is refused before sealing.
    if (f.options().GetExtension(v1::required)) required.push_back(f.name());
  }
  nlohmann::json s = {{"type", "object"},
                      {"title", d.name()},
                      {"properties", props},
                      {"additionalProperties", false}};
  if (!required.empty()) s["required"] = required;
  return s;
}

std::optional<v1::MessageType> TypeFromName(absl::string_view name) {
  v1::MessageType t;
  if (!v1::MessageType_Parse(std::string(name), &t)) return std::nullopt;
  if (client::PayloadOf(t) == nullptr) return std::nullopt;
  if (cases::RuleOf(t).sent_by == cases::Side::kNode) return std::nullopt;
  return t;
}

nlohmann::json TypeCatalogue() {
  nlohmann::json out = nlohmann::json::array();
  const auto* e = v1::MessageType_descriptor();
  for (int i = 0; i < e->value_count(); ++i) {
    const std::string& name = e->value(i)->name();
    std::optional<v1::MessageType> t = TypeFromName(name);
    if (!t.has_value()) continue;
    const cases::TypeRule& rule = cases::RuleOf(*t);
    const cases::Outcomes outcomes = cases::AllowedOutcomes(*t);
    nlohmann::json allowed = nlohmann::json::array();
    for (v1::StepOutcome o : outcomes.allowed) {
      allowed.push_back(v1::StepOutcome_Name(o));
    }
    auto payload = client::PayloadOf(*t);
    out.push_back({
        {"type", name},
        {"sent_by", std::string(cases::SideName(rule.sent_by))},
        {"personal_data", rule.personal_data},
        {"outcomes", allowed},
        {"outcome_required", !outcomes.optional},
        {"payload_schema", PayloadSchema(*payload->GetDescriptor())},
    });
  }
  return out;
}

}  // namespace trm::agent
