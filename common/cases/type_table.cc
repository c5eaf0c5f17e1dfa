#include "common/cases/type_table.h"

namespace trm::cases {

const TypeRule& RuleOf(v1::MessageType type) {
  static constexpr TypeRule kReferring{Side::kReferring, false};
  static constexpr TypeRule kReferringData{Side::kReferring, true};
  static constexpr TypeRule kReceiving{Side::kReceiving, false};
  static constexpr TypeRule kReceivingData{Side::kReceiving, true};
  static constexpr TypeRule kEither{Side::kEither, false};
  static constexpr TypeRule kEitherData{Side::kEither, true};
  static constexpr TypeRule kNodeOnly{Side::kNode, false};
  static constexpr TypeRule kNobody{Side::kNode, true};
  switch (type) {
    case v1::CONSENT_RECORD:  // the consent itself, given to its recipient
    case v1::REFLECTION_PERIOD_NOTICE:  // dates only
    case v1::NON_DEPARTURE_NOTICE:      // the receiving side must stand down
      return kReferring;
    case v1::IDENTITY_VERIFICATION_REQUEST:
    case v1::REFERRAL_REQUEST:
    case v1::RISK_ASSESSMENT:
    case v1::BEST_INTERESTS_DETERMINATION:
    case v1::PRE_DEPARTURE_COUNSELLING:
    case v1::TRAVEL_DOCUMENT_REQUEST:
    case v1::TRAVEL_ARRANGEMENT:
    case v1::CASE_TRANSFER:
      return kReferringData;
    case v1::REFERRAL_ACK:  // the organisation's answer and its staff
      return kReceiving;
    case v1::IDENTITY_VERIFICATION_RESPONSE:
    case v1::RISK_FEEDBACK:
    case v1::TRAVEL_DOCUMENT_RESPONSE:
    case v1::ARRIVAL_CONFIRMATION:
    case v1::HANDOVER_CONFIRMATION:
    case v1::MONITORING_REPORT:
      return kReceivingData;
    case v1::CASE_CLOSURE:  // must reach everyone, consent or not
    case v1::ERASURE_OR_RECTIFICATION_NOTICE:  // to every earlier recipient
      return kEither;
    case v1::REINTEGRATION_PLAN:
    case v1::INFORMATION_REQUEST:
    case v1::INFORMATION_RESPONSE:
      return kEitherData;
    case v1::DEADLINE_NOTICE:
      return kNodeOnly;
    default:
      return kNobody;
  }
}

Outcomes AllowedOutcomes(v1::MessageType type) {
  switch (type) {
    case v1::CONSENT_RECORD:
      return {{v1::CONSENT_GRANTED, v1::CONSENT_WITHDRAWN}, false};
    case v1::REFERRAL_ACK:
      return {{v1::REFERRAL_ACCEPTED, v1::REFERRAL_DECLINED}, false};
    case v1::RISK_ASSESSMENT:
      return {{v1::RISK_ACCEPTABLE, v1::RISK_UNSAFE}, false};
    case v1::BEST_INTERESTS_DETERMINATION:
      return {{v1::RETURN_IN_BEST_INTERESTS, v1::RETURN_NOT_IN_BEST_INTERESTS},
              false};
    case v1::REINTEGRATION_PLAN:
      return {{v1::PLAN_AGREED, v1::PLAN_PROPOSED}, false};
    case v1::CASE_CLOSURE:
      return {{v1::RETURN_WITHDRAWN}, true};
    default:
      return {{}, true};
  }
}

absl::string_view SideName(Side side) {
  switch (side) {
    case Side::kReferring:
      return "the referring side (the case owner)";
    case Side::kReceiving:
      return "the receiving side (an organisation other than the case owner)";
    case Side::kEither:
      return "either side";
    case Side::kNode:
      return "a node";
  }
  return "nobody";
}

}  // namespace trm::cases
