#include "common/cases/payload_facts.h"

#include <gtest/gtest.h>

#include <string>

#include "common/status.h"
#include "trm/v1/case.pb.h"
#include "trm/v1/envelope.pb.h"

namespace trm::cases {
namespace {

template <typename M>
absl::StatusOr<PayloadFacts> Facts(v1::MessageType type, const M& m) {
  return ReadPayloadFacts(type, m.SerializeAsString());
}

TEST(PayloadFactsTest, EachTypeStatesItsOutcomeFromItsOwnField) {
  v1::ConsentRecord consent;
  consent.set_granted(true);
  consent.set_consent_ref("C-1");
  auto f = Facts(v1::CONSENT_RECORD, consent);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->outcome, v1::CONSENT_GRANTED);
  EXPECT_EQ(f->consent_ref, "C-1");
  consent.set_granted(false);
  EXPECT_EQ(Facts(v1::CONSENT_RECORD, consent)->outcome, v1::CONSENT_WITHDRAWN);

  v1::ReferralAck ack;
  ack.set_accepted(false);
  EXPECT_EQ(Facts(v1::REFERRAL_ACK, ack)->outcome, v1::REFERRAL_DECLINED);
  v1::RiskAssessment risk;
  risk.set_threat_to_life_or_health(true);
  EXPECT_EQ(Facts(v1::RISK_ASSESSMENT, risk)->outcome, v1::RISK_UNSAFE);
  risk.set_threat_to_life_or_health(false);
  EXPECT_EQ(Facts(v1::RISK_ASSESSMENT, risk)->outcome, v1::RISK_ACCEPTABLE);
  v1::BestInterestsDetermination bid;
  bid.set_return_in_best_interests(false);
  EXPECT_EQ(Facts(v1::BEST_INTERESTS_DETERMINATION, bid)->outcome,
            v1::RETURN_NOT_IN_BEST_INTERESTS);
  v1::ReintegrationPlan plan;
  plan.set_agreed(true);
  EXPECT_EQ(Facts(v1::REINTEGRATION_PLAN, plan)->outcome, v1::PLAN_AGREED);
  v1::CaseClosure closure;
  closure.set_reason(v1::CaseClosure::WITHDRAWN);
  EXPECT_EQ(Facts(v1::CASE_CLOSURE, closure)->outcome, v1::RETURN_WITHDRAWN);
  closure.set_reason(v1::CaseClosure::COMPLETED);
  EXPECT_EQ(Facts(v1::CASE_CLOSURE, closure)->outcome,
            v1::STEP_OUTCOME_UNSPECIFIED);

  v1::TravelArrangement travel;
  travel.mutable_departure()->set_seconds(1800000000);
  travel.mutable_departure()->set_nanos(250000000);
  f = Facts(v1::TRAVEL_ARRANGEMENT, travel);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->departure_unix_ms, 1800000000250);
  EXPECT_EQ(f->outcome, v1::STEP_OUTCOME_UNSPECIFIED);

  v1::ReferralRequest referral;  // nothing required, nothing stated
  f = Facts(v1::REFERRAL_REQUEST, referral);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->outcome, v1::STEP_OUTCOME_UNSPECIFIED);
  EXPECT_FALSE(f->departure_unix_ms.has_value());
}

TEST(PayloadFactsTest, AMissingRequiredFieldIsNamedNotTakenAsFalse) {
  // A risk assessment that forgot the question must not read as "safe".
  v1::RiskAssessment risk;
  risk.set_safety_plan("escort to the shelter");
  auto f = Facts(v1::RISK_ASSESSMENT, risk);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(ErrorReason(f.status()), "PAYLOAD_FIELD_REQUIRED");
  EXPECT_NE(f.status().message().find("'threat_to_life_or_health'"),
            std::string::npos)
      << f.status();

  v1::ConsentRecord consent;
  consent.set_granted(true);
  f = Facts(v1::CONSENT_RECORD, consent);
  EXPECT_EQ(ErrorReason(f.status()), "PAYLOAD_FIELD_REQUIRED");
  EXPECT_NE(f.status().message().find("'consent_ref'"), std::string::npos);

  EXPECT_EQ(
      ErrorReason(
          Facts(v1::TRAVEL_ARRANGEMENT, v1::TravelArrangement()).status()),
      "PAYLOAD_FIELD_REQUIRED");
  EXPECT_EQ(ErrorReason(Facts(v1::CASE_CLOSURE, v1::CaseClosure()).status()),
            "PAYLOAD_FIELD_REQUIRED");
}

TEST(PayloadFactsTest, BytesThatAreNotThePayloadAreRefused) {
  auto f = ReadPayloadFacts(v1::REFERRAL_REQUEST, "x");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(ErrorReason(f.status()), "PAYLOAD_INVALID");
  // A well-formed protobuf with a field case.proto does not define: a
  // payload of another type, or one from a schema we do not know.
  v1::ReferralAck ack;
  ack.set_accepted(true);
  ack.set_decline_reason("none");
  std::string bytes = ack.SerializeAsString();
  bytes += std::string("\xf8\x06\x01", 3);  // field 111, varint 1
  f = ReadPayloadFacts(v1::REFERRAL_ACK, bytes);
  EXPECT_EQ(ErrorReason(f.status()), "PAYLOAD_INVALID") << f.status();
  EXPECT_EQ(
      ErrorReason(ReadPayloadFacts(v1::MESSAGE_TYPE_UNSPECIFIED, "").status()),
      "NO_PAYLOAD_SCHEMA");
}

TEST(PayloadFactsTest, TheHeaderMustSayWhatThePayloadSays) {
  v1::Header h;
  h.set_type(v1::RISK_ASSESSMENT);
  PayloadFacts unsafe;
  unsafe.outcome = v1::RISK_UNSAFE;
  h.set_outcome(v1::RISK_ACCEPTABLE);  // routed as safe, written as unsafe
  absl::Status s = CheckHeaderAgrees(h, unsafe);
  EXPECT_EQ(ErrorReason(s), "HEADER_PAYLOAD_MISMATCH");
  EXPECT_NE(s.message().find("RISK_ACCEPTABLE"), std::string::npos) << s;
  EXPECT_NE(s.message().find("RISK_UNSAFE"), std::string::npos) << s;
  h.set_outcome(v1::RISK_UNSAFE);
  EXPECT_TRUE(CheckHeaderAgrees(h, unsafe).ok());

  v1::Header travel;
  travel.set_type(v1::TRAVEL_ARRANGEMENT);
  PayloadFacts leaves;
  leaves.departure_unix_ms = 1800000000000;
  EXPECT_EQ(ErrorReason(CheckHeaderAgrees(travel, leaves)),
            "HEADER_PAYLOAD_MISMATCH");  // no departure in the header
  travel.set_departure_unix_ms(1800000000001);
  EXPECT_EQ(ErrorReason(CheckHeaderAgrees(travel, leaves)),
            "HEADER_PAYLOAD_MISMATCH");
  travel.set_departure_unix_ms(1800000000000);
  EXPECT_TRUE(CheckHeaderAgrees(travel, leaves).ok());

  v1::Header referral;  // a departure on a type that has none
  referral.set_type(v1::REFERRAL_REQUEST);
  referral.set_departure_unix_ms(1800000000000);
  EXPECT_EQ(ErrorReason(CheckHeaderAgrees(referral, PayloadFacts())),
            "HEADER_PAYLOAD_MISMATCH");

  v1::Header consent;
  consent.set_type(v1::CONSENT_RECORD);
  consent.set_outcome(v1::CONSENT_GRANTED);
  consent.set_consent_ref("C-2");
  PayloadFacts granted;
  granted.outcome = v1::CONSENT_GRANTED;
  granted.consent_ref = "C-1";
  EXPECT_EQ(ErrorReason(CheckHeaderAgrees(consent, granted)),
            "HEADER_PAYLOAD_MISMATCH");
  granted.consent_ref = "C-2";
  EXPECT_TRUE(CheckHeaderAgrees(consent, granted).ok());
}

}  // namespace
}  // namespace trm::cases
