// The store's key and value layouts: one codec for every key the RocksDB
// store writes outside the audit log (docs/architecture.md, "Storage").
//
//   queues   QueueKey:   u8 len(queue) || queue || u64be(seq)
//            QueueValue: message_id (16 bytes) || u32be(envelope size)
//   expiry   TimeKey(expires_unix_ms, id) -> recipient queue
//   acked    TimeKey(acknowledged_unix_ms, id) -> ""
//
// Big-endian integers make RocksDB's bytewise order the numeric order, so a
// queue reads in sequence order and the time indexes in time order.
//
//   const std::string key = QueueKey("ng-naptip", 7);
//   std::string queue; uint64_t seq;
//   if (DecodeQueueKey(key, &queue, &seq)) { ... }  // "ng-naptip", 7
#ifndef TRM_SERVER_STORAGE_STORE_KEYS_H_
#define TRM_SERVER_STORAGE_STORE_KEYS_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace trm::storage {

// Appends v as 8 big-endian bytes (keys that sort by number); reads them.
void PutU64BE(std::string& out, uint64_t v);
uint64_t GetU64BE(const char* p);

// The key of position `seq` of `queue` (a queue name is at most 255 bytes).
std::string QueueKey(absl::string_view queue, uint64_t seq);
// Decodes a queue key; false when it does not have the layout.
bool DecodeQueueKey(absl::string_view key, std::string* queue, uint64_t* seq);

// A queue entry's value: the message id and its envelope's size, so that
// recovery counts queued bytes in one scan without reading envelopes.
std::string QueueValue(absl::string_view message_id, uint64_t envelope_size);
// The message id of a queue value (empty when it has the wrong layout).
absl::string_view QueueValueId(absl::string_view value);
// The envelope size of a queue value (0 when it has the wrong layout).
uint64_t QueueValueSize(absl::string_view value);

// u64be(time_unix_ms) || message_id: the expiry and retention indexes, in
// time order. Negative times sort as 0.
std::string TimeKey(int64_t time_unix_ms, absl::string_view message_id);
// The message id of a TimeKey (empty when the key is too short).
absl::string_view TimeKeyId(absl::string_view key);

// "contingency/" || id, in the default column family: a contingency's
// newest signed declaration.
inline constexpr absl::string_view kContingencyPrefix = "contingency/";
std::string ContingencyKey(absl::string_view id);

}  // namespace trm::storage

#endif  // TRM_SERVER_STORAGE_STORE_KEYS_H_
