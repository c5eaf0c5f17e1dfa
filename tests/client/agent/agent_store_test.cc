// trm-agent's store on the simulated clock: durable records, idempotent
// puts, listing, local state that survives a reopen, erasure of a case,
// retention of closed cases, and no payload in plaintext on disk.
#include "client/agent/agent_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "common/crypto/ed25519.h"
#include "common/crypto/x25519.h"
#include "common/envelope/envelope.h"
#include "common/status.h"

namespace trm::agent {
namespace {

constexpr absl::string_view kSecret = "Ada Obi, born 1999, phone +359 88";

class AgentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/trm-agent-store-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    store_.reset();
    absl::StatusOr<std::unique_ptr<AgentStore>> s =
        AgentStore::Open(dir_, clock_);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }
  // A real sealed envelope whose payload is kSecret.
  v1::AgentRecord Record(const std::string& case_ref, v1::MessageType type) {
    v1::Header h;
    h.set_schema_version(envelope::kSchemaVersion);
    h.set_message_id(envelope::NewMessageId());
    h.set_type(type);
    h.set_case_ref(case_ref);
    h.set_sender_org("bg-ngo");
    h.set_sender_node("bg");
    h.set_recipient_org("ng-naptip");
    h.set_recipient_node("ng");
    h.set_created_unix_ms(absl::ToUnixMillis(clock_.Now()));
    h.set_expires_unix_ms(absl::ToUnixMillis(clock_.Now() + absl::Hours(1)));
    absl::StatusOr<v1::Envelope> env =
        envelope::Seal(h, AsBytes(kSecret), sender_, recipient_.public_key());
    EXPECT_TRUE(env.ok()) << env.status();
    absl::StatusOr<envelope::ParsedEnvelope> parsed =
        envelope::ParsedEnvelope::Parse(env->SerializeAsString());
    v1::AgentRecord r;
    r.set_message_id(h.message_id());
    r.set_envelope(env->SerializeAsString());
    *r.mutable_header() = parsed->header();
    r.set_attempt(1);
    return r;
  }
  std::string Put(const std::string& case_ref,
                  v1::MessageType type = v1::REFERRAL_REQUEST) {
    v1::AgentRecord r = Record(case_ref, type);
    absl::StatusOr<bool> added = store_->Put(r);
    EXPECT_TRUE(added.ok() && *added) << added.status();
    clock_.Advance(absl::Seconds(1));
    return r.message_id();
  }
  static ListFilter Filter(std::string case_ref, v1::MessageType type,
                           bool unread_only, size_t limit = 100) {
    ListFilter f;
    f.case_ref = std::move(case_ref);
    f.type = type;
    f.unread_only = unread_only;
    f.limit = limit;
    return f;
  }
  static constexpr v1::MessageType kAny = v1::MESSAGE_TYPE_UNSPECIFIED;
  std::vector<std::string> Ids(const ListFilter& f) {
    absl::StatusOr<std::vector<v1::AgentRecord>> got = store_->List(f);
    EXPECT_TRUE(got.ok()) << got.status();
    std::vector<std::string> ids;
    for (const v1::AgentRecord& r : *got) ids.push_back(r.message_id());
    return ids;
  }

  SimulatedClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  crypto::Ed25519PrivateKey sender_ = *crypto::Ed25519PrivateKey::Generate();
  crypto::X25519PrivateKey recipient_ = *crypto::X25519PrivateKey::Generate();
  std::string dir_;
  std::unique_ptr<AgentStore> store_;
};

TEST_F(AgentStoreTest, APutIsDurableAndTheFirstCopyIsKept) {
  v1::AgentRecord r = Record("BG-1", v1::REFERRAL_REQUEST);
  ASSERT_TRUE(*store_->Put(r));
  const int64_t stored = absl::ToUnixMillis(clock_.Now());
  clock_.Advance(absl::Minutes(5));
  r.set_attempt(2);  // delivered again after a crash before the ack
  absl::StatusOr<bool> again = store_->Put(r);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  Reopen();
  absl::StatusOr<v1::AgentRecord> got = store_->Get(r.message_id());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->attempt(), 1u);
  EXPECT_EQ(got->stored_unix_ms(), stored);
  EXPECT_EQ(got->envelope(), r.envelope());
  EXPECT_EQ(ErrorReason(store_->Get(std::string(16, 'x')).status()),
            "AGENT_MESSAGE_NOT_FOUND");
  v1::AgentRecord bad;
  EXPECT_FALSE(store_->Put(bad).ok());
}

TEST_F(AgentStoreTest, ListFiltersNewestFirstWithinItsLimit) {
  const std::string a = Put("BG-1");
  const std::string b = Put("BG-2", v1::CONSENT_RECORD);
  const std::string c = Put("BG-1", v1::REFERRAL_ACK);
  const std::string d = Put("BG-10");
  EXPECT_EQ(Ids({}), (std::vector<std::string>{d, c, b, a}));
  EXPECT_EQ(Ids(Filter("BG-1", kAny, false)), (std::vector<std::string>{c, a}));
  EXPECT_EQ(Ids(Filter("", v1::CONSENT_RECORD, false)),
            (std::vector<std::string>{b}));
  EXPECT_EQ(Ids(Filter("", kAny, false, 2)), (std::vector<std::string>{d, c}));
  ASSERT_TRUE(store_->SetRead(c, true).ok());
  EXPECT_EQ(Ids(Filter("", kAny, true)), (std::vector<std::string>{d, b, a}));
  EXPECT_EQ(Ids(Filter("BG-1", kAny, true)), (std::vector<std::string>{a}));
}

TEST_F(AgentStoreTest, ReadAndNotesSurviveAReopen) {
  const std::string a = Put("BG-1");
  ASSERT_TRUE(store_->SetRead(a, true).ok());
  v1::AgentNote note;
  note.set_user("maria");
  note.set_text("called the shelter");
  ASSERT_TRUE(store_->AddNote(a, note).ok());
  Reopen();
  absl::StatusOr<v1::AgentRecord> got = store_->Get(a);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->read());
  ASSERT_EQ(got->notes_size(), 1);
  EXPECT_EQ(got->notes(0).user(), "maria");
  EXPECT_EQ(got->notes(0).time_unix_ms(), absl::ToUnixMillis(clock_.Now()));
  EXPECT_EQ(ErrorReason(store_->SetRead(std::string(16, 'y'), true)),
            "AGENT_MESSAGE_NOT_FOUND");
}

TEST_F(AgentStoreTest, AnErasureRemovesOnlyThatCasesCopies) {
  const std::string a = Put("BG-1");
  Put("BG-1", v1::CONSENT_RECORD);
  const std::string other = Put("BG-10");
  absl::StatusOr<size_t> erased = store_->EraseCase("BG-1");
  ASSERT_TRUE(erased.ok());
  EXPECT_EQ(*erased, 2u);
  EXPECT_EQ(ErrorReason(store_->Get(a).status()), "AGENT_MESSAGE_NOT_FOUND");
  EXPECT_EQ(Ids({}), (std::vector<std::string>{other}));
  EXPECT_TRUE(Ids(Filter("BG-1", kAny, false)).empty());
  EXPECT_EQ(*store_->EraseCase("BG-1"), 0u);
}

TEST_F(AgentStoreTest, RetentionPurgesClosedCasesAfterTheirPeriodOnly) {
  Put("BG-1");
  Put("BG-1", v1::CASE_CLOSURE);
  const std::string open = Put("BG-2");
  // The closure was stored 2 s before now (two puts ago).
  clock_.Advance(absl::Hours(24 * 30) - absl::Seconds(3));
  absl::StatusOr<std::vector<std::string>> purged =
      store_->PurgeClosed(absl::Hours(24 * 30));
  ASSERT_TRUE(purged.ok());
  EXPECT_TRUE(purged->empty()) << "a second too early";
  clock_.Advance(absl::Seconds(1));
  purged = store_->PurgeClosed(absl::Hours(24 * 30));
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, std::vector<std::string>{"BG-1"});
  EXPECT_EQ(Ids({}), (std::vector<std::string>{open}));
  EXPECT_TRUE(store_->PurgeClosed(absl::Hours(24 * 30))->empty());
}

TEST_F(AgentStoreTest, NoPayloadInPlaintextOnDisk) {
  for (int i = 0; i < 20; ++i) Put(absl::StrCat("BG-", i));
  ASSERT_TRUE(store_->SetRead(Ids(Filter("", kAny, false, 1))[0], true).ok());
  store_.reset();  // closes: the memtable is flushed into the files
  size_t bytes = 0;
  bool case_ref_seen = false;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    const std::string data((std::istreambuf_iterator<char>(in)),
                           std::istreambuf_iterator<char>());
    bytes += data.size();
    EXPECT_EQ(data.find(std::string(kSecret)), std::string::npos) << e.path();
    // The case reference, pseudonymous and in the header, is there: the
    // check reads the stored bytes as they are.
    if (data.find("BG-19") != std::string::npos) case_ref_seen = true;
  }
  EXPECT_GT(bytes, 0u);
  EXPECT_TRUE(case_ref_seen);
  Reopen();
  EXPECT_EQ(Ids(Filter("", kAny, false, 1000)).size(), 20u);
}

}  // namespace
}  // namespace trm::agent
