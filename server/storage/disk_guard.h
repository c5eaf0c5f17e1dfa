// The disk-free alarm of a node (docs/operations.md, "A full disk"). Below a
// configured amount of free space on the data directory's filesystem the node
// refuses new submissions and relay intake with RESOURCE_EXHAUSTED
// STORE_DISK_LOW, before RocksDB meets ENOSPC. Receive, acknowledge and audit
// reads go on, and they free space. The refusal lifts by itself when space
// returns.
//
// A reserve file in the data directory holds back some space that only a
// restart on a nearly full disk uses: the node deletes it before opening the
// store, so replaying the write-ahead log has room, and makes it again once
// there is space to spare.
//
//   DiskGuard guard({.path = dir, .min_free_bytes = 256 << 20},
//                   StatvfsFreeSpace::Get(), SystemClock::Get());
//   if (absl::Status s = guard.AdmitWrite(); !s.ok()) return s;
//
// Thread-safe.
#ifndef TRM_SERVER_STORAGE_DISK_GUARD_H_
#define TRM_SERVER_STORAGE_DISK_GUARD_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace trm::storage {

// How much space is left, as a seam for tests.
class FreeSpace {
 public:
  virtual ~FreeSpace() = default;
  // Bytes an unprivileged writer may still use on the filesystem that holds
  // `path`.
  virtual absl::StatusOr<uint64_t> Available(const std::string& path) const = 0;
};

// statvfs(3): f_bavail * f_frsize.
class StatvfsFreeSpace final : public FreeSpace {
 public:
  absl::StatusOr<uint64_t> Available(const std::string& path) const override;
  static const StatvfsFreeSpace& Get();
};

struct DiskGuardOptions {
  std::string path;  // the data directory
  // Writes are refused below this much free space.
  uint64_t min_free_bytes = 256ull << 20;
  // The guard reads free space again at most this often on the write path.
  absl::Duration check_interval = absl::Milliseconds(100);
};

class DiskGuard {
 public:
  struct State {
    bool low = false;
    uint64_t free_bytes = 0;
    std::string error;  // why free space could not be read, if it could not
  };

  DiskGuard(DiskGuardOptions options, const FreeSpace& space,
            const Clock& clock);

  // OK when a write may go ahead; RESOURCE_EXHAUSTED STORE_DISK_LOW, with the
  // free space and the limit, when not. Reads free space again when the last
  // reading is older than the check interval.
  absl::Status AdmitWrite();
  // Reads free space now. Logs when the state changes.
  State Refresh();
  State Current() const;
  uint64_t min_free_bytes() const { return options_.min_free_bytes; }
  // Writes refused since the start.
  uint64_t refused() const { return refused_.load(); }

 private:
  State Read() const;
  void Store(State s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const DiskGuardOptions options_;
  const FreeSpace& space_;
  const Clock& clock_;
  mutable absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_);
  absl::Time next_read_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::atomic<uint64_t> refused_{0};
};

// The reserve file: <data_dir>/trm-disk-reserve.
std::string ReservePath(const std::string& data_dir);
// Whether the reserve file is in place with `bytes` allocated (true for 0).
bool HasReserve(const std::string& data_dir, uint64_t bytes);
// Deletes the reserve file if there is one; true when it did.
absl::StatusOr<bool> ReleaseReserve(const std::string& data_dir);
// Makes the reserve file `bytes` long (blocks allocated, not a sparse file)
// unless it already is. Nothing for 0 bytes.
absl::Status EnsureReserve(const std::string& data_dir, uint64_t bytes);

}  // namespace trm::storage

#endif  // TRM_SERVER_STORAGE_DISK_GUARD_H_
