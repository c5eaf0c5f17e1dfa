#include "client/agent/agent_api.h"

#include <algorithm>
#include <set>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/agent/case_summary.h"
#include "client/agent/type_catalogue.h"
#include "common/bytes.h"
#include "common/envelope/refusal.h"
#include "common/json/strict_json.h"
#include "common/status.h"
#include "common/time_text.h"
#include "trm/client/payload_json.h"

namespace trm::agent {
namespace {

constexpr char kPathPayload[] = "trm-broker.v1/path";

const jsonio::JsonErrors kBody{"AGENT_REQUEST_INVALID", "request body",
                               "; see /api/v1/openapi.json"};

constexpr std::initializer_list<Role> kReaders = {Role::kCaseworker,
                                                  Role::kCoordinator};
constexpr std::initializer_list<Role> kAnyone = {
    Role::kCaseworker, Role::kCoordinator, Role::kAuditor};

std::string Hex(const std::string& raw) { return HexEncode(AsBytes(raw)); }

nlohmann::json HeaderJson(const v1::Header& h) {
  nlohmann::json j = {
      {"message_id", Hex(h.message_id())},
      {"case_ref", h.case_ref()},
      {"type", v1::MessageType_Name(h.type())},
      {"sender_org", h.sender_org()},
      {"sender_node", h.sender_node()},
      {"recipient_org", h.recipient_org()},
      {"recipient_node", h.recipient_node()},
      {"created", IsoSeconds(h.created_unix_ms())},
      {"expires", IsoSeconds(h.expires_unix_ms())},
      {"consent_ref", h.consent_ref()},
      {"minor", h.minor()},
      {"asylum", h.asylum()},
  };
  if (!h.in_reply_to().empty()) j["in_reply_to"] = Hex(h.in_reply_to());
  if (h.has_departure_unix_ms()) {
    j["departure"] = IsoSeconds(h.departure_unix_ms());
  }
  if (h.outcome() != 0) {
    j["outcome"] =
        v1::StepOutcome_Name(static_cast<v1::StepOutcome>(h.outcome()));
  }
  return j;
}

nlohmann::json Summary(const v1::AgentRecord& r) {
  const v1::Header& h = r.header();
  return {{"message_id", Hex(r.message_id())},
          {"box", r.outgoing() ? "outbox" : "inbox"},
          {"type", v1::MessageType_Name(h.type())},
          {"case_ref", h.case_ref()},
          {"sender_org", h.sender_org()},
          {"recipient_org", h.recipient_org()},
          {"created", IsoSeconds(h.created_unix_ms())},
          {"stored", IsoSeconds(r.stored_unix_ms())},
          {"read", r.read()},
          {"refused", r.refused_unix_ms() > 0}};
}

absl::Status Invalid(absl::string_view path, absl::string_view what) {
  return AtPath(kBody.Bad(path, what), path);
}

absl::StatusOr<nlohmann::json> ParseBody(const std::string& body) {
  absl::StatusOr<nlohmann::json> j = jsonio::ParseStrictJson(body, kBody);
  if (!j.ok()) return AtPath(j.status(), "");
  if (!j->is_object()) return Invalid("", "must be a JSON object");
  return j;
}

// The request fields of a message to send, into `m`.
absl::Status ReadMessage(const nlohmann::json& j, client::Message* m) {
  jsonio::JsonReader r(j, "", kBody);
  absl::Status keys =
      r.Keys({"type", "case_ref", "recipient_org", "recipient_node", "payload",
              "outcome", "consent_ref", "in_reply_to", "departure", "minor",
              "asylum", "expires_in_hours"});
  if (!keys.ok()) return AtPath(keys, "");
  ASSIGN_OR_RETURN(std::string type, r.Str("type", true));
  std::optional<v1::MessageType> t = TypeFromName(type);
  if (!t.has_value()) {
    return AtPath(
        Error(absl::StatusCode::kInvalidArgument, "AGENT_TYPE_UNKNOWN",
              absl::StrCat("\"", type,
                           "\" is not a type an organisation sends; "
                           "GET /api/v1/types lists them")),
        "type");
  }
  m->type = *t;
  ASSIGN_OR_RETURN(m->case_ref, r.Str("case_ref", true));
  ASSIGN_OR_RETURN(m->recipient_org, r.Str("recipient_org", true));
  ASSIGN_OR_RETURN(m->recipient_node, r.Str("recipient_node", false));
  ASSIGN_OR_RETURN(m->consent_ref, r.Str("consent_ref", false));
  if (!j.contains("payload") || !j["payload"].is_object()) {
    return Invalid("payload",
                   "must be an object: the payload of the type, as "
                   "GET /api/v1/types gives its schema");
  }
  absl::StatusOr<std::string> payload =
      client::PayloadFromJson(*t, j["payload"].dump());
  if (!payload.ok()) return AtPath(payload.status(), "payload");
  m->payload = *std::move(payload);
  ASSIGN_OR_RETURN(std::string outcome, r.Str("outcome", false));
  if (!outcome.empty()) {
    v1::StepOutcome o;
    if (!v1::StepOutcome_Parse(outcome, &o)) {
      return Invalid("outcome",
                     "is not a StepOutcome name; GET /api/v1/types lists "
                     "each type's outcomes");
    }
    m->outcome = o;
  }
  ASSIGN_OR_RETURN(std::string reply, r.Str("in_reply_to", false));
  if (!reply.empty()) {
    absl::StatusOr<std::vector<uint8_t>> id = HexDecode(reply);
    if (!id.ok() || id->size() != 16) {
      return Invalid("in_reply_to", "must be a message id of 32 hex digits");
    }
    m->in_reply_to.assign(id->begin(), id->end());
  }
  if (r.Has("departure")) {
    absl::StatusOr<int64_t> ms = r.Time("departure");
    if (!ms.ok()) return AtPath(ms.status(), "departure");
    m->departure = absl::FromUnixMillis(*ms);
  }
  absl::Status b = r.Bool("minor", &m->minor);
  if (b.ok()) b = r.Bool("asylum", &m->asylum);
  if (!b.ok()) return AtPath(b, "");
  uint64_t hours = 168;
  absl::Status h = r.UInt("expires_in_hours", &hours);
  if (!h.ok()) return AtPath(h, "expires_in_hours");
  if (hours == 0 || hours > 24 * 90) {
    return Invalid("expires_in_hours", "must be between 1 and 2160");
  }
  m->expires_in = absl::Hours(static_cast<int64_t>(hours));
  return absl::OkStatus();
}

}  // namespace

absl::Status AtPath(absl::Status s, absl::string_view path) {
  if (!s.ok()) s.SetPayload(kPathPayload, absl::Cord(path));
  return s;
}

std::string PathOf(const absl::Status& s) {
  auto p = s.GetPayload(kPathPayload);
  return p.has_value() ? std::string(*p) : std::string();
}

absl::StatusOr<nlohmann::json> AgentApi::WhoAmI(const User& u) {
  const client::Identity& me = node_.identity();
  nlohmann::json j = {{"user", u.name},
                      {"role", std::string(RoleName(u.role))},
                      {"organisation", me.org},
                      {"node", me.node}};
  absl::StatusOr<v1::Directory> dir = node_.Directory();
  if (dir.ok()) {
    for (const auto& o : dir->organisations()) {
      if (o.id() == me.org) j["display_name"] = o.display_name();
    }
    j["federation"] = dir->federation();
  }
  return j;
}

absl::StatusOr<nlohmann::json> AgentApi::Organisations(const User& u) {
  RETURN_IF_ERROR(Require(u, kAnyone, "listing organisations"));
  ASSIGN_OR_RETURN(v1::Directory dir, node_.Directory());
  nlohmann::json out = nlohmann::json::array();
  std::map<std::string, std::string> country;
  for (const auto& n : dir.nodes()) country[n.id()] = n.country();
  for (const auto& o : dir.organisations()) {
    nlohmann::json roles = nlohmann::json::array();
    for (int r : o.roles()) roles.push_back(v1::Role_Name(r));
    out.push_back({{"id", o.id()},
                   {"display_name", o.display_name()},
                   {"home_node", o.home_node()},
                   {"country", country[o.home_node()]},
                   {"roles", roles}});
  }
  return out;
}

absl::StatusOr<nlohmann::json> AgentApi::Types(const User& u) {
  RETURN_IF_ERROR(Require(u, kAnyone, "listing message types"));
  return TypeCatalogue();
}

absl::StatusOr<nlohmann::json> AgentApi::Send(const User& u,
                                              const std::string& body) {
  RETURN_IF_ERROR(Require(u, kReaders, "sending a message"));
  ASSIGN_OR_RETURN(nlohmann::json j, ParseBody(body));
  client::Message m;
  RETURN_IF_ERROR(ReadMessage(j, &m));
  absl::StatusOr<client::Sealed> sealed = node_.Seal(m);
  Wipe(MutableByteView(reinterpret_cast<uint8_t*>(m.payload.data()),
                       m.payload.size()));
  if (!sealed.ok()) {
    const std::string reason = client::ReasonOf(sealed.status());
    return AtPath(sealed.status(),
                  reason == "UNKNOWN_ORGANISATION" ? "recipient_org" : "");
  }
  ASSIGN_OR_RETURN(client::Accepted a, node_.Submit(sealed->envelope));
  v1::AgentRecord r;
  r.set_message_id(sealed->header.message_id());
  r.set_envelope(sealed->envelope);
  *r.mutable_header() = sealed->header;
  r.set_outgoing(true);
  r.set_read(true);
  r.set_receipt_check(a.receipt_check);
  // The node holds the message now; a failure to keep the outbox copy is
  // reported with the receipt, not as a failed send.
  absl::StatusOr<bool> kept = store_.Put(r);
  hub_.Publish(
      {"sent", a.message_id, v1::MessageType_Name(m.type), m.case_ref});
  nlohmann::json out = {{"message_id", a.message_id},
                        {"node", a.node},
                        {"accepted", IsoSeconds(a.at)},
                        {"receipt_check", a.receipt_check},
                        {"receipt_verified", a.receipt_verified},
                        {"header", HeaderJson(a.header)}};
  if (!kept.ok()) out["outbox_error"] = std::string(kept.status().message());
  return out;
}

absl::StatusOr<nlohmann::json> AgentApi::List(const User& u,
                                              const ListQuery& q) {
  RETURN_IF_ERROR(Require(u, kAnyone, "listing messages"));
  ListFilter f;
  f.case_ref = q.case_ref;
  f.unread_only = q.unread_only;
  f.limit = std::clamp<size_t>(q.limit, 1, AgentStore::kMaxList);
  if (q.box.empty() || q.box == "inbox") {
    f.box = ListFilter::Box::kInbox;
  } else if (q.box == "outbox") {
    f.box = ListFilter::Box::kOutbox;
  } else if (q.box != "all") {
    return AtPath(
        Error(absl::StatusCode::kInvalidArgument, "AGENT_REQUEST_INVALID",
              "box must be inbox, outbox or all"),
        "box");
  }
  if (!q.type.empty()) {
    std::optional<v1::MessageType> t = TypeFromName(q.type);
    v1::MessageType any;
    if (!t.has_value() && v1::MessageType_Parse(q.type, &any)) t = any;
    if (!t.has_value()) {
      return AtPath(
          Error(absl::StatusCode::kInvalidArgument, "AGENT_TYPE_UNKNOWN",
                absl::StrCat("\"", q.type,
                             "\" is not a message type; GET "
                             "/api/v1/types lists them")),
          "type");
    }
    f.type = *t;
  }
  ASSIGN_OR_RETURN(std::vector<v1::AgentRecord> records, store_.List(f));
  // Unread first, each part newest first (the store's order).
  std::stable_partition(records.begin(), records.end(),
                        [](const v1::AgentRecord& r) { return !r.read(); });
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : records) out.push_back(Summary(r));
  return out;
}

absl::StatusOr<v1::AgentRecord> AgentApi::Find(
    const std::string& id_hex) const {
  absl::StatusOr<std::vector<uint8_t>> id = HexDecode(id_hex);
  if (!id.ok() || id->size() != 16) {
    return AtPath(
        Error(absl::StatusCode::kInvalidArgument, "AGENT_REQUEST_INVALID",
              "a message id is 32 hex digits"),
        "message_id");
  }
  return store_.Get(std::string(id->begin(), id->end()));
}

absl::StatusOr<nlohmann::json> AgentApi::OpenPayload(
    const v1::AgentRecord& r) const {
  client::Delivery d;
  d.message_id = r.message_id();
  d.attempt = r.attempt();
  d.envelope = r.envelope();
  *d.header.mutable_message_id() = r.message_id();
  d.header = r.header();
  ASSIGN_OR_RETURN(client::Opened opened, node_.Open(d));
  ASSIGN_OR_RETURN(std::string text,
                   client::PayloadToJson(opened.header.type(), opened.payload));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  Wipe(MutableByteView(reinterpret_cast<uint8_t*>(text.data()), text.size()));
  if (j.is_discarded()) {
    return Error(absl::StatusCode::kDataLoss, "AGENT_STORE_CORRUPT",
                 "a stored payload did not convert to JSON");
  }
  return j;
}

absl::StatusOr<nlohmann::json> AgentApi::Message(const User& u,
                                                 const std::string& id_hex) {
  RETURN_IF_ERROR(Require(u, kAnyone, "reading a message"));
  ASSIGN_OR_RETURN(v1::AgentRecord r, Find(id_hex));
  nlohmann::json out = Summary(r);
  out["header"] = HeaderJson(r.header());
  nlohmann::json evidence = nlohmann::json::array();
  if (r.outgoing()) {
    evidence.push_back({{"step", "accepted"}, {"check", r.receipt_check()}});
    absl::StatusOr<client::Evidence> ev = node_.Status(id_hex);
    if (ev.ok()) {
      out["status"] = v1::MessageState_Name(ev->status.state());
      // Waiting for another country's node: where, since when, and why.
      const std::string held =
          client::WhereHeld(*ev, absl::ToUnixMillis(clock_.Now()));
      if (!held.empty()) out["held"] = held;
      for (const auto& [step, check] : ev->checks) {
        evidence.push_back({{"step", step}, {"check", check}});
      }
    } else {
      out["status_error"] = {{"reason", client::ReasonOf(ev.status())},
                             {"message", std::string(ev.status().message())}};
    }
    out["payload_note"] =
        "sealed to the recipient: the agent keeps no copy it can open";
  } else {
    evidence.push_back(
        {{"step", "stored"},
         {"check", absl::StrCat("verified and stored with fsync at ",
                                IsoSeconds(r.stored_unix_ms()),
                                ", then acknowledged with a signature")}});
  }
  if (r.refused_unix_ms() > 0) {
    out["refusal"] = {{"time", IsoSeconds(r.refused_unix_ms())},
                      {"reason", r.refusal_reason()},
                      {"text", r.refusal_text()},
                      {"by", r.refused_by()}};
    evidence.push_back(
        {{"step", "refused"},
         {"check", absl::StrCat("refused with a signature at ",
                                IsoSeconds(r.refused_unix_ms()), " (",
                                r.refusal_reason(), ")")}});
    out["payload_note"] =
        "refused: the agent deleted its copy, so it no longer opens";
  } else if (!r.outgoing() && u.role != Role::kAuditor) {
    absl::StatusOr<nlohmann::json> p = OpenPayload(r);
    if (p.ok()) {
      out["payload"] = *std::move(p);
      evidence.push_back({{"step", "signature"},
                          {"check",
                           "valid: the sender's key in the "
                           "directory, checked when opened now"}});
    } else {
      out["payload_error"] = {{"reason", client::ReasonOf(p.status())},
                              {"message", std::string(p.status().message())}};
    }
  }
  out["evidence"] = evidence;
  nlohmann::json notes = nlohmann::json::array();
  for (const auto& n : r.notes()) {
    notes.push_back({{"user", n.user()},
                     {"time", IsoSeconds(n.time_unix_ms())},
                     {"text", n.text()}});
  }
  out["notes"] = notes;
  return out;
}

absl::StatusOr<nlohmann::json> AgentApi::MarkRead(const User& u,
                                                  const std::string& id_hex,
                                                  const std::string& body) {
  RETURN_IF_ERROR(Require(u, kReaders, "marking a message read"));
  ASSIGN_OR_RETURN(nlohmann::json j, ParseBody(body));
  jsonio::JsonReader r(j, "", kBody);
  absl::Status s = r.Keys({"read"});
  bool read = true;
  if (s.ok()) s = r.Bool("read", &read);
  if (!s.ok()) return AtPath(s, "read");
  ASSIGN_OR_RETURN(v1::AgentRecord rec, Find(id_hex));
  RETURN_IF_ERROR(store_.SetRead(rec.message_id(), read));
  return nlohmann::json{{"message_id", id_hex}, {"read", read}};
}

absl::StatusOr<nlohmann::json> AgentApi::Refuse(const User& u,
                                                const std::string& id_hex,
                                                const std::string& body) {
  RETURN_IF_ERROR(Require(u, kReaders, "refusing a message"));
  ASSIGN_OR_RETURN(nlohmann::json j, ParseBody(body));
  jsonio::JsonReader in(j, "", kBody);
  absl::Status s = in.Keys({"reason", "text"});
  if (!s.ok()) return AtPath(s, "");
  ASSIGN_OR_RETURN(std::string reason_token, in.Str("reason", true));
  absl::StatusOr<v1::RefusalReason> reason =
      envelope::ParseRefusalReason(reason_token);
  if (!reason.ok()) {
    return Invalid("reason",
                   "must be NOT_OURS, WRONG_TYPE, HEADER_PAYLOAD_MISMATCH or "
                   "CANNOT_OPEN");
  }
  ASSIGN_OR_RETURN(std::string text, in.Str("text", true));
  if (text.empty() || text.size() > envelope::kMaxRefusalText) {
    return Invalid("text",
                   absl::StrCat("must hold 1 to ", envelope::kMaxRefusalText,
                                " bytes saying why, for the sender, without "
                                "personal data"));
  }
  ASSIGN_OR_RETURN(v1::AgentRecord rec, Find(id_hex));
  if (rec.outgoing()) {
    return Error(absl::StatusCode::kFailedPrecondition, "AGENT_NOT_REFUSABLE",
                 absl::StrCat("message ", id_hex,
                              " is one this organisation sent; only its "
                              "recipient can refuse it"));
  }
  const std::string token = envelope::RefusalReasonToken(*reason);
  if (rec.refused_unix_ms() == 0) {
    client::Delivery d;
    d.message_id = rec.message_id();
    d.envelope = rec.envelope();
    d.header = rec.header();
    d.attempt = rec.attempt();
    RETURN_IF_ERROR(node_.Refuse(d, *reason, text));
    RETURN_IF_ERROR(store_.MarkRefused(rec.message_id(), token, text, u.name));
    hub_.Publish({"refused", id_hex, v1::MessageType_Name(rec.header().type()),
                  rec.header().case_ref()});
    ASSIGN_OR_RETURN(rec, store_.Get(rec.message_id()));
  }
  return nlohmann::json{{"message_id", id_hex},
                        {"refused", IsoSeconds(rec.refused_unix_ms())},
                        {"reason", rec.refusal_reason()},
                        {"text", rec.refusal_text()},
                        {"by", rec.refused_by()}};
}

absl::StatusOr<nlohmann::json> AgentApi::AddNote(const User& u,
                                                 const std::string& id_hex,
                                                 const std::string& body) {
  RETURN_IF_ERROR(Require(u, kReaders, "adding a note"));
  ASSIGN_OR_RETURN(nlohmann::json j, ParseBody(body));
  jsonio::JsonReader r(j, "", kBody);
  absl::Status s = r.Keys({"text"});
  if (!s.ok()) return AtPath(s, "");
  ASSIGN_OR_RETURN(std::string text, r.Str("text", true));
  if (text.empty() || text.size() > 4096) {
    return Invalid("text", "must hold 1 to 4096 characters");
  }
  ASSIGN_OR_RETURN(v1::AgentRecord rec, Find(id_hex));
  v1::AgentNote note;
  note.set_user(u.name);
  note.set_time_unix_ms(absl::ToUnixMillis(clock_.Now()));
  note.set_text(text);
  RETURN_IF_ERROR(store_.AddNote(rec.message_id(), note));
  return nlohmann::json{{"message_id", id_hex},
                        {"notes", rec.notes_size() + 1}};
}

absl::StatusOr<nlohmann::json> AgentApi::Cases(const User& u) {
  RETURN_IF_ERROR(Require(u, kAnyone, "listing cases"));
  ASSIGN_OR_RETURN(std::vector<std::string> refs, store_.Cases());
  nlohmann::json out = nlohmann::json::array();
  for (const std::string& ref : refs) {
    absl::StatusOr<v1::CaseView> v = node_.Case(ref);
    if (v.ok()) {
      out.push_back(CaseSummary(*v, node_.identity().org));
    } else {
      out.push_back({{"case_ref", ref},
                     {"error",
                      {{"reason", client::ReasonOf(v.status())},
                       {"message", std::string(v.status().message())}}}});
    }
  }
  return out;
}

absl::StatusOr<nlohmann::json> AgentApi::Case(const User& u,
                                              const std::string& case_ref) {
  RETURN_IF_ERROR(Require(u, kAnyone, "reading a case"));
  ASSIGN_OR_RETURN(v1::CaseView v, node_.Case(case_ref));
  return CaseSummary(v, node_.identity().org);
}

absl::StatusOr<nlohmann::json> AgentApi::Timeline(const User& u,
                                                  const std::string& case_ref) {
  RETURN_IF_ERROR(Require(u, kAnyone, "reading a case's timeline"));
  ASSIGN_OR_RETURN(v1::CaseView v, node_.Case(case_ref));
  ListFilter f;
  f.case_ref = case_ref;
  f.limit = AgentStore::kMaxList;
  ASSIGN_OR_RETURN(std::vector<v1::AgentRecord> local, store_.List(f));
  std::map<std::string, const v1::AgentRecord*> by_id;
  for (const auto& r : local) by_id[r.message_id()] = &r;
  nlohmann::json steps = nlohmann::json::array();
  for (const v1::CaseStep& s : v.record().steps()) {
    nlohmann::json j = {{"message_id", Hex(s.message_id())},
                        {"type", v1::MessageType_Name(s.type())},
                        {"sender_org", s.sender_org()},
                        {"recipient_org", s.recipient_org()},
                        {"time", IsoSeconds(s.unix_ms())}};
    if (s.outcome() != 0 && s.type() != v1::DEADLINE_NOTICE) {
      j["outcome"] =
          v1::StepOutcome_Name(static_cast<v1::StepOutcome>(s.outcome()));
    }
    auto it = by_id.find(s.message_id());
    j["local"] = it != by_id.end();
    if (it != by_id.end() && !it->second->outgoing() &&
        u.role != Role::kAuditor) {
      absl::StatusOr<nlohmann::json> p = OpenPayload(*it->second);
      if (p.ok()) {
        j["payload"] = *std::move(p);
      } else {
        j["payload_error"] = client::ReasonOf(p.status());
      }
    }
    steps.push_back(std::move(j));
  }
  nlohmann::json out = CaseSummary(v, node_.identity().org);
  out["timeline"] = steps;
  out["steps_filtered"] = v.steps_filtered();
  return out;
}

absl::StatusOr<nlohmann::json> AgentApi::Due(const User& u) {
  RETURN_IF_ERROR(Require(u, kReaders, "listing what is due"));
  ASSIGN_OR_RETURN(std::vector<std::string> refs, store_.Cases());
  const std::string& org = node_.identity().org;
  struct Item {
    int64_t due;
    nlohmann::json j;
  };
  std::vector<Item> items;
  for (const std::string& ref : refs) {
    absl::StatusOr<v1::CaseView> v = node_.Case(ref);
    if (!v.ok()) continue;
    for (const v1::Deadline& d : v->record().deadlines()) {
      if (d.responsible_org() != org && d.waiting_org() != org) continue;
      nlohmann::json j = Owed(d, org, v->now_unix_ms());
      j["case_ref"] = ref;
      items.push_back({d.due_unix_ms(), std::move(j)});
    }
  }
  std::sort(items.begin(), items.end(),
            [](const Item& a, const Item& b) { return a.due < b.due; });
  nlohmann::json list = nlohmann::json::array();
  for (auto& i : items) list.push_back(std::move(i.j));
  nlohmann::json out = {{"due", list}};
  if (u.role == Role::kCoordinator) {
    absl::StatusOr<v1::OverdueList> o = node_.Overdue(1000);
    if (o.ok()) {
      nlohmann::json node = nlohmann::json::array();
      for (const auto& it : o->items()) {
        nlohmann::json j = Owed(it.deadline(), org, o->now_unix_ms());
        j["case_ref"] = it.case_ref();
        j["state"] = v1::CaseState_Name(it.state());
        node.push_back(std::move(j));
      }
      out["node_overdue"] = node;
    } else {
      out["node_overdue_error"] = {
          {"reason", client::ReasonOf(o.status())},
          {"message", std::string(o.status().message())}};
    }
  }
  return out;
}

}  // namespace trm::agent
