#include "server/metrics/metrics.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace trm::metrics {
void Histogram::Observe(double seconds) {
  size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<uint64_t>(seconds * 1e6),
                        std::memory_order_relaxed);
}

void Histogram::Write(TextWriter& w, absl::string_view name,
                      absl::string_view help) const {
  w.Family(name, "histogram", help);
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= kBounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    w.Sample(absl::StrCat(name, "_bucket"),
             Label("le", i < kBounds.size() ? Number(kBounds[i]) : "+Inf"),
             static_cast<double>(cumulative));
  }
  w.Sample(absl::StrCat(name, "_sum"), "",
           static_cast<double>(sum_micros_.load()) / 1e6);
  w.Sample(absl::StrCat(name, "_count"), "",
           static_cast<double>(count_.load()));
}

void NodeMetrics::ObserveSubmit(const absl::Status& status,
                                absl::Duration elapsed) {
  const std::string reason = status.ok() ? "OK" : ErrorReason(status);
  {
    absl::MutexLock lock(&mu_);
    ++submits_[reason.empty() ? absl::StatusCodeToString(status.code())
                              : reason];
  }
  submit_latency_.Observe(absl::ToDoubleSeconds(elapsed));
}

absl::StatusOr<std::string> NodeMetrics::Render(const Sources& s,
                                                absl::Time now) const {
  TextWriter w;
  w.Family("trm_submits_total", "counter",
           "Submissions answered, by result: OK or the refusal's reason "
           "(docs/operations.md, \"What the node refuses\")");
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [reason, n] : submits_) {
      w.Sample("trm_submits_total", Label("result", reason),
               static_cast<double>(n));
    }
  }
  submit_latency_.Write(w, "trm_submit_seconds",
                        "Time from a submission's arrival to its durable "
                        "acceptance or refusal");
  if (s.registry != nullptr && s.store != nullptr) {
    ASSIGN_OR_RETURN(
        v1::NodeStatus st,
        admin::BuildNodeStatus(*s.registry, *s.store, s.links, s.witness, now));
    w.Family("trm_queue_messages", "gauge",
             "Messages waiting in an organisation's mailbox");
    for (const v1::QueueSummary& q : st.queues()) {
      w.Sample("trm_queue_messages", Label("org", q.organisation()),
               static_cast<double>(q.queued()));
    }
    w.Family("trm_queue_bytes", "gauge",
             "Envelope bytes waiting in an organisation's mailbox");
    for (const v1::QueueSummary& q : st.queues()) {
      w.Sample("trm_queue_bytes", Label("org", q.organisation()),
               static_cast<double>(q.bytes()));
    }
    w.Family("trm_queue_oldest_age_seconds", "gauge",
             "Age of the oldest message waiting in an organisation's mailbox "
             "(0 when empty)");
    for (const v1::QueueSummary& q : st.queues()) {
      double age = 0;
      ASSIGN_OR_RETURN(std::vector<storage::QueuedMessage> head,
                       s.store->ReadQueue(q.organisation(), 0, 1));
      if (!head.empty()) {
        absl::StatusOr<v1::StoredStatus> first =
            s.store->GetStatus(head[0].message_id);
        if (first.ok()) {
          age = absl::ToDoubleSeconds(
              now - absl::FromUnixMillis(first->accepted_unix_ms()));
        }
      }
      w.Sample("trm_queue_oldest_age_seconds", Label("org", q.organisation()),
               age);
    }
    struct PeerFamily {
      const char* name;
      const char* type;
      const char* help;
      double (*value)(const v1::PeerLink&);
    };
    const PeerFamily peer_families[] = {
        {"trm_relayed_total", "counter",
         "Messages relayed to a peer node (its receipt checked)",
         [](const v1::PeerLink& p) { return double(p.relayed()); }},
        {"trm_relay_refused_total", "counter",
         "Messages a peer node refused for good",
         [](const v1::PeerLink& p) { return double(p.refused()); }},
        {"trm_relay_retries_total", "counter",
         "Failed relay attempts to a peer (each is retried)",
         [](const v1::PeerLink& p) { return double(p.failed_attempts()); }},
        {"trm_relay_backlog_messages", "gauge",
         "Messages waiting for a peer node",
         [](const v1::PeerLink& p) { return double(p.outbound_queued()); }},
        {"trm_relay_backlog_bytes", "gauge",
         "Envelope bytes waiting for a peer node",
         [](const v1::PeerLink& p) { return double(p.outbound_bytes()); }},
        {"trm_relay_notices_backlog", "gauge",
         "Path notices waiting for a peer node",
         [](const v1::PeerLink& p) { return double(p.notices_queued()); }},
        {"trm_relay_breaker_state", "gauge",
         "Circuit breaker of a peer link: 0 closed, 1 half-open, 2 open",
         [](const v1::PeerLink& p) {
           return p.breaker() == "open"        ? 2.0
                  : p.breaker() == "half-open" ? 1.0
                                               : 0.0;
         }},
        {"trm_relay_last_success_age_seconds", "gauge",
         "Seconds since the last successful exchange with a peer (-1: none "
         "since start)",
         nullptr},
        {"trm_witnessed_tree_size", "gauge",
         "Size of a peer's audit log as last witnessed here",
         [](const v1::PeerLink& p) { return double(p.witnessed_tree_size()); }},
        {"trm_tree_head_forks_total", "counter",
         "A peer's tree heads that failed the consistency check (forks)",
         [](const v1::PeerLink& p) { return double(p.forks()); }},
    };
    for (const PeerFamily& f : peer_families) {
      w.Family(f.name, f.type, f.help);
      for (const v1::PeerLink& p : st.peers()) {
        double v = 0;
        if (f.value != nullptr) {
          v = f.value(p);
        } else {
          v = p.last_success_unix_ms() == 0
                  ? -1
                  : absl::ToDoubleSeconds(
                        now - absl::FromUnixMillis(p.last_success_unix_ms()));
        }
        w.Sample(f.name, Label("peer", p.node()), v);
      }
    }
    if (st.node_key_valid_until_unix_ms() > 0) {
      w.Family("trm_node_key_expiry_seconds", "gauge",
               "Seconds until the last valid signing key of this node in "
               "the directory expires");
      w.Sample(
          "trm_node_key_expiry_seconds", "",
          absl::ToDoubleSeconds(
              absl::FromUnixMillis(st.node_key_valid_until_unix_ms()) - now));
    }
    if (st.directory_valid_until_unix_ms() != 0) {
      w.Family("trm_directory_expiry_seconds", "gauge",
               "Seconds until the federation directory's valid_until "
               "(negative: past it)");
      w.Sample(
          "trm_directory_expiry_seconds", "",
          absl::ToDoubleSeconds(
              absl::FromUnixMillis(st.directory_valid_until_unix_ms()) - now));
      w.Family("trm_directory_grace_end_seconds", "gauge",
               "Seconds until the directory's grace period ends; at 0 the "
               "node takes no new cases");
      w.Sample(
          "trm_directory_grace_end_seconds", "",
          absl::ToDoubleSeconds(
              absl::FromUnixMillis(st.directory_grace_ends_unix_ms()) - now));
    }
    w.Family("trm_deadlines_overdue", "gauge",
             "Passed case deadlines still open (trmctl case overdue)");
    w.Sample("trm_deadlines_overdue", "",
             static_cast<double>(st.overdue_deadlines()));
  }
  if (s.deadlines != nullptr) {
    w.Family("trm_deadlines_escalated_total", "counter",
             "Case deadlines this node escalated since it started");
    w.Sample("trm_deadlines_escalated_total", "",
             static_cast<double>(s.deadlines->escalated_total()));
    w.Family("trm_deadlines_paused_total", "counter",
             "Case deadlines paused across a failed link since start");
    w.Sample("trm_deadlines_paused_total", "",
             static_cast<double>(s.deadlines->paused_total()));
  }
  if (s.rocks != nullptr) {
    w.Family("trm_store_fsyncs_total", "counter",
             "Synced group commits of the store (one fsync each)");
    w.Sample("trm_store_fsyncs_total", "",
             static_cast<double>(s.rocks->commits()));
    const storage::RocksMessageStore::CommitTime t = s.rocks->commit_time();
    w.Family("trm_store_commit_seconds_total", "counter",
             "The committer's time: building groups (stage build) and "
             "writing and syncing them (stage write)");
    w.Sample("trm_store_commit_seconds_total", Label("stage", "build"),
             static_cast<double>(t.build_ns) / 1e9);
    w.Sample("trm_store_commit_seconds_total", Label("stage", "write"),
             static_cast<double>(t.write_ns) / 1e9);
    using Kind = storage::RocksMessageStore::WriteKind;
    constexpr Kind kKinds[] = {Kind::kAccept, Kind::kAcknowledge,
                               Kind::kDelivered, Kind::kRelayed, Kind::kOther};
    w.Family("trm_store_write_requests_total", "counter",
             "Store requests that wrote something, by kind");
    for (Kind k : kKinds) {
      w.Sample("trm_store_write_requests_total",
               Label("request", storage::RocksMessageStore::WriteKindName(k)),
               static_cast<double>(s.rocks->written(k).requests));
    }
    w.Family("trm_store_written_keys_total", "counter",
             "RocksDB keys (puts and deletes) written, by request kind");
    for (Kind k : kKinds) {
      w.Sample("trm_store_written_keys_total",
               Label("request", storage::RocksMessageStore::WriteKindName(k)),
               static_cast<double>(s.rocks->written(k).keys));
    }
    w.Family("trm_store_written_bytes_total", "counter",
             "Bytes of RocksDB write batches, by request kind");
    for (Kind k : kKinds) {
      w.Sample("trm_store_written_bytes_total",
               Label("request", storage::RocksMessageStore::WriteKindName(k)),
               static_cast<double>(s.rocks->written(k).bytes));
    }
    w.Family("trm_rocksdb", "gauge",
             "RocksDB properties, summed over the column families");
    for (const char* p :
         {"rocksdb.total-sst-files-size", "rocksdb.estimate-live-data-size",
          "rocksdb.cur-size-all-mem-tables", "rocksdb.num-running-compactions",
          "rocksdb.estimate-pending-compaction-bytes",
          "rocksdb.num-running-flushes"}) {
      w.Sample("trm_rocksdb", Label("property", p),
               static_cast<double>(s.rocks->IntProperty(p)));
    }
  }
  if (s.audit != nullptr) {
    w.Family("trm_audit_log_entries", "gauge", "Entries in the audit log");
    w.Sample("trm_audit_log_entries", "",
             static_cast<double>(s.audit->Current().size));
  }
  if (s.head_signer != nullptr) {
    absl::StatusOr<v1::SignedTreeHead> sth = s.head_signer->Latest(false);
    v1::TreeHead head;
    if (sth.ok() && head.ParseFromString(sth->tree_head())) {
      w.Family("trm_tree_head_age_seconds", "gauge",
               "Seconds since the newest signed tree head");
      w.Sample("trm_tree_head_age_seconds", "",
               absl::ToDoubleSeconds(
                   now - absl::FromUnixMillis(head.timestamp_unix_ms())));
    }
  }
  if (s.disk != nullptr) {
    const storage::DiskGuard::State disk = s.disk->Current();
    w.Family("trm_disk_free_bytes", "gauge",
             "Free bytes on the data directory's filesystem");
    w.Sample("trm_disk_free_bytes", "", static_cast<double>(disk.free_bytes));
    w.Family("trm_disk_min_free_bytes", "gauge",
             "Below this much free space writes are refused (STORE_DISK_LOW)");
    w.Sample("trm_disk_min_free_bytes", "",
             static_cast<double>(s.disk->min_free_bytes()));
    w.Family("trm_disk_low", "gauge",
             "1 while the disk-free alarm refuses submissions and relays");
    w.Sample("trm_disk_low", "", disk.low ? 1 : 0);
    w.Family("trm_disk_refusals_total", "counter",
             "Writes refused for disk space since the node started");
    w.Sample("trm_disk_refusals_total", "",
             static_cast<double>(s.disk->refused()));
  }
  if (s.tls_cert_not_after != absl::InfinitePast()) {
    w.Family("trm_tls_certificate_expiry_seconds", "gauge",
             "Seconds until this node's TLS certificate expires");
    w.Sample("trm_tls_certificate_expiry_seconds", "",
             absl::ToDoubleSeconds(s.tls_cert_not_after - now));
  }
  return w.text();
}

absl::StatusOr<absl::Time> CertificateNotAfter(const std::string& pem_path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(pem_path.c_str(), "r"),
                                          &std::fclose);
  if (f == nullptr) {
    return Error(absl::StatusCode::kNotFound, "CERT_UNREADABLE",
                 absl::StrCat("cannot read ", pem_path));
  }
  std::unique_ptr<X509, void (*)(X509*)> cert(
      PEM_read_X509(f.get(), nullptr, nullptr, nullptr), &X509_free);
  if (cert == nullptr) {
    return Error(absl::StatusCode::kInvalidArgument, "CERT_UNREADABLE",
                 absl::StrCat(pem_path, " holds no PEM certificate"));
  }
  struct tm t = {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &t) != 1) {
    return Error(absl::StatusCode::kInvalidArgument, "CERT_UNREADABLE",
                 absl::StrCat(pem_path, ": notAfter does not parse"));
  }
  return absl::FromTM(t, absl::UTCTimeZone());
}

}  // namespace trm::metrics
