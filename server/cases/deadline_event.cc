#include "server/cases/deadline_event.h"

namespace trm::cases {

v1::AuditEvent DeadlineEvent(v1::AuditEventKind kind, const v1::Deadline& d,
                             const std::string& case_ref,
                             const std::string& peer_node, absl::Time now) {
  v1::AuditEvent e;
  e.set_kind(kind);
  e.set_time_unix_ms(absl::ToUnixMillis(now));
  e.set_case_ref(case_ref);
  e.set_message_id(d.set_by_message_id());
  e.set_message_type(d.set_by_type());
  e.set_sender_org(d.waiting_org());
  e.set_recipient_org(d.responsible_org());
  e.set_peer_node(peer_node);
  return e;
}

}  // namespace trm::cases
