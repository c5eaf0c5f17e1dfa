// The TRM case rules from header metadata: the whole return scenario, each
// rule that protects the person, and random sequences of messages that
// must never reach a state the rules forbid.
#include "server/cases/case_policy.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/cases/type_table.h"
#include "common/status.h"

namespace trm::cases {
namespace {

// 2026-11-23 is a Monday.
const absl::Time kMonday = absl::FromCivil(
    absl::CivilSecond(2026, 11, 23, 9, 0, 0), absl::UTCTimeZone());

class CaseTest : public ::testing::Test {
 protected:
  // A message of `type` from the side that sends it: bg-ngo (the case owner)
  // to `to`, or ng-naptip to bg-ngo for the receiving side's types.
  v1::Header H(v1::MessageType type, uint32_t outcome = 0,
               const std::string& to = "ng-naptip") {
    const bool receiving = RuleOf(type).sent_by == Side::kReceiving;
    v1::Header h;
    h.set_case_ref("BG-2026-7");
    h.set_type(type);
    h.set_sender_org(receiving ? "ng-naptip" : "bg-ngo");
    h.set_recipient_org(receiving ? "bg-ngo" : to);
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
  absl::Status mismatch = Step(other_ref);
  EXPECT_EQ(ErrorReason(mismatch), "CONSENT_REF_MISMATCH");
  EXPECT_NE(mismatch.message().find("--consent CONSENT-7"), std::string::npos)
      << mismatch;
  ASSERT_TRUE(Step(H(v1::REFERRAL_REQUEST)).ok());
  ASSERT_TRUE(Step(H(v1::CONSENT_RECORD, v1::CONSENT_WITHDRAWN)).ok());
  EXPECT_EQ(Refusal(H(v1::RISK_ASSESSMENT, v1::RISK_ACCEPTABLE)),
            "CONSENT_WITHDRAWN");
  // Feedback carries the person's data, but to the case owner: no consent
  // of the owner's is needed for data coming back to it.
  EXPECT_EQ(Refusal(H(v1::RISK_FEEDBACK)), "RISK_ASSESSMENT_REQUIRED")
      << "feedback answers an assessment";
  EXPECT_EQ(Refusal(H(v1::CONSENT_RECORD)), "OUTCOME_MISMATCH");
  EXPECT_EQ(Refusal(H(v1::RISK_FEEDBACK, v1::RISK_UNSAFE)), "OUTCOME_MISMATCH");
}

// Seen in the demo federation: the receiving organisation recorded a
// "consent" naming the referrer, and then sent a risk assessment about the
// person. The person never consented to anything in Nigeria.
TEST_F(CaseTest, OnlyTheCaseOwnerRecordsConsent) {
  ASSERT_TRUE(Step(H(v1::CONSENT_RECORD, v1::CONSENT_GRANTED)).ok());
  ASSERT_TRUE(Step(H(v1::REFERRAL_REQUEST)).ok());
  EXPECT_EQ(rec_.owner_org(), "bg-ngo");
  v1::Header hostile = H(v1::CONSENT_RECORD, v1::CONSENT_GRANTED, "bg-ngo");
  hostile.set_sender_org("ng-naptip");
  absl::Status s = Step(hostile);
  EXPECT_EQ(ErrorReason(s), "CONSENT_NOT_CASE_OWNER");
  EXPECT_NE(s.message().find("belongs to 'bg-ngo'"), std::string::npos) << s;
  v1::Header withdraw = H(v1::CONSENT_RECORD, v1::CONSENT_WITHDRAWN, "it-ngo");
  withdraw.set_sender_org("it-ngo");
  EXPECT_EQ(Refusal(withdraw), "CONSENT_NOT_CASE_OWNER")
      << "nor may anyone else withdraw it";
  v1::Header assessment = H(v1::RISK_ASSESSMENT, v1::RISK_ACCEPTABLE, "bg-ngo");
  assessment.set_sender_org("ng-naptip");
  EXPECT_EQ(Refusal(assessment), "WRONG_SIDE_FOR_TYPE");
  EXPECT_EQ(Refusal(H(v1::RISK_FEEDBACK)), "RISK_ASSESSMENT_REQUIRED");
  v1::Header ack_by_owner = H(v1::REFERRAL_ACK, v1::REFERRAL_ACCEPTED);
  ack_by_owner.set_sender_org("bg-ngo");
  ack_by_owner.set_recipient_org("ng-naptip");
  EXPECT_EQ(Refusal(ack_by_owner), "WRONG_SIDE_FOR_TYPE")
      << "the referrer cannot answer its own referral";
}

TEST_F(CaseTest, DataToAThirdOrganisationNeedsTheOwnersConsent) {
  ReadyToTravel();
  // The receiving side passes the person's data on to another organisation.
  v1::Header onward = H(v1::MONITORING_REPORT);
  onward.set_recipient_org("it-ngo");
  EXPECT_EQ(Refusal(onward), "CONSENT_REQUIRED");
  ASSERT_TRUE(Step(H(v1::CONSENT_RECORD, v1::CONSENT_GRANTED, "it-ngo")).ok());
  EXPECT_TRUE(Step(onward).ok());
  EXPECT_EQ(rec_.recipients_size(), 2) << "both recipients, never the owner";
  // Data back to the owner never needs consent, even after a withdrawal.
  ASSERT_TRUE(
      Step(H(v1::CONSENT_RECORD, v1::CONSENT_WITHDRAWN, "ng-naptip")).ok());
  EXPECT_TRUE(Step(H(v1::RISK_FEEDBACK)).ok());
  EXPECT_EQ(Refusal(H(v1::REINTEGRATION_PLAN, v1::PLAN_AGREED)),
            "CONSENT_WITHDRAWN");
}

TEST_F(CaseTest, ATransferNamesTheNextOwner) {
  ASSERT_TRUE(
      Step(H(v1::CONSENT_RECORD, v1::CONSENT_GRANTED, "bg-shelter")).ok());
  EXPECT_EQ(Refusal(H(v1::CASE_TRANSFER, 0, "bg-ngo")), "TRANSFER_TO_OWNER");
  EXPECT_EQ(Refusal(H(v1::CASE_TRANSFER, 0, "ng-naptip")), "CONSENT_REQUIRED")
      << "the successor gets the person's data";
  ASSERT_TRUE(Step(H(v1::CASE_TRANSFER, 0, "bg-shelter")).ok());
  EXPECT_EQ(rec_.owner_org(), "bg-shelter");
  EXPECT_EQ(Refusal(H(v1::CONSENT_RECORD, v1::CONSENT_GRANTED)),
            "CONSENT_NOT_CASE_OWNER")
      << "the former owner no longer speaks for the person";
  v1::Header grant = H(v1::CONSENT_RECORD, v1::CONSENT_GRANTED);
  grant.set_sender_org("bg-shelter");
  EXPECT_TRUE(Step(grant).ok());
  v1::Header referral = H(v1::REFERRAL_REQUEST);
  referral.set_sender_org("bg-shelter");
  EXPECT_TRUE(Step(referral).ok());
}

TEST_F(CaseTest, ARecordWithoutAnOwnerTakesItsFirstSender) {
  v1::CaseRecord old;
  old.set_state(v1::ASSISTANCE);
  *old.add_participants() = "bg-ngo";
  *old.add_participants() = "ng-naptip";
  rec_ = old;
  v1::Header hostile = H(v1::CONSENT_RECORD, v1::CONSENT_GRANTED, "bg-ngo");
  hostile.set_sender_org("ng-naptip");
  EXPECT_EQ(Refusal(hostile), "CONSENT_NOT_CASE_OWNER");
  ASSERT_TRUE(Step(H(v1::CONSENT_RECORD, v1::CONSENT_GRANTED)).ok());
  EXPECT_EQ(rec_.owner_org(), "bg-ngo");
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
  ASSERT_TRUE(Step(H(v1::REFERRAL_ACK, v1::REFERRAL_ACCEPTED)).ok());
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

// An auditor can see which rule set each deadline: the federation policy's
// version, and whether this node's stricter configuration set it.
TEST_F(CaseTest, EachDeadlineNamesThePolicyThatSetIt) {
  policy_.policy_version = 7;
  policy_.local_fields = 1u << static_cast<int>(PeriodField::kReferralAck);
  ASSERT_TRUE(Step(H(v1::CONSENT_RECORD, v1::CONSENT_GRANTED)).ok());
  ASSERT_TRUE(Step(H(v1::REFERRAL_REQUEST)).ok());
  const v1::Deadline* ack = Find(rec_, v1::REFERRAL_ACK_DUE);
  ASSERT_NE(ack, nullptr);
  EXPECT_EQ(ack->policy_version(), 7u);
  EXPECT_TRUE(ack->local_rule());
  ASSERT_TRUE(Step(H(v1::REFERRAL_ACK, v1::REFERRAL_ACCEPTED)).ok());
  ASSERT_TRUE(Step(H(v1::RISK_ASSESSMENT, v1::RISK_ACCEPTABLE)).ok());
  ASSERT_TRUE(Step(H(v1::REINTEGRATION_PLAN, v1::PLAN_AGREED)).ok());
  policy_.policy_version = 8;  // a new directory came in between
  ASSERT_TRUE(Step(Travel(kMonday + absl::Hours(24 * 10))).ok());
  const v1::Deadline* arrival = Find(rec_, v1::ARRIVAL_CONFIRMATION_DUE);
  ASSERT_NE(arrival, nullptr);
  EXPECT_EQ(arrival->policy_version(), 8u);
  EXPECT_FALSE(arrival->local_rule());
}

// A node whose directory has lapsed takes no new cases, and keeps the ones
// it has going.
TEST_F(CaseTest, ALapsedDirectoryRefusesNewCasesOnly) {
  ASSERT_TRUE(Step(H(v1::CONSENT_RECORD, v1::CONSENT_GRANTED)).ok());
  policy_.refuse_new_cases = "the directory lapsed";
  EXPECT_TRUE(Step(H(v1::REFERRAL_REQUEST)).ok()) << "an open case goes on";
  rec_ = v1::CaseRecord();  // another case reference
  const absl::Status s = Step(H(v1::CONSENT_RECORD, v1::CONSENT_GRANTED));
  EXPECT_EQ(ErrorReason(s), "DIRECTORY_LAPSED") << s;
  EXPECT_NE(s.message().find("would be a new case: the directory lapsed"),
            std::string::npos)
      << s;
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
  ASSERT_TRUE(Step(H(v1::CONSENT_RECORD, v1::CONSENT_GRANTED)).ok());
  for (int i = 1; i < 1005; ++i) {
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

// Random sequences of message types, outcomes, flags, senders, recipients
// and times: no accepted message ever breaks a rule, whatever came before.
// Returns the first broken rule in words, or "" when every accepted message
// kept them; `without` leaves one rule's check out of the policy.
struct PropertyRun {
  std::string violation;
  size_t accepted = 0, travel = 0;
};

PropertyRun RunProperty(uint64_t seed, absl::string_view without) {
  std::mt19937_64 rng(seed);
  const std::vector<std::string> orgs = {"bg-ngo", "ng-naptip", "it-ngo"};
  CasePolicy policy;
  PropertyRun out;
  auto fail = [&](const std::string& what, const v1::Header& h) {
    out.violation =
        absl::StrCat(what, " (", v1::MessageType_Name(h.type()), " from ",
                     h.sender_org(), " to ", h.recipient_org(), ")");
  };
  for (int run = 0; run < 3000 && out.violation.empty(); ++run) {
    v1::CaseRecord rec;
    absl::Time now = kMonday;
    size_t next_step = 0;
    for (int i = 0; i < 40; ++i) {
      v1::Header h;
      h.set_case_ref("P");
      h.set_type(static_cast<v1::MessageType>(1 + rng() % 24));
      h.set_sender_org(orgs[rng() % orgs.size()]);
      h.set_recipient_org(orgs[rng() % orgs.size()]);
      h.set_consent_ref(rng() % 4 == 0 ? "C2" : "C1");
      // Usually an outcome that fits, sometimes any.
      h.set_outcome(rng() % 10 == 0 ? rng() % 12 : 0);
      for (uint32_t o = 1; o <= 11 && rng() % 2; ++o) {
        if (OutcomeFits(h.type(), o)) h.set_outcome(o);
      }
      // Half the time, the next step of a return from its proper side, so
      // that sequences get far.
      if (rng() % 2) {
        static constexpr std::pair<v1::MessageType, v1::StepOutcome> kPath[] = {
            {v1::CONSENT_RECORD, v1::CONSENT_GRANTED},
            {v1::REFERRAL_REQUEST, v1::STEP_OUTCOME_UNSPECIFIED},
            {v1::REFERRAL_ACK, v1::REFERRAL_ACCEPTED},
            {v1::RISK_ASSESSMENT, v1::RISK_ACCEPTABLE},
            {v1::RISK_FEEDBACK, v1::STEP_OUTCOME_UNSPECIFIED},
            {v1::REINTEGRATION_PLAN, v1::PLAN_AGREED},
            {v1::BEST_INTERESTS_DETERMINATION, v1::RETURN_IN_BEST_INTERESTS},
            {v1::TRAVEL_ARRANGEMENT, v1::STEP_OUTCOME_UNSPECIFIED}};
        const auto& [type, outcome] = kPath[next_step++ % std::size(kPath)];
        h.set_type(type);
        h.set_outcome(outcome);
        const std::string owner =
            rec.owner_org().empty() ? "bg-ngo" : rec.owner_org();
        const bool receiving = RuleOf(type).sent_by == Side::kReceiving;
        if (rng() % 4 != 0) {
          h.set_sender_org(receiving ? "ng-naptip" : owner);
          h.set_recipient_org(receiving ? owner : "ng-naptip");
        }
      }
      h.set_minor(rng() % 10 == 0);
      h.set_asylum(rng() % 20 == 0);
      if (rng() % 2) {
        h.set_departure_unix_ms(
            absl::ToUnixMillis(now + absl::Hours(rng() % (24 * 12))));
      }
      now += absl::Minutes(rng() % (60 * 24));
      auto next = ApplyToCaseWithout(rec, h, now, policy, without);
      if (!next.ok()) {
        if (next.status().code() != absl::StatusCode::kFailedPrecondition) {
          fail(absl::StrCat("not a rule refusal: ", next.status().ToString()),
               h);
        }
        continue;
      }
      ++out.accepted;
      const bool minor = rec.minor() || h.minor();
      const bool asylum = rec.asylum() || h.asylum();
      // What an accepted message proves about the record before it.
      const std::string owner = rec.state() == v1::CASE_STATE_UNSPECIFIED
                                    ? h.sender_org()
                                    : OwnerOf(rec);
      const bool from_owner = h.sender_org() == owner;
      const TypeRule& rule = RuleOf(h.type());
      if ((rec.state() == v1::CLOSED || rec.state() == v1::WITHDRAWN_STATE) &&
          h.type() != v1::ERASURE_OR_RECTIFICATION_NOTICE) {
        fail("a message after closure", h);
      } else if (h.type() == v1::CONSENT_RECORD && !from_owner) {
        fail("consent recorded by another organisation than the owner", h);
      } else if ((rule.sent_by == Side::kReferring && !from_owner) ||
                 (rule.sent_by == Side::kReceiving && from_owner)) {
        fail("a type sent by the wrong side", h);
      } else if (rule.personal_data && h.recipient_org() != owner && [&] {
                   auto c = rec.consents().find(h.recipient_org());
                   return c == rec.consents().end() || !c->second.granted() ||
                          c->second.consent_ref() != h.consent_ref();
                 }()) {
        fail("the person's data without the owner's consent", h);
      } else if (asylum && (h.type() == v1::IDENTITY_VERIFICATION_REQUEST ||
                            h.type() == v1::IDENTITY_VERIFICATION_RESPONSE)) {
        fail("identity verification of an asylum seeker", h);
      } else if (h.type() == v1::RISK_FEEDBACK && !rec.risk_assessed()) {
        fail("risk feedback before any risk assessment", h);
      } else if (h.type() == v1::TRAVEL_ARRANGEMENT &&
                 (!rec.risk_assessed() || !rec.risk_acceptable() ||
                  !rec.plan_agreed() ||
                  (minor && !rec.best_interests_for_return()) ||
                  absl::FromUnixMillis(h.departure_unix_ms()) <
                      AddWorkingDays(now, policy.travel_notice_working_days))) {
        fail("travel before its conditions", h);
      } else if (!OutcomeFits(h.type(), h.outcome())) {
        fail("an outcome that does not fit", h);
      } else if (h.type() == v1::DEADLINE_NOTICE && [&] {
                   const v1::Deadline* d =
                       Find(rec, static_cast<v1::DeadlineKind>(h.outcome()));
                   return d == nullptr ||
                          d->due_unix_ms() > absl::ToUnixMillis(now);
                 }()) {
        fail("a deadline escalated before it passed", h);
      }
      if (h.type() == v1::TRAVEL_ARRANGEMENT) ++out.travel;
      // What the record after it holds.
      const v1::CaseState after = next->state();
      if ((after == v1::CLOSED || after == v1::WITHDRAWN_STATE ||
           after == v1::DECLINED) &&
          next->deadlines_size() != 0) {
        fail("a finished case waits for a deadline", h);
      }
      std::set<int> kinds;
      for (const v1::Deadline& d : next->deadlines()) {
        if (!kinds.insert(d.kind()).second) fail("two clocks of a kind", h);
      }
      if (!out.violation.empty()) break;
      rec = *next;
    }
  }
  return out;
}

TEST(CaseProperty, RandomSequencesNeverReachAForbiddenState) {
  const uint64_t seed = std::random_device{}();
  const PropertyRun run = RunProperty(seed, "");
  EXPECT_EQ(run.violation, "") << "seed " << seed;
  EXPECT_GT(run.accepted, 10000u) << "the generator exercises the rules";
  EXPECT_GT(run.travel, 0u) << "some sequences reach travel";
}

// The property test catches the loss of any one rule: with its check left
// out of the policy, some random sequence breaks it.
TEST(CaseProperty, FailsWhenAnyOneRuleIsRemoved) {
  const uint64_t seed = std::random_device{}();
  for (absl::string_view rule :
       {"CASE_CLOSED", "OUTCOME_MISMATCH", "CONSENT_NOT_CASE_OWNER",
        "WRONG_SIDE_FOR_TYPE", "CONSENT_REQUIRED", "CONSENT_WITHDRAWN",
        "CONSENT_REF_MISMATCH", "ASYLUM_BLOCKS_VERIFICATION",
        "RISK_ASSESSMENT_REQUIRED", "REINTEGRATION_PLAN_REQUIRED",
        "BEST_INTERESTS_REQUIRED", "NOTICE_TOO_SHORT", "DEADLINE_NOT_DUE"}) {
    EXPECT_NE(RunProperty(seed, rule).violation, "")
        << "without " << rule << ", seed " << seed;
  }
}

}  // namespace
}  // namespace trm::cases
