// trm-agent's API below HTTP, over a fake node and a real store on a
// simulated clock: what each role may do, what a send stores, what a read
// opens, and the contents of cases, timelines and what is due; and the
// watcher's "status" and "deadline" events.
#include "client/agent/agent_api.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>

#include "absl/strings/str_cat.h"
#include "client/agent/watcher.h"
#include "common/bytes.h"
#include "common/status.h"

namespace trm::agent {
namespace {

constexpr int64_t kNow = 1'800'000'000'000;  // ms
constexpr int64_t kHour = 3'600'000;

std::string Hex(const std::string& raw) { return HexEncode(AsBytes(raw)); }

// The node as the API sees it: seals by recording the payload, opens what
// it recorded, and answers status and case views from maps the test fills.
class FakeNode final : public NodeApi {
 public:
  FakeNode() { me_ = {"bg-ngo", "bg", "", ""}; }
  const client::Identity& identity() const override { return me_; }
  absl::StatusOr<v1::Directory> Directory() const override {
    return Error(absl::StatusCode::kFailedPrecondition, "NO_DIRECTORY",
                 "offline keys");
  }
  absl::StatusOr<client::Sealed> Seal(const client::Message& m) const override {
    if (m.recipient_org == "xx-nobody") {
      return Error(absl::StatusCode::kNotFound, "UNKNOWN_ORGANISATION",
                   "no organisation 'xx-nobody' in the directory");
    }
    client::Sealed s;
    s.header.set_message_id(std::string(15, '\x01') +
                            static_cast<char>(++sealed_));
    s.header.set_type(m.type);
    s.header.set_case_ref(m.case_ref);
    s.header.set_sender_org(me_.org);
    s.header.set_sender_node(me_.node);
    s.header.set_recipient_org(m.recipient_org);
    s.header.set_recipient_node("ng");
    s.header.set_created_unix_ms(kNow);
    s.envelope = "sealed to " + m.recipient_org;
    return s;
  }
  absl::StatusOr<client::Accepted> Submit(
      const std::string& envelope) override {
    if (!submit_error.ok()) return submit_error;
    submitted.push_back(envelope);
    client::Accepted a;
    a.message_id = Hex(std::string(15, '\x01') + static_cast<char>(sealed_));
    a.node = "bg";
    a.at = absl::FromUnixMillis(kNow);
    a.receipt_check = "valid: signed by node bg";
    a.receipt_verified = true;
    return a;
  }
  absl::StatusOr<client::Opened> Open(
      const client::Delivery& d) const override {
    auto it = payloads.find(d.message_id);
    if (it == payloads.end()) {
      return Error(absl::StatusCode::kInvalidArgument, "DECRYPTION_FAILED",
                   "not sealed to us");
    }
    ++opened;
    client::Opened o;
    o.header = d.header;
    o.payload = it->second;
    return o;
  }
  absl::Status Refuse(const client::Delivery& d, v1::RefusalReason reason,
                      absl::string_view text) override {
    if (!refuse_error.ok()) return refuse_error;
    refused.push_back({d.message_id, d.envelope, reason, std::string(text)});
    return absl::OkStatus();
  }
  absl::StatusOr<client::Evidence> Status(absl::string_view id) override {
    ++status_calls;
    auto it = states.find(std::string(id));
    if (it == states.end()) {
      return Error(absl::StatusCode::kNotFound, "MESSAGE_NOT_FOUND", "no");
    }
    client::Evidence e;
    e.status.set_state(it->second);
    if (it->second == v1::ACKNOWLEDGED) {
      e.checks.push_back({"acknowledgement", "valid: signed by ng-naptip"});
    }
    return e;
  }
  absl::StatusOr<v1::CaseView> Case(const std::string& ref) override {
    auto it = cases.find(ref);
    if (it == cases.end()) {
      return Error(absl::StatusCode::kNotFound, "CASE_NOT_FOUND",
                   "no case " + ref);
    }
    return it->second;
  }
  absl::StatusOr<v1::OverdueList> Overdue(uint32_t,
                                          absl::Duration upcoming) override {
    overdue_window = upcoming;
    return overdue;
  }
  absl::StatusOr<v1::NodeStatus> NodeStatus() override { return node_status; }
  absl::StatusOr<v1::StatisticsReport> Statistics(
      const v1::StatisticsRequest& req) override {
    stats_request = req;
    return stats;
  }

  std::map<std::string, std::string> payloads;  // message id -> bytes
  std::map<std::string, v1::MessageState> states;
  std::map<std::string, v1::CaseView> cases;
  v1::OverdueList overdue;
  v1::NodeStatus node_status;
  v1::StatisticsReport stats;
  v1::StatisticsRequest stats_request;
  absl::Duration overdue_window;
  std::vector<std::string> submitted;
  absl::Status submit_error;
  struct Refusal {
    std::string message_id, envelope;
    v1::RefusalReason reason;
    std::string text;
  };
  std::vector<Refusal> refused;
  absl::Status refuse_error;
  mutable int opened = 0;
  int status_calls = 0;

 private:
  client::Identity me_;
  mutable int sealed_ = 0;
};

v1::Deadline Due(v1::DeadlineKind kind, int64_t due, std::string by,
                 std::string to) {
  v1::Deadline d;
  d.set_kind(kind);
  d.set_due_unix_ms(due);
  d.set_responsible_org(std::move(by));
  d.set_waiting_org(std::move(to));
  return d;
}

class AgentApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/trm-agent-api-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    store_ = *AgentStore::Open(dir_, clock_);
    api_ = std::make_unique<AgentApi>(*store_, node_, hub_, clock_);
  }
  void TearDown() override {
    api_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  // A message from ng-naptip as the intake stores it, with its payload
  // known to the fake node.
  std::string Receive(const std::string& case_ref, v1::MessageType type,
                      const std::string& payload, char n) {
    v1::AgentRecord r;
    r.set_message_id(std::string(15, '\x02') + n);
    r.set_envelope("sealed to bg-ngo");
    r.mutable_header()->set_message_id(r.message_id());
    r.mutable_header()->set_type(type);
    r.mutable_header()->set_case_ref(case_ref);
    r.mutable_header()->set_sender_org("ng-naptip");
    r.mutable_header()->set_recipient_org("bg-ngo");
    EXPECT_TRUE(store_->Put(r).ok());
    node_.payloads[r.message_id()] = payload;
    return Hex(r.message_id());
  }
  static std::string Referral() {
    v1::ReferralRequest p;
    p.add_needs("a shelter bed");
    p.set_urgent(true);
    return p.SerializeAsString();
  }
  std::vector<Event> Events() {
    uint64_t missed = 0;
    std::vector<Event> e = hub_.Wait(seen_, absl::ZeroDuration(), &missed);
    if (!e.empty()) seen_ = e.back().seq;
    return e;
  }

  SimulatedClock clock_{absl::FromUnixMillis(kNow)};
  std::string dir_;
  std::unique_ptr<AgentStore> store_;
  FakeNode node_;
  EventHub hub_;
  std::unique_ptr<AgentApi> api_;
  uint64_t seen_ = 0;
  const User casey_{"casey", Role::kCaseworker};
  const User cora_{"cora", Role::kCoordinator};
  const User audrey_{"audrey", Role::kAuditor};
};

const char kReferral[] =
    R"({"type": "REFERRAL_REQUEST", "case_ref": "BG-1",
        "recipient_org": "ng-naptip",
        "payload": {"needs": ["a shelter bed"], "urgent": true}})";

TEST_F(AgentApiTest, ASendIsSealedSubmittedKeptInTheOutboxAndAnnounced) {
  absl::StatusOr<nlohmann::json> out = api_->Send(casey_, kReferral);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)["receipt_check"], "valid: signed by node bg");
  EXPECT_EQ(node_.submitted, std::vector<std::string>{"sealed to ng-naptip"});
  const std::string id = (*out)["message_id"];
  ListQuery q;
  q.box = "outbox";
  absl::StatusOr<nlohmann::json> box = api_->List(casey_, q);
  ASSERT_TRUE(box.ok());
  ASSERT_EQ(box->size(), 1u);
  EXPECT_EQ((*box)[0]["message_id"], id);
  EXPECT_EQ((*box)[0]["box"], "outbox");
  std::vector<Event> e = Events();
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].kind, "sent");
  EXPECT_EQ(e[0].message_id, id);
  EXPECT_EQ(e[0].case_ref, "BG-1");
}

TEST_F(AgentApiTest, AnAuditorMaySendNothingAndEveryRefusalNamesTheRoles) {
  absl::StatusOr<nlohmann::json> out = api_->Send(audrey_, kReferral);
  EXPECT_EQ(ErrorReason(out.status()), "AGENT_ROLE_REQUIRED");
  EXPECT_NE(out.status().message().find("caseworker"), std::string::npos)
      << out.status();
  EXPECT_TRUE(node_.submitted.empty());
  EXPECT_EQ(ErrorReason(api_->Due(audrey_).status()), "AGENT_ROLE_REQUIRED");
  EXPECT_EQ(ErrorReason(api_->MarkRead(audrey_, std::string(32, '0'),
                                       R"({"read": true})")
                            .status()),
            "AGENT_ROLE_REQUIRED");
}

TEST_F(AgentApiTest, BadRequestsNameTheFieldAndNothingIsSubmitted) {
  struct Row {
    std::string body, reason, path;
  };
  const std::vector<Row> rows = {
      {R"({"type": "REFERRAL_REQUEST"})", "AGENT_REQUEST_INVALID", ""},
      {R"({"type": "NOPE", "case_ref": "B", "recipient_org": "o",
           "payload": {}})",
       "AGENT_TYPE_UNKNOWN", "type"},
      {R"({"type": "REFERRAL_REQUEST", "case_ref": "B",
           "recipient_org": "o", "payload": {"urgent": "very"}})",
       "JSON_INVALID", "payload"},
      {R"({"type": "REFERRAL_REQUEST", "case_ref": "B",
           "recipient_org": "o", "payload": {}, "expires_in_hours": 0})",
       "AGENT_REQUEST_INVALID", "expires_in_hours"},
      {R"({"type": "REFERRAL_REQUEST", "case_ref": "B",
           "recipient_org": "o", "payload": {}, "in_reply_to": "zz"})",
       "AGENT_REQUEST_INVALID", "in_reply_to"},
      {R"({"type": "REFERRAL_REQUEST", "case_ref": "B",
           "recipient_org": "xx-nobody", "payload": {}})",
       "UNKNOWN_ORGANISATION", "recipient_org"},
      {R"({"type": "REFERRAL_REQUEST", "case_ref": "B",
           "recipient_org": "o", "payload": {}, "colour": "red"})",
       "AGENT_REQUEST_INVALID", ""},
  };
  for (const Row& row : rows) {
    absl::StatusOr<nlohmann::json> out = api_->Send(casey_, row.body);
    EXPECT_EQ(ErrorReason(out.status()), row.reason) << row.body;
    EXPECT_EQ(PathOf(out.status()), row.path) << row.body;
  }
  EXPECT_TRUE(node_.submitted.empty());
}

TEST_F(AgentApiTest, ANodeRefusalComesBackWithItsOwnReason) {
  node_.submit_error =
      Error(absl::StatusCode::kFailedPrecondition, "RULE_CONSENT_REQUIRED",
            "no consent recorded for ng-naptip");
  absl::StatusOr<nlohmann::json> out = api_->Send(casey_, kReferral);
  EXPECT_EQ(ErrorReason(out.status()), "RULE_CONSENT_REQUIRED");
  ListQuery q;
  q.box = "outbox";
  EXPECT_TRUE(api_->List(casey_, q)->empty()) << "nothing kept as sent";
}

TEST_F(AgentApiTest, AMessageOpensForACaseworkerAndNeverForAnAuditor) {
  const std::string id = Receive("BG-1", v1::REFERRAL_REQUEST, Referral(), 1);
  absl::StatusOr<nlohmann::json> msg = api_->Message(casey_, id);
  ASSERT_TRUE(msg.ok()) << msg.status();
  EXPECT_EQ((*msg)["payload"]["needs"][0], "a shelter bed");
  EXPECT_EQ((*msg)["header"]["sender_org"], "ng-naptip");
  EXPECT_EQ(node_.opened, 1);
  absl::StatusOr<nlohmann::json> aud = api_->Message(audrey_, id);
  ASSERT_TRUE(aud.ok());
  EXPECT_FALSE(aud->contains("payload"));
  EXPECT_EQ(node_.opened, 1) << "an auditor's read opens nothing";
  EXPECT_EQ(ErrorReason(api_->Message(casey_, std::string(32, 'f')).status()),
            "AGENT_MESSAGE_NOT_FOUND");
  EXPECT_EQ(ErrorReason(api_->Message(casey_, "12").status()),
            "AGENT_REQUEST_INVALID");
}

// A caseworker refuses a stored (so acknowledged) message after reading
// it: the node gets the signed refusal of exactly the stored envelope, the
// local copy goes, the event says so, and a second call changes nothing.
TEST_F(AgentApiTest, ARefusalIsSignedAtTheNodeAndTheLocalCopyGoes) {
  const std::string id = Receive("BG-1", v1::REFERRAL_REQUEST, Referral(), 1);
  const char kBody[] =
      R"({"reason": "NOT_OURS", "text": "not a case of this shelter"})";
  EXPECT_EQ(ErrorReason(api_->Refuse(audrey_, id, kBody).status()),
            "AGENT_ROLE_REQUIRED");
  absl::Status bad = api_->Refuse(casey_, id, R"({"reason": "BORED",
                                                   "text": "x"})")
                         .status();
  EXPECT_EQ(ErrorReason(bad), "AGENT_REQUEST_INVALID");
  EXPECT_EQ(PathOf(bad), "reason");
  bad = api_->Refuse(casey_, id, R"({"reason": "NOT_OURS", "text": ""})")
            .status();
  EXPECT_EQ(PathOf(bad), "text");
  EXPECT_EQ(
      ErrorReason(api_->Refuse(casey_, std::string(32, 'f'), kBody).status()),
      "AGENT_MESSAGE_NOT_FOUND");
  node_.refuse_error =
      Error(absl::StatusCode::kUnavailable, "NOT_SERVING", "the node is down");
  EXPECT_EQ(ErrorReason(api_->Refuse(casey_, id, kBody).status()),
            "NOT_SERVING");
  EXPECT_TRUE(api_->Message(casey_, id)->contains("payload"))
      << "a refusal the node did not take keeps the copy";
  node_.refuse_error = absl::OkStatus();
  Events();

  absl::StatusOr<nlohmann::json> done = api_->Refuse(casey_, id, kBody);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ((*done)["reason"], "NOT_OURS");
  EXPECT_EQ((*done)["by"], "casey");
  ASSERT_EQ(node_.refused.size(), 1u);
  EXPECT_EQ(node_.refused[0].envelope, "sealed to bg-ngo");
  EXPECT_EQ(node_.refused[0].reason, v1::REFUSAL_NOT_OURS);
  EXPECT_EQ(node_.refused[0].text, "not a case of this shelter");
  std::vector<Event> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, "refused");
  EXPECT_EQ(ev[0].message_id, id);
  EXPECT_TRUE(store_->Get(node_.refused[0].message_id)->envelope().empty())
      << "the local copy is deleted";
  absl::StatusOr<nlohmann::json> msg = api_->Message(casey_, id);
  ASSERT_TRUE(msg.ok());
  EXPECT_FALSE(msg->contains("payload"));
  EXPECT_EQ((*msg)["refusal"]["reason"], "NOT_OURS");
  EXPECT_EQ((*api_->List(casey_, ListQuery{}))[0]["refused"], true);
  ASSERT_TRUE(api_->Refuse(casey_, id, kBody).ok()) << "repeated";
  EXPECT_EQ(node_.refused.size(), 1u);

  // One's own sent message is not for this organisation to refuse.
  absl::StatusOr<nlohmann::json> sent = api_->Send(casey_, kReferral);
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(
      ErrorReason(
          api_->Refuse(casey_, (*sent)["message_id"].get<std::string>(), kBody)
              .status()),
      "AGENT_NOT_REFUSABLE");
}

TEST_F(AgentApiTest, UnreadComesFirstAndReadAndNotesAreKept) {
  const std::string a = Receive("BG-1", v1::REFERRAL_REQUEST, Referral(), 1);
  clock_.Advance(absl::Seconds(1));
  const std::string b = Receive("BG-2", v1::REFERRAL_REQUEST, Referral(), 2);
  ASSERT_TRUE(api_->MarkRead(casey_, b, R"({"read": true})").ok());
  absl::StatusOr<nlohmann::json> box = api_->List(casey_, ListQuery{});
  ASSERT_TRUE(box.ok());
  ASSERT_EQ(box->size(), 2u);
  EXPECT_EQ((*box)[0]["message_id"], a) << "unread first, though older";
  ListQuery unread;
  unread.unread_only = true;
  EXPECT_EQ(api_->List(casey_, unread)->size(), 1u);
  ListQuery by_case;
  by_case.case_ref = "BG-2";
  EXPECT_EQ((*api_->List(casey_, by_case))[0]["message_id"], b);
  ASSERT_TRUE(
      api_->AddNote(cora_, a, R"({"text": "called the shelter"})").ok());
  absl::StatusOr<nlohmann::json> msg = api_->Message(casey_, a);
  ASSERT_EQ((*msg)["notes"].size(), 1u);
  EXPECT_EQ((*msg)["notes"][0]["user"], "cora");
  EXPECT_EQ(ErrorReason(api_->AddNote(casey_, a, R"({"text": ""})").status()),
            "AGENT_REQUEST_INVALID");
  ListQuery bin;
  bin.box = "bin";
  EXPECT_EQ(ErrorReason(api_->List(casey_, bin).status()),
            "AGENT_REQUEST_INVALID");
}

TEST_F(AgentApiTest, TheOwnersCaseNamesItsCounterpartAndTheirConsent) {
  v1::CaseView v;
  v1::CaseRecord* r = v.mutable_record();
  r->set_case_ref("BG-5");
  r->set_state(v1::REFERRAL_ACKED);
  r->set_owner_org("bg-ngo");
  r->add_participants("bg-ngo");
  r->add_participants("ng-naptip");
  r->add_recipients("ng-naptip");
  (*r->mutable_recipient_nodes())["ng-naptip"] = "ng";
  v1::ConsentState& c = (*r->mutable_consents())["ng-naptip"];
  c.set_consent_ref("C-5");
  c.set_granted(true);
  node_.cases["BG-5"] = v;
  absl::StatusOr<nlohmann::json> out = api_->Case(casey_, "BG-5");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)["counterpart"], "ng-naptip");
  EXPECT_EQ((*out)["counterpart_node"], "ng");
  EXPECT_EQ((*out)["consent_ref"], "C-5");
  c.set_granted(false);
  node_.cases["BG-5"] = v;
  EXPECT_EQ((*api_->Case(casey_, "BG-5"))["consent_ref"], "")
      << "a withdrawn consent is not offered";
}

TEST_F(AgentApiTest, CasesTimelineAndDueSayWhatIsOwedByWhomAndWhen) {
  const std::string id = Receive("BG-1", v1::REFERRAL_REQUEST, Referral(), 1);
  v1::CaseView v;
  v.set_node("bg");
  v.set_now_unix_ms(kNow);
  v1::CaseRecord* r = v.mutable_record();
  r->set_case_ref("BG-1");
  r->set_state(v1::RETURN_REQUESTED);
  r->set_owner_org("ng-naptip");
  v1::CaseStep* s = r->add_steps();
  s->set_message_id(std::string(15, '\x02') + '\x01');
  s->set_type(v1::REFERRAL_REQUEST);
  s->set_sender_org("ng-naptip");
  s->set_recipient_org("bg-ngo");
  s->set_unix_ms(kNow - kHour);
  *r->add_deadlines() =
      Due(v1::REFERRAL_ACK_DUE, kNow + 72 * kHour, "bg-ngo", "ng-naptip");
  *r->add_deadlines() =
      Due(v1::MONITORING_REPORT_DUE, kNow - kHour, "ng-naptip", "bg-ngo");
  node_.cases["BG-1"] = v;

  absl::StatusOr<nlohmann::json> cases = api_->Cases(casey_);
  ASSERT_TRUE(cases.ok()) << cases.status();
  ASSERT_EQ(cases->size(), 1u);
  const nlohmann::json& c = (*cases)[0];
  EXPECT_EQ(c["state"], "RETURN_REQUESTED");
  EXPECT_NE(c["next_step"].get<std::string>().find("REFERRAL_ACK"),
            std::string::npos);
  EXPECT_EQ(c["counterpart"], "ng-naptip") << "a new message goes to the owner";
  EXPECT_EQ(c["consent_ref"], "") << "the consent is the owner's to give";
  ASSERT_EQ(c["owed"].size(), 2u);
  EXPECT_EQ(c["owed"][0]["kind"], "MONITORING_REPORT_DUE") << "soonest first";
  EXPECT_EQ(c["owed"][0]["overdue"], true);
  EXPECT_EQ(c["owed"][0]["yours"], false);
  EXPECT_EQ(c["owed"][1]["owed_by"], "bg-ngo");
  EXPECT_EQ(c["owed"][1]["yours"], true);

  absl::StatusOr<nlohmann::json> t = api_->Timeline(casey_, "BG-1");
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ((*t)["timeline"].size(), 1u);
  EXPECT_EQ((*t)["timeline"][0]["message_id"], id);
  EXPECT_EQ((*t)["timeline"][0]["local"], true);
  EXPECT_EQ((*t)["timeline"][0]["payload"]["needs"][0], "a shelter bed");
  absl::StatusOr<nlohmann::json> ta = api_->Timeline(audrey_, "BG-1");
  EXPECT_FALSE((*ta)["timeline"][0].contains("payload"));

  absl::StatusOr<nlohmann::json> due = api_->Due(casey_);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ((*due)["due"].size(), 2u);
  EXPECT_EQ((*due)["due"][0]["case_ref"], "BG-1");
  EXPECT_FALSE(due->contains("node_overdue")) << "a coordinator's view only";
  v1::OverdueItem* o = node_.overdue.add_items();
  o->set_case_ref("IT-9");
  *o->mutable_deadline() =
      Due(v1::REFERRAL_ACK_DUE, kNow - 5 * kHour, "it-ngo", "bg-ngo");
  absl::StatusOr<nlohmann::json> cd = api_->Due(cora_);
  ASSERT_EQ((*cd)["node_overdue"].size(), 1u);
  EXPECT_EQ((*cd)["node_overdue"][0]["case_ref"], "IT-9");

  EXPECT_EQ(ErrorReason(api_->Case(casey_, "BG-404").status()),
            "CASE_NOT_FOUND");
}

TEST_F(AgentApiTest, TheWatcherTellsEachStatusChangeOnceAndUpcomingDeadlines) {
  Watcher w(*store_, node_, hub_, absl::Hours(48));
  v1::CaseView v;
  v.set_now_unix_ms(kNow);
  v.mutable_record()->set_case_ref("BG-1");
  node_.cases["BG-1"] = v;
  absl::StatusOr<nlohmann::json> out = api_->Send(casey_, kReferral);
  ASSERT_TRUE(out.ok());
  const std::string id = (*out)["message_id"];
  Events();  // the "sent" event
  node_.states[id] = v1::ACCEPTED;
  absl::StatusOr<SweepResult> r = w.Sweep();
  ASSERT_TRUE(r.ok());
  std::vector<Event> e = Events();
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].kind, "status");
  EXPECT_EQ(e[0].state, "ACCEPTED");
  ASSERT_TRUE(w.Sweep().ok());
  EXPECT_TRUE(Events().empty()) << "no change, no event";
  node_.states[id] = v1::ACKNOWLEDGED;
  ASSERT_TRUE(w.Sweep().ok());
  e = Events();
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].state, "ACKNOWLEDGED");
  // Kept in the store: a new watcher (a restart) does not tell it again.
  Watcher again(*store_, node_, hub_, absl::Hours(48));
  node_.states.clear();  // and asks the node no more about a final state
  r = again.Sweep();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->first_error.ok()) << r->first_error;
  EXPECT_TRUE(Events().empty());

  auto* d = v.mutable_record()->add_deadlines();
  *d = Due(v1::REFERRAL_ACK_DUE, kNow + 24 * kHour, "bg-ngo", "ng-naptip");
  *v.mutable_record()->add_deadlines() =
      Due(v1::ARRIVAL_CONFIRMATION_DUE, kNow + 72 * kHour, "bg-ngo", "x");
  *v.mutable_record()->add_deadlines() =
      Due(v1::MONITORING_REPORT_DUE, kNow + kHour, "ng-naptip", "bg-ngo");
  node_.cases["BG-1"] = v;
  r = w.Sweep();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->deadline_events, 1u) << "ours and within 48 h only";
  e = Events();
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].kind, "deadline");
  EXPECT_EQ(e[0].type, "REFERRAL_ACK_DUE");
  EXPECT_EQ(e[0].case_ref, "BG-1");
  EXPECT_FALSE(e[0].due.empty());
  ASSERT_TRUE(w.Sweep().ok());
  EXPECT_TRUE(Events().empty()) << "told once";
  // Two days on, the next one comes within the warning.
  v.set_now_unix_ms(kNow + 25 * kHour);
  node_.cases["BG-1"] = v;
  ASSERT_TRUE(w.Sweep().ok());
  e = Events();
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].type, "ARRIVAL_CONFIRMATION_DUE");
}

TEST_F(AgentApiTest, ALongOutboxIsWatchedOverSeveralSweeps) {
  Watcher w(*store_, node_, hub_, absl::Hours(48));
  const size_t n = Watcher::kMaxStatusPerSweep + 50;
  for (size_t i = 0; i < n; ++i) {
    ASSERT_TRUE(api_->Send(casey_, kReferral).ok());
  }
  node_.cases["BG-1"] = v1::CaseView();
  ASSERT_TRUE(w.Sweep().ok());
  EXPECT_EQ(node_.status_calls, static_cast<int>(Watcher::kMaxStatusPerSweep));
  ASSERT_TRUE(w.Sweep().ok());
  EXPECT_EQ(node_.status_calls, static_cast<int>(n)) << "the rest, next time";
  ASSERT_TRUE(w.Sweep().ok());
  EXPECT_EQ(node_.status_calls,
            static_cast<int>(n + Watcher::kMaxStatusPerSweep))
      << "then from the start again";
}

TEST_F(AgentApiTest, WhoAmINamesTheUserTheOrganisationAndTheNode) {
  absl::StatusOr<nlohmann::json> me = api_->WhoAmI(audrey_);
  ASSERT_TRUE(me.ok());
  EXPECT_EQ((*me)["user"], "audrey");
  EXPECT_EQ((*me)["role"], "auditor");
  EXPECT_EQ((*me)["organisation"], "bg-ngo");
  EXPECT_EQ((*me)["node"], "bg");
  EXPECT_EQ(ErrorReason(api_->Organisations(casey_).status()), "NO_DIRECTORY");
}

TEST_F(AgentApiTest, TheNodePageIsTheCoordinatorsWithTheNodesOverdueList) {
  node_.node_status.set_node_id("bg");
  node_.node_status.set_overdue_deadlines(1);
  node_.node_status.set_relay_enabled(true);
  v1::OverdueItem* item = node_.overdue.add_items();
  item->set_case_ref("BG-7");
  *item->mutable_deadline() =
      Due(v1::REFERRAL_ACK_DUE, kNow - kHour, "ng-naptip", "bg-ngo");
  item->mutable_deadline()->set_escalated_unix_ms(kNow - kHour);
  EXPECT_EQ(ErrorReason(api_->Node(casey_).status()), "AGENT_ROLE_REQUIRED");
  EXPECT_EQ(ErrorReason(api_->Node(audrey_).status()), "AGENT_ROLE_REQUIRED");
  absl::StatusOr<nlohmann::json> out = api_->Node(cora_);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)["node_id"], "bg");
  ASSERT_EQ((*out)["overdue"].size(), 1u);
  EXPECT_EQ((*out)["overdue"][0]["case_ref"], "BG-7");
  EXPECT_EQ((*out)["overdue"][0]["owed_by"], "ng-naptip");
  EXPECT_EQ((*out)["overdue"][0]["escalated_unix_ms"], kNow - kHour);
  EXPECT_EQ(node_.overdue_window, AgentApi::kUpcomingDeadlines);
  EXPECT_TRUE((*out)["upcoming"].empty());
  v1::OverdueItem* soon = node_.overdue.add_upcoming();
  soon->set_case_ref("BG-8");
  *soon->mutable_deadline() =
      Due(v1::MONITORING_REPORT_DUE, kNow + 48 * kHour, "ng-naptip", "bg-ngo");
  out = api_->Node(cora_);
  ASSERT_EQ((*out)["upcoming"].size(), 1u);
  EXPECT_EQ((*out)["upcoming"][0]["case_ref"], "BG-8");
  EXPECT_EQ((*out)["upcoming"][0]["overdue"], false);
  EXPECT_EQ((*out)["upcoming_days"], 7);
  ASSERT_FALSE((*out)["warnings"].empty());
  EXPECT_EQ((*out)["warnings"][0]["code"], "DEADLINES_OVERDUE");
}

TEST_F(AgentApiTest, TheCoordinatorsStatisticsPageShowsOnlyPublished) {
  // kNow is 2027-01-15: by default the twelve months to January 2027.
  v1::StatisticsReport& r = node_.stats;
  r.set_node("bg");
  r.set_threshold(5);
  r.add_routes("BG>NG");
  r.add_routes("BG>IT");
  auto figure = [&](const char* measure, const char* route, const char* period,
                    uint64_t value, uint32_t suppressed) {
    v1::StatisticsFigure* f = r.add_figures();
    f->set_measure(measure);
    f->set_route(route);
    f->set_period(period);
    f->set_value(value);
    f->set_suppressed_cells(suppressed);
  };
  figure("referrals", "BG>NG", "2026-12", 7, 0);
  figure("referrals", "BG>NG", "2027-01", 0, 1);  // fewer than 5
  figure("referrals", "BG>IT", "2026-12", 0, 1);
  figure("referrals", "BG>IT", "2027-01", 0, 1);
  figure("referrals", "*", "2026-12", 7, 1);
  figure("referrals", "BG>NG", "*", 7, 1);
  figure("monitoring_reports", "BG>NG", "*", 6, 0);
  figure("monitoring_reports_late", "BG>NG", "*", 0, 1);
  figure("monitoring_reports", "BG>IT", "*", 0, 2);
  v1::StatisticsDuration* d = r.add_durations();
  d->set_route("BG>NG");
  d->set_period("*");
  d->set_count(7);
  d->set_median_ms(36 * 3600 * 1000LL);
  d->set_p90_ms(70 * 3600 * 1000LL);
  EXPECT_EQ(ErrorReason(api_->Statistics(casey_, {}).status()),
            "AGENT_ROLE_REQUIRED");
  absl::StatusOr<nlohmann::json> out = api_->Statistics(cora_, {});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(node_.stats_request.from_month(), "2026-02");
  EXPECT_EQ(node_.stats_request.to_month(), "2027-01");
  EXPECT_EQ(node_.stats_request.period(), "month");
  EXPECT_EQ((*out)["threshold"], 5);
  EXPECT_EQ((*out)["report"]["node"], "bg");
  const nlohmann::json& ref = (*out)["charts"]["referrals"];
  EXPECT_EQ(ref["periods"], nlohmann::json({"2026-12", "2027-01"}));
  ASSERT_EQ(ref["series"].size(), 1u) << ref.dump();
  EXPECT_EQ(ref["series"][0]["route"], "BG>NG");
  EXPECT_EQ(ref["series"][0]["points"][0]["value"], 7);
  EXPECT_EQ(ref["series"][0]["points"][1]["value"], 0);
  EXPECT_EQ(ref["series"][0]["points"][1]["suppressed_cells"], 1);
  EXPECT_EQ(ref["hidden"], nlohmann::json({"BG>IT"})) << "nothing published";
  ASSERT_EQ((*out)["charts"]["ack_times"].size(), 1u);
  EXPECT_EQ((*out)["charts"]["ack_times"][0]["median_seconds"], 36 * 3600);
  EXPECT_EQ((*out)["charts"]["ack_times"][0]["p90_seconds"], 70 * 3600);
  const nlohmann::json& mon = (*out)["charts"]["monitoring"];
  ASSERT_EQ(mon.size(), 1u) << mon.dump();
  EXPECT_EQ(mon[0]["reports"], 6);
  EXPECT_EQ(mon[0]["late"], 0);
  EXPECT_EQ(mon[0]["late_suppressed"], 1) << "late: fewer than 5, not 0";
  // The page's own range and period go to the node as given.
  ASSERT_TRUE(
      api_->Statistics(cora_, {"2026-01", "2026-12", "quarter", ""}).ok());
  EXPECT_EQ(node_.stats_request.from_month(), "2026-01");
  EXPECT_EQ(node_.stats_request.period(), "quarter");
}

TEST_F(AgentApiTest, TheAuditPagesNeedAScopeAndACaseOrAPeriod) {
  AuditQuery q{"BG-1", "", "", ""};
  EXPECT_EQ(ErrorReason(api_->AuditTrail(casey_, q).status()),
            "AGENT_ROLE_REQUIRED");
  absl::StatusOr<nlohmann::json> out = api_->AuditTrail(audrey_, q);
  EXPECT_EQ(ErrorReason(out.status()), "AGENT_AUDIT_NOT_CONFIGURED");
  EXPECT_NE(out.status().message().find("\"audit\""), std::string::npos);
  EXPECT_EQ(ErrorReason(api_->AuditBundle(cora_, q).status()),
            "AGENT_AUDIT_NOT_CONFIGURED");
}

// The audit page's question as the nodes get it.
class RecordingSource final : public AuditSource {
 public:
  std::vector<std::string> Nodes() const override { return {"bg"}; }
  absl::StatusOr<v1::Trail> Trail(const std::string&,
                                  const v1::TrailQuery& q) override {
    if (q.kind() == 0) asked.push_back(q);
    return Error(absl::StatusCode::kUnavailable, "NODE_UNAVAILABLE", "down");
  }
  absl::StatusOr<v1::Proof> Consistency(const std::string&, uint64_t,
                                        uint64_t) override {
    return v1::Proof();
  }
  absl::StatusOr<std::string> NodeKey(
      const v1::SignedTreeHead&) const override {
    return std::string();
  }
  absl::StatusOr<v1::StatisticsReport> Statistics(
      const std::string& node, const v1::StatisticsRequest& req) override {
    stats_asked.push_back({node, req});
    v1::StatisticsReport r;
    r.set_node(node);
    r.set_threshold(5);
    return r;
  }
  std::vector<v1::TrailQuery> asked;
  std::vector<std::pair<std::string, v1::StatisticsRequest>> stats_asked;
};

TEST_F(AgentApiTest, AnAuditorReadsTheStatisticsOfANodeInItsScope) {
  EXPECT_EQ(ErrorReason(api_->Statistics(audrey_, {}).status()),
            "AGENT_AUDIT_NOT_CONFIGURED");
  RecordingSource source;
  AuditView view(source, *store_, clock_);
  api_->SetAudit(&view);
  absl::StatusOr<nlohmann::json> out =
      api_->Statistics(audrey_, {"2026-01", "2026-12", "quarter", ""});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)["node"], "bg") << "the first node of the scope";
  EXPECT_EQ((*out)["nodes"], nlohmann::json({"bg"}));
  EXPECT_EQ((*out)["report"]["node"], "bg");
  ASSERT_EQ(source.stats_asked.size(), 1u);
  EXPECT_EQ(source.stats_asked[0].second.period(), "quarter");
  EXPECT_EQ(source.stats_asked[0].second.from_month(), "2026-01");
  absl::StatusOr<nlohmann::json> outside =
      api_->Statistics(audrey_, {"", "", "", "it"});
  EXPECT_EQ(ErrorReason(outside.status()), "AGENT_REQUEST_INVALID");
  EXPECT_EQ(PathOf(outside.status()), "node");
  EXPECT_NE(outside.status().message().find("(bg)"), std::string::npos);
  EXPECT_EQ(source.stats_asked.size(), 1u) << "nothing asked outside it";
  // A coordinator's are its own node's, asked with its organisation's.
  EXPECT_EQ(ErrorReason(api_->Statistics(cora_, {"", "", "", "ng"}).status()),
            "AGENT_REQUEST_INVALID");
}

TEST_F(AgentApiTest, TheAuditPageTakesACaseOrAPeriodInDatesOrTimes) {
  RecordingSource source;
  AuditView view(source, *store_, clock_);
  api_->SetAudit(&view);
  absl::StatusOr<nlohmann::json> out =
      api_->AuditTrail(audrey_, {"", "2027-01-10", "2027-01-11", ""});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_FALSE((*out)["verified"]);
  EXPECT_EQ((*out)["nodes"][0]["state"], "unreachable");
  ASSERT_EQ(source.asked.size(), 1u);
  absl::Time from;
  std::string err;
  ASSERT_TRUE(
      absl::ParseTime(absl::RFC3339_full, "2027-01-10T00:00:00Z", &from, &err));
  EXPECT_EQ(source.asked[0].from_unix_ms(), absl::ToUnixMillis(from));
  EXPECT_EQ(source.asked[0].to_unix_ms(),
            absl::ToUnixMillis(from + absl::Hours(48)))
      << "a date runs to the end of its day";
  EXPECT_TRUE(
      api_->AuditTrail(cora_, {"", "2027-01-10T09:30:00Z", "", ""}).ok());
  EXPECT_EQ(source.asked[1].from_unix_ms(),
            absl::ToUnixMillis(from + absl::Minutes(9 * 60 + 30)));
  EXPECT_EQ(source.asked[1].to_unix_ms(), 0);
  EXPECT_TRUE(api_->AuditTrail(audrey_, {"BG-1", "", "", ""}).ok());
  EXPECT_EQ(source.asked[2].case_ref(), "BG-1");
  struct Bad {
    AuditQuery q;
    std::string path;
  };
  for (const Bad& b :
       std::vector<Bad>{{{"", "", "", ""}, "case"},
                        {{"", "10/01/2027", "", ""}, "from"},
                        {{"", "2027-01-11", "2027-01-10", ""}, "to"}}) {
    absl::StatusOr<nlohmann::json> r = api_->AuditTrail(audrey_, b.q);
    EXPECT_EQ(ErrorReason(r.status()), "AGENT_REQUEST_INVALID") << b.path;
    EXPECT_EQ(PathOf(r.status()), b.path);
  }
  EXPECT_EQ(
      ErrorReason(api_->AuditBundle(audrey_, {"BG-1", "", "", ""}).status()),
      "AGENT_REQUEST_INVALID")
      << "a bundle names its node";
  EXPECT_EQ(source.asked.size(), 3u) << "nothing asked for a bad question";
}

}  // namespace
}  // namespace trm::agent
