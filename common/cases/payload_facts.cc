#include "common/cases/payload_facts.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/unknown_field_set.h>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/time_text.h"

namespace trm::cases {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

absl::Status Invalid(const Message& m, absl::string_view why) {
  return Error(absl::StatusCode::kInvalidArgument, "PAYLOAD_INVALID",
               absl::StrCat("the payload is not a trm.v1.",
                            m.GetDescriptor()->name(), ": ", why,
                            " (proto/trm/v1/case.proto; trmctl case payload "
                            "--type TYPE prints an example)"));
}

bool Present(const Message& m, const FieldDescriptor* f) {
  const Reflection* r = m.GetReflection();
  if (f->is_repeated()) return r->FieldSize(m, f) > 0;
  if (f->has_presence()) return r->HasField(m, f);
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return !r->GetString(m, f).empty();
    case FieldDescriptor::CPPTYPE_ENUM:
      return r->GetEnumValue(m, f) != 0;
    default:
      return r->HasField(m, f);  // a non-zero scalar
  }
}

// Unknown fields and missing required ones, anywhere in `m`; `path` is the
// JSON path of `m` ("" at the top).
absl::Status CheckFields(const Message& top, const Message& m,
                         const std::string& path) {
  const Reflection* r = m.GetReflection();
  if (!r->GetUnknownFields(m).empty()) {
    return Invalid(top, absl::StrCat("it holds fields case.proto does not "
                                     "define",
                                     path.empty() ? "" : " in ", path));
  }
  const Descriptor* d = m.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    const std::string at = path.empty() ? f->name() : path + "." + f->name();
    if (f->options().GetExtension(v1::required) && !Present(m, f)) {
      return Error(
          absl::StatusCode::kInvalidArgument, "PAYLOAD_FIELD_REQUIRED",
          absl::StrCat("the ", d->name(), " payload has no '", at,
                       "'; its type requires it (the header states it and "
                       "the case rules depend on it). Set it and send "
                       "again"));
    }
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (f->is_repeated()) {
      for (int k = 0; k < r->FieldSize(m, f); ++k) {
        RETURN_IF_ERROR(CheckFields(top, r->GetRepeatedMessage(m, f, k),
                                    absl::StrCat(at, "[", k, "]")));
      }
    } else if (r->HasField(m, f)) {
      RETURN_IF_ERROR(CheckFields(top, r->GetMessage(m, f), at));
    }
  }
  return absl::OkStatus();
}

absl::Status Mismatch(const v1::Header& h, absl::string_view field,
                      absl::string_view header_says,
                      absl::string_view payload_says) {
  return Error(
      absl::StatusCode::kInvalidArgument, "HEADER_PAYLOAD_MISMATCH",
      absl::StrCat("the ", v1::MessageType_Name(h.type()),
                   "'s header and payload disagree: the header's ", field,
                   " is ", header_says, ", the payload says ", payload_says,
                   ". The header is taken from the payload: leave it out, "
                   "or give the same value"));
}

std::string OutcomeText(uint32_t o) {
  if (o == 0) return "none";
  return v1::StepOutcome_IsValid(static_cast<int>(o))
             ? v1::StepOutcome_Name(static_cast<v1::StepOutcome>(o))
             : absl::StrCat(o);
}

}  // namespace

std::unique_ptr<google::protobuf::Message> NewPayload(v1::MessageType type) {
  switch (type) {
    case v1::CONSENT_RECORD:
      return std::make_unique<v1::ConsentRecord>();
    case v1::IDENTITY_VERIFICATION_REQUEST:
      return std::make_unique<v1::IdentityVerificationRequest>();
    case v1::IDENTITY_VERIFICATION_RESPONSE:
      return std::make_unique<v1::IdentityVerificationResponse>();
    case v1::REFERRAL_REQUEST:
      return std::make_unique<v1::ReferralRequest>();
    case v1::REFERRAL_ACK:
      return std::make_unique<v1::ReferralAck>();
    case v1::RISK_ASSESSMENT:
      return std::make_unique<v1::RiskAssessment>();
    case v1::RISK_FEEDBACK:
      return std::make_unique<v1::RiskFeedback>();
    case v1::BEST_INTERESTS_DETERMINATION:
      return std::make_unique<v1::BestInterestsDetermination>();
    case v1::REINTEGRATION_PLAN:
      return std::make_unique<v1::ReintegrationPlan>();
    case v1::PRE_DEPARTURE_COUNSELLING:
      return std::make_unique<v1::PreDepartureCounselling>();
    case v1::TRAVEL_DOCUMENT_REQUEST:
      return std::make_unique<v1::TravelDocumentRequest>();
    case v1::TRAVEL_DOCUMENT_RESPONSE:
      return std::make_unique<v1::TravelDocumentResponse>();
    case v1::TRAVEL_ARRANGEMENT:
      return std::make_unique<v1::TravelArrangement>();
    case v1::ARRIVAL_CONFIRMATION:
      return std::make_unique<v1::ArrivalConfirmation>();
    case v1::HANDOVER_CONFIRMATION:
      return std::make_unique<v1::HandoverConfirmation>();
    case v1::NON_DEPARTURE_NOTICE:
      return std::make_unique<v1::NonDepartureNotice>();
    case v1::MONITORING_REPORT:
      return std::make_unique<v1::MonitoringReport>();
    case v1::CASE_CLOSURE:
      return std::make_unique<v1::CaseClosure>();
    case v1::INFORMATION_REQUEST:
      return std::make_unique<v1::InformationRequest>();
    case v1::INFORMATION_RESPONSE:
      return std::make_unique<v1::InformationResponse>();
    case v1::ERASURE_OR_RECTIFICATION_NOTICE:
      return std::make_unique<v1::ErasureOrRectificationNotice>();
    case v1::REFLECTION_PERIOD_NOTICE:
      return std::make_unique<v1::ReflectionPeriodNotice>();
    case v1::DEADLINE_NOTICE:
      return std::make_unique<v1::DeadlineNotice>();
    case v1::CASE_TRANSFER:
      return std::make_unique<v1::CaseTransfer>();
    default:
      return nullptr;
  }
}

absl::StatusOr<PayloadFacts> ReadPayloadFacts(v1::MessageType type,
                                              absl::string_view bytes) {
  std::unique_ptr<Message> m = NewPayload(type);
  if (m == nullptr) {
    return Error(absl::StatusCode::kInvalidArgument, "NO_PAYLOAD_SCHEMA",
                 absl::StrCat(v1::MessageType_Name(type),
                              " has no payload type in case.proto"));
  }
  if (!m->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Invalid(*m, "its bytes do not parse");
  }
  RETURN_IF_ERROR(CheckFields(*m, *m, ""));
  PayloadFacts f;
  switch (type) {
    case v1::CONSENT_RECORD: {
      const auto& p = static_cast<const v1::ConsentRecord&>(*m);
      f.outcome = p.granted() ? v1::CONSENT_GRANTED : v1::CONSENT_WITHDRAWN;
      f.consent_ref = p.consent_ref();
      break;
    }
    case v1::REFERRAL_ACK:
      f.outcome = static_cast<const v1::ReferralAck&>(*m).accepted()
                      ? v1::REFERRAL_ACCEPTED
                      : v1::REFERRAL_DECLINED;
      break;
    case v1::RISK_ASSESSMENT:
      f.outcome =
          static_cast<const v1::RiskAssessment&>(*m).threat_to_life_or_health()
              ? v1::RISK_UNSAFE
              : v1::RISK_ACCEPTABLE;
      break;
    case v1::BEST_INTERESTS_DETERMINATION:
      f.outcome = static_cast<const v1::BestInterestsDetermination&>(*m)
                          .return_in_best_interests()
                      ? v1::RETURN_IN_BEST_INTERESTS
                      : v1::RETURN_NOT_IN_BEST_INTERESTS;
      break;
    case v1::REINTEGRATION_PLAN:
      f.outcome = static_cast<const v1::ReintegrationPlan&>(*m).agreed()
                      ? v1::PLAN_AGREED
                      : v1::PLAN_PROPOSED;
      break;
    case v1::CASE_CLOSURE:
      if (static_cast<const v1::CaseClosure&>(*m).reason() ==
          v1::CaseClosure::WITHDRAWN) {
        f.outcome = v1::RETURN_WITHDRAWN;
      }
      break;
    case v1::TRAVEL_ARRANGEMENT: {
      const auto& t = static_cast<const v1::TravelArrangement&>(*m).departure();
      f.departure_unix_ms = t.seconds() * 1000 + t.nanos() / 1000000;
      break;
    }
    default:
      break;
  }
  return f;
}

absl::Status CheckHeaderAgrees(const v1::Header& h, const PayloadFacts& f) {
  if (h.type() == v1::DEADLINE_NOTICE) return absl::OkStatus();
  if (h.outcome() != static_cast<uint32_t>(f.outcome)) {
    return Mismatch(h, "outcome", OutcomeText(h.outcome()),
                    OutcomeText(f.outcome));
  }
  const std::optional<int64_t> departure =
      h.has_departure_unix_ms() ? std::optional(h.departure_unix_ms())
                                : std::nullopt;
  if (departure != f.departure_unix_ms) {
    auto text = [](const std::optional<int64_t>& t) {
      return t.has_value() ? IsoMillis(*t) : std::string("none");
    };
    return Mismatch(h, "departure", text(departure), text(f.departure_unix_ms));
  }
  if (h.type() == v1::CONSENT_RECORD && h.consent_ref() != f.consent_ref) {
    return Mismatch(h, "consent_ref", absl::StrCat("'", h.consent_ref(), "'"),
                    absl::StrCat("'", f.consent_ref, "'"));
  }
  return absl::OkStatus();
}

}  // namespace trm::cases
