// audit_bench: the audit log's read costs at scale, on a log built directly
// (events appended in large unsynced batches: the append path is the one
// the node uses; only the durability of the build is skipped).
//
//   audit_bench proofs  --dir D --leaves 10000000 [--samples 2000]
//   audit_bench queries --dir D --events 1000000 [--cases 100000]
//                       [--samples 500]
//
// proofs prints the time of an inclusion proof (and a consistency proof)
// at the given tree size: median, p99 and max over random leaves, cold
// block cache first. queries builds a log whose events belong to `cases`
// cases and prints the time of a trail query for one case, with an
// inclusion proof per result, as AuditApi::QueryTrail does.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "rocksdb/db.h"
#include "rocksdb/table.h"
#include "server/storage/audit_log.h"

namespace trm {
namespace {

using Clock = std::chrono::steady_clock;

struct Db {
  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  ~Db() {
    for (auto* h : handles)
      db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    delete db;
  }
};

std::unique_ptr<Db> OpenDb(const std::string& dir) {
  rocksdb::DBOptions o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  rocksdb::ColumnFamilyOptions cf;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(64 << 20);  // as the node
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, cf},
      {"audit", cf},
      {"audit_tree", cf},
      {"audit_index", cf}};
  auto d = std::make_unique<Db>();
  rocksdb::Status s = rocksdb::DB::Open(o, dir, cfs, &d->handles, &d->db);
  if (!s.ok()) {
    std::fprintf(stderr, "audit_bench: %s\n", s.ToString().c_str());
    std::exit(1);
  }
  return d;
}

// Appends `n` events made by `make(i)` in batches of 10,000.
template <typename Make>
void Build(Db& d, storage::AuditLog& log, uint64_t n, Make make) {
  const auto t0 = Clock::now();
  rocksdb::WriteOptions fast;
  fast.disableWAL = true;
  for (uint64_t i = log.Current().size; i < n;) {
    rocksdb::WriteBatch batch;
    log.Begin();
    const uint64_t end = std::min(n, i + 10'000);
    for (; i < end; ++i) log.Add(make(i), batch);
    if (!d.db->Write(fast, &batch).ok()) std::exit(1);
    log.Commit();
  }
  d.db->Flush(rocksdb::FlushOptions(), d.handles).PermitUncheckedError();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("built %llu entries in %.1f s (%.1f us per append)\n",
              static_cast<unsigned long long>(n), secs,
              n == 0 ? 0.0 : secs * 1e6 / static_cast<double>(n));
}

void Report(const char* what, std::vector<double>& us) {
  std::sort(us.begin(), us.end());
  auto q = [&](double p) {
    return us[std::min(us.size() - 1, static_cast<size_t>(p * us.size()))];
  };
  std::printf("%s: median %.1f us, p99 %.1f us, max %.1f us (n=%zu)\n", what,
              q(0.5), q(0.99), us.back(), us.size());
}

int Proofs(const std::string& dir, uint64_t leaves, int samples) {
  auto d = OpenDb(dir);
  storage::AuditLog log(d->db, d->handles[1], d->handles[2], d->handles[3],
                        "bench");
  if (!log.Recover().ok()) return 1;
  Build(*d, log, leaves, [](uint64_t i) {
    v1::AuditEvent e;
    e.set_kind(v1::MESSAGE_ACCEPTED);
    e.set_time_unix_ms(static_cast<int64_t>(1'800'000'000'000 + i));
    return e;
  });
  std::mt19937_64 rng(42);
  std::vector<double> inclusion, consistency;
  for (int k = 0; k < samples; ++k) {
    const uint64_t i = rng() % leaves;
    auto t0 = Clock::now();
    auto p = log.InclusionProof(i, leaves);
    inclusion.push_back(
        std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    if (!p.ok()) return 1;
    const uint64_t m = 1 + rng() % (leaves - 1);
    t0 = Clock::now();
    auto c = log.ConsistencyProof(m, leaves);
    consistency.push_back(
        std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    if (!c.ok()) return 1;
  }
  std::printf("tree of %llu leaves:\n",
              static_cast<unsigned long long>(leaves));
  Report("  inclusion proof", inclusion);
  Report("  consistency proof", consistency);
  return 0;
}

int Queries(const std::string& dir, uint64_t events, uint64_t cases,
            int samples) {
  auto d = OpenDb(dir);
  storage::AuditLog log(d->db, d->handles[1], d->handles[2], d->handles[3],
                        "bench");
  if (!log.Recover().ok()) return 1;
  const v1::AuditEventKind kinds[] = {v1::MESSAGE_ACCEPTED, v1::MESSAGE_RELAYED,
                                      v1::REMOTE_DELIVERED,
                                      v1::REMOTE_ACKNOWLEDGED};
  Build(*d, log, events, [&](uint64_t i) {
    v1::AuditEvent e;
    e.set_kind(kinds[i % 4]);
    e.set_time_unix_ms(static_cast<int64_t>(1'800'000'000'000 + i));
    std::string id(16, '\0');
    for (int b = 0; b < 8; ++b)
      id[15 - b] = static_cast<char>((i / 4) >> (8 * b));
    e.set_message_id(id);
    e.set_case_ref("BG-2026-" + std::to_string((i / 4) % cases));
    e.set_message_type(v1::REFERRAL_REQUEST);
    e.set_sender_org("bg-ngo-" + std::to_string(i % 7));
    e.set_recipient_org("ng-naptip");
    e.set_peer_node("ng");
    e.set_envelope_sha256(std::string(32, 'h'));
    return e;
  });
  std::mt19937_64 rng(7);
  std::vector<double> us;
  size_t found = 0;
  const uint64_t size = log.Current().size;
  for (int k = 0; k < samples; ++k) {
    v1::TrailQuery q;
    q.set_case_ref("BG-2026-" + std::to_string(rng() % cases));
    const auto t0 = Clock::now();
    auto page = log.Query(q, size);
    if (!page.ok()) return 1;
    for (const storage::AuditEntry& e : page->entries) {
      if (!log.InclusionProof(e.index, size).ok()) return 1;
    }
    us.push_back(
        std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    found += page->entries.size();
  }
  std::printf(
      "trail query for one case among %llu events (%llu cases, "
      "%.1f events each, an inclusion proof per event):\n",
      static_cast<unsigned long long>(events),
      static_cast<unsigned long long>(cases),
      static_cast<double>(found) / samples);
  Report("  query", us);
  return 0;
}

}  // namespace
}  // namespace trm

int main(int argc, char** argv) {
  CLI::App app{"audit_bench: the audit log's read costs at scale"};
  std::string dir;
  uint64_t leaves = 10'000'000, events = 1'000'000, cases = 100'000;
  int samples = 2000;
  auto* proofs = app.add_subcommand("proofs", "inclusion/consistency proofs");
  proofs->add_option("--dir", dir)->required();
  proofs->add_option("--leaves", leaves);
  proofs->add_option("--samples", samples);
  auto* queries = app.add_subcommand("queries", "trail queries by case");
  queries->add_option("--dir", dir)->required();
  queries->add_option("--events", events);
  queries->add_option("--cases", cases);
  queries->add_option("--samples", samples);
  app.require_subcommand(1);
  CLI11_PARSE(app, argc, argv);
  if (*proofs) return trm::Proofs(dir, leaves, samples);
  return trm::Queries(dir, events, cases, samples);
}
