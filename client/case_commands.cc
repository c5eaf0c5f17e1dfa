#include "client/case_commands.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/node_commands.h"
#include "common/bytes.h"
#include "common/cases/payload_facts.h"
#include "common/status.h"
#include "common/time_text.h"
#include "google/protobuf/text_format.h"
#include "trm/client/client.h"
#include "trm/client/payload_json.h"
#include "trm/v1/case.grpc.pb.h"

namespace trm::client {
namespace {

using nlohmann::json;

struct CaseFlags {
  NodeFlags node;
  std::string case_ref;
  std::string payloads;  // timeline: the caller's received payloads
  uint32_t max = 0;      // overdue
  // payload
  std::string type, text, json_in, out, show;
  // erase
  SealFlags seal;
  std::string keys_dir, fields, legal_basis, corrected;
  bool rectify = false;
};

std::string OutcomeName(v1::MessageType type, uint32_t outcome) {
  if (outcome == 0) return "";
  if (type == v1::DEADLINE_NOTICE) {
    return v1::DeadlineKind_Name(static_cast<v1::DeadlineKind>(outcome));
  }
  return v1::StepOutcome_Name(static_cast<v1::StepOutcome>(outcome));
}

absl::StatusOr<v1::CaseView> FetchCase(const CaseFlags& f) {
  ASSIGN_OR_RETURN(Connection c, Connect(f.node));
  return c.client->Case(f.case_ref);
}

json DeadlineJson(const v1::Deadline& d, int64_t now_ms) {
  return {
      {"kind", v1::DeadlineKind_Name(d.kind())},
      {"due", IsoSeconds(absl::FromUnixMillis(d.due_unix_ms()))},
      {"responsible", d.responsible_org()},
      {"waiting", d.waiting_org()},
      {"overdue", d.due_unix_ms() <= now_ms && d.paused_since_unix_ms() == 0},
      {"policy_version", d.policy_version()},
      {"local_rule", d.local_rule()},
      {"paused_since", d.paused_since_unix_ms() == 0
                           ? json()
                           : json(IsoSeconds(d.paused_since_unix_ms()))},
      {"left_when_back_seconds",
       d.paused_since_unix_ms() == 0
           ? json()
           : json(absl::ToInt64Seconds(client::PausedTimeLeft(d)))},
      {"unreachable_node", d.unreachable_node()},
      {"extended_by", HexEncode(AsBytes(d.extended_by()))},
      {"extended_seconds", d.extended_ms() / 1000},
      {"unreachable_since",
       d.unreachable_since_unix_ms() == 0
           ? json()
           : json(IsoSeconds(d.unreachable_since_unix_ms()))},
      {"escalated",
       d.escalated_unix_ms() == 0
           ? json()
           : json(IsoSeconds(absl::FromUnixMillis(d.escalated_unix_ms())))}};
}

// Which rule set the period: the federation's policy, or this node's
// stricter configuration.
std::string DeadlineRule(const v1::Deadline& d) {
  if (d.policy_version() == 0) return "this node's case_rules";
  if (d.local_rule()) {
    return absl::StrCat("this node's rule, stricter than policy v",
                        d.policy_version());
  }
  return absl::StrCat("policy v", d.policy_version());
}

std::string DeadlineLine(const v1::Deadline& d, int64_t now_ms) {
  if (d.paused_since_unix_ms() != 0) {
    return absl::StrCat(v1::DeadlineKind_Name(d.kind()), " owed by ",
                        d.responsible_org(), " to ", d.waiting_org(), " [",
                        DeadlineRule(d), "]  PAUSED ",
                        client::DeadlineLinkNote(d));
  }
  std::string line = absl::StrCat(
      v1::DeadlineKind_Name(d.kind()), " by ",
      IsoSeconds(absl::FromUnixMillis(d.due_unix_ms())), ", owed by ",
      d.responsible_org(), " to ", d.waiting_org(), " [", DeadlineRule(d), "]");
  if (d.unreachable_since_unix_ms() != 0) {
    absl::StrAppend(&line, "\n      ", client::DeadlineLinkNote(d));
  }
  if (!d.extended_by().empty()) {
    absl::StrAppend(&line, "  [extended by ",
                    absl::FormatDuration(absl::Milliseconds(d.extended_ms())),
                    " under contingency ", HexEncode(AsBytes(d.extended_by())),
                    "]");
  }
  if (d.escalated_unix_ms() != 0) {
    absl::StrAppend(&line, "  OVERDUE, escalated at ",
                    IsoSeconds(absl::FromUnixMillis(d.escalated_unix_ms())));
  } else if (d.due_unix_ms() <= now_ms) {
    absl::StrAppend(&line, "  OVERDUE");
  }
  return line;
}

// The soonest open deadline, or null.
const v1::Deadline* NextDue(const v1::CaseRecord& r) {
  const v1::Deadline* next = nullptr;
  for (const v1::Deadline& d : r.deadlines()) {
    if (next == nullptr || d.due_unix_ms() < next->due_unix_ms()) next = &d;
  }
  return next;
}

absl::Status Show(const CaseFlags& f, const Output& out) {
  ASSIGN_OR_RETURN(v1::CaseView view, FetchCase(f));
  const v1::CaseRecord& r = view.record();
  json deadlines = json::array();
  for (const v1::Deadline& d : r.deadlines()) {
    deadlines.push_back(DeadlineJson(d, view.now_unix_ms()));
  }
  json consents = json::object();
  for (const auto& [org, c] : r.consents()) {
    consents[org] = {
        {"consent_ref", c.consent_ref()},
        {"granted", c.granted()},
        {"since", IsoSeconds(absl::FromUnixMillis(c.since_unix_ms()))}};
  }
  const v1::Deadline* next = NextDue(r);
  if (out.json) {
    std::cout << json{{"ok", true},
                      {"case_ref", r.case_ref()},
                      {"node", view.node()},
                      {"state", v1::CaseState_Name(r.state())},
                      {"minor", r.minor()},
                      {"asylum", r.asylum()},
                      {"created",
                       IsoSeconds(absl::FromUnixMillis(r.created_unix_ms()))},
                      {"updated",
                       IsoSeconds(absl::FromUnixMillis(r.updated_unix_ms()))},
                      {"consents", consents},
                      {"recipients", r.recipients()},
                      {"deadlines", deadlines},
                      {"steps", r.steps_size()}}
                     .dump()
              << "\n";
    return absl::OkStatus();
  }
  std::cout << "case " << r.case_ref() << " at node " << view.node() << ": "
            << v1::CaseState_Name(r.state()) << (r.minor() ? "  (a child)" : "")
            << (r.asylum() ? "  (asylum: no contact with the origin country)"
                           : "")
            << "\n  opened "
            << IsoSeconds(absl::FromUnixMillis(r.created_unix_ms()))
            << ", last step "
            << IsoSeconds(absl::FromUnixMillis(r.updated_unix_ms())) << ", "
            << r.steps_size() << " step(s)"
            << (r.steps_dropped() > 0
                    ? absl::StrCat(" (and ", r.steps_dropped(),
                                   " older ones: see the audit trail)")
                    : "")
            << (view.steps_filtered() ? " of yours" : "") << "\n";
  for (const auto& [org, c] : r.consents()) {
    std::cout << "  consent " << c.consent_ref() << " for " << org << ": "
              << (c.granted() ? "granted" : "WITHDRAWN") << " since "
              << IsoSeconds(absl::FromUnixMillis(c.since_unix_ms())) << "\n";
  }
  if (r.recipients_size() > 0) {
    std::cout << "  the person's data went to:";
    for (const std::string& org : r.recipients()) std::cout << " " << org;
    std::cout << "\n";
  }
  for (const v1::Deadline& d : r.deadlines()) {
    std::cout << "  deadline " << DeadlineLine(d, view.now_unix_ms()) << "\n";
  }
  if (next != nullptr) {
    std::cout << "  next due: " << v1::DeadlineKind_Name(next->kind()) << " by "
              << IsoSeconds(absl::FromUnixMillis(next->due_unix_ms())) << "\n";
  } else {
    std::cout << "  nothing due\n";
  }
  return absl::OkStatus();
}

// A short form of the caller's own received payload of `step`, if in DIR.
std::string PayloadSummary(const std::string& dir, const v1::CaseStep& s) {
  if (dir.empty()) return "";
  const std::string path =
      absl::StrCat(dir, "/", HexEncode(AsBytes(s.message_id())), ".payload");
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::stringstream bytes;
  bytes << in.rdbuf();
  absl::StatusOr<std::string> text = PayloadToJson(s.type(), bytes.str());
  return text.ok() ? *text : "(payload is not a trm.v1 case message)";
}

absl::Status Timeline(const CaseFlags& f, const Output& out) {
  ASSIGN_OR_RETURN(v1::CaseView view, FetchCase(f));
  const v1::CaseRecord& r = view.record();
  json steps = json::array();
  for (const v1::CaseStep& s : r.steps()) {
    json j = {{"time", IsoMillis(s.unix_ms())},
              {"type", v1::MessageType_Name(s.type())},
              {"from", s.sender_org()},
              {"to", s.recipient_org()},
              {"outcome", OutcomeName(s.type(), s.outcome())},
              {"message_id", HexEncode(AsBytes(s.message_id()))}};
    const std::string payload = PayloadSummary(f.payloads, s);
    if (!payload.empty()) j["payload"] = payload;
    steps.push_back(j);
  }
  json deadlines = json::array();
  for (const v1::Deadline& d : r.deadlines()) {
    deadlines.push_back(DeadlineJson(d, view.now_unix_ms()));
  }
  if (out.json) {
    std::cout << json{{"ok", true},
                      {"case_ref", r.case_ref()},
                      {"node", view.node()},
                      {"state", v1::CaseState_Name(r.state())},
                      {"steps", steps},
                      {"steps_filtered", view.steps_filtered()},
                      {"deadlines", deadlines}}
                     .dump()
              << "\n";
    return absl::OkStatus();
  }
  std::cout << "case " << r.case_ref() << " at node " << view.node()
            << (view.steps_filtered() ? " (your steps)" : "") << "\n";
  if (r.steps_dropped() > 0) {
    std::cout << "  (" << r.steps_dropped()
              << " older steps are only in the audit trail)\n";
  }
  for (const json& s : steps) {
    std::printf("  %s  %-31s %s -> %s", s["time"].get<std::string>().c_str(),
                s["type"].get<std::string>().c_str(),
                s["from"].get<std::string>().c_str(),
                s["to"].get<std::string>().c_str());
    if (!s["outcome"].get<std::string>().empty()) {
      std::printf("  %s", s["outcome"].get<std::string>().c_str());
    }
    std::printf("\n");
    if (s.contains("payload")) {
      std::printf("      %s\n", s["payload"].get<std::string>().c_str());
    }
  }
  std::fflush(stdout);
  std::cout << "  now " << v1::CaseState_Name(r.state()) << "\n";
  for (const v1::Deadline& d : r.deadlines()) {
    std::cout << "  due: " << DeadlineLine(d, view.now_unix_ms()) << "\n";
  }
  return absl::OkStatus();
}

absl::Status Overdue(const CaseFlags& f, const Output& out) {
  ASSIGN_OR_RETURN(Connection c, Connect(f.node));
  ASSIGN_OR_RETURN(v1::OverdueList list, c.client->Overdue(f.max));
  if (out.json) {
    json items = json::array();
    for (const v1::OverdueItem& i : list.items()) {
      json d = DeadlineJson(i.deadline(), list.now_unix_ms());
      d["case_ref"] = i.case_ref();
      d["state"] = v1::CaseState_Name(i.state());
      items.push_back(d);
    }
    std::cout << json{{"ok", true},
                      {"overdue", items},
                      {"escalated_since_start", list.escalated_since_start()}}
                     .dump()
              << "\n";
    return absl::OkStatus();
  }
  std::cout << list.items_size() << " overdue deadline(s); "
            << list.escalated_since_start()
            << " escalated since the node started\n";
  for (const v1::OverdueItem& i : list.items()) {
    std::cout << "  " << i.case_ref() << " (" << v1::CaseState_Name(i.state())
              << "): " << DeadlineLine(i.deadline(), list.now_unix_ms())
              << "\n";
  }
  return absl::OkStatus();
}

// One ERASURE_OR_RECTIFICATION_NOTICE to every organisation the node saw
// receive the person's data on the case.
absl::Status Erase(const CaseFlags& f, const Output& out) {
  ASSIGN_OR_RETURN(v1::CaseView view, FetchCase(f));
  const v1::CaseRecord& r = view.record();
  v1::ErasureOrRectificationNotice notice;
  notice.set_erase(!f.rectify);
  for (absl::string_view field :
       absl::StrSplit(f.fields, ',', absl::SkipEmpty())) {
    notice.add_fields(std::string(field));
  }
  notice.set_corrected_values(f.corrected);
  notice.set_legal_basis(f.legal_basis);
  const std::string sender = f.seal.from.substr(0, f.seal.from.find('@'));
  const std::filesystem::path payload =
      std::filesystem::temp_directory_path() /
      absl::StrCat("trm-erasure-", getpid(), ".payload");
  {
    std::ofstream o(payload, std::ios::binary | std::ios::trunc);
    o << notice.SerializeAsString();
    if (!o) {
      return Error(absl::StatusCode::kUnavailable, "WRITE_FAILED",
                   absl::StrCat("cannot write ", payload.string()));
    }
  }
  json sent = json::array();
  absl::Status first_error;
  int recipients = 0;
  for (const std::string& org : r.recipients()) {
    if (org == sender) continue;
    ++recipients;
    auto node = r.recipient_nodes().find(org);
    SealFlags s = f.seal;
    s.type = "ERASURE_OR_RECTIFICATION_NOTICE";
    s.case_ref = r.case_ref();
    s.to = absl::StrCat(org, "@",
                        node == r.recipient_nodes().end() ? "" : node->second);
    s.recipient_pub = absl::StrCat(f.keys_dir, "/", org, ".enc.pub");
    s.in = payload.string();
    absl::Status st = SendCommand(f.node, s, "", Output{out.json, true});
    sent.push_back(
        {{"to", s.to}, {"ok", st.ok()}, {"error", std::string(st.message())}});
    if (!out.json) {
      std::cout << "  erasure notice to " << s.to << ": "
                << (st.ok() ? "accepted" : std::string(st.message())) << "\n";
    }
    if (!st.ok() && first_error.ok()) first_error = st;
  }
  std::filesystem::remove(payload);
  if (out.json) {
    std::cout << json{{"ok", first_error.ok()}, {"sent", sent}}.dump() << "\n";
  } else {
    std::cout << "case " << r.case_ref() << ": " << recipients
              << " organisation(s) received the person's data; "
              << (first_error.ok() ? "every one was sent the notice"
                                   : "NOT every one was reached")
              << "\n";
  }
  return first_error;
}

// A case message's payload, written 0600 from JSON (--json) or protobuf
// text (--text); with neither, a filled-in example in JSON to start from.
absl::Status Payload(const CaseFlags& f, const Output& out) {
  ASSIGN_OR_RETURN(v1::MessageType type, ParseType(f.type));
  if (!f.show.empty()) {
    ASSIGN_OR_RETURN(std::string bytes, ReadInput(f.show));
    // Refuses bytes that are not this type (unknown fields included).
    absl::Status valid = cases::ReadPayloadFacts(type, bytes).status();
    absl::StatusOr<std::string> text =
        valid.ok() ? PayloadToJson(type, bytes) : valid;
    Wipe(MutableByteView(reinterpret_cast<uint8_t*>(bytes.data()),
                         bytes.size()));
    if (!text.ok()) return text.status();
    std::cout << *text << "\n";
    return absl::OkStatus();
  }
  if (f.json_in.empty() && f.text.empty()) {
    ASSIGN_OR_RETURN(std::string example, ExamplePayloadJson(type));
    std::cout << example << "\n";
    return absl::OkStatus();
  }
  if (f.out.empty()) {
    return UsageError(
        "give --out FILE for the payload (or neither --from-json "
        "nor --text, to see an example)");
  }
  std::unique_ptr<google::protobuf::Message> m = PayloadOf(type);
  if (m == nullptr || type == v1::DEADLINE_NOTICE) {
    return Error(absl::StatusCode::kInvalidArgument, "NO_PAYLOAD_SCHEMA",
                 absl::StrCat(v1::MessageType_Name(type),
                              " has no payload an organisation writes"));
  }
  std::string bytes;
  if (!f.json_in.empty()) {
    ASSIGN_OR_RETURN(std::string text, ReadInput(f.json_in));
    ASSIGN_OR_RETURN(bytes, PayloadFromJson(type, text));
  } else {
    if (!google::protobuf::TextFormat::ParseFromString(f.text, m.get())) {
      return Error(
          absl::StatusCode::kInvalidArgument, "PAYLOAD_TEXT_INVALID",
          absl::StrCat("--text is not a trm.v1.", m->GetDescriptor()->name(),
                       " in protobuf text format (fields: see "
                       "proto/trm/v1/case.proto), e.g. --text "
                       "'contact { name: \"Ada Obi\" }'; or write JSON "
                       "and give --from-json FILE"));
    }
    bytes = m->SerializeAsString();
  }
  RETURN_IF_ERROR(WriteOutput(f.out, AsBytes(bytes), 0600));
  if (!out.json) {
    std::cout << "wrote " << m->GetDescriptor()->full_name() << " to " << f.out
              << "\n";
  } else {
    std::cout << json{{"ok", true}, {"out", f.out}}.dump() << "\n";
  }
  return absl::OkStatus();
}

}  // namespace

std::function<absl::Status(const Output&)> AddCaseCommands(CLI::App& app) {
  auto f = std::make_shared<CaseFlags>();
  CLI::App* cmd = app.add_subcommand(
      "case", "a TRM case as your node knows it (docs/workflow.md)");
  cmd->require_subcommand(1);
  CLI::App* show = cmd->add_subcommand(
      "show", "state, consents, who received data, what is due and by when");
  CLI::App* timeline = cmd->add_subcommand(
      "timeline", "every step of the case in order, and what is due");
  CLI::App* overdue = cmd->add_subcommand(
      "overdue",
      "every passed deadline across the node (the node's coordinator)");
  CLI::App* erase = cmd->add_subcommand(
      "erase",
      "send an ERASURE_OR_RECTIFICATION_NOTICE to every organisation that "
      "received the person's data on the case");
  for (CLI::App* c : {show, timeline, erase}) {
    AddNodeFlags(c, &f->node);
    c->add_option("CASE_REF", f->case_ref, "the case reference")->required();
  }
  CLI::App* payload = cmd->add_subcommand(
      "payload",
      "print an example payload of a message type in JSON, or write one "
      "from JSON or protobuf text, to seal with `trmctl send --in`");
  payload->add_option("--type", f->type, "message type, e.g. referral-ack")
      ->required();
  payload->add_option("--text", f->text,
                      "the fields, e.g. 'contact { name: \"Ada Obi\" }'");
  payload->add_option("--from-json", f->json_in,
                      "the payload in JSON (a file, - for stdin), as the "
                      "example shows");
  payload->add_option("--out", f->out, "payload file (written 0600)");
  payload
      ->add_option("--show", f->show,
                   "print this serialised payload (a received "
                   "MESSAGE_ID.payload, or what --out wrote) as JSON")
      ->excludes("--text")
      ->excludes("--from-json")
      ->excludes("--out");
  AddNodeFlags(overdue, &f->node);
  overdue->add_option("--max", f->max, "most items (default 1000)");
  timeline->add_option("--payloads", f->payloads,
                       "directory of your received payloads (trmctl receive "
                       "--out-dir): shows their content beside each step");
  erase->add_option("--from", f->seal.from, "you, as ORG@NODE")->required();
  erase->add_option("--sign-key", f->seal.sign_key, "your ORG.sign.key")
      ->required();
  erase
      ->add_option("--keys-dir", f->keys_dir,
                   "directory with the recipients' ORG.enc.pub files")
      ->required();
  erase->add_option("--consent", f->seal.consent, "consent reference");
  erase->add_option("--fields", f->fields,
                    "comma-separated fields to erase or correct");
  erase->add_option("--legal-basis", f->legal_basis, "e.g. GDPR Art. 17")
      ->required();
  erase->add_flag("--rectify", f->rectify, "a correction, not an erasure");
  erase->add_option("--corrected", f->corrected, "the corrected values");
  return [f, show, timeline, overdue, erase, payload](const Output& out) {
    if (*payload) return Payload(*f, out);
    if (*show) return Show(*f, out);
    if (*timeline) return Timeline(*f, out);
    if (*overdue) return Overdue(*f, out);
    if (*erase) return Erase(*f, out);
    return absl::InvalidArgumentError("no case command");
  };
}

}  // namespace trm::client
