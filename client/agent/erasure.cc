#include "client/agent/erasure.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/bytes.h"
#include "common/status.h"
#include "trm/v1/case.pb.h"

namespace trm::agent {

absl::StatusOr<size_t> ApplyNotice(AgentStore& store, const NodeApi& node,
                                   const v1::AgentRecord& notice) {
  if (notice.header().type() != v1::ERASURE_OR_RECTIFICATION_NOTICE ||
      notice.outgoing()) {
    return 0;
  }
  client::Delivery d;
  d.message_id = notice.message_id();
  d.envelope = notice.envelope();
  d.header = notice.header();
  ASSIGN_OR_RETURN(client::Opened opened, node.Open(d));
  v1::ErasureOrRectificationNotice n;
  if (!n.ParseFromString(opened.payload)) {
    return Error(absl::StatusCode::kInvalidArgument, "PAYLOAD_INVALID",
                 "the erasure or rectification notice does not parse");
  }
  const std::string& case_ref = notice.header().case_ref();
  if (n.erase()) {
    ASSIGN_OR_RETURN(size_t erased, store.EraseCase(case_ref));
    // The notice stays: it records that the case's copies went, and why.
    v1::AgentRecord kept = notice;
    kept.set_read(false);
    RETURN_IF_ERROR(store.Put(kept).status());
    return erased > 0 ? erased - 1 : 0;
  }
  ListFilter f;
  f.case_ref = case_ref;
  f.limit = AgentStore::kMaxList;
  ASSIGN_OR_RETURN(std::vector<v1::AgentRecord> records, store.List(f));
  size_t marked = 0;
  for (const v1::AgentRecord& r : records) {
    if (r.message_id() == notice.message_id()) continue;
    v1::AgentNote note;
    note.set_user("trm-agent");
    note.set_time_unix_ms(notice.stored_unix_ms());
    note.set_text(absl::StrCat(
        "rectification notice ", HexEncode(AsBytes(notice.message_id())),
        " from ", notice.header().sender_org(), ": correct ",
        absl::StrJoin(n.fields(), ", "),
        n.legal_basis().empty() ? ""
                                : absl::StrCat(" (", n.legal_basis(), ")")));
    RETURN_IF_ERROR(store.AddNote(r.message_id(), note));
    ++marked;
  }
  return marked;
}

}  // namespace trm::agent
