#include "client/agent/watcher.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/bytes.h"
#include "common/status.h"
#include "common/time_text.h"

namespace trm::agent {

bool FinalState(v1::MessageState s) {
  return s == v1::ACKNOWLEDGED || s == v1::EXPIRED || s == v1::REJECTED ||
         s == v1::REFUSED;
}

absl::StatusOr<SweepResult> Watcher::Sweep() {
  SweepResult r;
  auto fault = [&r](const absl::Status& s) {
    if (r.first_error.ok()) r.first_error = s;
  };
  ListFilter sent;
  sent.box = ListFilter::Box::kOutbox;
  sent.limit = AgentStore::kMaxList;
  ASSIGN_OR_RETURN(std::vector<v1::AgentRecord> outbox, store_.List(sent));
  std::vector<const v1::AgentRecord*> open;
  for (const v1::AgentRecord& rec : outbox) {
    if (!FinalState(rec.last_state())) open.push_back(&rec);
  }
  if (next_ >= open.size()) next_ = 0;
  const size_t end = std::min(open.size(), next_ + kMaxStatusPerSweep);
  std::vector<const v1::AgentRecord*> batch(open.begin() + next_,
                                            open.begin() + end);
  next_ = end;
  for (const v1::AgentRecord* one : batch) {
    const v1::AgentRecord& rec = *one;
    const std::string id = HexEncode(AsBytes(rec.message_id()));
    absl::StatusOr<client::Evidence> ev = node_.Status(id);
    if (!ev.ok()) {
      fault(ev.status());
      continue;
    }
    const v1::MessageState now = ev->status.state();
    if (now == rec.last_state()) continue;
    absl::Status kept = store_.SetLastState(rec.message_id(), now);
    if (!kept.ok()) {
      fault(kept);
      continue;  // told again next time rather than never
    }
    Event e{"status", id, v1::MessageType_Name(rec.header().type()),
            rec.header().case_ref()};
    e.state = v1::MessageState_Name(now);
    hub_.Publish(std::move(e));
    ++r.status_events;
  }

  ASSIGN_OR_RETURN(std::vector<std::string> cases, store_.Cases());
  int64_t latest_now = 0;
  const std::string& org = node_.identity().org;
  for (const std::string& ref : cases) {
    absl::StatusOr<v1::CaseView> v = node_.Case(ref);
    if (!v.ok()) {
      fault(v.status());
      continue;
    }
    const absl::Time now = absl::FromUnixMillis(v->now_unix_ms());
    latest_now = std::max(latest_now, v->now_unix_ms());
    for (const v1::Deadline& d : v->record().deadlines()) {
      if (d.responsible_org() != org) continue;
      const absl::Time due = absl::FromUnixMillis(d.due_unix_ms());
      // Upcoming only: an overdue one is the node's to escalate.
      if (due < now || due - now > warning_) continue;
      const std::string key =
          absl::StrCat(ref, "/", d.kind(), "/", d.due_unix_ms());
      if (!warned_.emplace(key, d.due_unix_ms()).second) continue;
      Event e{"deadline", "", v1::DeadlineKind_Name(d.kind()), ref};
      e.due = IsoSeconds(d.due_unix_ms());
      hub_.Publish(std::move(e));
      ++r.deadline_events;
    }
  }
  // What is due before now can warn no more: forget it (the bound).
  absl::erase_if(warned_,
                 [latest_now](const auto& w) { return w.second < latest_now; });
  return r;
}

}  // namespace trm::agent
