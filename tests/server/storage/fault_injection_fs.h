// A file system for crash tests, built on RocksDB's public FileSystemWrapper:
// it records how much of each file written through it has been synced, and
// DropUnsyncedData() truncates every such file to its synced length, which is
// what a power failure leaves behind. (Directory entries are not modelled: a
// file never synced keeps its name but loses its contents.)
#ifndef TRM_TESTS_SERVER_STORAGE_FAULT_INJECTION_FS_H_
#define TRM_TESTS_SERVER_STORAGE_FAULT_INJECTION_FS_H_

#include <unistd.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "rocksdb/file_system.h"

namespace trm::storage::testing {

class FaultInjectionFileSystem : public rocksdb::FileSystemWrapper {
 public:
  FaultInjectionFileSystem()
      : rocksdb::FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  // Over another file system (RocksDB's in-memory one, in unit tests), for
  // FailWrites. DropUnsyncedData truncates real files only.
  explicit FaultInjectionFileSystem(std::shared_ptr<rocksdb::FileSystem> base)
      : rocksdb::FileSystemWrapper(std::move(base)) {}
  const char* Name() const override { return "FaultInjectionFileSystem"; }

  rocksdb::IOStatus NewWritableFile(
      const std::string& fname, const rocksdb::FileOptions& opts,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewWritableFile(fname, opts, result, dbg);
    if (s.ok()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        files_[fname] = State{};
      }
      *result = std::make_unique<File>(std::move(*result), this, fname);
    }
    return s;
  }

  // Truncates every file written through this file system to what was
  // synced. Returns the number of bytes dropped.
  uint64_t DropUnsyncedData() {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t dropped = 0;
    for (auto& [name, st] : files_) {
      if (st.written > st.synced) {
        dropped += st.written - st.synced;
        if (::truncate(name.c_str(), static_cast<off_t>(st.synced)) != 0) {
          continue;  // deleted meanwhile
        }
        st.written = st.synced;
      }
    }
    return dropped;
  }

  // While set, appends and syncs fail with an I/O error, as on a failing or
  // full disk. (RocksDB recovers from a real "no space" error by itself once
  // space is back, polling; an I/O error needs the store to resume it.)
  void FailWrites(bool fail) { fail_writes_ = fail; }

  // The injected failure: a retryable I/O error, as a disk that fails for a
  // while reports it.
  static rocksdb::IOStatus Injected() {
    rocksdb::IOStatus s = rocksdb::IOStatus::IOError("injected write failure");
    s.SetRetryable(true);
    return s;
  }

  // Bytes written through this file system that no sync covered yet.
  uint64_t UnsyncedBytes() {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t n = 0;
    for (auto& [name, st] : files_) n += st.written - st.synced;
    return n;
  }

 private:
  struct State {
    uint64_t written = 0;
    uint64_t synced = 0;
  };

  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile> f,
         FaultInjectionFileSystem* fs, std::string name)
        : rocksdb::FSWritableFileOwnerWrapper(std::move(f)),
          fs_(fs),
          name_(std::move(name)) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& data,
                             const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override {
      if (fs_->fail_writes_) return Injected();
      rocksdb::IOStatus s = target()->Append(data, o, dbg);
      if (s.ok()) fs_->Wrote(name_, data.size());
      return s;
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data,
                             const rocksdb::IOOptions& o,
                             const rocksdb::DataVerificationInfo& info,
                             rocksdb::IODebugContext* dbg) override {
      if (fs_->fail_writes_) return Injected();
      rocksdb::IOStatus s = target()->Append(data, o, info, dbg);
      if (s.ok()) fs_->Wrote(name_, data.size());
      return s;
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* dbg) override {
      if (fs_->fail_writes_) return Injected();
      rocksdb::IOStatus s = target()->Sync(o, dbg);
      if (s.ok()) fs_->Synced(name_);
      return s;
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o,
                            rocksdb::IODebugContext* dbg) override {
      if (fs_->fail_writes_) return Injected();
      rocksdb::IOStatus s = target()->Fsync(o, dbg);
      if (s.ok()) fs_->Synced(name_);
      return s;
    }

   private:
    FaultInjectionFileSystem* fs_;
    std::string name_;
  };

  void Wrote(const std::string& name, uint64_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    files_[name].written += n;
  }
  void Synced(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    State& st = files_[name];
    st.synced = st.written;
  }

  std::atomic<bool> fail_writes_{false};
  std::mutex mu_;
  std::map<std::string, State> files_;
};

}  // namespace trm::storage::testing

#endif  // TRM_TESTS_SERVER_STORAGE_FAULT_INJECTION_FS_H_
