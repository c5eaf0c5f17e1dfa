#include "server/storage/disk_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/log.h"
#include "common/status.h"

namespace trm::storage {
namespace {

std::string Mib(uint64_t bytes) {
  return absl::StrFormat("%.1f MiB", static_cast<double>(bytes) / (1 << 20));
}

}  // namespace

absl::StatusOr<uint64_t> StatvfsFreeSpace::Available(
    const std::string& path) const {
  struct statvfs st;
  if (statvfs(path.c_str(), &st) != 0) {
    return Error(absl::StatusCode::kInternal, "STORE_DISK_UNREADABLE",
                 absl::StrCat("cannot read the free space of ", path, ": ",
                              std::strerror(errno)));
  }
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

const StatvfsFreeSpace& StatvfsFreeSpace::Get() {
  static const StatvfsFreeSpace* space = new StatvfsFreeSpace();
  return *space;
}

DiskGuard::DiskGuard(DiskGuardOptions options, const FreeSpace& space,
                     const Clock& clock)
    : options_(std::move(options)), space_(space), clock_(clock) {}

DiskGuard::State DiskGuard::Read() const {
  State s;
  absl::StatusOr<uint64_t> free = space_.Available(options_.path);
  if (!free.ok()) {
    // Refusing is safe (senders retry); writing blind is not.
    s.low = true;
    s.error = std::string(free.status().message());
    return s;
  }
  s.free_bytes = *free;
  s.low = *free < options_.min_free_bytes;
  return s;
}

void DiskGuard::Store(State s) {
  if (s.low != state_.low || s.error != state_.error) {
    if (s.low) {
      log::Warn(
          "store.disk_low",
          absl::StrCat("free space on ", options_.path, " is ",
                       s.error.empty() ? Mib(s.free_bytes) : s.error,
                       ", below the limit of ", Mib(options_.min_free_bytes),
                       ": refusing new submissions and relay intake "
                       "until space returns"),
          {{"free_bytes", absl::StrCat(s.free_bytes)},
           {"min_free_bytes", absl::StrCat(options_.min_free_bytes)}});
    } else {
      log::Info("store.disk_ok",
                absl::StrCat("free space on ", options_.path, " is ",
                             Mib(s.free_bytes),
                             " again: accepting submissions and relays"),
                {{"free_bytes", absl::StrCat(s.free_bytes)}});
    }
  }
  state_ = std::move(s);
}

DiskGuard::State DiskGuard::Refresh() {
  State s = Read();
  absl::MutexLock lock(&mu_);
  next_read_ = clock_.Now() + options_.check_interval;
  Store(s);
  return state_;
}

DiskGuard::State DiskGuard::Current() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

absl::Status DiskGuard::AdmitWrite() {
  State s;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_.Now();
    if (now >= next_read_) {
      next_read_ = now + options_.check_interval;
      Store(Read());
    }
    s = state_;
  }
  if (!s.low) return absl::OkStatus();
  refused_.fetch_add(1);
  return Error(
      absl::StatusCode::kResourceExhausted, "STORE_DISK_LOW",
      absl::StrCat(
          "the node's disk is nearly full (",
          s.error.empty() ? absl::StrCat(Mib(s.free_bytes), " free") : s.error,
          ", it keeps ", Mib(options_.min_free_bytes),
          " free) and takes no new messages until its operator "
          "frees space; nothing already accepted is lost. Retry "
          "later"));
}

std::string ReservePath(const std::string& data_dir) {
  return absl::StrCat(data_dir, "/trm-disk-reserve");
}

absl::StatusOr<bool> ReleaseReserve(const std::string& data_dir) {
  const std::string path = ReservePath(data_dir);
  if (unlink(path.c_str()) == 0) return true;
  if (errno == ENOENT || errno == ENOTDIR) return false;
  return Error(absl::StatusCode::kInternal, "STORE_RESERVE_FAILED",
               absl::StrCat("cannot delete the disk reserve ", path, ": ",
                            std::strerror(errno)));
}

bool HasReserve(const std::string& data_dir, uint64_t bytes) {
  if (bytes == 0) return true;
  struct stat st;
  return lstat(ReservePath(data_dir).c_str(), &st) == 0 &&
         S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) >= bytes &&
         static_cast<uint64_t>(st.st_blocks) * 512 >= bytes;
}

absl::Status EnsureReserve(const std::string& data_dir, uint64_t bytes) {
  if (HasReserve(data_dir, bytes)) return absl::OkStatus();
  const std::string path = ReservePath(data_dir);
  const int fd =
      open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return Error(absl::StatusCode::kInternal, "STORE_RESERVE_FAILED",
                 absl::StrCat("cannot create the disk reserve ", path, ": ",
                              std::strerror(errno)));
  }
  const int err = posix_fallocate(fd, 0, static_cast<off_t>(bytes));
  const bool synced = err == 0 && fsync(fd) == 0;
  close(fd);
  if (err != 0 || !synced) {
    unlink(path.c_str());  // a partial reserve would only take space
    return Error(
        absl::StatusCode::kResourceExhausted, "STORE_RESERVE_FAILED",
        absl::StrCat("cannot allocate the disk reserve ", path, " (",
                     Mib(bytes), "): ", std::strerror(err != 0 ? err : errno)));
  }
  return absl::OkStatus();
}

}  // namespace trm::storage
