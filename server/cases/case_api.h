// What the Cases service answers, below gRPC (docs/workflow.md, "Seeing a
// case"): the case record for the node's coordinator and the organisations
// that took part, and the overdue list and the statistics for the
// coordinator.
#ifndef TRM_SERVER_CASES_CASE_API_H_
#define TRM_SERVER_CASES_CASE_API_H_

#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "server/cases/deadline_scheduler.h"
#include "server/mailbox/org_registry.h"
#include "server/storage/audit_log.h"
#include "server/storage/message_store.h"
#include "trm/v1/case.pb.h"

namespace trm::cases {

class CaseApi {
 public:
  // `scheduler` may be null (case rules off): nothing is escalated then.
  CaseApi(storage::MessageStore& store, const mailbox::OrgRegistry& registry,
          const DeadlineScheduler* scheduler, const Clock& clock)
      : store_(store),
        registry_(registry),
        scheduler_(scheduler),
        clock_(clock) {}

  // `org`: the calling organisation.
  absl::StatusOr<v1::CaseView> GetCase(const std::string& org,
                                       const std::string& case_ref) const;
  // The node's escalated deadlines, and with `upcoming` > 0 the open ones
  // due within that time from now.
  absl::StatusOr<v1::OverdueList> ListOverdue(
      const std::string& org, size_t max,
      absl::Duration upcoming = absl::ZeroDuration()) const;
  // The mechanism statistics of the node's cases (server/stats), for the
  // node's coordinator and auditors whose scope covers the node: every
  // route from or to this node's country.
  absl::StatusOr<v1::StatisticsReport> Statistics(
      const directory::Principal& who, const v1::StatisticsRequest& req) const;
  // Where the statistics count refusals by case rule (null: not counted).
  void set_audit_log(const storage::AuditLog* log) { audit_ = log; }

 private:
  storage::MessageStore& store_;
  const mailbox::OrgRegistry& registry_;
  const DeadlineScheduler* scheduler_;
  const storage::AuditLog* audit_ = nullptr;
  const Clock& clock_;
};

}  // namespace trm::cases

#endif  // TRM_SERVER_CASES_CASE_API_H_
