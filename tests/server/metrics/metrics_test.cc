// The Prometheus exposition: families, labels, histogram buckets, and what
// Render gathers from the store, without a network.
#include "server/metrics/metrics.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "server/storage/rocksdb_store.h"
#include "tests/server/storage/in_memory_store.h"

namespace trm::metrics {
namespace {

bool Has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(Metrics, LabelValuesAreEscaped) {
  EXPECT_EQ(LabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  Histogram h;
  h.Observe(0.0001);  // <= 0.0005
  h.Observe(0.003);   // <= 0.005
  h.Observe(0.003);
  h.Observe(9);  // +Inf only
  TextWriter w;
  h.Write(w, "x_seconds", "help");
  const std::string& t = w.text();
  EXPECT_TRUE(Has(t, "# TYPE x_seconds histogram"));
  EXPECT_TRUE(Has(t, "x_seconds_bucket{le=\"0.0005\"} 1")) << t;
  EXPECT_TRUE(Has(t, "x_seconds_bucket{le=\"0.002\"} 1")) << t;
  EXPECT_TRUE(Has(t, "x_seconds_bucket{le=\"0.005\"} 3")) << t;
  EXPECT_TRUE(Has(t, "x_seconds_bucket{le=\"5\"} 3")) << t;
  EXPECT_TRUE(Has(t, "x_seconds_bucket{le=\"+Inf\"} 4")) << t;
  EXPECT_TRUE(Has(t, "x_seconds_count 4")) << t;
}

TEST(Metrics, RenderCountsSubmissionsAndQueues) {
  v1::Directory d;
  d.set_federation("test");
  d.set_serial(1);
  d.add_nodes()->set_id("bg");
  for (const char* id : {"bg-ngo", "bg-nrm"}) {
    v1::DirectoryOrganisation* o = d.add_organisations();
    o->set_id(id);
    o->set_home_node("bg");
    o->add_roles(v1::NGO);
  }
  mailbox::OrgRegistry registry("bg", *directory::Directory::FromLocal(d));
  storage::testing::InMemoryStore memory;
  storage::RocksMessageStore& store = memory.store();
  storage::AcceptRequest r;
  r.message_id = std::string(16, '\1');
  r.sender_org = "bg-ngo";
  r.recipient_org = "bg-nrm";
  r.envelope = "0123456789";
  r.envelope_sha256 = std::string(32, 'h');
  r.expires_unix_ms = 100'000'000;
  r.now_unix_ms = 1'000'000;
  ASSERT_TRUE(store.Accept(r).ok());

  NodeMetrics m;
  m.ObserveSubmit(absl::OkStatus(), absl::Milliseconds(3));
  m.ObserveSubmit(Error(absl::StatusCode::kFailedPrecondition,
                        "CONSENT_REQUIRED", "no consent"),
                  absl::Milliseconds(1));
  m.ObserveSubmit(Error(absl::StatusCode::kFailedPrecondition,
                        "CONSENT_REQUIRED", "no consent"),
                  absl::Milliseconds(1));
  Sources s;
  s.registry = &registry;
  s.store = &store;
  auto text = m.Render(s, absl::FromUnixMillis(61'000'000));
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_TRUE(Has(*text, "trm_submits_total{result=\"OK\"} 1")) << *text;
  EXPECT_TRUE(Has(*text, "trm_submits_total{result=\"CONSENT_REQUIRED\"} 2"));
  EXPECT_TRUE(Has(*text, "trm_submit_seconds_count 3"));
  EXPECT_TRUE(Has(*text, "trm_queue_messages{org=\"bg-nrm\"} 1"));
  EXPECT_TRUE(Has(*text, "trm_queue_bytes{org=\"bg-nrm\"} 10"));
  EXPECT_TRUE(Has(*text, "trm_queue_oldest_age_seconds{org=\"bg-nrm\"} 60000"))
      << *text;
  EXPECT_TRUE(Has(*text, "trm_queue_messages{org=\"bg-ngo\"} 0"));
  EXPECT_TRUE(Has(*text, "trm_deadlines_overdue 0"));
  EXPECT_EQ(text->find("trm_store_fsyncs_total"), std::string::npos)
      << "no RocksDB store given";
  EXPECT_EQ(text->find("trm_disk_low"), std::string::npos);
  // With the RocksDB store: its commits and what they wrote, by request.
  s.rocks = &store;
  text = m.Render(s, absl::FromUnixMillis(61'000'000));
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_TRUE(Has(*text, "trm_store_fsyncs_total 1")) << *text;
  EXPECT_TRUE(
      Has(*text, "trm_store_write_requests_total{request=\"accept\"} 1"))
      << *text;
  EXPECT_TRUE(
      Has(*text, "trm_store_write_requests_total{request=\"acknowledge\"} 0"));
  const auto accepted =
      store.written(storage::RocksMessageStore::WriteKind::kAccept);
  EXPECT_TRUE(Has(
      *text, absl::StrCat("trm_store_written_keys_total{request=\"accept\"} ",
                          accepted.keys)))
      << *text;
  EXPECT_TRUE(Has(
      *text, absl::StrCat("trm_store_written_bytes_total{request=\"accept\"} ",
                          accepted.bytes)))
      << *text;  // The committer's time, by stage: both stages ran for the
                 // accept.
  for (const char* stage : {"build", "write"}) {
    const std::string sample =
        absl::StrCat("trm_store_commit_seconds_total{stage=\"", stage, "\"} ");
    EXPECT_NE(text->find(sample), std::string::npos) << *text;
    EXPECT_FALSE(Has(*text, sample + "0")) << *text;
  }
}

class LowDisk final : public storage::FreeSpace {
 public:
  absl::StatusOr<uint64_t> Available(const std::string&) const override {
    return 5 << 20;
  }
};

TEST(Metrics, TheDiskFreeAlarmIsShown) {
  LowDisk space;
  SimulatedClock clock(absl::FromUnixSeconds(1700000000));
  storage::DiskGuard guard({.path = "/d", .min_free_bytes = 8 << 20}, space,
                           clock);
  EXPECT_FALSE(guard.AdmitWrite().ok());
  Sources s;
  s.disk = &guard;
  auto text = NodeMetrics().Render(s, clock.Now());
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_TRUE(Has(*text, "trm_disk_low 1")) << *text;
  EXPECT_TRUE(Has(*text, "trm_disk_free_bytes 5242880")) << *text;
  EXPECT_TRUE(Has(*text, "trm_disk_min_free_bytes 8388608")) << *text;
  EXPECT_TRUE(Has(*text, "trm_disk_refusals_total 1")) << *text;
}

}  // namespace
}  // namespace trm::metrics
