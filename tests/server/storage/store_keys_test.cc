#include "server/storage/store_keys.h"

#include <gtest/gtest.h>

#include <string>

namespace trm::storage {
namespace {

const std::string kId(16, '\x07');

TEST(StoreKeys, QueueKeyRoundTripsAndSortsBySequence) {
  const std::string k = QueueKey("ng-naptip", 258);
  EXPECT_EQ(k, std::string("\x09ng-naptip", 10) +
                   std::string("\0\0\0\0\0\0\x01\x02", 8));
  std::string queue;
  uint64_t seq = 0;
  ASSERT_TRUE(DecodeQueueKey(k, &queue, &seq));
  EXPECT_EQ(queue, "ng-naptip");
  EXPECT_EQ(seq, 258u);
  // Bytewise order is sequence order, also across a byte boundary.
  EXPECT_LT(QueueKey("ng", 255), QueueKey("ng", 256));
  EXPECT_LT(QueueKey("ng", 1), QueueKey("ng", UINT64_MAX));
}

TEST(StoreKeys, DecodeRefusesOtherLayouts) {
  std::string queue;
  uint64_t seq = 0;
  EXPECT_FALSE(DecodeQueueKey("", &queue, &seq));
  EXPECT_FALSE(DecodeQueueKey(std::string(8, '\0'), &queue, &seq));
  std::string k = QueueKey("ng", 1);
  EXPECT_FALSE(DecodeQueueKey(k + "x", &queue, &seq)) << "too long";
  EXPECT_FALSE(DecodeQueueKey(k.substr(0, k.size() - 1), &queue, &seq));
}

TEST(StoreKeys, QueueValueCarriesIdAndSize) {
  const std::string v = QueueValue(kId, 70000);
  ASSERT_EQ(v.size(), 20u);
  EXPECT_EQ(QueueValueId(v), kId);
  EXPECT_EQ(QueueValueSize(v), 70000u);
  EXPECT_EQ(QueueValueSize(QueueValue(kId, 0)), 0u);
  EXPECT_EQ(QueueValueId("short"), "");
  EXPECT_EQ(QueueValueSize("short"), 0u);
}

TEST(StoreKeys, TimeKeySortsByTimeAndKeepsTheId) {
  EXPECT_LT(TimeKey(1'000, kId), TimeKey(1'001, std::string(16, '\0')));
  EXPECT_LT(TimeKey(255, kId), TimeKey(256, kId));
  EXPECT_EQ(TimeKeyId(TimeKey(42, kId)), kId);
  // A negative time sorts first, as 0.
  EXPECT_EQ(TimeKey(-5, kId), TimeKey(0, kId));
  // The bound of everything at or before t: TimeKey(t + 1, "").
  EXPECT_LT(TimeKey(42, kId), TimeKey(43, ""));
  EXPECT_GT(TimeKey(43, kId), TimeKey(43, ""));
  EXPECT_EQ(TimeKeyId("1234567"), "");
}

}  // namespace
}  // namespace trm::storage
