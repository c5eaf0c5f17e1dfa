// The case-rule periods: how long a reflection period lasts, how soon a
// referral must be answered, and the rest (docs/workflow.md, "Periods").
// They come from two places: the federation's policy in the signed directory
// (v1::FederationPolicy, docs/protocol.md section 13.4) and a node's
// "case_rules" configuration, which has the same shape. A node applies, per
// route and per period, the stricter of the two, and refuses to start when
// its configuration sets a period looser than the federation's.
//
//   v1::FederationPolicy local;
//   RETURN_IF_ERROR(RulesFromJson(reader, &local));     // "case_rules"
//   ASSIGN_OR_RETURN(CasePolicies mine, Resolve(local, "case_rules"));
//   RETURN_IF_ERROR(CheckNotLooser(local, dir.doc().policy(), ...));
//   CasePolicies applied = Merge(mine, *Resolve(dir.doc().policy(), ...));
//   const CasePolicy& p = applied.For("BG", "NG");
#ifndef TRM_COMMON_CASES_PERIODS_H_
#define TRM_COMMON_CASES_PERIODS_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/json/strict_json.h"
#include "trm/v1/directory.pb.h"

namespace trm::directory {
class Directory;
}

namespace trm::cases {

// The periods one route applies; the defaults are those of the TRM
// literature (docs/workflow.md).
struct CasePolicy {
  absl::Duration reflection_min = absl::Hours(24 * 30);
  absl::Duration referral_ack_within = absl::Hours(72);
  int travel_notice_working_days = 5;
  absl::Duration arrival_confirmation_within = absl::Hours(48);
  absl::Duration monitoring_every = absl::Hours(24 * 91);
  absl::Duration monitoring_for = absl::Hours(24 * 365);
  // The federation policy's version these periods follow (0: none, the
  // node's configuration alone), and which periods the node's stricter
  // configuration set instead (bits of PeriodField).
  uint64_t policy_version = 0;
  uint32_t local_fields = 0;
  // Not a period: when not empty, a message that would open a case is
  // refused (DIRECTORY_LAPSED) with this text; set by the node at submission
  // when its directory has lapsed (Directory::NewCasesRefusal).
  std::string refuse_new_cases;
};

// The periods, in the order of v1::CasePeriods' fields.
enum class PeriodField {
  kReflection,
  kReferralAck,
  kTravelNotice,
  kArrivalConfirmation,
  kMonitoringEvery,
  kMonitoringFor,
};
inline constexpr PeriodField kAllPeriodFields[] = {
    PeriodField::kReflection,      PeriodField::kReferralAck,
    PeriodField::kTravelNotice,    PeriodField::kArrivalConfirmation,
    PeriodField::kMonitoringEvery, PeriodField::kMonitoringFor};
// The field's name in JSON ("referral_ack").
absl::string_view PeriodName(PeriodField f);
// True when the field set by this node's configuration, not the federation.
inline bool IsLocal(const CasePolicy& p, PeriodField f) {
  return (p.local_fields >> static_cast<int>(f)) & 1;
}

// The policy of each route: defaults, overridden per recipient country, then
// per (sender country, recipient country) pair.
struct CasePolicies {
  CasePolicy defaults;
  absl::flat_hash_map<std::string, CasePolicy> countries;  // "NG"
  absl::flat_hash_map<std::string, CasePolicy> pairs;      // "BG>NG"

  const CasePolicy& For(absl::string_view from_country,
                        absl::string_view to_country) const;
  // For a message from `from_node` to `to_node`, by their countries in
  // `dir` (a node it does not list counts by its id).
  const CasePolicy& ForNodes(const directory::Directory& dir,
                             const std::string& from_node,
                             const std::string& to_node) const;
};

// Reads one set of periods ({"referral_ack": "72h", ...}); only the keys
// given are set, the others stay 0 (left to the level below).
absl::Status PeriodsFromJson(const jsonio::JsonReader& r, v1::CasePeriods* out);
// Reads {"periods": {...}, "countries": {"NG": {...}}, "pairs": {"BG>NG":
// {...}}} into out's defaults and routes; the other keys of `r` are the
// caller's to check.
absl::Status RulesFromJson(const jsonio::JsonReader& r,
                           v1::FederationPolicy* out);
// The same shape back, durations as "72h"; only the fields set.
nlohmann::json RulesToJson(const v1::FederationPolicy& p);

// The periods of every route, each level over the one below, checked: the
// reflection period at least 30 days (Council of Europe Convention
// art. 13), travel notice at most 60 working days, monitoring_for between
// monitoring_every and 36 months, routes well formed and each given once.
// INVALID_ARGUMENT with `reason`, naming `where` and the route.
absl::StatusOr<CasePolicies> Resolve(const v1::FederationPolicy& p,
                                     absl::string_view where,
                                     absl::string_view reason);

// Per route and per period, the stricter of `local` and `federation`;
// `federation_version` goes into every route's policy_version, and the
// periods `local` decided are marked in local_fields.
CasePolicies Merge(const CasePolicies& local, const CasePolicies& federation,
                   uint64_t federation_version);

// The first period `local` sets (explicitly, at any level) that is looser
// than what `federation` applies at the same level: FAILED_PRECONDITION
// POLICY_LOOSER_THAN_FEDERATION naming the setting (`where` + its path),
// both values and the fix. OK when the federation has no policy.
absl::Status CheckNotLooser(const v1::FederationPolicy& local,
                            const v1::FederationPolicy& federation,
                            absl::string_view where);

// The lines `trmctl directory diff` shows for a policy change
// ("~ policy pairs.IT>NG.referral_ack: 4s -> 48h").
std::vector<std::string> DiffPolicy(const v1::FederationPolicy& a,
                                    const v1::FederationPolicy& b);

// The failed-link rule's name in a directory spec ("pause",
// "escalate_to_coordinators"), and back; unset reads
// "(escalate_to_coordinators)", what applies then.
std::optional<v1::FailedLinkRule> FailedLinkRuleOf(absl::string_view name);
std::string FailedLinkRuleName(const v1::ContingencyRules& rules);

}  // namespace trm::cases

#endif  // TRM_COMMON_CASES_PERIODS_H_
