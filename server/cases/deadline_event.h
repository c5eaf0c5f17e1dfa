// The audit event of something that happened to a case deadline (paused,
// resumed, extended): the deadline's case, the message that set it, who
// waits (sender_org) and who owes it (recipient_org), and `peer_node`.
//
//   v1::AuditEvent e = DeadlineEvent(v1::DEADLINE_PAUSED, d, ref, "ng", now);
#ifndef TRM_SERVER_CASES_DEADLINE_EVENT_H_
#define TRM_SERVER_CASES_DEADLINE_EVENT_H_

#include <string>

#include "absl/time/time.h"
#include "trm/v1/audit.pb.h"
#include "trm/v1/case.pb.h"

namespace trm::cases {

v1::AuditEvent DeadlineEvent(v1::AuditEventKind kind, const v1::Deadline& d,
                             const std::string& case_ref,
                             const std::string& peer_node, absl::Time now);

}  // namespace trm::cases

#endif  // TRM_SERVER_CASES_DEADLINE_EVENT_H_
