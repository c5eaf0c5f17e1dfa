// RelayReceiver and RelayDispatcher without a network: the in-memory store,
// a simulated clock, a fake transport that hands batches straight to a
// receiving node's RelayReceiver (or fails on demand).
#include <gtest/gtest.h>

#include <deque>

#include "common/contingency/declaration.h"
#include "common/crypto/key_files.h"
#include "common/envelope/acknowledgement.h"
#include "common/envelope/refusal.h"
#include "common/status.h"
#include "server/contingency/contingency_book.h"
#include "server/federation/relay_dispatcher.h"
#include "server/federation/relay_receiver.h"
#include "server/mailbox/mailbox.h"
#include "server/storage/rocksdb_store.h"
#include "tests/server/storage/in_memory_store.h"

namespace trm::federation {
namespace {

using absl::StatusCode;
constexpr int64_t kStartMs = 1'800'000'000'000;

struct Keys {
  crypto::Ed25519PrivateKey sign = *crypto::Ed25519PrivateKey::Generate();
  crypto::X25519PrivateKey enc = *crypto::X25519PrivateKey::Generate();
};

void AddKey(google::protobuf::RepeatedPtrField<v1::DirectoryKey>* keys,
            const crypto::Ed25519PrivateKey& k) {
  v1::DirectoryKey* d = keys->Add();
  const crypto::KeyId id = crypto::KeyIdOf(k.public_key());
  d->set_key_id(id.data(), id.size());
  d->set_public_key(k.public_key().raw().data(), 32);
}
void AddKey(google::protobuf::RepeatedPtrField<v1::DirectoryKey>* keys,
            const crypto::X25519PrivateKey& k) {
  v1::DirectoryKey* d = keys->Add();
  const crypto::KeyId id = crypto::X25519KeyIdOf(k.public_key());
  d->set_key_id(id.data(), id.size());
  d->set_public_key(k.public_key().data(), 32);
}

// One side of the federation: a node's store, signer and registry.
struct Node {
  Node(std::string id, const v1::Directory& doc,
       const crypto::Ed25519PrivateKey& key)
      : id(id),
        registry(id, *directory::Directory::FromLocal(doc)),
        signer(key) {}
  std::string id;
  storage::testing::InMemoryStore memory;
  storage::RocksMessageStore& store = memory.store();
  mailbox::OrgRegistry registry;
  receipts::ReceiptSigner signer;
};

// Delivers to a receiver, or fails while `down`, or answers with whatever
// `answer` makes of the receiver's results.
class FakeTransport : public PeerTransport {
 public:
  FakeTransport(RelayReceiver& to, std::string from)
      : to_(to), from_(std::move(from)) {}
  absl::StatusOr<v1::RelayAck> Send(const v1::RelayBatch& batch) override {
    ++calls;
    if (down) {
      return Error(StatusCode::kUnavailable, "RELAY_FAILED",
                   "connection refused");
    }
    std::vector<std::string> envs(batch.envelopes().begin(),
                                  batch.envelopes().end());
    v1::RelayAck ack;
    ack.set_batch_id(batch.batch_id());
    for (v1::RelayResult& r : to_.Receive(from_, envs)) {
      if (answer) answer(r);
      *ack.add_results() = std::move(r);
    }
    std::vector<v1::PathNotice> notices(batch.notices().begin(),
                                        batch.notices().end());
    for (v1::NoticeResult& r : to_.ReceiveNotices(from_, notices)) {
      *ack.add_notice_results() = std::move(r);
    }
    if (batch.envelopes_size() > 0) batches.push_back(batch.envelopes_size());
    notice_counts.push_back(batch.notices_size());
    return ack;
  }
  bool down = false;
  int calls = 0;
  std::vector<int> batches, notice_counts;
  std::function<void(v1::RelayResult&)> answer;

 private:
  RelayReceiver& to_;
  std::string from_;
};

class RelayTest : public ::testing::Test {
 protected:
  RelayTest() {
    doc_.set_federation("test");
    doc_.set_serial(1);
    for (auto [id, key] : {std::pair{"bg", &bg_key_}, std::pair{"ng", &ng_key_},
                           std::pair{"it", &it_key_}}) {
      v1::DirectoryNode* n = doc_.add_nodes();
      n->set_id(id);
      AddKey(n->mutable_signing_keys(), *key);
    }
    for (auto [id, home, keys] : {std::tuple{"bg-ngo", "bg", &ngo_},
                                  std::tuple{"ng-naptip", "ng", &naptip_},
                                  std::tuple{"it-ngo", "it", &it_ngo_},
                                  std::tuple{"bg-nrm", "bg", &nrm_}}) {
      v1::DirectoryOrganisation* o = doc_.add_organisations();
      o->set_id(id);
      o->set_home_node(home);
      if (keys == &nrm_) o->add_roles(v1::NATIONAL_COORDINATOR);
      AddKey(o->mutable_signing_keys(), keys->sign);
      AddKey(o->mutable_encryption_keys(), keys->enc);
    }
    doc_.mutable_policy()->set_version(1);
    doc_.mutable_policy()->mutable_contingency()->add_urgent_types(
        v1::RISK_FEEDBACK);
    doc_.mutable_policy()->mutable_contingency()->add_urgent_types(
        v1::NON_DEPARTURE_NOTICE);
    bg_ = std::make_unique<Node>("bg", doc_, bg_key_);
    ng_ = std::make_unique<Node>("ng", doc_, ng_key_);
    RelayReceiverOptions ro;
    ro.node_id = "ng";
    receiver_ = std::make_unique<RelayReceiver>(ro, ng_->registry, ng_->store,
                                                ng_->signer, clock_);
    transport_ = std::make_unique<FakeTransport>(*receiver_, "bg");
    RelayPolicy policy;
    policy.batch = 4;
    dispatcher_ = std::make_unique<RelayDispatcher>(
        "ng", policy, bg_->store, bg_->registry, bg_->signer, *transport_,
        clock_, [this] { return random_; });
  }

  std::string Seal(const std::string& from_org, const std::string& from_node,
                   const std::string& to_org, const std::string& to_node,
                   const Keys& signer, const std::string& id = "",
                   const std::string& case_ref = "BG-1",
                   const Keys* sealed_to = nullptr,
                   absl::Duration lifetime = absl::Hours(1),
                   v1::MessageType type = v1::REFERRAL_REQUEST) {
    v1::Header h;
    h.set_schema_version(1);
    h.set_message_id(id.empty() ? envelope::NewMessageId() : id);
    h.set_case_ref(case_ref);
    h.set_type(type);
    h.set_sender_org(from_org);
    h.set_sender_node(from_node);
    h.set_recipient_org(to_org);
    h.set_recipient_node(to_node);
    h.set_created_unix_ms(absl::ToUnixMillis(clock_.Now()));
    h.set_expires_unix_ms(h.created_unix_ms() +
                          absl::ToInt64Milliseconds(lifetime));
    auto env = envelope::Seal(
        h, AsBytes(std::string("payload")), signer.sign,
        (sealed_to == nullptr ? naptip_ : *sealed_to).enc.public_key());
    EXPECT_TRUE(env.ok()) << env.status();
    return env->SerializeAsString();
  }
  std::string ToNg() { return Seal("bg-ngo", "bg", "ng-naptip", "ng", ngo_); }
  // Queues `wire` at BG for NG, as the BG mailbox would (or at `node` for
  // `peer`).
  std::string QueueAtBg(const std::string& wire) {
    return QueueAt(*bg_, "ng", wire);
  }
  std::string QueueAt(Node& node, const std::string& peer,
                      const std::string& wire) {
    auto parsed = envelope::ParsedEnvelope::Parse(wire, envelope::Limits());
    storage::AcceptRequest r;
    r.message_id = parsed->header().message_id();
    r.sender_org = parsed->header().sender_org();
    r.recipient_org = parsed->header().recipient_org();
    r.queue = storage::OutboundQueue(peer);
    r.envelope = wire;
    auto d = crypto::Sha256({AsBytes(wire)});
    r.envelope_sha256.assign(d.begin(), d.end());
    r.expires_unix_ms = parsed->header().expires_unix_ms();
    r.now_unix_ms = absl::ToUnixMillis(clock_.Now());
    EXPECT_TRUE(node.store.Accept(r).ok());
    return r.message_id;
  }

  // BG's coordinator's contingency `id` for the country NG, from now.
  v1::Contingency ForNg(const std::string& id) {
    v1::Contingency c;
    c.set_id(id);
    c.set_country("NG");
    c.set_reason("the NG office is closed by floods");
    c.set_declared_by("bg-nrm");
    c.set_node("bg");
    c.set_start_unix_ms(absl::ToUnixMillis(clock_.Now()));
    return c;
  }
  // `c` signed by BG's coordinator and given to `book`.
  void Declare(contingency::ContingencyBook& book, const v1::Contingency& c) {
    absl::StatusOr<v1::SignedContingency> s =
        contingency::SignContingency(c, nrm_.sign);
    ASSERT_TRUE(s.ok()) << s.status();
    absl::StatusOr<v1::ContingencyList> kept = book.Declare("bg-nrm", *s);
    ASSERT_TRUE(kept.ok()) << kept.status();
  }

  crypto::Ed25519PrivateKey bg_key_ = *crypto::Ed25519PrivateKey::Generate();
  crypto::Ed25519PrivateKey ng_key_ = *crypto::Ed25519PrivateKey::Generate();
  crypto::Ed25519PrivateKey it_key_ = *crypto::Ed25519PrivateKey::Generate();
  Keys ngo_, naptip_, it_ngo_, nrm_;
  v1::Directory doc_;
  SimulatedClock clock_{absl::FromUnixMillis(kStartMs)};
  double random_ = 0.5;
  std::unique_ptr<Node> bg_, ng_;
  std::unique_ptr<RelayReceiver> receiver_;
  std::unique_ptr<FakeTransport> transport_;
  std::unique_ptr<RelayDispatcher> dispatcher_;
};

TEST_F(RelayTest, ReceiverStoresABatchUnderOneSignature) {
  std::vector<std::string> batch = {ToNg(), ToNg(), ToNg()};
  const uint64_t before = ng_->signer.signatures();
  std::vector<v1::RelayResult> r = receiver_->Receive("bg", batch);
  ASSERT_EQ(r.size(), 3u);
  for (const v1::RelayResult& x : r) {
    ASSERT_EQ(x.error_code(), 0) << x.error_message();
    EXPECT_TRUE(
        receipts::VerifyReceipt(x.receipt(), ng_key_.public_key()).ok());
    v1::ReceiptLeaf leaf;
    ASSERT_TRUE(leaf.ParseFromString(x.receipt().leaf()));
    EXPECT_EQ(leaf.kind(), v1::RECEIPT_RELAYED);
    EXPECT_EQ(leaf.node(), "ng");
    EXPECT_EQ(leaf.message_id(), x.message_id());
  }
  EXPECT_EQ(ng_->signer.signatures(), before + 1);
  EXPECT_EQ(*ng_->store.QueueDepth("ng-naptip"), 3u);
  // A resend (the sender never saw the answer) is stored once and gets a
  // receipt with the first acceptance time.
  clock_.Advance(absl::Seconds(5));
  std::vector<v1::RelayResult> again = receiver_->Receive("bg", {batch[0]});
  ASSERT_EQ(again[0].error_code(), 0);
  v1::ReceiptLeaf a, b;
  a.ParseFromString(r[0].receipt().leaf());
  b.ParseFromString(again[0].receipt().leaf());
  EXPECT_EQ(a.time_unix_ms(), b.time_unix_ms());
  EXPECT_EQ(*ng_->store.QueueDepth("ng-naptip"), 3u);
}

class LowDisk final : public storage::FreeSpace {
 public:
  absl::StatusOr<uint64_t> Available(const std::string&) const override {
    return free.load();
  }
  std::atomic<uint64_t> free{1 << 20};
};

TEST_F(RelayTest, ALowDiskRefusesRelayIntakeAndTheMessageWaitsAtTheOrigin) {
  LowDisk space;
  storage::DiskGuard guard({.path = "/d", .min_free_bytes = 8 << 20}, space,
                           clock_);
  RelayReceiverOptions ro;
  ro.node_id = "ng";
  ro.disk_guard = &guard;
  RelayReceiver low(ro, ng_->registry, ng_->store, ng_->signer, clock_);
  const std::string wire = ToNg();
  std::vector<v1::RelayResult> r = low.Receive("bg", {wire});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].error_code(),
            static_cast<int>(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(r[0].error_reason(), "STORE_DISK_LOW");
  EXPECT_FALSE(r[0].message_id().empty()) << "the refusal names the message";
  EXPECT_EQ(*ng_->store.QueueDepth("ng-naptip"), 0u);
  // The origin retries: the message stays queued there.
  FakeTransport to_low(low, "bg");
  RelayDispatcher dispatcher("ng", RelayPolicy(), bg_->store, bg_->registry,
                             bg_->signer, to_low, clock_, [] { return 0.5; });
  const std::string id = QueueAtBg(ToNg());
  dispatcher.Step();
  EXPECT_EQ(bg_->store.GetStatus(id)->state(), v1::ACCEPTED);
  space.free = 64 << 20;
  clock_.Advance(absl::Minutes(1));
  dispatcher.Step();
  EXPECT_EQ(bg_->store.GetStatus(id)->state(), v1::RELAYED);
}

TEST_F(RelayTest, ReceiverRefusesWhatThePeerMayNotRelay) {
  auto reason = [&](const std::string& peer, const std::string& wire) {
    std::vector<v1::RelayResult> r = receiver_->Receive(peer, {wire});
    return std::pair(static_cast<StatusCode>(r[0].error_code()),
                     r[0].error_reason());
  };
  // IT relaying a message from BG's organisation.
  EXPECT_EQ(reason("it", ToNg()),
            std::pair(StatusCode::kPermissionDenied,
                      std::string("NOT_PEERS_ORGANISATION")));
  // BG relaying a message that claims IT's organisation as sender.
  EXPECT_EQ(
      reason("bg", Seal("it-ngo", "bg", "ng-naptip", "ng", it_ngo_)).second,
      "NOT_PEERS_ORGANISATION");
  // Signed with a key the directory does not list for bg-ngo.
  EXPECT_EQ(
      reason("bg", Seal("bg-ngo", "bg", "ng-naptip", "ng", it_ngo_)).second,
      "SENDER_KEY_UNKNOWN");
  // Tampered.
  std::string bad = ToNg();
  bad[bad.size() - 20] ^= 1;
  EXPECT_EQ(reason("bg", bad).second, "SIGNATURE_INVALID");
  // Not for this node.
  EXPECT_EQ(reason("bg", Seal("bg-ngo", "bg", "it-ngo", "it", ngo_)),
            std::pair(StatusCode::kNotFound, std::string("UNKNOWN_RECIPIENT")));
  // Sealed to another organisation's key.
  EXPECT_EQ(reason("bg", Seal("bg-ngo", "bg", "ng-naptip", "ng", ngo_, "",
                              "BG-1", &it_ngo_)),
            std::pair(StatusCode::kFailedPrecondition,
                      std::string("RECIPIENT_KEY_NOT_IN_DIRECTORY")));
  // Kept longer than this node allows.
  {
    std::string wire = ToNg();
    auto parsed = envelope::ParsedEnvelope::Parse(wire, envelope::Limits());
    v1::Header h = parsed->header();
    h.set_message_id(envelope::NewMessageId());
    h.set_expires_unix_ms(h.created_unix_ms() + 31LL * 24 * 3600 * 1000);
    auto env = envelope::Seal(h, AsBytes(std::string("payload")), ngo_.sign,
                              naptip_.enc.public_key());
    EXPECT_EQ(reason("bg", env->SerializeAsString()).second, "EXPIRY_TOO_FAR");
  }
  // Expired on the way.
  std::string late = ToNg();
  clock_.Advance(absl::Hours(2));
  EXPECT_EQ(reason("bg", late).second, "MESSAGE_EXPIRED");
  EXPECT_EQ(reason("bg", "junk").second, "ENVELOPE_MALFORMED");
  EXPECT_EQ(*ng_->store.QueueDepth("ng-naptip"), 0u) << "nothing stored";
}

TEST_F(RelayTest, DispatcherRelaysInOrderAndKeepsTheReceipts) {
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(QueueAtBg(ToNg()));
  EXPECT_EQ(dispatcher_->Step(), clock_.Now()) << "more may be queued";
  EXPECT_EQ(dispatcher_->Step(), clock_.Now());
  EXPECT_EQ(transport_->batches, (std::vector<int>{4, 2}));
  EXPECT_EQ(*bg_->store.QueueDepth(">ng"), 0u);
  for (const std::string& id : ids) {
    auto st = bg_->store.GetStatus(id);
    EXPECT_EQ(st->state(), v1::RELAYED);
    EXPECT_EQ(st->relayed_to(), "ng");
    v1::Receipt receipt;
    ASSERT_TRUE(receipt.ParseFromString(st->relay_receipt()));
    EXPECT_TRUE(receipts::VerifyReceipt(receipt, ng_key_.public_key()).ok());
  }
  auto delivered = ng_->store.ReadQueue("ng-naptip", 0, 10);
  ASSERT_EQ(delivered->size(), 6u);
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ((*delivered)[i].message_id, ids[i]) << "first in, first out";
  }
  EXPECT_EQ(dispatcher_->Step(), clock_.Now() + RelayPolicy().idle_poll);
  EXPECT_EQ(dispatcher_->state().relayed, 6u);
}

TEST_F(RelayTest, BatchesStayWithinTheirByteBound) {
  RelayPolicy small;
  small.batch = 100;
  small.max_batch_bytes = 2 * ToNg().size() + 10;  // two envelopes fit
  RelayDispatcher d("ng", small, bg_->store, bg_->registry, bg_->signer,
                    *transport_, clock_, [] { return 0.5; });
  for (int i = 0; i < 5; ++i) QueueAtBg(ToNg());
  for (int i = 0; i < 3; ++i) d.Step();
  EXPECT_EQ(transport_->batches, (std::vector<int>{2, 2, 1}));
  EXPECT_EQ(*bg_->store.QueueDepth(">ng"), 0u);
}

TEST_F(RelayTest, BackoffWithFullJitterThenTheBreakerOpens) {
  QueueAtBg(ToNg());
  transport_->down = true;
  random_ = 0.5;
  const absl::Time t0 = clock_.Now();
  // 1st failure: uniform in [0, 100 ms * 2) -> 0.5 of it.
  EXPECT_EQ(dispatcher_->Step(), t0 + absl::Milliseconds(100));
  EXPECT_EQ(dispatcher_->Step(), t0 + absl::Milliseconds(100)) << "not due";
  EXPECT_EQ(transport_->calls, 1);
  clock_.Advance(absl::Milliseconds(100));
  random_ = 0.25;  // 2nd: [0, 400 ms) -> 100 ms
  EXPECT_EQ(dispatcher_->Step(), clock_.Now() + absl::Milliseconds(100));
  for (int i = 3; i <= 4; ++i) {
    clock_.Advance(absl::Seconds(1));
    dispatcher_->Step();
  }
  EXPECT_EQ(dispatcher_->state().breaker, PeerState::Breaker::kClosed);
  clock_.Advance(absl::Seconds(2));
  // 5th failure in a row: the circuit opens for 30 s.
  EXPECT_EQ(dispatcher_->Step(), clock_.Now() + absl::Seconds(30));
  EXPECT_EQ(dispatcher_->state().breaker, PeerState::Breaker::kOpen);
  EXPECT_EQ(dispatcher_->state().consecutive_failures, 5);
  EXPECT_EQ(dispatcher_->state().last_error,
            "RELAY_FAILED: connection refused");
  clock_.Advance(absl::Seconds(29));
  dispatcher_->Step();
  EXPECT_EQ(transport_->calls, 5) << "no attempt while open";
  // Half-open after the pause: one trial, which succeeds and closes it.
  clock_.Advance(absl::Seconds(1));
  transport_->down = false;
  dispatcher_->Step();
  EXPECT_EQ(transport_->calls, 6);
  PeerState s = dispatcher_->state();
  EXPECT_EQ(s.breaker, PeerState::Breaker::kClosed);
  EXPECT_EQ(s.consecutive_failures, 0);
  EXPECT_EQ(s.relayed, 1u);
  EXPECT_EQ(s.failed_attempts, 5u);
}

TEST_F(RelayTest, APermanentRefusalDoesNotBlockTheQueue) {
  std::string bad =
      Seal("bg-ngo", "bg", "ng-naptip", "ng", it_ngo_);  // wrong key
  const std::string bad_id = QueueAtBg(bad);
  const std::string good_id = QueueAtBg(ToNg());
  dispatcher_->Step();
  auto st = bg_->store.GetStatus(bad_id);
  EXPECT_EQ(st->state(), v1::REJECTED);
  EXPECT_EQ(st->reason_code(), "SENDER_KEY_UNKNOWN");
  EXPECT_NE(st->reason().find("node ng refused it"), std::string::npos);
  EXPECT_EQ(*bg_->store.GetDeadLetter(bad_id), bad);
  EXPECT_EQ(bg_->store.GetStatus(good_id)->state(), v1::RELAYED);
  EXPECT_EQ(dispatcher_->state().refused, 1u);
}

TEST_F(RelayTest, RetriableRefusalsAndBadReceiptsKeepTheMessage) {
  const std::string id = QueueAtBg(ToNg());
  transport_->answer = [](v1::RelayResult& r) {
    r.clear_receipt();
    r.set_error_code(static_cast<int>(StatusCode::kResourceExhausted));
    r.set_error_reason("MAILBOX_FULL");
  };
  dispatcher_->Step();
  EXPECT_EQ(bg_->store.GetStatus(id)->state(), v1::ACCEPTED);
  EXPECT_EQ(dispatcher_->state().consecutive_failures, 1);
  // A receipt signed by someone else is no receipt.
  transport_->answer = [this](v1::RelayResult& r) {
    receipts::ReceiptSigner other(it_key_);
    v1::ReceiptLeaf leaf;
    leaf.ParseFromString(r.receipt().leaf());
    *r.mutable_receipt() = *other.Sign(leaf);
  };
  clock_.Advance(absl::Minutes(1));
  dispatcher_->Step();
  EXPECT_EQ(bg_->store.GetStatus(id)->state(), v1::ACCEPTED);
  EXPECT_EQ(*bg_->store.QueueDepth(">ng"), 1u);
  transport_->answer = nullptr;
  clock_.Advance(absl::Minutes(1));
  dispatcher_->Step();
  EXPECT_EQ(bg_->store.GetStatus(id)->state(), v1::RELAYED);
}

// The way back: NG reports delivery, the recipient's signed acknowledgement
// and expiry to BG, which shows them to the sender with their evidence.
TEST_F(RelayTest, ThePathTravelsBackToTheOrigin) {
  RelayReceiverOptions ro;
  ro.node_id = "bg";
  RelayReceiver at_bg(ro, bg_->registry, bg_->store, bg_->signer, clock_);
  FakeTransport to_bg(at_bg, "ng");
  RelayDispatcher back("bg", RelayPolicy(), ng_->store, ng_->registry,
                       ng_->signer, to_bg, clock_, [] { return 0.5; });
  const std::string acked = QueueAtBg(ToNg());
  const std::string expires = QueueAtBg(ToNg());
  const std::string untouched = QueueAtBg(ToNg());
  dispatcher_->Step();
  ASSERT_EQ(bg_->store.GetStatus(acked)->state(), v1::RELAYED);
  EXPECT_EQ(ng_->store.GetStatus(acked)->origin_node(), "bg");
  EXPECT_EQ(back.Step(), clock_.Now() + RelayPolicy().idle_poll)
      << "nothing to report yet";

  // Delivered at NG: one notice each, in the same write as the delivery.
  clock_.Advance(absl::Seconds(1));
  const int64_t delivered_ms = absl::ToUnixMillis(clock_.Now());
  ASSERT_TRUE(
      ng_->store.MarkDeliveredMany({acked, expires}, delivered_ms).ok());
  EXPECT_EQ(*ng_->store.QueueDepth(storage::NoticeQueue("bg")), 2u);
  const uint64_t signatures = ng_->signer.signatures();
  back.Step();
  EXPECT_EQ(ng_->signer.signatures(), signatures + 1) << "one batch receipt";
  EXPECT_EQ(*ng_->store.QueueDepth(storage::NoticeQueue("bg")), 0u);
  auto st = bg_->store.GetStatus(acked);
  EXPECT_EQ(st->state(), v1::DELIVERED);
  EXPECT_EQ(st->delivered_unix_ms(), delivered_ms);
  v1::Receipt receipt;
  ASSERT_TRUE(receipt.ParseFromString(st->delivery_receipt()));
  EXPECT_TRUE(receipts::VerifyReceipt(receipt, ng_key_.public_key()).ok());
  v1::ReceiptLeaf leaf;
  leaf.ParseFromString(receipt.leaf());
  EXPECT_EQ(leaf.kind(), v1::RECEIPT_DELIVERED);

  // Acknowledged with the recipient's signature, one over a batch of two
  // (docs/protocol.md section 15.1: the message's evidence is its part of
  // the batch); the other one expires.
  clock_.Advance(absl::Seconds(1));
  v1::AcknowledgementBody body;
  body.set_message_id(acked);
  body.set_envelope_sha256(ng_->store.GetStatus(acked)->envelope_sha256());
  body.set_recipient_org("ng-naptip");
  body.set_time_unix_ms(absl::ToUnixMillis(clock_.Now()));
  v1::AcknowledgementBody another = body;
  another.set_message_id(envelope::NewMessageId());
  auto batch = envelope::ParseAcknowledgementBatch(
      *envelope::SignAcknowledgementBatch({another, body}, naptip_.sign));
  ASSERT_TRUE(batch.ok());
  const std::string signed_ack = envelope::AcknowledgementsOf(*batch)[1];
  ASSERT_TRUE(ng_->store
                  .AcknowledgeAll("ng-naptip", {{acked, signed_ack, ""}},
                                  absl::ToUnixMillis(clock_.Now()))
                  .front()
                  .ok());
  clock_.Advance(absl::Hours(2));
  ASSERT_EQ(*ng_->store.ExpireDue(absl::ToUnixMillis(clock_.Now()), 100), 2u);
  back.Step();
  st = bg_->store.GetStatus(acked);
  EXPECT_EQ(st->state(), v1::ACKNOWLEDGED);
  EXPECT_EQ(st->acknowledgement(), signed_ack);
  EXPECT_EQ(st->delivered_unix_ms(), delivered_ms) << "kept";
  auto expired = bg_->store.GetStatus(expires);
  EXPECT_EQ(expired->state(), v1::EXPIRED);
  ASSERT_TRUE(receipt.ParseFromString(expired->expiry_receipt()));
  EXPECT_TRUE(receipts::VerifyReceipt(receipt, ng_key_.public_key()).ok());
  auto never = bg_->store.GetStatus(untouched);
  EXPECT_EQ(never->state(), v1::EXPIRED) << "expired undelivered at NG";
  EXPECT_EQ(never->delivered_unix_ms(), 0);
  EXPECT_EQ(back.state().notices_sent, 5u);

  // A repeated notice changes nothing; a stale one cannot undo a step.
  v1::PathNotice stale;
  stale.set_message_id(acked);
  EXPECT_TRUE(bg_->store.RecordPath("ng", {stale}, 0).front().ok());
  EXPECT_EQ(bg_->store.GetStatus(acked)->state(), v1::ACKNOWLEDGED);
}

// The recipient at NG refuses a relayed message, signed: the refusal travels
// back with the path notices and the sender at BG sees REFUSED with it. A
// refusal that names another envelope is refused by BG.
TEST_F(RelayTest, ARefusalTravelsBackToTheSender) {
  RelayReceiverOptions ro;
  ro.node_id = "bg";
  RelayReceiver at_bg(ro, bg_->registry, bg_->store, bg_->signer, clock_);
  FakeTransport to_bg(at_bg, "ng");
  RelayDispatcher back("bg", RelayPolicy(), ng_->store, ng_->registry,
                       ng_->signer, to_bg, clock_, [] { return 0.5; });
  const std::string id = QueueAtBg(ToNg());
  const std::string other = QueueAtBg(ToNg());
  dispatcher_->Step();
  ASSERT_EQ(bg_->store.GetStatus(id)->state(), v1::RELAYED);
  auto refusal_of = [&](const std::string& msg, const std::string& sha256) {
    v1::RefusalBody body;
    body.set_message_id(msg);
    body.set_envelope_sha256(sha256);
    body.set_recipient_org("ng-naptip");
    body.set_time_unix_ms(absl::ToUnixMillis(clock_.Now()));
    body.set_reason(v1::REFUSAL_NOT_OURS);
    body.set_text("not a case of ours");
    return *envelope::SignRefusal(body, naptip_.sign);
  };
  const std::string refusal =
      refusal_of(id, ng_->store.GetStatus(id)->envelope_sha256());
  const int64_t now = absl::ToUnixMillis(clock_.Now());
  ASSERT_TRUE(ng_->store.AcknowledgeAll("ng-naptip", {{id, "", refusal}}, now)
                  .front()
                  .ok());
  // NG's store takes what its mailbox checked; one that names another
  // envelope's hash must not pass at BG.
  ASSERT_TRUE(ng_->store
                  .AcknowledgeAll(
                      "ng-naptip",
                      {{other, "", refusal_of(other, std::string(32, 'x'))}},
                      now)
                  .front()
                  .ok());
  back.Step();
  auto st = bg_->store.GetStatus(id);
  EXPECT_EQ(st->state(), v1::REFUSED);
  EXPECT_EQ(st->refusal(), refusal);
  EXPECT_EQ(st->reason_code(), "REFUSED_NOT_OURS");
  EXPECT_EQ(st->reason(), "not a case of ours");
  auto parsed = envelope::ParseRefusal(st->refusal());
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(envelope::VerifyRefusal(*parsed, naptip_.sign.public_key()).ok());
  EXPECT_EQ(bg_->store.GetStatus(other)->state(), v1::RELAYED)
      << "a refusal of another envelope is not recorded";
  EXPECT_EQ(back.state().notices_refused, 1u);
}

// Seen on two real nodes: NG stored a batch but BG never recorded NG's
// answer (lost, slow, or BG was killed); NG's delivery notice was refused
// for good, and the sender's status stayed RELAYED for ever.
TEST_F(RelayTest, TheWayBackConvergesWhenTheRelayAnswerIsLost) {
  RelayReceiverOptions ro;
  ro.node_id = "bg";
  RelayReceiver at_bg(ro, bg_->registry, bg_->store, bg_->signer, clock_);
  FakeTransport to_bg(at_bg, "ng");
  RelayPolicy fast;
  fast.max_backoff = absl::Milliseconds(1);
  RelayDispatcher back("bg", fast, ng_->store, ng_->registry, ng_->signer,
                       to_bg, clock_, [] { return 0.5; });
  const std::string id = QueueAtBg(ToNg());
  // NG stores the batch; its answer never reaches BG.
  transport_->answer = [](v1::RelayResult& r) {
    r.clear_receipt();
    r.set_error_code(static_cast<int>(StatusCode::kUnavailable));
    r.set_error_reason("RELAY_FAILED");
  };
  dispatcher_->Step();
  ASSERT_EQ(ng_->store.GetStatus(id)->origin_node(), "bg") << "stored at NG";
  ASSERT_EQ(bg_->store.GetStatus(id)->state(), v1::ACCEPTED);
  // NG delivers and reports before BG has its answer: retried, not dropped.
  ASSERT_TRUE(
      ng_->store.MarkDelivered(id, absl::ToUnixMillis(clock_.Now())).ok());
  back.Step();
  EXPECT_EQ(*ng_->store.QueueDepth(storage::NoticeQueue("bg")), 1u)
      << "the notice is kept for another try";
  // BG relays again; NG answers the duplicate with its receipt.
  transport_->answer = nullptr;
  clock_.Advance(absl::Seconds(1));
  dispatcher_->Step();
  ASSERT_EQ(bg_->store.GetStatus(id)->state(), v1::RELAYED);
  clock_.Advance(absl::Seconds(1));
  back.Step();
  EXPECT_EQ(*ng_->store.QueueDepth(storage::NoticeQueue("bg")), 0u);
  EXPECT_EQ(bg_->store.GetStatus(id)->state(), v1::DELIVERED)
      << "the sender sees the delivery, with its evidence";
  EXPECT_FALSE(bg_->store.GetStatus(id)->delivery_receipt().empty());
}

TEST_F(RelayTest, NoticesAreCheckedAtTheOrigin) {
  RelayReceiverOptions ro;
  ro.node_id = "bg";
  RelayReceiver at_bg(ro, bg_->registry, bg_->store, bg_->signer, clock_);
  const std::string id = QueueAtBg(ToNg());
  dispatcher_->Step();
  const std::string queued = QueueAtBg(ToNg());  // not relayed yet
  ASSERT_TRUE(
      ng_->store.MarkDelivered(id, absl::ToUnixMillis(clock_.Now())).ok());
  auto pending = ng_->store.ReadNotices("bg", 10);
  ASSERT_EQ(pending->size(), 1u);
  // A genuine notice, signed by NG.
  v1::ReceiptLeaf leaf;
  leaf.set_kind(v1::RECEIPT_DELIVERED);
  leaf.set_message_id(id);
  leaf.set_envelope_sha256((*pending)[0].status.envelope_sha256());
  leaf.set_node("ng");
  leaf.set_time_unix_ms((*pending)[0].status.delivered_unix_ms());
  v1::PathNotice good = storage::NoticeOf((*pending)[0].status);
  *good.mutable_delivery_receipt() = *ng_->signer.Sign(leaf);
  auto reason = [&](const std::string& peer, const v1::PathNotice& n) {
    return at_bg.ReceiveNotices(peer, {n}).front().error_reason();
  };
  // From a node the message was not relayed to.
  EXPECT_EQ(reason("it", good), "MESSAGE_NOT_RELAYED_TO_PEER");
  // About a message still queued at BG for NG (its relay answer not yet
  // recorded): retried; about one queued for another node, or unknown:
  // final.
  v1::PathNotice other = good;
  other.set_message_id(queued);
  EXPECT_EQ(reason("ng", other), "MESSAGE_RELAY_PENDING");
  EXPECT_EQ(at_bg.ReceiveNotices("ng", {other}).front().error_code(),
            static_cast<int>(StatusCode::kUnavailable));
  EXPECT_EQ(reason("it", other), "MESSAGE_NOT_RELAYED_TO_PEER");
  other.set_message_id(envelope::NewMessageId());
  EXPECT_EQ(reason("ng", other), "MESSAGE_NOT_FOUND");
  // Without NG's receipt, with a receipt signed by another node, or with a
  // receipt for another time.
  v1::PathNotice bare = good;
  bare.clear_delivery_receipt();
  EXPECT_EQ(reason("ng", bare), "RECEIPT_INVALID");
  v1::PathNotice by_it = good;
  receipts::ReceiptSigner it_signer(it_key_);
  *by_it.mutable_delivery_receipt() = *it_signer.Sign(leaf);
  EXPECT_EQ(reason("ng", by_it), "SENDER_KEY_UNKNOWN");
  v1::PathNotice later = good;
  later.set_delivered_unix_ms(good.delivered_unix_ms() + 1);
  EXPECT_EQ(reason("ng", later), "RECEIPT_INVALID");
  // An acknowledgement of another message.
  v1::PathNotice wrong_ack = good;
  v1::AcknowledgementBody body;
  body.set_message_id(queued);
  body.set_envelope_sha256(std::string(32, 'x'));
  body.set_recipient_org("ng-naptip");
  body.set_time_unix_ms(kStartMs);
  wrong_ack.set_acknowledged_unix_ms(kStartMs);
  wrong_ack.set_acknowledgement(
      *envelope::SignAcknowledgement(body, naptip_.sign));
  EXPECT_EQ(reason("ng", wrong_ack), "ACKNOWLEDGEMENT_MISMATCH");
  EXPECT_EQ(bg_->store.GetStatus(id)->state(), v1::RELAYED) << "unchanged";
  EXPECT_EQ(reason("ng", good), "");
  EXPECT_EQ(bg_->store.GetStatus(id)->state(), v1::DELIVERED);
}

// A ten-day outage of the link between BG and NG, with messages waiting in
// both directions (30-day lifetimes), on the simulated clock: nothing is
// relayed while it lasts, nothing expires that had time left, the
// breaker keeps the attempts few, and once the link is back every message
// arrives once, in order. A message whose own lifetime ran out during the
// outage is a dead letter at its origin, said so, not lost.
TEST_F(RelayTest, ATenDayOutageInBothDirectionsLosesAndRepeatsNothing) {
  RelayReceiverOptions ro;
  ro.node_id = "bg";
  RelayReceiver at_bg(ro, bg_->registry, bg_->store, bg_->signer, clock_);
  FakeTransport ng_to_bg(at_bg, "ng");
  RelayPolicy policy;
  policy.batch = 4;
  policy.max_backoff = absl::Minutes(5);
  policy.breaker_open = absl::Minutes(10);
  RelayDispatcher from_ng("bg", policy, ng_->store, ng_->registry, ng_->signer,
                          ng_to_bg, clock_, [this] { return random_; });
  transport_->down = true;
  ng_to_bg.down = true;
  const absl::Time start = clock_.Now();
  std::vector<std::string> to_ng, to_bg;
  std::string short_lived;
  absl::Time bg_next = start, ng_next = start;
  for (int day = 0; day < 10; ++day) {
    to_ng.push_back(QueueAtBg(Seal("bg-ngo", "bg", "ng-naptip", "ng", ngo_, "",
                                   "BG-1", nullptr, absl::Hours(24 * 30))));
    to_bg.push_back(QueueAt(*ng_, "bg",
                            Seal("ng-naptip", "ng", "bg-ngo", "bg", naptip_, "",
                                 "BG-1", &ngo_, absl::Hours(24 * 30))));
    if (day == 2) {
      short_lived = QueueAtBg(Seal("bg-ngo", "bg", "ng-naptip", "ng", ngo_, "",
                                   "BG-2", nullptr, absl::Hours(24)));
    }
    for (int step = 0; step < 24 * 12; ++step) {  // every 5 minutes
      clock_.Advance(absl::Minutes(5));
      // As the relay runner does: each dispatcher when it said it is due.
      if (clock_.Now() >= bg_next) bg_next = dispatcher_->Step();
      if (clock_.Now() >= ng_next) ng_next = from_ng.Step();
      ASSERT_TRUE(
          bg_->store.ExpireDue(absl::ToUnixMillis(clock_.Now()), 100).ok());
      ASSERT_TRUE(
          ng_->store.ExpireDue(absl::ToUnixMillis(clock_.Now()), 100).ok());
    }
  }
  EXPECT_GE(clock_.Now() - start, absl::Hours(240));
  for (const std::string& id : to_ng) {
    EXPECT_EQ(bg_->store.GetStatus(id)->state(), v1::ACCEPTED) << "waits at BG";
  }
  for (const std::string& id : to_bg) {
    EXPECT_EQ(ng_->store.GetStatus(id)->state(), v1::ACCEPTED) << "waits at NG";
  }
  EXPECT_EQ(bg_->store.GetStatus(short_lived)->state(), v1::EXPIRED)
      << "its own lifetime ran out: a dead letter at its origin";
  EXPECT_TRUE(bg_->store.GetDeadLetter(short_lived).ok());
  // NG tried for ten days at about one try per breaker period (10 min),
  // not one per step, and kept trying.
  EXPECT_LT(ng_to_bg.calls, 10 * 24 * 6 + 50);
  EXPECT_GT(ng_to_bg.calls, 10 * 24 * 3);
  EXPECT_EQ(dispatcher_->state().failing_since, start + absl::Minutes(5));

  transport_->down = false;
  ng_to_bg.down = false;
  for (int step = 0; step < 12 * 4; ++step) {  // four hours
    clock_.Advance(absl::Minutes(5));
    while (dispatcher_->Step() <= clock_.Now() &&
           *bg_->store.QueueDepth(">ng") > 0) {
    }
    while (from_ng.Step() <= clock_.Now() &&
           *ng_->store.QueueDepth(">bg") > 0) {
    }
  }
  auto at_ng = ng_->store.ReadQueue("ng-naptip", 0, 100);
  auto at_bg_queue = bg_->store.ReadQueue("bg-ngo", 0, 100);
  ASSERT_TRUE(at_ng.ok() && at_bg_queue.ok());
  ASSERT_EQ(at_ng->size(), to_ng.size()) << "each once, the expired one not";
  ASSERT_EQ(at_bg_queue->size(), to_bg.size());
  for (size_t i = 0; i < to_ng.size(); ++i) {
    EXPECT_EQ((*at_ng)[i].message_id, to_ng[i]) << "in order";
    EXPECT_EQ((*at_bg_queue)[i].message_id, to_bg[i]);
    EXPECT_EQ(bg_->store.GetStatus(to_ng[i])->state(), v1::RELAYED);
    EXPECT_EQ(ng_->store.GetStatus(to_bg[i])->state(), v1::RELAYED);
  }
  EXPECT_EQ(dispatcher_->state().consecutive_failures, 0);
}

TEST_F(RelayTest, UnderAContingencyUrgentMessagesGoFirstEachCaseInOrder) {
  contingency::ContingencyBook book(bg_->store, bg_->registry, clock_, "bg");
  dispatcher_->set_contingencies(&book);
  // The link is down; a backlog builds at BG: six cases' referrals, then
  // an urgent risk feedback of a new case, and a non-departure notice of
  // the first case (which may not overtake that case's referral).
  transport_->down = true;
  auto to_ng = [&](const std::string& case_ref, v1::MessageType type) {
    return QueueAtBg(Seal("bg-ngo", "bg", "ng-naptip", "ng", ngo_, "", case_ref,
                          nullptr, absl::Hours(48), type));
  };
  std::vector<std::string> plain;
  for (int i = 0; i < 6; ++i) {
    plain.push_back(to_ng("P" + std::to_string(i), v1::REFERRAL_REQUEST));
  }
  const std::string feedback = to_ng("U", v1::RISK_FEEDBACK);
  const std::string notice = to_ng("P0", v1::NON_DEPARTURE_NOTICE);
  dispatcher_->Step();
  clock_.Advance(absl::Hours(1));

  // BG's coordinator declares a contingency for the link.
  v1::Contingency c = ForNg(std::string(16, '\x05'));
  c.clear_country();
  c.set_link_a("bg");
  c.set_link_b("ng");
  Declare(book, c);

  transport_->down = false;
  dispatcher_->Step();  // one batch of four
  auto at_ng = ng_->store.ReadQueue("ng-naptip", 0, 100);
  ASSERT_TRUE(at_ng.ok());
  std::vector<std::string> got;
  for (const auto& m : *at_ng) got.push_back(m.message_id);
  EXPECT_EQ(got,
            (std::vector<std::string>{plain[0], feedback, notice, plain[1]}))
      << "the urgent ones first, P0's referral before its notice";
  while (*bg_->store.QueueDepth(">ng") > 0) {
    ASSERT_LE(dispatcher_->Step(), clock_.Now());
  }
  at_ng = ng_->store.ReadQueue("ng-naptip", 0, 100);
  ASSERT_EQ(at_ng->size(), 8u) << "each once";
  for (size_t i = 4; i < 8; ++i) {
    EXPECT_EQ((*at_ng)[i].message_id, plain[i - 2]) << "the rest in order";
  }

  // Once it ends, the queue goes in its order again.
  c.set_end_unix_ms(absl::ToUnixMillis(clock_.Now()));
  Declare(book, c);
  clock_.Advance(absl::Seconds(1));
  transport_->down = true;
  const std::string later = to_ng("P9", v1::REFERRAL_REQUEST);
  const std::string urgent_later = to_ng("V", v1::RISK_FEEDBACK);
  transport_->down = false;
  dispatcher_->Step();
  at_ng = ng_->store.ReadQueue("ng-naptip", 0, 100);
  ASSERT_EQ(at_ng->size(), 10u);
  EXPECT_EQ((*at_ng)[8].message_id, later);
  EXPECT_EQ((*at_ng)[9].message_id, urgent_later);
}

TEST_F(RelayTest, OpenContingenciesAreCarriedFirstWithinTheBound) {
  contingency::ContingencyBook book(bg_->store, bg_->registry, clock_, "bg");
  // 35 declared and ended, then 5 open: more than a batch carries.
  for (int i = 0; i < 40; ++i) {
    v1::Contingency c = ForNg(std::string(15, '\x01') + static_cast<char>(i));
    Declare(book, c);
    if (i < 35) {
      c.set_end_unix_ms(c.start_unix_ms() + 1);
      Declare(book, c);
    }
    clock_.Advance(absl::Seconds(1));
  }
  const std::vector<v1::SignedContingency> carried = book.ToCarry();
  ASSERT_EQ(carried.size(), contingency::ContingencyBook::kMaxCarried);
  for (size_t i = 0; i < carried.size(); ++i) {
    v1::Contingency c;
    ASSERT_TRUE(c.ParseFromString(carried[i].contingency()));
    EXPECT_EQ(c.end_unix_ms() == 0, i < 5) << i << ": the open ones first";
    if (i == 5) {
      EXPECT_EQ(c.id().back(), 34) << "then the latest ended";
    }
  }
}

TEST_F(RelayTest, ADeclarationAndItsEndGoToThePeerAtOnce) {
  contingency::ContingencyBook book(bg_->store, bg_->registry, clock_, "bg");
  dispatcher_->set_contingencies(&book);
  dispatcher_->Step();
  EXPECT_EQ(transport_->calls, 0) << "nothing to say";
  v1::Contingency c = ForNg(std::string(16, '\x09'));
  Declare(book, c);
  dispatcher_->Step();
  EXPECT_EQ(transport_->calls, 1) << "the declaration, with no message";
  dispatcher_->Step();
  EXPECT_EQ(transport_->calls, 1) << "once";
  c.set_end_unix_ms(c.start_unix_ms() + 1000);
  Declare(book, c);
  dispatcher_->Step();
  EXPECT_EQ(transport_->calls, 2) << "and its end";
}

TEST_F(RelayTest, APeersRefusedContingencyIsLoggedOncePerDeclaration) {
  contingency::ContingencyBook book(bg_->store, bg_->registry, clock_, "bg");
  v1::SignedContingency bad;
  bad.set_contingency("not a declaration");
  EXPECT_FALSE(book.Receive("ng", bad).ok());
  EXPECT_TRUE(book.FirstRefusal(bad)) << "logged the first time";
  EXPECT_FALSE(book.Receive("ng", bad).ok()) << "still refused";
  EXPECT_FALSE(book.FirstRefusal(bad)) << "not at every batch";
  v1::SignedContingency other = bad;
  other.set_signature("another");
  EXPECT_TRUE(book.FirstRefusal(other));
}

}  // namespace
}  // namespace trm::federation
