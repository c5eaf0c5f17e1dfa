// The disk-free alarm and the disk reserve (server/storage/disk_guard.h).
#include "server/storage/disk_guard.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>

#include "common/status.h"

namespace trm::storage {
namespace {

class FakeFreeSpace final : public FreeSpace {
 public:
  absl::StatusOr<uint64_t> Available(const std::string& path) const override {
    if (fail.load()) {
      return absl::InternalError(absl::StrCat("cannot read ", path));
    }
    return free.load();
  }
  std::atomic<uint64_t> free{1ull << 30};
  std::atomic<bool> fail{false};
};

class DiskGuardTest : public ::testing::Test {
 protected:
  FakeFreeSpace space_;
  SimulatedClock clock_{absl::FromUnixSeconds(1700000000)};
  DiskGuard guard_{{.path = "/var/lib/trm",
                    .min_free_bytes = 64 << 20,
                    .check_interval = absl::Milliseconds(100)},
                   space_,
                   clock_};
};

TEST_F(DiskGuardTest, RefusesBelowTheLimitAndLiftsWhenSpaceReturns) {
  EXPECT_TRUE(guard_.AdmitWrite().ok());
  space_.free = (64 << 20) - 1;
  // Within the interval the last reading holds...
  clock_.Advance(absl::Milliseconds(50));
  EXPECT_TRUE(guard_.AdmitWrite().ok());
  // ...then it is read again.
  clock_.Advance(absl::Milliseconds(50));
  absl::Status s = guard_.AdmitWrite();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_EQ(ErrorReason(s), "STORE_DISK_LOW");
  EXPECT_NE(s.message().find("64.0 MiB free"), std::string::npos) << s;
  EXPECT_NE(s.message().find("keeps 64.0 MiB free"), std::string::npos) << s;
  EXPECT_TRUE(guard_.Current().low);
  EXPECT_EQ(guard_.refused(), 1u);
  space_.free = 64 << 20;  // exactly the limit is enough
  clock_.Advance(absl::Milliseconds(100));
  EXPECT_TRUE(guard_.AdmitWrite().ok());
  EXPECT_FALSE(guard_.Current().low);
  EXPECT_EQ(guard_.Current().free_bytes, 64u << 20);
}

TEST_F(DiskGuardTest, RefreshReadsNowWhateverTheInterval) {
  EXPECT_TRUE(guard_.AdmitWrite().ok());
  space_.free = 1 << 20;
  EXPECT_TRUE(guard_.Refresh().low);
  EXPECT_FALSE(guard_.AdmitWrite().ok());
}

TEST_F(DiskGuardTest, FreeSpaceThatCannotBeReadRefusesWrites) {
  space_.fail = true;
  DiskGuard::State s = guard_.Refresh();
  EXPECT_TRUE(s.low);
  EXPECT_NE(s.error.find("cannot read /var/lib/trm"), std::string::npos);
  absl::Status refused = guard_.AdmitWrite();
  EXPECT_EQ(ErrorReason(refused), "STORE_DISK_LOW");
  EXPECT_NE(refused.message().find("cannot read"), std::string::npos)
      << refused;
  space_.fail = false;
  EXPECT_FALSE(guard_.Refresh().low);
}

TEST_F(DiskGuardTest, StatvfsReadsARealFilesystem) {
  absl::StatusOr<uint64_t> free =
      StatvfsFreeSpace::Get().Available(::testing::TempDir());
  ASSERT_TRUE(free.ok()) << free.status();
  EXPECT_GT(*free, 0u);
  absl::StatusOr<uint64_t> missing =
      StatvfsFreeSpace::Get().Available("/no/such/directory/here");
  EXPECT_EQ(ErrorReason(missing.status()), "STORE_DISK_UNREADABLE");
}

TEST(DiskReserveTest, IsAllocatedReleasedAndMadeAgain) {
  const std::string dir = ::testing::TempDir() + "/disk_reserve_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  EXPECT_FALSE(HasReserve(dir, 1 << 20));
  EXPECT_TRUE(HasReserve(dir, 0)) << "no reserve asked for";
  ASSERT_TRUE(EnsureReserve(dir, 1 << 20).ok());
  EXPECT_TRUE(HasReserve(dir, 1 << 20));
  struct stat st;
  ASSERT_EQ(stat(ReservePath(dir).c_str(), &st), 0);
  EXPECT_GE(st.st_blocks * 512, 1 << 20) << "blocks allocated, not sparse";
  EXPECT_EQ(st.st_mode & 0777, 0600);
  EXPECT_FALSE(HasReserve(dir, 2 << 20)) << "a smaller reserve is not enough";
  ASSERT_TRUE(EnsureReserve(dir, 2 << 20).ok());
  EXPECT_TRUE(HasReserve(dir, 2 << 20));
  EXPECT_TRUE(*ReleaseReserve(dir));
  EXPECT_FALSE(*ReleaseReserve(dir));
  EXPECT_FALSE(HasReserve(dir, 1 << 20));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace trm::storage
