#include "server/storage/store_keys.h"

#include <algorithm>

namespace trm::storage {
namespace {

constexpr size_t kIdSize = 16;

void PutBigEndian(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    out.push_back(static_cast<char>(v >> (8 * i)));
  }
}

uint64_t GetBigEndian(absl::string_view in) {
  uint64_t v = 0;
  for (char c : in) v = v << 8 | static_cast<uint8_t>(c);
  return v;
}

}  // namespace

void PutU64BE(std::string& out, uint64_t v) { PutBigEndian(out, v, 8); }

uint64_t GetU64BE(const char* p) {
  return GetBigEndian(absl::string_view(p, 8));
}

std::string QueueKey(absl::string_view queue, uint64_t seq) {
  std::string key;
  key.reserve(1 + queue.size() + 8);
  key.push_back(static_cast<char>(queue.size()));
  key.append(queue.data(), queue.size());
  PutBigEndian(key, seq, 8);
  return key;
}

bool DecodeQueueKey(absl::string_view key, std::string* queue, uint64_t* seq) {
  if (key.size() < 1 + 8) return false;
  const size_t len = static_cast<uint8_t>(key[0]);
  if (key.size() != 1 + len + 8) return false;
  queue->assign(key.data() + 1, len);
  *seq = GetBigEndian(key.substr(1 + len));
  return true;
}

std::string QueueValue(absl::string_view message_id, uint64_t envelope_size) {
  std::string v(message_id);
  PutBigEndian(v, static_cast<uint32_t>(envelope_size), 4);
  return v;
}

absl::string_view QueueValueId(absl::string_view value) {
  if (value.size() != kIdSize + 4) return {};
  return value.substr(0, kIdSize);
}

uint64_t QueueValueSize(absl::string_view value) {
  if (value.size() != kIdSize + 4) return 0;
  return GetBigEndian(value.substr(kIdSize));
}

std::string TimeKey(int64_t time_unix_ms, absl::string_view message_id) {
  std::string key;
  key.reserve(8 + message_id.size());
  PutBigEndian(key, static_cast<uint64_t>(std::max<int64_t>(0, time_unix_ms)),
               8);
  key.append(message_id.data(), message_id.size());
  return key;
}

absl::string_view TimeKeyId(absl::string_view key) {
  if (key.size() < 8) return {};
  return key.substr(8);
}

std::string ContingencyKey(absl::string_view id) {
  std::string key(kContingencyPrefix);
  key.append(id.data(), id.size());
  return key;
}

}  // namespace trm::storage
