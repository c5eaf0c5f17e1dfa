// Deadlines and escalation on the simulated clock: a late referral
// acknowledgement escalates once, to the right mailboxes, with its audit
// event, survives a restart of the store, and leaves the overdue list when
// the acknowledgement comes. No network, no sleeps.
#include "server/cases/deadline_scheduler.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "common/bytes.h"
#include "common/crypto/key_files.h"
#include "common/envelope/envelope.h"
#include "common/status.h"
#include "server/admin/node_status.h"
#include "server/cases/case_api.h"
#include "server/cases/contingency_rule.h"
#include "server/storage/rocksdb_store.h"
#include "tests/server/storage/in_memory_store.h"

namespace trm::cases {
namespace {

namespace fs = std::filesystem;

// 2026-11-23 09:00 UTC, a Monday.
const absl::Time kStart = absl::FromCivil(
    absl::CivilSecond(2026, 11, 23, 9, 0, 0), absl::UTCTimeZone());

class DeadlineTest : public ::testing::Test {
 protected:
  DeadlineTest() : clock_(kStart) {
    v1::Directory d;
    d.set_federation("test");
    d.set_serial(1);
    for (const char* id : {"bg", "ng"}) {
      v1::DirectoryNode* n = d.add_nodes();
      n->set_id(id);
      n->set_country(id == std::string("bg") ? "BG" : "NG");
    }
    for (auto [id, home, role] :
         {std::tuple{"bg-ngo", "bg", v1::NGO},
          std::tuple{"bg-nrm", "bg", v1::NATIONAL_COORDINATOR},
          std::tuple{"ng-naptip", "ng", v1::RECEIVING_ORGANISATION}}) {
      v1::DirectoryOrganisation* o = d.add_organisations();
      o->set_id(id);
      o->set_home_node(home);
      o->add_roles(role);
      crypto::X25519PrivateKey k = *crypto::X25519PrivateKey::Generate();
      v1::DirectoryKey* dk = o->add_encryption_keys();
      const crypto::KeyId kid = crypto::X25519KeyIdOf(k.public_key());
      dk->set_key_id(kid.data(), kid.size());
      dk->set_public_key(k.public_key().data(), 32);
      dk->set_valid_from_unix_ms(absl::ToUnixMillis(kStart - absl::Hours(1)));
      keys_.emplace(id, std::move(k));
      crypto::Ed25519PrivateKey sk = *crypto::Ed25519PrivateKey::Generate();
      v1::DirectoryKey* sdk = o->add_signing_keys();
      const crypto::KeyId skid = crypto::KeyIdOf(sk.public_key());
      sdk->set_key_id(skid.data(), skid.size());
      sdk->set_public_key(sk.public_key().raw().data(), 32);
      sign_keys_.emplace(id, std::move(sk));
    }
    dir_ = d;
    auto dir = directory::Directory::FromLocal(d);
    EXPECT_TRUE(dir.ok()) << dir.status();
    registry_ = std::make_unique<mailbox::OrgRegistry>("bg", *dir);
  }

  // The directory with a federation policy whose failed-link rule is `rule`.
  void UseFailedLinkRule(v1::FailedLinkRule rule) {
    v1::Directory d = dir_;
    d.mutable_policy()->set_version(1);
    d.mutable_policy()->mutable_contingency()->set_failed_link(rule);
    auto dir = directory::Directory::FromLocal(d);
    ASSERT_TRUE(dir.ok()) << dir.status();
    registry_ = std::make_unique<mailbox::OrgRegistry>("bg", *dir);
  }

  // The directory with a policy extending deadlines by `extension` while a
  // contingency holds.
  void UseDeadlineExtension(absl::Duration extension) {
    v1::Directory d = dir_;
    d.mutable_policy()->set_version(1);
    d.mutable_policy()->mutable_contingency()->set_deadline_extension_seconds(
        absl::ToInt64Seconds(extension));
    auto dir = directory::Directory::FromLocal(d);
    ASSERT_TRUE(dir.ok()) << dir.status();
    registry_ = std::make_unique<mailbox::OrgRegistry>("bg", *dir);
  }

  // Events of `kind` in the store's audit log.
  static std::vector<v1::AuditEvent> Events(
      const storage::testing::InMemoryStore& memory, v1::AuditEventKind kind) {
    std::vector<v1::AuditEvent> out;
    for (v1::AuditEvent& e : memory.AuditEvents()) {
      if (e.kind() == kind) out.push_back(std::move(e));
    }
    return out;
  }

  // A message of the case through `store`, under the case rules.
  absl::Status Send(storage::MessageStore& store, v1::MessageType type,
                    uint32_t outcome, const std::string& from,
                    const std::string& to) {
    v1::Header h;
    h.set_message_id(envelope::NewMessageId());
    h.set_case_ref("BG-2026-7");
    h.set_type(type);
    h.set_sender_org(from);
    h.set_sender_node(from.substr(0, 2));
    h.set_recipient_org(to);
    h.set_recipient_node(to.substr(0, 2));
    h.set_consent_ref("CONSENT-7");
    h.set_outcome(outcome);
    storage::AcceptRequest r;
    r.message_id = h.message_id();
    r.sender_org = from;
    r.recipient_org = to;
    r.queue = to.substr(0, 2) == "bg" ? to : storage::OutboundQueue("ng");
    r.envelope = "sealed";
    r.envelope_sha256 = std::string(32, 'h');
    r.expires_unix_ms = absl::ToUnixMillis(clock_.Now() + absl::Hours(24 * 60));
    r.now_unix_ms = absl::ToUnixMillis(clock_.Now());
    r.case_ref = h.case_ref();
    r.message_type = type;
    r.header = h;
    r.policy = policy_;
    return store.Accept(r).status();
  }
  void Refer(storage::MessageStore& store) {
    ASSERT_TRUE(Send(store, v1::CONSENT_RECORD, v1::CONSENT_GRANTED, "bg-ngo",
                     "ng-naptip")
                    .ok());
    ASSERT_TRUE(
        Send(store, v1::REFERRAL_REQUEST, 0, "bg-ngo", "ng-naptip").ok());
  }
  // The deadline notices waiting for `org`, opened with its key.
  std::vector<v1::DeadlineNotice> Notices(storage::MessageStore& store,
                                          const std::string& org) {
    std::vector<v1::DeadlineNotice> out;
    auto queued = store.ReadQueue(org, 0, 100);
    EXPECT_TRUE(queued.ok());
    for (const storage::QueuedMessage& m : *queued) {
      auto parsed = envelope::ParsedEnvelope::Parse(m.envelope);
      EXPECT_TRUE(parsed.ok()) << parsed.status();
      if (!parsed.ok()) continue;
      EXPECT_EQ(parsed->header().type(), v1::DEADLINE_NOTICE);
      EXPECT_EQ(parsed->header().sender_org(), "bg");
      auto payload =
          envelope::Open(*parsed, node_key_.public_key(), keys_.at(org),
                         envelope::OpenOptions{clock_.Now()});
      EXPECT_TRUE(payload.ok()) << payload.status();
      if (!payload.ok()) continue;
      v1::DeadlineNotice n;
      EXPECT_TRUE(n.ParseFromArray(payload->view().data(),
                                   static_cast<int>(payload->view().size())));
      out.push_back(n);
    }
    return out;
  }

  SimulatedClock clock_;
  v1::Directory dir_;
  CasePolicy policy_;
  crypto::Ed25519PrivateKey node_key_ = *crypto::Ed25519PrivateKey::Generate();
  std::map<std::string, crypto::X25519PrivateKey> keys_;
  std::map<std::string, crypto::Ed25519PrivateKey> sign_keys_;
  std::unique_ptr<mailbox::OrgRegistry> registry_;
};

TEST_F(DeadlineTest, ALateReferralAcknowledgementEscalatesOnce) {
  storage::testing::InMemoryStore memory;
  storage::RocksMessageStore& store = memory.store();
  DeadlineScheduler scheduler(store, *registry_, node_key_, clock_, "bg");
  CaseApi api(store, *registry_, &scheduler, clock_);
  Refer(store);
  // Upcoming for the coordinator: due in 72 hours, so within 3 days and
  // not within 2.
  auto ahead = api.ListOverdue("bg-nrm", 0, absl::Hours(24 * 3));
  ASSERT_TRUE(ahead.ok()) << ahead.status();
  EXPECT_EQ(ahead->items_size(), 0);
  ASSERT_EQ(ahead->upcoming_size(), 1);
  EXPECT_EQ(ahead->upcoming(0).deadline().kind(), v1::REFERRAL_ACK_DUE);
  EXPECT_EQ(ahead->upcoming(0).case_ref(), "BG-2026-7");
  EXPECT_EQ(api.ListOverdue("bg-nrm", 0, absl::Hours(48))->upcoming_size(), 0);
  EXPECT_EQ(api.ListOverdue("bg-nrm", 0)->upcoming_size(), 0);
  clock_.Advance(absl::Hours(71));
  EXPECT_EQ(*scheduler.Tick(), 0u) << "not due yet";
  EXPECT_TRUE(Notices(store, "bg-ngo").empty());
  clock_.Advance(absl::Hours(1) + absl::Seconds(1));
  EXPECT_EQ(*scheduler.Tick(), 1u);
  EXPECT_EQ(*scheduler.Tick(), 0u) << "escalated once";
  EXPECT_EQ(scheduler.escalated_total(), 1u);
  // ng-naptip owes it but is on another node (which notifies it): here the
  // waiting organisation and the coordinator hear of it.
  for (const std::string org : {"bg-ngo", "bg-nrm"}) {
    std::vector<v1::DeadlineNotice> n = Notices(store, org);
    ASSERT_EQ(n.size(), 1u) << org;
    EXPECT_EQ(n[0].case_ref(), "BG-2026-7");
    EXPECT_EQ(n[0].deadline().kind(), v1::REFERRAL_ACK_DUE);
    EXPECT_EQ(n[0].deadline().responsible_org(), "ng-naptip");
    EXPECT_EQ(n[0].deadline().due_unix_ms(),
              absl::ToUnixMillis(kStart + absl::Hours(72)));
    EXPECT_EQ(n[0].node(), "bg");
    EXPECT_NE(n[0].action().find("REFERRAL_ACK"), std::string::npos);
  }
  // The coordinator's overdue list; nobody else's.
  auto overdue = api.ListOverdue("bg-nrm", 0);
  ASSERT_TRUE(overdue.ok()) << overdue.status();
  ASSERT_EQ(overdue->items_size(), 1);
  EXPECT_EQ(overdue->items(0).deadline().kind(), v1::REFERRAL_ACK_DUE);
  EXPECT_EQ(overdue->items(0).state(), v1::RETURN_REQUESTED);
  EXPECT_EQ(overdue->escalated_since_start(), 1u);
  // Once escalated it is overdue, not upcoming.
  EXPECT_EQ(api.ListOverdue("bg-nrm", 0, absl::Hours(24))->upcoming_size(), 0);
  EXPECT_EQ(ErrorReason(api.ListOverdue("bg-ngo", 0).status()),
            "NOT_COORDINATOR");
  // The coordinator's node summary counts it.
  auto status =
      admin::BuildNodeStatus(*registry_, store, nullptr, nullptr, clock_.Now());
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->overdue_deadlines(), 1u);
  // The acknowledgement, late, ends it.
  ASSERT_TRUE(Send(store, v1::REFERRAL_ACK, v1::REFERRAL_ACCEPTED, "ng-naptip",
                   "bg-ngo")
                  .ok());
  EXPECT_EQ(api.ListOverdue("bg-nrm", 0)->items_size(), 0);
  EXPECT_TRUE(store.OverdueCases(10)->empty());
  EXPECT_EQ(
      admin::BuildNodeStatus(*registry_, store, nullptr, nullptr, clock_.Now())
          ->overdue_deadlines(),
      0u);
}

TEST_F(DeadlineTest, AMissedMonitoringReportEscalatesOnTheSimulatedClock) {
  storage::testing::InMemoryStore memory;
  storage::RocksMessageStore& store = memory.store();
  DeadlineScheduler scheduler(store, *registry_, node_key_, clock_, "bg");
  // Handed over in Nigeria; the receiving organisation reports every 91
  // days for a year. (bg-ngo opened the case.)
  ASSERT_TRUE(Send(store, v1::CONSENT_RECORD, v1::CONSENT_GRANTED, "bg-ngo",
                   "ng-naptip")
                  .ok());
  ASSERT_TRUE(
      Send(store, v1::HANDOVER_CONFIRMATION, 0, "ng-naptip", "bg-ngo").ok());
  for (int quarter = 1; quarter <= 2; ++quarter) {
    clock_.Advance(absl::Hours(24 * 90));
    EXPECT_EQ(*scheduler.Tick(), 0u) << "quarter " << quarter;
    ASSERT_TRUE(
        Send(store, v1::MONITORING_REPORT, 0, "ng-naptip", "bg-ngo").ok());
  }
  // The third report does not come.
  clock_.Advance(absl::Hours(24 * 91) + absl::Seconds(1));
  EXPECT_EQ(*scheduler.Tick(), 1u);
  std::vector<v1::DeadlineNotice> n = Notices(store, "bg-nrm");
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].deadline().kind(), v1::MONITORING_REPORT_DUE);
  EXPECT_EQ(n[0].deadline().responsible_org(), "ng-naptip");
  // It comes late; the next is due a period later, and nothing is overdue.
  clock_.Advance(absl::Hours(24 * 10));
  ASSERT_TRUE(
      Send(store, v1::MONITORING_REPORT, 0, "ng-naptip", "bg-ngo").ok());
  EXPECT_TRUE(store.OverdueCases(10)->empty());
  clock_.Advance(absl::Hours(24 * 91) + absl::Seconds(1));
  EXPECT_EQ(*scheduler.Tick(), 0u)
      << "a year after the handover, monitoring is over";
}

TEST_F(DeadlineTest, TheResponsibleOrganisationHereIsNotified) {
  // On NG's node the receiving organisation owes the acknowledgement.
  v1::Directory d = registry_->directory()->doc();
  d.mutable_organisations(1)->set_home_node("ng");  // NG's coordinator
  d.mutable_organisations(1)->set_id("ng-nrm");
  mailbox::OrgRegistry ng("ng", *directory::Directory::FromLocal(d));
  storage::testing::InMemoryStore memory;
  storage::RocksMessageStore& store = memory.store();
  DeadlineScheduler scheduler(store, ng, node_key_, clock_, "ng");
  v1::Deadline late;
  late.set_responsible_org("ng-naptip");
  late.set_waiting_org("bg-ngo");
  EXPECT_EQ(scheduler.NoticeRecipients(*ng.directory(), late),
            (std::vector<std::string>{"ng-naptip", "ng-nrm"}));
}

TEST_F(DeadlineTest, CaseViewForTheCoordinatorAndTheParties) {
  storage::testing::InMemoryStore memory;
  storage::RocksMessageStore& store = memory.store();
  CaseApi api(store, *registry_, nullptr, clock_);
  Refer(store);
  auto coordinator = api.GetCase("bg-nrm", "BG-2026-7");
  ASSERT_TRUE(coordinator.ok()) << coordinator.status();
  EXPECT_EQ(coordinator->record().steps_size(), 2);
  EXPECT_EQ(coordinator->record().deadlines_size(), 1);
  EXPECT_FALSE(coordinator->steps_filtered());
  auto party = api.GetCase("bg-ngo", "BG-2026-7");
  ASSERT_TRUE(party.ok());
  EXPECT_TRUE(party->steps_filtered());
  EXPECT_EQ(party->record().state(), v1::RETURN_REQUESTED);
  EXPECT_EQ(ErrorReason(api.GetCase("bg-ngo", "OTHER").status()),
            "NOT_YOUR_CASE");
  EXPECT_EQ(ErrorReason(api.GetCase("bg-nrm", "OTHER").status()),
            "CASE_NOT_FOUND");
}

TEST_F(DeadlineTest, DeadlinesSurviveARestartAndAreAudited) {
  std::string dir =
      (fs::temp_directory_path() / "trm-deadline-XXXXXX").string();
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  storage::RocksStoreOptions o;
  o.path = dir;
  o.node_id = "bg";
  {
    auto store = storage::RocksMessageStore::Open(o);
    ASSERT_TRUE(store.ok()) << store.status();
    Refer(**store);
  }
  clock_.Advance(absl::Hours(73));
  auto store = storage::RocksMessageStore::Open(o);
  ASSERT_TRUE(store.ok()) << store.status();
  DeadlineScheduler scheduler(**store, *registry_, node_key_, clock_, "bg");
  EXPECT_EQ(*scheduler.Tick(), 1u) << "the deadline outlived the process";
  EXPECT_EQ(*scheduler.Tick(), 0u);
  EXPECT_EQ(Notices(**store, "bg-nrm").size(), 1u);
  EXPECT_EQ(*(*store)->OverdueCases(10),
            (std::vector<std::string>{"BG-2026-7"}));
  v1::TrailQuery q;
  q.set_kind(v1::DEADLINE_MISSED);
  auto page = (*store)->audit()->Query(q, (*store)->audit()->Current().size);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->entries.size(), 1u) << "one event, for two notices";
  v1::AuditEvent e;
  ASSERT_TRUE(e.ParseFromString(page->entries[0].event));
  EXPECT_EQ(e.case_ref(), "BG-2026-7");
  EXPECT_EQ(e.recipient_org(), "ng-naptip");
  EXPECT_NE(e.detail().find("REFERRAL_ACK_DUE"), std::string::npos);
  store->reset();
  fs::remove_all(dir);
}

// A ten-day outage of NG's node under FAILED_LINK_PAUSE: the acknowledgement
// NG owes does not pass while NG cannot be reached; once the link is back it
// runs on with the 71 hours it had left, then passes as usual.
TEST_F(DeadlineTest, ADeadlineOwedAcrossAFailedLinkPausesForTenDays) {
  UseFailedLinkRule(v1::FAILED_LINK_PAUSE);
  storage::testing::InMemoryStore memory;
  storage::RocksMessageStore& store = memory.store();
  DeadlineScheduler scheduler(store, *registry_, node_key_, clock_, "bg");
  absl::Time ng_down = absl::InfinitePast();
  std::vector<std::string> asked;
  scheduler.set_links([&](const std::string& node) {
    asked.push_back(node);
    return ng_down;
  });
  Refer(store);
  clock_.Advance(absl::Hours(1));
  ng_down = clock_.Now();
  const absl::Time outage_start = clock_.Now();
  // Ten days, looked at every 10 minutes.
  size_t ticks = 0;
  while (clock_.Now() < outage_start + absl::Hours(24 * 10)) {
    clock_.Advance(absl::Minutes(10));
    ASSERT_EQ(*scheduler.Tick(), 0u) << "at " << clock_.Now();
    ++ticks;
  }
  EXPECT_GT(ticks, 1000u);
  EXPECT_EQ(asked.front(), "ng");
  EXPECT_TRUE(Notices(store, "bg-ngo").empty()) << "nobody is blamed";
  EXPECT_TRUE(Notices(store, "bg-nrm").empty());
  EXPECT_TRUE(store.OverdueCases(10)->empty());
  EXPECT_EQ(scheduler.paused_total(), 1u);
  v1::CaseRecord rec = *store.GetCase("BG-2026-7");
  ASSERT_EQ(rec.deadlines_size(), 1);
  EXPECT_EQ(rec.deadlines(0).paused_since_unix_ms(),
            absl::ToUnixMillis(outage_start));
  EXPECT_EQ(rec.deadlines(0).paused_due_unix_ms(),
            absl::ToUnixMillis(kStart + absl::Hours(72)));
  EXPECT_EQ(rec.deadlines(0).unreachable_node(), "ng");
  std::vector<v1::AuditEvent> paused = Events(memory, v1::DEADLINE_PAUSED);
  ASSERT_EQ(paused.size(), 1u) << "one event, however long the outage";
  EXPECT_EQ(paused[0].peer_node(), "ng");
  EXPECT_EQ(paused[0].recipient_org(), "ng-naptip");
  EXPECT_NE(paused[0].detail().find("71h left"), std::string::npos)
      << paused[0].detail();

  // The link is back: 71 hours from now.
  ng_down = absl::InfinitePast();
  clock_.Advance(absl::Minutes(10));
  const absl::Time back = clock_.Now();
  EXPECT_EQ(*scheduler.Tick(), 0u);
  rec = *store.GetCase("BG-2026-7");
  EXPECT_EQ(rec.deadlines(0).due_unix_ms(),
            absl::ToUnixMillis(back + absl::Hours(71)));
  EXPECT_EQ(rec.deadlines(0).paused_since_unix_ms(), 0);
  EXPECT_EQ(rec.deadlines(0).paused_total_ms(),
            absl::ToInt64Milliseconds(back - outage_start));
  std::vector<v1::AuditEvent> resumed = Events(memory, v1::DEADLINE_RESUMED);
  ASSERT_EQ(resumed.size(), 1u);
  EXPECT_EQ(resumed[0].peer_node(), "ng");
  clock_.Advance(absl::Hours(71) - absl::Seconds(1));
  EXPECT_EQ(*scheduler.Tick(), 0u);
  clock_.Advance(absl::Seconds(2));
  EXPECT_EQ(*scheduler.Tick(), 1u) << "then it passes as any other";
  EXPECT_EQ(Notices(store, "bg-ngo").size(), 1u);
  EXPECT_EQ(Notices(store, "bg-nrm").size(), 1u);
  ASSERT_EQ(Events(memory, v1::DEADLINE_MISSED).size(), 1u);
  EXPECT_EQ(Events(memory, v1::DEADLINE_MISSED)[0].peer_node(), "")
      << "missed with the link up: the organisation's";
}

// Under FAILED_LINK_ESCALATE_TO_COORDINATORS (and with no rule) it passes on
// time, but only the coordinator is told and the record says why.
TEST_F(DeadlineTest, ADeadlineOwedAcrossAFailedLinkGoesToTheCoordinatorOnly) {
  for (v1::FailedLinkRule rule : {v1::FAILED_LINK_ESCALATE_TO_COORDINATORS,
                                  v1::FAILED_LINK_RULE_UNSPECIFIED}) {
    SCOPED_TRACE(v1::FailedLinkRule_Name(rule));
    clock_.Set(kStart);
    UseFailedLinkRule(rule);
    storage::testing::InMemoryStore memory;
    storage::RocksMessageStore& store = memory.store();
    DeadlineScheduler scheduler(store, *registry_, node_key_, clock_, "bg");
    const absl::Time down = kStart + absl::Hours(2);
    scheduler.set_links([&](const std::string&) {
      return clock_.Now() >= down ? down : absl::InfinitePast();
    });
    Refer(store);
    clock_.Advance(absl::Hours(72) + absl::Seconds(1));
    EXPECT_EQ(*scheduler.Tick(), 1u);
    EXPECT_EQ(*scheduler.Tick(), 0u);
    EXPECT_TRUE(Notices(store, "bg-ngo").empty())
        << "the waiting organisation is not told the other one failed";
    std::vector<v1::DeadlineNotice> n = Notices(store, "bg-nrm");
    ASSERT_EQ(n.size(), 1u);
    EXPECT_EQ(n[0].deadline().unreachable_node(), "ng");
    EXPECT_EQ(n[0].deadline().unreachable_since_unix_ms(),
              absl::ToUnixMillis(down));
    std::vector<v1::AuditEvent> missed = Events(memory, v1::DEADLINE_MISSED);
    ASSERT_EQ(missed.size(), 1u);
    EXPECT_EQ(missed[0].peer_node(), "ng");
    EXPECT_NE(missed[0].detail().find("not counted against ng-naptip"),
              std::string::npos)
        << missed[0].detail();
    EXPECT_TRUE(Events(memory, v1::DEADLINE_PAUSED).empty());
  }
}

// A deadline that passed before the link failed was the organisation's to
// meet: it escalates as usual, under either rule.
TEST_F(DeadlineTest, ALinkThatFailedAfterTheDeadlineChangesNothing) {
  UseFailedLinkRule(v1::FAILED_LINK_PAUSE);
  storage::testing::InMemoryStore memory;
  storage::RocksMessageStore& store = memory.store();
  DeadlineScheduler scheduler(store, *registry_, node_key_, clock_, "bg");
  const absl::Time down = kStart + absl::Hours(73);
  scheduler.set_links([&](const std::string&) { return down; });
  Refer(store);
  clock_.Advance(absl::Hours(74));
  EXPECT_EQ(*scheduler.Tick(), 1u);
  EXPECT_EQ(Notices(store, "bg-ngo").size(), 1u);
  EXPECT_EQ(scheduler.paused_total(), 0u);
}

// A contingency for NG declared by BG's coordinator: the acknowledgement NG
// owes passes a day later, once; ending it lists the deadline it deferred;
// only the node's coordinator declares, and a peer carries only its own.
TEST_F(DeadlineTest, AContingencyExtendsADeadlineOnceAndItsEndListsIt) {
  UseDeadlineExtension(absl::Hours(24));
  storage::testing::InMemoryStore memory;
  storage::RocksMessageStore& store = memory.store();
  DeadlineScheduler scheduler(store, *registry_, node_key_, clock_, "bg");
  contingency::ContingencyBook book(store, *registry_, clock_, "bg");
  scheduler.set_contingencies(&book);
  v1::Contingency c;
  c.set_id(std::string(16, '\x05'));
  c.set_country("NG");
  c.set_reason("flooding: offices closed");
  c.set_declared_by("bg-nrm");
  c.set_node("bg");
  c.set_start_unix_ms(absl::ToUnixMillis(kStart));
  auto declared = contingency::SignContingency(c, sign_keys_.at("bg-nrm"));
  ASSERT_TRUE(declared.ok()) << declared.status();
  EXPECT_EQ(ErrorReason(book.Declare("bg-ngo", *declared).status()),
            "CONTINGENCY_INVALID")
      << "only the declaring coordinator submits it";
  EXPECT_EQ(ErrorReason(book.Receive("ng", *declared)), "CONTINGENCY_INVALID")
      << "a peer carries its own declarations only";
  ASSERT_TRUE(book.Declare("bg-nrm", *declared).ok());
  ASSERT_TRUE(book.Declare("bg-nrm", *declared).ok()) << "a repeat is fine";
  EXPECT_EQ(Events(memory, v1::CONTINGENCY_DECLARED).size(), 1u);
  EXPECT_EQ(book.ToCarry().size(), 1u);

  Refer(store);
  clock_.Advance(absl::Hours(72) + absl::Seconds(1));
  EXPECT_EQ(*scheduler.Tick(), 0u) << "extended, not escalated";
  v1::CaseRecord rec = *store.GetCase("BG-2026-7");
  EXPECT_EQ(rec.deadlines(0).due_unix_ms(),
            absl::ToUnixMillis(kStart + absl::Hours(96)));
  EXPECT_EQ(rec.deadlines(0).extended_by(), c.id());
  ASSERT_EQ(Events(memory, v1::DEADLINE_EXTENDED).size(), 1u);
  EXPECT_EQ(Events(memory, v1::DEADLINE_EXTENDED)[0].recipient_org(),
            "ng-naptip");

  // Ended: what it deferred is listed for the coordinator.
  c.set_end_unix_ms(absl::ToUnixMillis(clock_.Now()));
  auto ended = book.Declare(
      "bg-nrm", *contingency::SignContingency(c, sign_keys_.at("bg-nrm")));
  ASSERT_TRUE(ended.ok()) << ended.status();
  ASSERT_EQ(ended->deferred_size(), 1);
  EXPECT_NE(ended->deferred(0).find("BG-2026-7 REFERRAL_ACK_DUE owed by "
                                    "ng-naptip to bg-ngo, due "),
            std::string::npos)
      << ended->deferred(0);
  EXPECT_EQ(Events(memory, v1::CONTINGENCY_ENDED).size(), 1u);

  clock_.Advance(absl::Hours(24));
  EXPECT_EQ(*scheduler.Tick(), 1u) << "then it passes, once";
  EXPECT_EQ(*scheduler.Tick(), 0u);
  EXPECT_EQ(Events(memory, v1::DEADLINE_EXTENDED).size(), 1u);

  // A deadline set after the contingency ended is not extended.
  ASSERT_TRUE(Send(store, v1::CONSENT_RECORD, v1::CONSENT_GRANTED, "bg-ngo",
                   "ng-naptip")
                  .ok());
  v1::Deadline later = rec.deadlines(0);
  later.set_set_unix_ms(c.end_unix_ms() + 1);
  later.clear_extended_by();
  EXPECT_FALSE(
      ExtendForContingency(later, "X", {c}, absl::Hours(24), clock_.Now())
          .has_value());
}

}  // namespace
}  // namespace trm::cases
