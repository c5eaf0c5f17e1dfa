// Prometheus metrics of a node (docs/operations.md, "Metrics"): counters the
// request path updates, and everything else gathered when /metrics is read.
//
//   NodeMetrics m;
//   m.ObserveSubmit(status, elapsed);            // in the gRPC layer
//   std::string text = m.Render(sources, now);   // text format 0.0.4
#ifndef TRM_SERVER_METRICS_METRICS_H_
#define TRM_SERVER_METRICS_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/metrics/text_format.h"
#include "server/admin/node_status.h"
#include "server/cases/deadline_scheduler.h"
#include "server/storage/disk_guard.h"

namespace trm::metrics {

// Cumulative histogram with fixed upper bounds (seconds).
class Histogram {
 public:
  static constexpr std::array<double, 12> kBounds = {
      0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 5};
  void Observe(double seconds);
  void Write(TextWriter& w, absl::string_view name,
             absl::string_view help) const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};
};

// What Render reads; null members are left out.
struct Sources {
  const mailbox::OrgRegistry* registry = nullptr;
  storage::MessageStore* store = nullptr;
  storage::RocksMessageStore* rocks = nullptr;
  const admin::PeerLinks* links = nullptr;
  audit::Witness* witness = nullptr;
  storage::AuditLog* audit = nullptr;
  audit::TreeHeadSigner* head_signer = nullptr;
  const cases::DeadlineScheduler* deadlines = nullptr;
  const storage::DiskGuard* disk = nullptr;
  absl::Time tls_cert_not_after = absl::InfinitePast();  // past: unknown
};

class NodeMetrics {
 public:
  // A submission's outcome (its reason token when refused) and how long the
  // node took to answer it.
  void ObserveSubmit(const absl::Status& status, absl::Duration elapsed);

  absl::StatusOr<std::string> Render(const Sources& s, absl::Time now) const;

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, uint64_t> submits_ ABSL_GUARDED_BY(mu_);  // by reason
  Histogram submit_latency_;
};

// The notAfter time of the first certificate in a PEM file.
absl::StatusOr<absl::Time> CertificateNotAfter(const std::string& pem_path);

}  // namespace trm::metrics

#endif  // TRM_SERVER_METRICS_METRICS_H_
