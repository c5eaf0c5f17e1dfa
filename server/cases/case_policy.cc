#include "server/cases/case_policy.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/cases/type_table.h"
#include "common/status.h"
#include "common/time_text.h"

namespace trm::cases {
namespace {

absl::Status Rule(absl::string_view rule, absl::string_view what) {
  return Error(absl::StatusCode::kFailedPrecondition, rule, what);
}

// In ApplyToCaseWithout: refuses with `rule`, unless the property test's
// mutation check leaves that rule out.
#define TRM_REFUSE(rule, what)                      \
  do {                                              \
    if ((rule) != without) return Rule(rule, what); \
  } while (0)

bool Terminal(v1::CaseState s) {
  return s == v1::CLOSED || s == v1::WITHDRAWN_STATE;
}

// Types a withdrawal or closure cannot follow once the person has left.
bool DepartedStates(v1::CaseState s) {
  return s == v1::IN_TRANSIT || s == v1::HANDED_OVER || s == v1::MONITORING;
}

void Clear(v1::CaseRecord& rec, v1::DeadlineKind kind) {
  auto* d = rec.mutable_deadlines();
  for (int i = d->size() - 1; i >= 0; --i) {
    if (d->Get(i).kind() == kind) d->DeleteSubrange(i, 1);
  }
}

// Starts (or restarts) the clock of `kind`.
// `field` is the period that set `due`, from `policy`.
void Open(v1::CaseRecord& rec, v1::DeadlineKind kind, absl::Time due,
          const std::string& responsible, const std::string& waiting,
          const v1::Header& h, absl::Time now, const CasePolicy& policy,
          PeriodField field) {
  Clear(rec, kind);
  v1::Deadline& d = *rec.add_deadlines();
  d.set_kind(kind);
  d.set_due_unix_ms(absl::ToUnixMillis(due));
  d.set_responsible_org(responsible);
  d.set_waiting_org(waiting);
  d.set_set_by_message_id(h.message_id());
  d.set_set_by_type(h.type());
  d.set_set_unix_ms(absl::ToUnixMillis(now));
  d.set_policy_version(policy.policy_version);
  d.set_local_rule(IsLocal(policy, field));
}

void AddOnce(google::protobuf::RepeatedPtrField<std::string>& list,
             const std::string& org) {
  if (std::find(list.begin(), list.end(), org) == list.end()) {
    *list.Add() = org;
  }
}

}  // namespace

bool CarriesPersonalData(v1::MessageType type) {
  return RuleOf(type).personal_data;
}

std::string OwnerOf(const v1::CaseRecord& rec) {
  if (!rec.owner_org().empty()) return rec.owner_org();
  // A record written before owners were kept: the first sender it saw.
  return rec.participants_size() > 0 ? rec.participants(0) : "";
}

bool OutcomeFits(v1::MessageType type, uint32_t outcome) {
  if (type == v1::DEADLINE_NOTICE) {
    return outcome != v1::DEADLINE_KIND_UNSPECIFIED &&
           v1::DeadlineKind_IsValid(static_cast<int>(outcome));
  }
  const Outcomes o = AllowedOutcomes(type);
  if (outcome == 0) return o.optional;
  return std::find(o.allowed.begin(), o.allowed.end(),
                   static_cast<v1::StepOutcome>(outcome)) != o.allowed.end();
}

absl::Time AddWorkingDays(absl::Time from, int days) {
  absl::Time t = from;
  while (days > 0) {
    t += absl::Hours(24);
    const absl::CivilDay day = absl::ToCivilDay(t, absl::UTCTimeZone());
    const absl::Weekday w = absl::GetWeekday(day);
    if (w != absl::Weekday::saturday && w != absl::Weekday::sunday) --days;
  }
  return t;
}

std::string ActionFor(v1::DeadlineKind kind) {
  switch (kind) {
    case v1::REFERRAL_ACK_DUE:
      return "the receiving organisation must answer the referral with a "
             "REFERRAL_ACK naming a contact";
    case v1::ARRIVAL_CONFIRMATION_DUE:
      return "the receiving organisation must send an ARRIVAL_CONFIRMATION, "
             "or the sender a NON_DEPARTURE_NOTICE";
    case v1::MONITORING_REPORT_DUE:
      return "the receiving organisation must send its MONITORING_REPORT";
    case v1::REFLECTION_PERIOD_ENDS:
      return "the reflection period is over: decide on stay or return "
             "(REFERRAL_REQUEST for a return, or CASE_CLOSURE)";
    default:
      return "unknown deadline";
  }
}

absl::StatusOr<v1::CaseRecord> ApplyToCase(const v1::CaseRecord& before,
                                           const v1::Header& h, absl::Time now,
                                           const CasePolicy& policy) {
  return ApplyToCaseWithout(before, h, now, policy, "");
}

absl::StatusOr<v1::CaseRecord> ApplyToCaseWithout(const v1::CaseRecord& before,
                                                  const v1::Header& h,
                                                  absl::Time now,
                                                  const CasePolicy& policy,
                                                  absl::string_view without) {
  const v1::MessageType type = h.type();
  const std::string& to = h.recipient_org();
  const std::string type_name = v1::MessageType_Name(type);
  v1::CaseRecord rec = before;
  if (rec.state() == v1::CASE_STATE_UNSPECIFIED &&
      !policy.refuse_new_cases.empty()) {
    return Rule("DIRECTORY_LAPSED",
                absl::StrCat("case ", h.case_ref(), " would be a new case: ",
                             policy.refuse_new_cases));
  }
  if (rec.state() == v1::CASE_STATE_UNSPECIFIED) {
    rec.set_case_ref(h.case_ref());
    rec.set_state(v1::PRESUMED);
    rec.set_created_unix_ms(absl::ToUnixMillis(now));
  }
  // The case belongs to the organisation that opened it.
  rec.set_owner_org(rec.participants_size() == 0 && rec.owner_org().empty()
                        ? h.sender_org()
                        : OwnerOf(rec));
  const std::string& owner = rec.owner_org();
  const TypeRule& rule = RuleOf(type);
  rec.set_minor(rec.minor() || h.minor());
  rec.set_asylum(rec.asylum() || h.asylum());

  // Nothing after closure but erasure or rectification.
  if (Terminal(rec.state()) && type != v1::ERASURE_OR_RECTIFICATION_NOTICE) {
    TRM_REFUSE("CASE_CLOSED",
               absl::StrCat("case ", h.case_ref(), " is ",
                            v1::CaseState_Name(rec.state()),
                            "; after closure only an "
                            "ERASURE_OR_RECTIFICATION_NOTICE may be sent. "
                            "Open a new case reference if the person needs "
                            "help again"));
  }
  if (!OutcomeFits(type, h.outcome())) {
    std::vector<std::string> allowed;
    if (type != v1::DEADLINE_NOTICE) {
      for (int o = 1; v1::StepOutcome_IsValid(o); ++o) {
        if (OutcomeFits(type, o)) {
          allowed.push_back(
              v1::StepOutcome_Name(static_cast<v1::StepOutcome>(o)));
        }
      }
    }
    TRM_REFUSE(
        "OUTCOME_MISMATCH",
        absl::StrCat(
            type_name, " with outcome ", h.outcome(), " (",
            v1::StepOutcome_Name(static_cast<v1::StepOutcome>(h.outcome())),
            "): ",
            allowed.empty()
                ? std::string("this type takes no outcome; send it without one")
                : absl::StrCat("this type takes ",
                               OutcomeFits(type, 0) ? "no outcome or " : "",
                               absl::StrJoin(allowed, " or "),
                               " (trmctl --outcome, in lower case with "
                               "dashes; docs/protocol.md section 4.4)")));
  }

  // Only the case owner speaks for the person's consent.
  const bool from_owner = h.sender_org() == owner;
  if (type == v1::CONSENT_RECORD && !from_owner) {
    TRM_REFUSE("CONSENT_NOT_CASE_OWNER",
               absl::StrCat("case ", h.case_ref(), " belongs to '", owner,
                            "', which holds the person's consent; only it "
                            "may grant or withdraw consent for the case ('",
                            h.sender_org(),
                            "' may not). Ask the case owner to record it"));
  }
  // (CONSENT_RECORD has the owner's own refusal above.)
  const bool wrong_side = (rule.sent_by == Side::kReferring && !from_owner &&
                           type != v1::CONSENT_RECORD) ||
                          (rule.sent_by == Side::kReceiving && from_owner);
  if (wrong_side) {
    TRM_REFUSE("WRONG_SIDE_FOR_TYPE",
               absl::StrCat(type_name, " is sent by ", SideName(rule.sent_by),
                            "; case ", h.case_ref(), " belongs to '", owner,
                            "' and '", h.sender_org(), "' is on ",
                            from_owner ? SideName(Side::kReferring)
                                       : SideName(Side::kReceiving),
                            " (docs/workflow.md, \"Who sends what\")"));
  }
  if (type == v1::CASE_TRANSFER && to == owner) {
    TRM_REFUSE("TRANSFER_TO_OWNER",
               absl::StrCat("'", owner, "' already owns case ", h.case_ref(),
                            "; a CASE_TRANSFER goes to the successor"));
  }
  if (type == v1::DEADLINE_NOTICE) {
    // The node's own notice of a passed deadline: it marks it escalated.
    const auto kind = static_cast<v1::DeadlineKind>(h.outcome());
    v1::Deadline* open = nullptr;
    for (v1::Deadline& d : *rec.mutable_deadlines()) {
      if (d.kind() == kind) open = &d;
    }
    if (open == nullptr) {
      return Rule("DEADLINE_NOT_OPEN",
                  absl::StrCat("case ", h.case_ref(), " has no open ",
                               v1::DeadlineKind_Name(kind),
                               " deadline; it was met or cleared"));
    }
    if (absl::ToUnixMillis(now) < open->due_unix_ms()) {
      TRM_REFUSE(
          "DEADLINE_NOT_DUE",
          absl::StrCat(v1::DeadlineKind_Name(kind), " of case ", h.case_ref(),
                       " is due at ",
                       IsoSeconds(absl::FromUnixMillis(open->due_unix_ms()))));
    }
    if (open->escalated_unix_ms() == 0) {
      open->set_escalated_unix_ms(absl::ToUnixMillis(now));
    }
  }
  // SOP area 1: never contact the country of origin of an asylum seeker.
  if ((type == v1::IDENTITY_VERIFICATION_REQUEST ||
       type == v1::IDENTITY_VERIFICATION_RESPONSE) &&
      rec.asylum()) {
    TRM_REFUSE("ASYLUM_BLOCKS_VERIFICATION",
               absl::StrCat("case ", h.case_ref(),
                            " is flagged asylum: identity verification with "
                            "the country of origin is forbidden while the "
                            "person seeks asylum"));
  }
  // Consent per recipient, before any of the person's data reaches an
  // organisation other than the case owner.
  if (rule.personal_data && to != owner) {
    auto it = rec.consents().find(to);
    if (it == rec.consents().end()) {
      TRM_REFUSE("CONSENT_REQUIRED",
                 absl::StrCat(type_name, " carries the person's data to '", to,
                              "', but case ", h.case_ref(),
                              " has no consent covering '", to,
                              "': send a CONSENT_RECORD (outcome "
                              "CONSENT_GRANTED) to it first"));
    } else if (!it->second.granted()) {
      TRM_REFUSE(
          "CONSENT_WITHDRAWN",
          absl::StrCat(
              "the person withdrew consent ", it->second.consent_ref(),
              " for '", to, "' at ",
              IsoSeconds(absl::FromUnixMillis(it->second.since_unix_ms())),
              "; nothing more of their data may go to it"));
    } else if (h.consent_ref() != it->second.consent_ref()) {
      TRM_REFUSE("CONSENT_REF_MISMATCH",
                 absl::StrCat("the header names consent '", h.consent_ref(),
                              "' but the consent covering '", to, "' is '",
                              it->second.consent_ref(),
                              "'; put that reference in the header's "
                              "consent_ref (trmctl --consent ",
                              it->second.consent_ref(), ")"));
    }
  }
  if (type == v1::RISK_FEEDBACK && !rec.risk_assessed()) {
    TRM_REFUSE("RISK_ASSESSMENT_REQUIRED",
               absl::StrCat("RISK_FEEDBACK answers a risk assessment and case ",
                            h.case_ref(), " has none yet: the case owner ('",
                            owner, "') sends the RISK_ASSESSMENT first"));
  }
  if (type == v1::TRAVEL_ARRANGEMENT) {
    if (!rec.risk_assessed() || !rec.risk_acceptable()) {
      TRM_REFUSE("RISK_ASSESSMENT_REQUIRED",
                 absl::StrCat(
                     "no travel before a risk assessment that found no "
                     "threat to life or health (",
                     rec.risk_assessed() ? "the latest found the return unsafe"
                                         : "none yet",
                     "); send a RISK_ASSESSMENT with outcome "
                     "RISK_ACCEPTABLE first"));
    }
    if (!rec.plan_agreed()) {
      TRM_REFUSE("REINTEGRATION_PLAN_REQUIRED",
                 "no travel before an agreed reintegration plan; send a "
                 "REINTEGRATION_PLAN with outcome PLAN_AGREED first");
    }
    if (rec.minor() && !rec.best_interests_for_return()) {
      TRM_REFUSE("BEST_INTERESTS_REQUIRED",
                 "the person is a child: no travel before a best-interests "
                 "determination that finds return in the child's best "
                 "interests (BEST_INTERESTS_DETERMINATION with outcome "
                 "RETURN_IN_BEST_INTERESTS)");
    }
    if (!h.has_departure_unix_ms()) {
      TRM_REFUSE("DEPARTURE_REQUIRED",
                 "a TRAVEL_ARRANGEMENT must state the departure time in "
                 "its header (departure_unix_ms)");
    }
    const absl::Time departure = absl::FromUnixMillis(h.departure_unix_ms());
    const absl::Time earliest =
        AddWorkingDays(now, policy.travel_notice_working_days);
    if (departure < earliest) {
      TRM_REFUSE("NOTICE_TOO_SHORT",
                 absl::StrCat("departure at ", IsoSeconds(departure),
                              " leaves the receiving organisation less than ",
                              policy.travel_notice_working_days,
                              " working days to prepare; plan departure at ",
                              IsoSeconds(earliest), " or later"));
    }
  }
  if (type == v1::CASE_CLOSURE && h.outcome() == v1::RETURN_WITHDRAWN) {
    const bool departed = DepartedStates(rec.state()) ||
                          (rec.departure_unix_ms() != 0 &&
                           absl::ToUnixMillis(now) >= rec.departure_unix_ms());
    if (departed) {
      TRM_REFUSE("ALREADY_DEPARTED",
                 "the person has departed: a return can be withdrawn only "
                 "up to departure. Close the case with another reason");
    }
  }

  // The step is allowed: the case moves on, and its clocks with it.
  const std::string& from = h.sender_org();
  switch (type) {
    case v1::REFLECTION_PERIOD_NOTICE:
      if (rec.state() == v1::PRESUMED) rec.set_state(v1::REFLECTION);
      Open(rec, v1::REFLECTION_PERIOD_ENDS, now + policy.reflection_min, from,
           to, h, now, policy, PeriodField::kReflection);
      break;
    case v1::CONSENT_RECORD: {
      v1::ConsentState& c = (*rec.mutable_consents())[to];
      c.set_consent_ref(h.consent_ref());
      c.set_granted(h.outcome() == v1::CONSENT_GRANTED);
      c.set_since_unix_ms(absl::ToUnixMillis(now));
      if (rec.state() == v1::PRESUMED || rec.state() == v1::REFLECTION) {
        rec.set_state(v1::ASSISTANCE);
      }
      break;
    }
    case v1::REFERRAL_REQUEST:
      rec.set_state(v1::RETURN_REQUESTED);
      Clear(rec, v1::REFLECTION_PERIOD_ENDS);
      Open(rec, v1::REFERRAL_ACK_DUE, now + policy.referral_ack_within, to,
           from, h, now, policy, PeriodField::kReferralAck);
      break;
    case v1::REFERRAL_ACK:
      rec.set_state(h.outcome() == v1::REFERRAL_ACCEPTED ? v1::REFERRAL_ACKED
                                                         : v1::DECLINED);
      Clear(rec, v1::REFERRAL_ACK_DUE);
      break;
    case v1::RISK_ASSESSMENT:
      rec.set_risk_assessed(true);
      rec.set_risk_acceptable(h.outcome() == v1::RISK_ACCEPTABLE);
      rec.set_state(rec.risk_acceptable() ? v1::RISK_ASSESSED : v1::ASSISTANCE);
      if (!rec.risk_acceptable()) rec.set_plan_agreed(false);
      break;
    case v1::BEST_INTERESTS_DETERMINATION:
      rec.set_best_interests_for_return(h.outcome() ==
                                        v1::RETURN_IN_BEST_INTERESTS);
      break;
    case v1::REINTEGRATION_PLAN:
      if (h.outcome() == v1::PLAN_AGREED) {
        rec.set_plan_agreed(true);
        if (rec.state() == v1::RISK_ASSESSED) {
          rec.set_state(v1::PLAN_AGREED_STATE);
        }
      }
      break;
    case v1::TRAVEL_ARRANGEMENT:
      rec.set_state(v1::TRAVEL_SCHEDULED);
      rec.set_departure_unix_ms(h.departure_unix_ms());
      // The planned arrival is sealed in the payload; the node counts from
      // the departure in the header.
      Open(rec, v1::ARRIVAL_CONFIRMATION_DUE,
           absl::FromUnixMillis(h.departure_unix_ms()) +
               policy.arrival_confirmation_within,
           to, from, h, now, policy, PeriodField::kArrivalConfirmation);
      break;
    case v1::ARRIVAL_CONFIRMATION:
      rec.set_state(v1::IN_TRANSIT);
      Clear(rec, v1::ARRIVAL_CONFIRMATION_DUE);
      break;
    case v1::HANDOVER_CONFIRMATION:
      rec.set_state(v1::HANDED_OVER);
      Clear(rec, v1::ARRIVAL_CONFIRMATION_DUE);
      if (rec.handed_over_unix_ms() == 0) {
        rec.set_handed_over_unix_ms(absl::ToUnixMillis(now));
        // The receiving organisation (the sender) reports to the referrer.
        Open(rec, v1::MONITORING_REPORT_DUE, now + policy.monitoring_every,
             from, to, h, now, policy, PeriodField::kMonitoringEvery);
      }
      break;
    case v1::NON_DEPARTURE_NOTICE:
      rec.set_state(v1::NOT_DEPARTED);
      rec.set_departure_unix_ms(0);
      Clear(rec, v1::ARRIVAL_CONFIRMATION_DUE);
      break;
    case v1::MONITORING_REPORT: {
      rec.set_state(v1::MONITORING);
      Clear(rec, v1::MONITORING_REPORT_DUE);
      // Reports every period until the monitoring time is over.
      const absl::Time next = now + policy.monitoring_every;
      if (rec.handed_over_unix_ms() != 0 &&
          next <= absl::FromUnixMillis(rec.handed_over_unix_ms()) +
                      policy.monitoring_for) {
        Open(rec, v1::MONITORING_REPORT_DUE, next, from, to, h, now, policy,
             PeriodField::kMonitoringEvery);
      }
      break;
    }
    case v1::CASE_CLOSURE:
      rec.set_state(h.outcome() == v1::RETURN_WITHDRAWN ? v1::WITHDRAWN_STATE
                                                        : v1::CLOSED);
      break;
    case v1::CASE_TRANSFER:
      // The successor holds the person's consent from now on, and the
      // consents recorded so far with it.
      rec.set_owner_org(to);
      break;
    default:
      break;
  }
  // A declined referral or a closed case waits for nothing more.
  if (Terminal(rec.state()) || rec.state() == v1::DECLINED) {
    rec.clear_deadlines();
  }
  // Every organisation but the owner that got the person's data: the
  // erasure fan-out (GDPR Art. 19).
  if (rule.personal_data && to != owner) {
    AddOnce(*rec.mutable_recipients(), to);
    (*rec.mutable_recipient_nodes())[to] = h.recipient_node();
  }
  if (type != v1::DEADLINE_NOTICE) {
    AddOnce(*rec.mutable_participants(), from);
    AddOnce(*rec.mutable_participants(), to);
  }
  v1::CaseStep& step = *rec.add_steps();
  step.set_message_id(h.message_id());
  step.set_type(type);
  step.set_sender_org(from);
  step.set_recipient_org(to);
  step.set_unix_ms(absl::ToUnixMillis(now));
  step.set_outcome(h.outcome());
  // The record is rewritten with every message: keep it bounded. The audit
  // log keeps every step.
  constexpr int kMaxSteps = 1000;
  if (rec.steps_size() > kMaxSteps) {
    const int drop = rec.steps_size() - kMaxSteps;
    rec.mutable_steps()->DeleteSubrange(0, drop);
    rec.set_steps_dropped(rec.steps_dropped() + drop);
  }
  rec.set_updated_unix_ms(absl::ToUnixMillis(now));
  return rec;
}

}  // namespace trm::cases
