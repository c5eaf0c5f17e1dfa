#include "common/audit/bundle.h"

#include <utility>

#include "common/bytes.h"
#include "common/time_text.h"

namespace trm::audit {

using nlohmann::json;

json EventJson(const v1::Entry& entry) {
  v1::AuditEvent e;
  e.ParseFromString(entry.event());
  json j = {{"leaf_index", entry.leaf_index()},
            {"kind", v1::AuditEventKind_Name(e.kind())},
            {"time", IsoMillis(e.time_unix_ms())},
            {"node", e.node()}};
  if (!e.message_id().empty()) {
    j["message_id"] = HexEncode(AsBytes(e.message_id()));
  }
  for (auto [k, v] : {std::pair{"case_ref", &e.case_ref()},
                      std::pair{"sender", &e.sender_org()},
                      std::pair{"recipient", &e.recipient_org()},
                      std::pair{"peer_node", &e.peer_node()},
                      std::pair{"reason_code", &e.reason_code()},
                      std::pair{"detail", &e.detail()}}) {
    if (!v->empty()) j[k] = *v;
  }
  if (e.message_type() != v1::MESSAGE_TYPE_UNSPECIFIED) {
    j["type"] = v1::MessageType_Name(e.message_type());
  }
  return j;
}

json BundleJson(const v1::Trail& trail, const v1::TreeHead& head,
                absl::string_view node_key) {
  json entries = json::array();
  for (const v1::Entry& e : trail.entries()) {
    json proof = json::array();
    for (const std::string& h : e.inclusion_proof()) {
      proof.push_back(HexEncode(AsBytes(h)));
    }
    entries.push_back({{"leaf_index", e.leaf_index()},
                       {"event", HexEncode(AsBytes(e.event()))},
                       {"inclusion_proof", proof}});
  }
  return {
      {"format", kBundleFormat},
      {"node", head.node()},
      {"node_public_key", HexEncode(AsBytes(node_key))},
      {"tree_head", HexEncode(AsBytes(trail.tree_head().SerializeAsString()))},
      {"entries", entries}};
}

}  // namespace trm::audit
