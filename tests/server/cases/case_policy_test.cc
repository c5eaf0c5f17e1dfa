// The TRM case rules from header metadata: the whole return scenario, each
// rule that protects the person, and random sequences of messages that
// must never reach a state the rules forbid.
#include "server/cases/case_policy.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "common/status.h"

namespace trm::cases {
namespace {

// 2026-11-23 is a Monday.
const absl::Time kMonday = absl::FromCivil(
    absl::CivilSecond(2026, 11, 23, 9, 0, 0), absl::UTCTimeZone());

class CaseTest : public ::testing::Test {
 protected:
  v1::Header H(v1::MessageType type, uint32_t outcome = 0,
               const std::string& to = "ng-naptip") {
    v1::Header h;
    h.set_case_ref("BG-2026-7");
    h.set_type(type);
    h.set_sender_org("bg-ngo");
    h.set_recipient_org(to);
    h.set_consent_ref("CONSENT-7");
    h.set_outcome(outcome);
    return h;
  }
  // Applies and keeps the result; the error, if any.
  absl::Status Step(const v1::Header& h) {
    auto next = ApplyToCase(rec_, h, now_, policy_);
    if (next.ok()) rec_ = *next;
    return next.status();
  }
  std::string Refusal(const v1::Header& h) {
    absl::Status s = Step(h);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    return ErrorReason(s);
  }
  v1::Header Travel(absl::Time departure) {
    v1::Header h = H(v1::TRAVEL_ARRANGEMENT);
    h.set_departure_unix_ms(absl::ToUnixMillis(departure));
    return h;
  }
  // Consent, referral, acknowledgement, acceptable risk, agreed plan.
  void ReadyToTravel() {
    ASSERT_TRUE(Step(H(v1::CONSENT_RECORD, v1::CONSENT_GRANTED)).ok());
    ASSERT_TRUE(Step(H(v1::REFERRAL_REQUEST)).ok());
    ASSERT_TRUE(Step(H(v1::REFERRAL_ACK, v1::REFERRAL_ACCEPTED)).ok());
    ASSERT_TRUE(Step(H(v1::RISK_ASSESSMENT, v1::RISK_ACCEPTABLE)).ok());
    ASSERT_TRUE(Step(H(v1::REINTEGRATION_PLAN, v1::PLAN_AGREED)).ok());
  }

  v1::CaseRecord rec_;
  absl::Time now_ = kMonday;
  CasePolicy policy_;
};

TEST_F(CaseTest, TheWholeReturnFromBulgariaToNigeria) {
  std::vector<v1::CaseState> states;
  auto step = [&](const v1::Header& h) {
    ASSERT_TRUE(Step(h).ok()) << v1::MessageType_Name(h.type());
    states.push_back(rec_.state());
    now_ += absl::Hours(1);
  };
  step(H(v1::REFLECTION_PERIOD_NOTICE, 0, "bg-nrm"));
  step(H(v1::CONSENT_RECORD, v1::CONSENT_GRANTED));
  step(H(v1::REFERRAL_REQUEST));
  step(H(v1::REFERRAL_ACK, v1::REFERRAL_ACCEPTED));
  step(H(v1::RISK_ASSESSMENT, v1::RISK_ACCEPTABLE));
  step(H(v1::RISK_FEEDBACK));
  step(H(v1::REINTEGRATION_PLAN, v1::PLAN_AGREED));
  step(H(v1::PRE_DEPARTURE_COUNSELLING));
  step(Travel(kMonday + absl::Hours(24 * 9)));
  now_ = kMonday + absl::Hours(24 * 9 + 8);
  step(H(v1::ARRIVAL_CONFIRMATION));
  step(H(v1::HANDOVER_CONFIRMATION));
  for (int month = 3; month <= 12; month += 3) {
    now_ += absl::Hours(24 * 91);
    step(H(v1::MONITORING_REPORT));
  }
  step(H(v1::CASE_CLOSURE));
  EXPECT_EQ(
      states,
      (std::vector<v1::CaseState>{
          v1::REFLECTION, v1::ASSISTANCE, v1::RETURN_REQUESTED,
          v1::REFERRAL_ACKED, v1::RISK_ASSESSED, v1::RISK_ASSESSED,
          v1::PLAN_AGREED_STATE, v1::PLAN_AGREED_STATE, v1::TRAVEL_SCHEDULED,
          v1::IN_TRANSIT, v1::HANDED_OVER, v1::MONITORING, v1::MONITORING,
          v1::MONITORING, v1::MONITORING, v1::CLOSED}));
  EXPECT_EQ(rec_.recipients_size(), 1);
  // Closed: nothing more but erasure or rectification.
  EXPECT_EQ(Refusal(H(v1::MONITORING_REPORT)), "CASE_CLOSED");
  EXPECT_TRUE(Step(H(v1::ERASURE_OR_RECTIFICATION_NOTICE)).ok());
}

TEST_F(CaseTest, AChildStaysUntilABestInterestsDetermination) {
  ReadyToTravel();
  v1::Header child = H(v1::RISK_FEEDBACK);
  child.set_minor(true);
  ASSERT_TRUE(Step(child).ok());
  const absl::Time departure = kMonday + absl::Hours(24 * 14);
  EXPECT_EQ(Refusal(Travel(departure)), "BEST_INTERESTS_REQUIRED");
  ASSERT_TRUE(Step(H(v1::BEST_INTERESTS_DETERMINATION,
                     v1::RETURN_NOT_IN_BEST_INTERESTS))
                  .ok());
  EXPECT_EQ(Refusal(Travel(departure)), "BEST_INTERESTS_REQUIRED");
  ASSERT_TRUE(
      Step(H(v1::BEST_INTERESTS_DETERMINATION, v1::RETURN_IN_BEST_INTERESTS))
          .ok());
  EXPECT_TRUE(Step(Travel(departure)).ok());
}

TEST_F(CaseTest, NoTravelWithoutASafeRiskAssessmentAndAnAgreedPlan) {
  ASSERT_TRUE(Step(H(v1::CONSENT_RECORD, v1::CONSENT_GRANTED)).ok());
  const absl::Time departure = kMonday + absl::Hours(24 * 14);
  EXPECT_EQ(Refusal(Travel(departure)), "RISK_ASSESSMENT_REQUIRED");
  ASSERT_TRUE(Step(H(v1::RISK_ASSESSMENT, v1::RISK_ACCEPTABLE)).ok());
  EXPECT_EQ(Refusal(Travel(departure)), "REINTEGRATION_PLAN_REQUIRED");
  ASSERT_TRUE(Step(H(v1::REINTEGRATION_PLAN, v1::PLAN_AGREED)).ok());
  // A later assessment finds the return unsafe: back to assistance.
  ASSERT_TRUE(Step(H(v1::RISK_ASSESSMENT, v1::RISK_UNSAFE)).ok());
  EXPECT_EQ(rec_.state(), v1::ASSISTANCE);
  EXPECT_EQ(Refusal(Travel(departure)), "RISK_ASSESSMENT_REQUIRED");
  EXPECT_EQ(Refusal(H(v1::TRAVEL_ARRANGEMENT)), "RISK_ASSESSMENT_REQUIRED");
}

TEST_F(CaseTest, TheReceivingOrganisationGetsFiveWorkingDaysNotice) {
  ReadyToTravel();
  now_ = absl::FromCivil(absl::CivilSecond(2026, 11, 27, 10, 0, 0),
                         absl::UTCTimeZone());  // a Friday
  EXPECT_EQ(AddWorkingDays(now_, 5),
            absl::FromCivil(absl::CivilSecond(2026, 12, 4, 10, 0, 0),
                            absl::UTCTimeZone()));
  EXPECT_EQ(Refusal(Travel(now_ + absl::Hours(24 * 6))), "NOTICE_TOO_SHORT");
  v1::Header no_time = H(v1::TRAVEL_ARRANGEMENT);
  EXPECT_EQ(Refusal(no_time), "DEPARTURE_REQUIRED");
  EXPECT_TRUE(Step(Travel(now_ + absl::Hours(24 * 7))).ok());
}

TEST_F(CaseTest, AWithdrawalIsAllowedUpToDeparture) {
  ReadyToTravel();
  const absl::Time departure = kMonday + absl::Hours(24 * 10);
  ASSERT_TRUE(Step(Travel(departure)).ok());
  const v1::CaseRecord scheduled = rec_;
  now_ = departure + absl::Minutes(1);
  EXPECT_EQ(Refusal(H(v1::CASE_CLOSURE, v1::RETURN_WITHDRAWN)),
            "ALREADY_DEPARTED");
  rec_ = scheduled;
  now_ = departure - absl::Hours(2);
  ASSERT_TRUE(Step(H(v1::CASE_CLOSURE, v1::RETURN_WITHDRAWN)).ok());
  EXPECT_EQ(rec_.state(), v1::WITHDRAWN_STATE);
  EXPECT_EQ(Refusal(H(v1::ARRIVAL_CONFIRMATION)), "CASE_CLOSED");
}

TEST_F(CaseTest, AsylumBlocksIdentityVerification) {
  ASSERT_TRUE(Step(H(v1::CONSENT_RECORD, v1::CONSENT_GRANTED)).ok());
  v1::Header flag = H(v1::INFORMATION_REQUEST);
  flag.set_asylum(true);
  ASSERT_TRUE(Step(flag).ok());
  EXPECT_EQ(Refusal(H(v1::IDENTITY_VERIFICATION_REQUEST)),
            "ASYLUM_BLOCKS_VERIFICATION")
      << "the flag stays with the case";
}

TEST_F(CaseTest, ConsentPerRecipientAndItsWithdrawal) {
  EXPECT_EQ(Refusal(H(v1::REFERRAL_REQUEST)), "CONSENT_REQUIRED");
  ASSERT_TRUE(Step(H(v1::CONSENT_RECORD, v1::CONSENT_GRANTED)).ok());
  EXPECT_EQ(Refusal(H(v1::REFERRAL_REQUEST, 0, "it-ngo")), "CONSENT_REQUIRED")
      << "consent covers its recipient only";
  v1::Header other_ref = H(v1::REFERRAL_REQUEST);
  other_ref.set_consent_ref("CONSENT-8");
  EXPECT_EQ(Refusal(other_ref), "CONSENT_REF_MISMATCH");
  ASSERT_TRUE(Step(H(v1::REFERRAL_REQUEST)).ok());
  ASSERT_TRUE(Step(H(v1::CONSENT_RECORD, v1::CONSENT_WITHDRAWN)).ok());
  EXPECT_EQ(Refusal(H(v1::RISK_ASSESSMENT, v1::RISK_ACCEPTABLE)),
            "CONSENT_WITHDRAWN");
  // Messages without the person's data still go (a closure, feedback).
  EXPECT_TRUE(Step(H(v1::RISK_FEEDBACK)).ok());
  EXPECT_EQ(Refusal(H(v1::CONSENT_RECORD)), "OUTCOME_MISMATCH");
  EXPECT_EQ(Refusal(H(v1::RISK_FEEDBACK, v1::RISK_UNSAFE)), "OUTCOME_MISMATCH");
}

const v1::Deadline* Find(const v1::CaseRecord& rec, v1::DeadlineKind kind) {
  for (const v1::Deadline& d : rec.deadlines()) {
    if (d.kind() == kind) return &d;
  }
  return nullptr;
}

TEST_F(CaseTest, DeadlinesFollowTheCase) {
  policy_.referral_ack_within = absl::Hours(72);
  ASSERT_TRUE(Step(H(v1::CONSENT_RECORD, v1::CONSENT_GRANTED)).ok());
  EXPECT_EQ(rec_.deadlines_size(), 0);
  ASSERT_TRUE(Step(H(v1::REFERRAL_REQUEST)).ok());
  const v1::Deadline* ack = Find(rec_, v1::REFERRAL_ACK_DUE);
  ASSERT_NE(ack, nullptr);
  EXPECT_EQ(ack->due_unix_ms(), absl::ToUnixMillis(now_ + absl::Hours(72)));
  EXPECT_EQ(ack->responsible_org(), "ng-naptip");
  EXPECT_EQ(ack->waiting_org(), "bg-ngo");
  v1::Header reply = H(v1::REFERRAL_ACK, v1::REFERRAL_ACCEPTED, "bg-ngo");
  reply.set_sender_org("ng-naptip");
  ASSERT_TRUE(Step(reply).ok());
  EXPECT_EQ(rec_.deadlines_size(), 0) << "acknowledged";
  ASSERT_TRUE(Step(H(v1::RISK_ASSESSMENT, v1::RISK_ACCEPTABLE)).ok());
  ASSERT_TRUE(Step(H(v1::REINTEGRATION_PLAN, v1::PLAN_AGREED)).ok());
  const absl::Time departure = kMonday + absl::Hours(24 * 10);
  ASSERT_TRUE(Step(Travel(departure)).ok());
  const v1::Deadline* arrival = Find(rec_, v1::ARRIVAL_CONFIRMATION_DUE);
  ASSERT_NE(arrival, nullptr);
  EXPECT_EQ(arrival->due_unix_ms(),
            absl::ToUnixMillis(departure + absl::Hours(48)));
  now_ = departure + absl::Hours(10);
  ASSERT_TRUE(Step(H(v1::ARRIVAL_CONFIRMATION)).ok());
  ASSERT_TRUE(Step(H(v1::HANDOVER_CONFIRMATION)).ok());
  EXPECT_EQ(Find(rec_, v1::ARRIVAL_CONFIRMATION_DUE), nullptr);
  // Reports every 91 days for a year: four, then no more deadline.
  int reports = 0;
  while (const v1::Deadline* m = Find(rec_, v1::MONITORING_REPORT_DUE)) {
    now_ = absl::FromUnixMillis(m->due_unix_ms()) - absl::Hours(1);
    ASSERT_TRUE(Step(H(v1::MONITORING_REPORT)).ok());
    ASSERT_LT(++reports, 10);
  }
  EXPECT_EQ(reports, 4);
  ASSERT_TRUE(Step(H(v1::CASE_CLOSURE)).ok());
  EXPECT_EQ(rec_.deadlines_size(), 0);
  // Every message is a step of the case, in order.
  EXPECT_EQ(rec_.steps_size(), 13);
  EXPECT_EQ(rec_.steps(2).type(), v1::REFERRAL_ACK);
  EXPECT_EQ(rec_.steps(2).sender_org(), "ng-naptip");
}

TEST_F(CaseTest, ADeadlineNoticeMarksOnlyAPassedDeadline) {
  ASSERT_TRUE(Step(H(v1::CONSENT_RECORD, v1::CONSENT_GRANTED)).ok());
  ASSERT_TRUE(Step(H(v1::REFERRAL_REQUEST)).ok());
  v1::Header notice = H(v1::DEADLINE_NOTICE, v1::REFERRAL_ACK_DUE, "bg-nrm");
  notice.set_sender_org("bg");
  EXPECT_EQ(Refusal(notice), "DEADLINE_NOT_DUE");
  EXPECT_EQ(Refusal(H(v1::DEADLINE_NOTICE, v1::MONITORING_REPORT_DUE)),
            "DEADLINE_NOT_OPEN");
  EXPECT_EQ(Refusal(H(v1::DEADLINE_NOTICE, 0)), "OUTCOME_MISMATCH");
  now_ += absl::Hours(73);
  ASSERT_TRUE(Step(notice).ok());
  const v1::Deadline* d = Find(rec_, v1::REFERRAL_ACK_DUE);
  ASSERT_NE(d, nullptr) << "still open: overdue";
  EXPECT_EQ(d->escalated_unix_ms(), absl::ToUnixMillis(now_));
  EXPECT_EQ(rec_.participants_size(), 2) << "the node is not a party";
  ASSERT_TRUE(Step(H(v1::REFERRAL_ACK, v1::REFERRAL_DECLINED)).ok());
  EXPECT_EQ(rec_.state(), v1::DECLINED);
  EXPECT_EQ(rec_.deadlines_size(), 0);
}

TEST_F(CaseTest, TheRecordKeepsTheLastThousandSteps) {
  for (int i = 0; i < 1005; ++i) {
    ASSERT_TRUE(Step(H(v1::INFORMATION_REQUEST)).ok());
  }
  EXPECT_EQ(rec_.steps_size(), 1000);
  EXPECT_EQ(rec_.steps_dropped(), 5u);
}

TEST(CasePolicies, PairThenCountryThenDefaults) {
  CasePolicies p;
  p.defaults.referral_ack_within = absl::Hours(72);
  p.countries["NG"].referral_ack_within = absl::Hours(96);
  p.pairs["BG>NG"].referral_ack_within = absl::Hours(48);
  EXPECT_EQ(p.For("BG", "NG").referral_ack_within, absl::Hours(48));
  EXPECT_EQ(p.For("IT", "NG").referral_ack_within, absl::Hours(96));
  EXPECT_EQ(p.For("NG", "BG").referral_ack_within, absl::Hours(72));
}

// Random sequences of message types, outcomes, flags, recipients and times:
// no accepted message ever breaks a rule, whatever came before.
TEST(CaseProperty, RandomSequencesNeverReachAForbiddenState) {
  std::mt19937_64 rng(std::random_device{}());
  const std::vector<std::string> recipients = {"ng-naptip", "it-ngo"};
  CasePolicy policy;
  size_t accepted = 0, travel = 0;
  for (int run = 0; run < 3000; ++run) {
    v1::CaseRecord rec;
    absl::Time now = kMonday;
    size_t next_step = 0;
    for (int i = 0; i < 40; ++i) {
      v1::Header h;
      h.set_case_ref("P");
      h.set_type(static_cast<v1::MessageType>(1 + rng() % 23));
      h.set_recipient_org(recipients[rng() % recipients.size()]);
      h.set_consent_ref(rng() % 4 == 0 ? "C2" : "C1");
      // Usually an outcome that fits, sometimes any.
      h.set_outcome(rng() % 10 == 0 ? rng() % 12 : 0);
      for (uint32_t o = 1; o <= 11 && rng() % 2; ++o) {
        if (OutcomeFits(h.type(), o)) h.set_outcome(o);
      }
      // Half the time, the next step of a return, so that sequences get far.
      if (rng() % 2) {
        static constexpr std::pair<v1::MessageType, v1::StepOutcome> kPath[] = {
            {v1::CONSENT_RECORD, v1::CONSENT_GRANTED},
            {v1::REFERRAL_REQUEST, v1::STEP_OUTCOME_UNSPECIFIED},
            {v1::REFERRAL_ACK, v1::REFERRAL_ACCEPTED},
            {v1::RISK_ASSESSMENT, v1::RISK_ACCEPTABLE},
            {v1::REINTEGRATION_PLAN, v1::PLAN_AGREED},
            {v1::BEST_INTERESTS_DETERMINATION, v1::RETURN_IN_BEST_INTERESTS},
            {v1::TRAVEL_ARRANGEMENT, v1::STEP_OUTCOME_UNSPECIFIED}};
        const auto& [type, outcome] = kPath[next_step++ % std::size(kPath)];
        h.set_type(type);
        h.set_outcome(outcome);
      }
      h.set_minor(rng() % 10 == 0);
      h.set_asylum(rng() % 20 == 0);
      if (rng() % 2) {
        h.set_departure_unix_ms(
            absl::ToUnixMillis(now + absl::Hours(rng() % (24 * 12))));
      }
      now += absl::Minutes(rng() % (60 * 24));
      auto next = ApplyToCase(rec, h, now, policy);
      if (!next.ok()) {
        ASSERT_EQ(next.status().code(), absl::StatusCode::kFailedPrecondition);
        continue;
      }
      ++accepted;
      const bool minor = rec.minor() || h.minor();
      const bool asylum = rec.asylum() || h.asylum();
      // What an accepted message proves about the record before it.
      ASSERT_FALSE(
          (rec.state() == v1::CLOSED || rec.state() == v1::WITHDRAWN_STATE) &&
          h.type() != v1::ERASURE_OR_RECTIFICATION_NOTICE)
          << "after closure only erasure: " << v1::MessageType_Name(h.type());
      if (CarriesPersonalData(h.type())) {
        auto c = rec.consents().find(h.recipient_org());
        ASSERT_TRUE(c != rec.consents().end() && c->second.granted() &&
                    c->second.consent_ref() == h.consent_ref());
      }
      ASSERT_FALSE(asylum && (h.type() == v1::IDENTITY_VERIFICATION_REQUEST ||
                              h.type() == v1::IDENTITY_VERIFICATION_RESPONSE));
      if (h.type() == v1::TRAVEL_ARRANGEMENT) {
        ++travel;
        ASSERT_TRUE(rec.risk_assessed() && rec.risk_acceptable());
        ASSERT_TRUE(rec.plan_agreed());
        ASSERT_TRUE(!minor || rec.best_interests_for_return());
        ASSERT_GE(absl::FromUnixMillis(h.departure_unix_ms()),
                  AddWorkingDays(now, policy.travel_notice_working_days));
      }
      ASSERT_TRUE(OutcomeFits(h.type(), h.outcome()));
      if (h.type() == v1::DEADLINE_NOTICE) {
        const v1::Deadline* d =
            Find(rec, static_cast<v1::DeadlineKind>(h.outcome()));
        ASSERT_TRUE(d != nullptr && d->due_unix_ms() <= absl::ToUnixMillis(now))
            << "only a passed, open deadline is escalated";
      }
      // What the record after it holds.
      const v1::CaseState after = next->state();
      if (after == v1::CLOSED || after == v1::WITHDRAWN_STATE ||
          after == v1::DECLINED) {
        ASSERT_EQ(next->deadlines_size(), 0) << "a finished case waits";
      }
      std::set<int> kinds;
      for (const v1::Deadline& d : next->deadlines()) {
        ASSERT_TRUE(kinds.insert(d.kind()).second) << "one clock per kind";
      }
      rec = *next;
    }
  }
  EXPECT_GT(accepted, 10000u) << "the generator exercises the rules";
  EXPECT_GT(travel, 0u) << "some sequences reach travel";
}

}  // namespace
}  // namespace trm::cases
