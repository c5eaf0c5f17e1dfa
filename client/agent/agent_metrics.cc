#include "client/agent/agent_metrics.h"

#include "common/metrics/text_format.h"
#include "common/status.h"
#include "common/time_text.h"
#include "trm/client/client.h"

namespace trm::agent {

void AgentMetrics::ObservePull(const absl::StatusOr<PullResult>& r,
                               absl::Time now) {
  absl::MutexLock lock(&mu_);
  absl::Status fault = r.ok() ? r->first_error : r.status();
  if (r.ok()) {
    stored_ += r->stored;
    duplicates_ += r->duplicates;
    refused_ += r->refused;
    released_ += r->released;
  }
  if (fault.ok()) {
    last_success_ = now;
    failing_since_ = absl::InfinitePast();
    last_error_ = absl::OkStatus();
    return;
  }
  ++pull_failures_;
  if (last_error_.ok()) failing_since_ = now;
  last_error_ = fault;
}

void AgentMetrics::ObserveSweep(const absl::StatusOr<SweepResult>& r) {
  absl::MutexLock lock(&mu_);
  if (!r.ok() || !r->first_error.ok()) ++sweep_failures_;
  if (r.ok()) {
    status_events_ += r->status_events;
    deadline_events_ += r->deadline_events;
  }
}

nlohmann::json AgentMetrics::Health(absl::Time now) const {
  absl::MutexLock lock(&mu_);
  nlohmann::json intake = {
      {"last_success",
       last_success_ == absl::InfinitePast()
           ? nlohmann::json(nullptr)
           : nlohmann::json(IsoSeconds(absl::ToUnixMillis(last_success_)))}};
  if (last_error_.ok()) {
    return {{"status", "serving"}, {"intake", intake}};
  }
  intake["failing_since"] = IsoSeconds(absl::ToUnixMillis(failing_since_));
  intake["failing_seconds"] = absl::ToInt64Seconds(now - failing_since_);
  intake["reason"] = client::ReasonOf(last_error_);
  intake["message"] = std::string(last_error_.message());
  return {{"status", "degraded"}, {"intake", intake}};
}

absl::StatusOr<std::string> AgentMetrics::Render(const AgentStore& store,
                                                 const EventHub& hub,
                                                 absl::Time now) const {
  ListFilter unread;
  unread.box = ListFilter::Box::kInbox;
  unread.unread_only = true;
  unread.limit = AgentStore::kMaxList;
  ASSIGN_OR_RETURN(std::vector<v1::AgentRecord> waiting, store.List(unread));
  metrics::TextWriter w;
  absl::MutexLock lock(&mu_);
  auto counter = [&w](const char* name, const char* help, uint64_t v) {
    w.Family(name, "counter", help);
    w.Sample(name, "", static_cast<double>(v));
  };
  counter("trm_agent_stored_total",
          "messages verified, stored with fsync and acknowledged", stored_);
  counter("trm_agent_duplicates_total",
          "deliveries of a message stored before (a lost acknowledgement)",
          duplicates_);
  counter("trm_agent_refused_total",
          "messages refused for good (they cannot open, or header and "
          "payload disagree)",
          refused_);
  counter("trm_agent_released_total",
          "deliveries given back unstored (a fault on this side)", released_);
  counter("trm_agent_pull_failures_total",
          "pulls from the node that failed or released a message",
          pull_failures_);
  counter("trm_agent_status_events_total",
          "changes of a sent message's status at the node", status_events_);
  counter("trm_agent_deadline_events_total",
          "upcoming deadlines of the organisation warned", deadline_events_);
  counter("trm_agent_watch_failures_total",
          "sweeps of sent messages and deadlines the node answered in part",
          sweep_failures_);
  counter("trm_agent_events_total", "events published on /api/v1/events",
          hub.last());
  w.Family("trm_agent_unread_messages", "gauge",
           "messages in the inbox nobody marked read (at most 1000 counted)");
  w.Sample("trm_agent_unread_messages", "",
           static_cast<double>(waiting.size()));
  w.Family("trm_agent_last_pull_success_age_seconds", "gauge",
           "since the last good pull from the node (-1: none since start)");
  w.Sample("trm_agent_last_pull_success_age_seconds", "",
           last_success_ == absl::InfinitePast()
               ? -1.0
               : absl::ToDoubleSeconds(now - last_success_));
  w.Family("trm_agent_intake_failing", "gauge",
           "1 while pulling from the node fails (GET /api/v1/health says why)");
  w.Sample("trm_agent_intake_failing", "", last_error_.ok() ? 0 : 1);
  return w.text();
}

}  // namespace trm::agent
