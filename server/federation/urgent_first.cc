#include "server/federation/urgent_first.h"

#include <algorithm>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace trm::federation {
namespace {

// What a message keeps its order within: its case, or for a message
// without one, its sender. Empty: the header does not parse.
struct Key {
  std::string order_key;
  v1::MessageType type = v1::MESSAGE_TYPE_UNSPECIFIED;
};

Key KeyOf(const std::string& envelope) {
  v1::Envelope e;
  v1::Header h;
  if (!e.ParseFromString(envelope) || !h.ParseFromString(e.header())) {
    return {};
  }
  return {h.case_ref().empty() ? absl::StrCat("sender\x1f", h.sender_org())
                               : absl::StrCat("case\x1f", h.case_ref()),
          h.type()};
}

}  // namespace

size_t UrgentFirst(std::vector<storage::QueuedMessage>& window,
                   const std::vector<v1::MessageType>& urgent_types) {
  if (urgent_types.empty() || window.empty()) return 0;
  std::vector<Key> keys;
  keys.reserve(window.size());
  // Per order key, the position of its last urgent message.
  absl::flat_hash_map<std::string, size_t> last_urgent;
  for (size_t i = 0; i < window.size(); ++i) {
    keys.push_back(KeyOf(window[i].envelope));
    const Key& k = keys.back();
    if (k.order_key.empty()) continue;
    if (std::find(urgent_types.begin(), urgent_types.end(), k.type) !=
        urgent_types.end()) {
      last_urgent[k.order_key] = i;
    }
  }
  if (last_urgent.empty()) return 0;
  // Ahead: every message at or before its key's last urgent one.
  std::vector<bool> ahead(window.size(), false);
  for (size_t i = 0; i < window.size(); ++i) {
    auto it = last_urgent.find(keys[i].order_key);
    ahead[i] = !keys[i].order_key.empty() && it != last_urgent.end() &&
               i <= it->second;
  }
  std::vector<storage::QueuedMessage> out;
  out.reserve(window.size());
  size_t moved = 0, behind = 0;
  for (size_t i = 0; i < window.size(); ++i) {
    if (ahead[i]) {
      if (behind > 0) ++moved;
      out.push_back(std::move(window[i]));
    } else {
      ++behind;
    }
  }
  for (size_t i = 0; i < window.size(); ++i) {
    if (!ahead[i]) out.push_back(std::move(window[i]));
  }
  window = std::move(out);
  return moved;
}

}  // namespace trm::federation
