// The node's RocksDB store on RocksDB's own in-memory file system (MemEnv),
// for unit tests of the layers above the store: the real state machine and
// the real audit log, with no disk. The file system is faked, not the logic.
// FailWrites makes every write fail as a failing disk's would (reads go on);
// the store resumes by itself once it is cleared.
#ifndef TRM_TESTS_SERVER_STORAGE_IN_MEMORY_STORE_H_
#define TRM_TESTS_SERVER_STORAGE_IN_MEMORY_STORE_H_

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rocksdb/env.h"
#include "server/storage/rocksdb_store.h"
#include "tests/server/storage/fault_injection_fs.h"
#include "trm/v1/audit.pb.h"

namespace trm::storage::testing {

class InMemoryStore {
 public:
  explicit InMemoryStore(RocksStoreOptions options = {}) {
    static std::atomic<int> next{0};
    std::unique_ptr<rocksdb::Env> mem(
        rocksdb::NewMemEnv(rocksdb::Env::Default()));
    fs_ = std::make_shared<FaultInjectionFileSystem>(mem->GetFileSystem());
    if (options.path.empty()) {
      options.path = absl::StrCat("/in-memory-store-", next++);
    }
    options.file_system = fs_;
    auto s = RocksMessageStore::Open(options);
    if (!s.ok()) {
      ADD_FAILURE() << "the in-memory store did not open: " << s.status();
      std::abort();
    }
    store_ = std::move(*s);
  }

  RocksMessageStore& store() { return *store_; }

  // While set, every write fails with UNAVAILABLE and changes nothing.
  void FailWrites(bool fail) { fs_->FailWrites(fail); }

  // Every event in the audit log, oldest first.
  std::vector<v1::AuditEvent> AuditEvents() const {
    std::vector<v1::AuditEvent> events;
    AuditLog* log = store_->audit();
    if (log == nullptr) return events;
    auto entries = log->Entries(0, log->Current().size);
    EXPECT_TRUE(entries.ok()) << entries.status();
    if (!entries.ok()) return events;
    for (const AuditEntry& e : *entries) {
      events.emplace_back().ParseFromString(e.event);
    }
    return events;
  }

  // The events of one kind, oldest first.
  std::vector<v1::AuditEvent> AuditEvents(v1::AuditEventKind kind) const {
    std::vector<v1::AuditEvent> out;
    for (v1::AuditEvent& e : AuditEvents()) {
      if (e.kind() == kind) out.push_back(std::move(e));
    }
    return out;
  }

 private:
  std::shared_ptr<FaultInjectionFileSystem> fs_;
  std::unique_ptr<RocksMessageStore> store_;
};

}  // namespace trm::storage::testing

#endif  // TRM_TESTS_SERVER_STORAGE_IN_MEMORY_STORE_H_
