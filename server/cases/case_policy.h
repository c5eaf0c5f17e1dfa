// The TRM case rules a node applies from header metadata alone
// (docs/workflow.md): the lifecycle state of a case reference, and the
// steps that would endanger a person, refused with FAILED_PRECONDITION
// naming the rule and what would satisfy it.
//
//   ASSIGN_OR_RETURN(v1::CaseRecord next,
//                    ApplyToCase(record, header, now, policy));
//
// Pure functions: no storage, no clock of their own; tested exhaustively
// below the node.
#ifndef TRM_SERVER_CASES_CASE_POLICY_H_
#define TRM_SERVER_CASES_CASE_POLICY_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/cases/periods.h"
#include "common/directory/directory.h"
#include "trm/v1/case.pb.h"
#include "trm/v1/envelope.pb.h"

namespace trm::cases {

// Types that carry the person's data to their recipient, and so need the
// case owner's consent for that recipient first (type_table.h).
bool CarriesPersonalData(v1::MessageType type);

// The organisation that holds the person's consent for the case.
std::string OwnerOf(const v1::CaseRecord& rec);

// The outcome a type must declare in Header.outcome (0: none allowed).
bool OutcomeFits(v1::MessageType type, uint32_t outcome);

// What would satisfy a deadline of `kind`, in words.
std::string ActionFor(v1::DeadlineKind kind);

// `from` plus `days` working days (Monday to Friday, UTC).
absl::Time AddWorkingDays(absl::Time from, int days);

// The case record after the message with header `h`, accepted at `now`;
// FAILED_PRECONDITION naming the rule when the message breaks one. An empty
// `before` (no state) is a case not seen yet.
absl::StatusOr<v1::CaseRecord> ApplyToCase(const v1::CaseRecord& before,
                                           const v1::Header& h, absl::Time now,
                                           const CasePolicy& policy);

// ApplyToCase with the check of one rule (its reason token) left out: for
// the property test's mutation check only, which shows that the test fails
// when any one rule is missing.
absl::StatusOr<v1::CaseRecord> ApplyToCaseWithout(const v1::CaseRecord& before,
                                                  const v1::Header& h,
                                                  absl::Time now,
                                                  const CasePolicy& policy,
                                                  absl::string_view without);

}  // namespace trm::cases

#endif  // TRM_SERVER_CASES_CASE_POLICY_H_
