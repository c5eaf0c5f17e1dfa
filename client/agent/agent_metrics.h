// trm-agent's health and Prometheus metrics (docs/integration.md,
// "Watching an agent"): counters the intake and the watcher update, and
// gauges gathered from the store when /metrics is read. The health
// (GET /api/v1/health) says "degraded", with the reason and since when,
// while pulling from the node fails.
//
//   AgentMetrics m;
//   m.ObservePull(puller.PullOnce(...), clock.Now());
//   std::string text = m.Render(store, hub, clock.Now());
//
// Thread-safe.
#ifndef TRM_CLIENT_AGENT_AGENT_METRICS_H_
#define TRM_CLIENT_AGENT_AGENT_METRICS_H_

#include <nlohmann/json.hpp>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/agent/agent_store.h"
#include "client/agent/event_hub.h"
#include "client/agent/inbox_puller.h"
#include "client/agent/watcher.h"

namespace trm::agent {

class AgentMetrics {
 public:
  void ObservePull(const absl::StatusOr<PullResult>& r, absl::Time now)
      ABSL_LOCKS_EXCLUDED(mu_);
  void ObserveSweep(const absl::StatusOr<SweepResult>& r)
      ABSL_LOCKS_EXCLUDED(mu_);

  // {status: serving|degraded, intake: {last_success, failing_since,
  //  reason, message}}
  nlohmann::json Health(absl::Time now) const ABSL_LOCKS_EXCLUDED(mu_);
  // Text format 0.0.4.
  absl::StatusOr<std::string> Render(const AgentStore& store,
                                     const EventHub& hub, absl::Time now) const
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  uint64_t stored_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t duplicates_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t refused_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t released_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t pull_failures_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t status_events_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t deadline_events_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t sweep_failures_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_success_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time failing_since_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace trm::agent

#endif  // TRM_CLIENT_AGENT_AGENT_METRICS_H_
