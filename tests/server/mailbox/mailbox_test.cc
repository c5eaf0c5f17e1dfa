// The mailbox without a network: every refusal of Submit with its status
// code (and nothing stored), deduplication, receipts, leases, redelivery,
// acknowledgement and status, on the in-memory store and a simulated clock.
#include "server/mailbox/mailbox.h"

#include <gtest/gtest.h>

#include "common/bytes.h"
#include "common/crypto/key_files.h"
#include "common/envelope/acknowledgement.h"
#include "common/envelope/refusal.h"
#include "common/status.h"
#include "server/storage/rocksdb_store.h"
#include "tests/server/mailbox/test_org.h"
#include "tests/server/storage/in_memory_store.h"

namespace trm::mailbox {
namespace {

using absl::StatusCode;

constexpr int64_t kStartMs = 1795000000000;

class MailboxTest : public ::testing::Test {
 protected:
  MailboxTest() {
    v1::Directory d;
    d.set_federation("test");
    d.set_serial(1);
    d.add_nodes()->set_id("bg");
    d.add_nodes()->set_id("ng");
    absl::flat_hash_map<std::string, uint64_t> quotas;
    for (TestOrg* o : {&ngo_, &naptip_, &abroad_}) {
      // abroad_: an organisation of another node, not a caller here.
      AddOrganisation(d, *o, o == &abroad_ ? "ng" : "bg");
      if (o != &abroad_) quotas[o->id] = 64 * 1024;
    }
    registry_ = std::make_unique<OrgRegistry>(
        "bg", *directory::Directory::FromLocal(d), quotas);
    options_.node_id = "bg";
    options_.limits.max_payload_bytes = 32 * 1024;
    options_.limits.max_envelope_bytes = 40 * 1024;
    mailbox_ = std::make_unique<Mailbox>(options_, *registry_, store_, signer_,
                                         clock_);
  }

  v1::Header Header(const TestOrg& from, const TestOrg& to) {
    v1::Header h;
    h.set_schema_version(1);
    h.set_message_id(envelope::NewMessageId());
    h.set_case_ref("BG-2026-1");
    h.set_type(v1::REFERRAL_REQUEST);
    h.set_sender_org(from.id);
    h.set_sender_node("bg");
    h.set_recipient_org(to.id);
    h.set_recipient_node("bg");
    h.set_created_unix_ms(absl::ToUnixMillis(clock_.Now()));
    h.set_expires_unix_ms(h.created_unix_ms() + 3600 * 1000);
    return h;
  }
  std::string Seal(const v1::Header& h, const TestOrg& signer,
                   const TestOrg& to, size_t payload = 100) {
    auto env = envelope::Seal(h, AsBytes(std::string(payload, 'p')),
                              signer.sign, to.enc.public_key());
    EXPECT_TRUE(env.ok()) << env.status();
    return env->SerializeAsString();
  }
  std::string Referral(size_t payload = 100) {
    return Seal(Header(ngo_, naptip_), ngo_, naptip_, payload);
  }
  // `by`'s signed acknowledgement of message `id` as stored here, at `at`
  // (default: now).
  std::string SignedAck(const TestOrg& by, const std::string& id,
                        absl::Time at = absl::InfinitePast()) {
    v1::AcknowledgementBody body;
    body.set_message_id(id);
    auto st = store_.GetStatus(id);
    body.set_envelope_sha256(st.ok() ? st->envelope_sha256()
                                     : std::string(32, 'x'));
    body.set_recipient_org(by.id);
    body.set_time_unix_ms(
        absl::ToUnixMillis(at == absl::InfinitePast() ? clock_.Now() : at));
    return *envelope::SignAcknowledgement(body, by.sign);
  }
  // `by`'s AcknowledgementBatch over messages `ids` as stored here, at `at`.
  std::string SignedAckBatch(const TestOrg& by,
                             const std::vector<std::string>& ids,
                             absl::Time at = absl::InfinitePast()) {
    std::vector<v1::AcknowledgementBody> bodies;
    for (const std::string& id : ids) {
      v1::SignedAcknowledgement one;
      one.ParseFromString(SignedAck(by, id, at));
      bodies.emplace_back().ParseFromString(one.body());
    }
    return *envelope::SignAcknowledgementBatch(bodies, by.sign);
  }
  // `by`'s signed refusal of message `id` as stored here, at `at`.
  std::string SignedRefusal(const TestOrg& by, const std::string& id,
                            v1::RefusalReason reason = v1::REFUSAL_CANNOT_OPEN,
                            absl::Time at = absl::InfinitePast()) {
    v1::RefusalBody body;
    body.set_message_id(id);
    auto st = store_.GetStatus(id);
    body.set_envelope_sha256(st.ok() ? st->envelope_sha256()
                                     : std::string(32, 'x'));
    body.set_recipient_org(by.id);
    body.set_time_unix_ms(
        absl::ToUnixMillis(at == absl::InfinitePast() ? clock_.Now() : at));
    body.set_reason(reason);
    body.set_text("sealed to a key we never had");
    return *envelope::SignRefusal(body, by.sign);
  }
  absl::Status Ack(const TestOrg& by, const std::string& id) {
    return mailbox_->Ack(by.id, id, SignedAck(by, id));
  }
  // `queued`: the recipient's queue depth before the refused submit.
  void ExpectRefused(const absl::StatusOr<v1::Receipt>& r, StatusCode code,
                     absl::string_view reason, uint64_t queued = 0) {
    EXPECT_EQ(r.status().code(), code) << r.status();
    EXPECT_EQ(ErrorReason(r.status()), reason) << r.status();
    EXPECT_EQ(*store_.QueueDepth(naptip_.id), queued)
        << "a refusal stored data";
  }

  TestOrg ngo_{"bg-ngo"};
  TestOrg naptip_{"bg-naptip"};
  TestOrg abroad_{"ng-naptip"};
  std::unique_ptr<OrgRegistry> registry_;
  storage::testing::InMemoryStore memory_;
  storage::RocksMessageStore& store_ = memory_.store();
  crypto::Ed25519PrivateKey node_key_ = *crypto::Ed25519PrivateKey::Generate();
  receipts::ReceiptSigner signer_{node_key_};
  SimulatedClock clock_{absl::FromUnixMillis(kStartMs)};
  MailboxOptions options_;
  std::unique_ptr<Mailbox> mailbox_;
};

TEST_F(MailboxTest, SubmitGivesAVerifiableReceipt) {
  std::string wire = Referral();
  auto receipt = mailbox_->Submit(ngo_.id, wire);
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_TRUE(receipts::VerifyReceipt(*receipt, node_key_.public_key()).ok());
  v1::ReceiptLeaf leaf;
  ASSERT_TRUE(leaf.ParseFromString(receipt->leaf()));
  EXPECT_EQ(leaf.node(), "bg");
  EXPECT_EQ(leaf.time_unix_ms(), kStartMs);
  auto digest = crypto::Sha256({AsBytes(wire)});
  EXPECT_EQ(leaf.envelope_sha256(), std::string(digest.begin(), digest.end()));
  EXPECT_EQ(*store_.QueueDepth(naptip_.id), 1u);
}

TEST_F(MailboxTest, MalformedBytes) {
  ExpectRefused(mailbox_->Submit(ngo_.id, "not an envelope"),
                StatusCode::kInvalidArgument, "ENVELOPE_MALFORMED");
}

TEST_F(MailboxTest, BadSignatureOrUnknownKey) {
  std::string wire = Referral();
  wire[wire.size() - 100] ^= 1;  // inside the ciphertext
  ExpectRefused(mailbox_->Submit(ngo_.id, wire), StatusCode::kUnauthenticated,
                "SIGNATURE_INVALID");
  // Signed with a key that is not the one registered for the sender.
  TestOrg impostor{"bg-ngo"};
  ExpectRefused(
      mailbox_->Submit(ngo_.id, Seal(Header(ngo_, naptip_), impostor, naptip_)),
      StatusCode::kUnauthenticated, "SENDER_KEY_UNKNOWN");
  ExpectRefused(mailbox_->Submit("nobody", Referral()),
                StatusCode::kUnauthenticated, "UNKNOWN_ORGANISATION");
}

// A flood of refusals (fresh ids, bad signatures) leaves a bounded trail:
// a budget of records per organisation, then counts in one audit event.
TEST_F(MailboxTest, RefusalRecordsAreBudgetedAndTheRestSummarized) {
  MailboxOptions budget = options_;
  budget.refusal_record_burst = 3;
  budget.refusal_records_per_second = 1;
  Mailbox mailbox(budget, *registry_, store_, signer_, clock_);
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) {
    v1::Header h = Header(ngo_, naptip_);
    std::string wire = Seal(h, ngo_, naptip_);
    wire[wire.size() - 100] ^= 1;
    EXPECT_EQ(ErrorReason(mailbox.Submit(ngo_.id, wire).status()),
              "SIGNATURE_INVALID")
        << "every refusal is answered with its reason";
    ids.push_back(h.message_id());
  }
  int recorded = 0;
  for (const std::string& id : ids) {
    recorded += mailbox.GetStatus(ngo_.id, id).ok();
  }
  EXPECT_EQ(recorded, 3) << "the burst";
  ASSERT_EQ(*mailbox.SummarizeRefusals(), 1u);
  std::vector<v1::AuditEvent> events =
      memory_.AuditEvents(v1::REFUSALS_SUMMARIZED);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind(), v1::REFUSALS_SUMMARIZED);
  EXPECT_EQ(events[0].sender_org(), ngo_.id);
  EXPECT_EQ(events[0].reason_code(), "SIGNATURE_INVALID");
  EXPECT_NE(events[0].detail().find("7 refusals of bg-ngo"), std::string::npos)
      << events[0].detail();
  EXPECT_EQ(*mailbox.SummarizeRefusals(), 0u) << "nothing new";
  // The budget refills at its rate.
  clock_.Advance(absl::Seconds(2));
  for (int i = 0; i < 3; ++i) {
    v1::Header h = Header(ngo_, naptip_);
    std::string wire = Seal(h, ngo_, naptip_);
    wire[wire.size() - 100] ^= 1;
    mailbox.Submit(ngo_.id, wire).IgnoreError();
    recorded += mailbox.GetStatus(ngo_.id, h.message_id()).ok();
  }
  EXPECT_EQ(recorded, 5);
  // A summary waits for its interval.
  EXPECT_EQ(*mailbox.SummarizeRefusals(), 0u);
  clock_.Advance(absl::Minutes(1));
  EXPECT_EQ(*mailbox.SummarizeRefusals(), 1u);
  EXPECT_NE(memory_.AuditEvents(v1::REFUSALS_SUMMARIZED)
                .back()
                .detail()
                .find("1 refusals"),
            std::string::npos);
  // Recorded refusals are forgotten after the retention.
  clock_.Advance(options_.retention);
  ASSERT_TRUE(mailbox.SweepExpired().ok());
  EXPECT_EQ(mailbox.GetStatus(ngo_.id, ids[0]).status().code(),
            StatusCode::kNotFound);
}

TEST_F(MailboxTest, OrganisationsOfOtherNodesAreNotCallersHere) {
  EXPECT_EQ(ErrorReason(mailbox_->Submit("ng-naptip", Referral()).status()),
            "UNKNOWN_ORGANISATION");
  EXPECT_EQ(ErrorReason(mailbox_->Receive("ng-naptip", 1).status()),
            "UNKNOWN_ORGANISATION");
}

TEST_F(MailboxTest, DirectoryReloadsRotateAndRevokeKeys) {
  const int64_t now = absl::ToUnixMillis(clock_.Now());
  TestOrg rotated{"bg-ngo"};  // bg-ngo's next key
  v1::Directory next = registry_->directory()->doc();
  next.set_serial(2);
  v1::DirectoryOrganisation* ngo = next.mutable_organisations(0);
  ASSERT_EQ(ngo->id(), "bg-ngo");
  v1::DirectoryKey* k = ngo->add_signing_keys();
  const crypto::KeyId id = crypto::KeyIdOf(rotated.sign.public_key());
  k->set_key_id(id.data(), id.size());
  k->set_public_key(rotated.sign.public_key().raw().data(), 32);
  k->set_valid_from_unix_ms(now);
  // The old key: revoked a minute from now.
  ngo->mutable_signing_keys(0)->set_revoked_unix_ms(now + 60 * 1000);
  ASSERT_TRUE(registry_->Replace(*directory::Directory::FromLocal(next)).ok());
  // Both keys work until the revocation.
  EXPECT_TRUE(mailbox_->Submit(ngo_.id, Referral()).ok());
  EXPECT_TRUE(
      mailbox_->Submit(ngo_.id, Seal(Header(ngo_, naptip_), rotated, naptip_))
          .ok());
  // Signed before the revocation, presented after it: refused, because a
  // stolen key can claim any creation time.
  std::string signed_early = Referral();
  clock_.Advance(absl::Minutes(2));
  ExpectRefused(mailbox_->Submit(ngo_.id, signed_early),
                StatusCode::kUnauthenticated, "KEY_REVOKED", 2);
  EXPECT_TRUE(
      mailbox_->Submit(ngo_.id, Seal(Header(ngo_, naptip_), rotated, naptip_))
          .ok());
  // An older directory does not replace a newer one.
  v1::Directory old = next;
  old.set_serial(1);
  EXPECT_EQ(
      ErrorReason(registry_->Replace(*directory::Directory::FromLocal(old))),
      "DIRECTORY_STALE");
  EXPECT_EQ(registry_->directory()->serial(), 2u);
}

TEST_F(MailboxTest, VerificationOffIsForBenchmarksAndSkipsOnlyTheSignature) {
  MailboxOptions off = options_;
  off.verify_signatures = false;
  Mailbox bench(off, *registry_, store_, signer_, clock_);
  std::string wire = Referral();
  wire[wire.size() - 100] ^= 1;  // the signature no longer matches
  EXPECT_TRUE(bench.Submit(ngo_.id, wire).ok());
  // The key the envelope names is still looked up, and the rest checked.
  TestOrg impostor{"bg-ngo"};
  EXPECT_EQ(
      ErrorReason(
          bench.Submit(ngo_.id, Seal(Header(ngo_, naptip_), impostor, naptip_))
              .status()),
      "SENDER_KEY_UNKNOWN");
  EXPECT_EQ(ErrorReason(bench.Submit(naptip_.id, Referral()).status()),
            "SENDER_NOT_CALLER");
  // The default verifies.
  EXPECT_TRUE(MailboxOptions().verify_signatures);
}

TEST_F(MailboxTest, SenderNotTheCaller) {
  ExpectRefused(mailbox_->Submit(naptip_.id, Referral()),
                StatusCode::kPermissionDenied, "SENDER_NOT_CALLER");
}

TEST_F(MailboxTest, OversizeAndOverQuota) {
  ExpectRefused(mailbox_->Submit(ngo_.id, Referral(33 * 1024)),
                StatusCode::kResourceExhausted, "FIELD_TOO_LARGE");
  // The recipient's quota is 64 KiB: two 30 KiB messages fit, a third not.
  ASSERT_TRUE(mailbox_->Submit(ngo_.id, Referral(30 * 1024)).ok());
  ASSERT_TRUE(mailbox_->Submit(ngo_.id, Referral(30 * 1024)).ok());
  auto third = mailbox_->Submit(ngo_.id, Referral(30 * 1024));
  EXPECT_EQ(third.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrorReason(third.status()), "MAILBOX_FULL");
  EXPECT_EQ(*store_.QueueDepth(naptip_.id), 2u);
}

TEST_F(MailboxTest, SubmitManyAnswersEachInOrderUnderOneSignature) {
  // A batch of 20 (verified on more than one thread), with a bad signature,
  // a malformed one and a duplicate among them.
  std::vector<std::string> wires;
  for (int i = 0; i < 20; ++i) wires.push_back(Referral());
  wires[5][wires[5].size() - 100] ^= 1;
  wires[9] = "not an envelope";
  wires[12] = wires[3];
  const uint64_t signatures_before = signer_.signatures();
  std::vector<absl::string_view> views(wires.begin(), wires.end());
  std::vector<absl::StatusOr<v1::Receipt>> got =
      mailbox_->SubmitMany(ngo_.id, views);
  ASSERT_EQ(got.size(), 20u);
  for (int i = 0; i < 20; ++i) {
    if (i == 5) {
      EXPECT_EQ(ErrorReason(got[i].status()), "SIGNATURE_INVALID");
    } else if (i == 9) {
      EXPECT_EQ(ErrorReason(got[i].status()), "ENVELOPE_MALFORMED");
    } else {
      ASSERT_TRUE(got[i].ok()) << i << ": " << got[i].status();
      EXPECT_TRUE(
          receipts::VerifyReceipt(*got[i], node_key_.public_key()).ok());
      v1::ReceiptLeaf leaf;
      ASSERT_TRUE(leaf.ParseFromString(got[i]->leaf()));
      auto digest = crypto::Sha256({AsBytes(wires[i])});
      EXPECT_EQ(leaf.envelope_sha256(),
                std::string(digest.begin(), digest.end()))
          << "receipt " << i << " is not for envelope " << i;
    }
  }
  EXPECT_EQ(signer_.signatures() - signatures_before, 1u);
  EXPECT_EQ(*store_.QueueDepth(naptip_.id), 17u);  // 18 receipts, 1 duplicate
  // The refused ones are recorded for their sender, like single submits.
  auto parsed = envelope::ParsedEnvelope::Parse(wires[5]);
  ASSERT_TRUE(parsed.ok());
  auto st = mailbox_->GetStatus(ngo_.id, parsed->header().message_id());
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->state(), v1::REJECTED);
}

TEST_F(MailboxTest, SubmitManyCountsTheBatchAgainstTheQuota) {
  // 64 KiB quota: of three 30 KiB messages in one batch, the third must not
  // fit, although the queue was empty when the batch arrived.
  std::vector<std::string> wires = {Referral(30 * 1024), Referral(30 * 1024),
                                    Referral(30 * 1024)};
  std::vector<absl::string_view> views(wires.begin(), wires.end());
  auto got = mailbox_->SubmitMany(ngo_.id, views);
  EXPECT_TRUE(got[0].ok());
  EXPECT_TRUE(got[1].ok());
  EXPECT_EQ(ErrorReason(got[2].status()), "MAILBOX_FULL");
  EXPECT_EQ(*store_.QueueDepth(naptip_.id), 2u);
}

TEST_F(MailboxTest, UnknownRecipient) {
  TestOrg stranger{"it-ngo"};
  ExpectRefused(
      mailbox_->Submit(ngo_.id, Seal(Header(ngo_, stranger), ngo_, stranger)),
      StatusCode::kNotFound, "UNKNOWN_RECIPIENT");
  v1::Header abroad = Header(ngo_, naptip_);
  abroad.set_recipient_node("ng");
  absl::StatusOr<v1::Receipt> r =
      mailbox_->Submit(ngo_.id, Seal(abroad, ngo_, naptip_));
  ExpectRefused(r, StatusCode::kNotFound, "UNKNOWN_RECIPIENT");
  EXPECT_NE(r.status().message().find("'bg-naptip' is at node bg, not ng"),
            std::string::npos)
      << "says where the organisation is: " << r.status();
}

TEST_F(MailboxTest, OtherNodesRecipientsGoToTheOutboundQueue) {
  const TestOrg& abroad = abroad_;
  v1::Header h = Header(ngo_, abroad);
  h.set_recipient_node("ng");
  ASSERT_TRUE(mailbox_->Submit(ngo_.id, Seal(h, ngo_, abroad)).ok());
  EXPECT_EQ(*store_.QueueDepth(">ng"), 1u);
  EXPECT_EQ(*store_.QueueDepth("ng-naptip"), 0u);
  EXPECT_EQ(mailbox_->GetStatus(ngo_.id, h.message_id())->recipient_org(),
            "ng-naptip");
  // The wrong node for that organisation.
  h = Header(ngo_, abroad);
  h.set_recipient_node("it");
  ExpectRefused(mailbox_->Submit(ngo_.id, Seal(h, ngo_, abroad)),
                StatusCode::kNotFound, "UNKNOWN_RECIPIENT");
  // A node without TLS does not relay.
  MailboxOptions dev = options_;
  dev.relay_enabled = false;
  Mailbox plain(dev, *registry_, store_, signer_, clock_);
  h = Header(ngo_, abroad);
  h.set_recipient_node("ng");
  ExpectRefused(plain.Submit(ngo_.id, Seal(h, ngo_, abroad)),
                StatusCode::kFailedPrecondition, "RELAY_UNAVAILABLE");
  EXPECT_EQ(*store_.QueueDepth(">ng"), 1u);
}

// Seen on a live node: an envelope sealed to another organisation's key was
// accepted and shown DELIVERED, then failed every receive.
TEST_F(MailboxTest, RecipientKeyMustBeInTheDirectory) {
  absl::StatusOr<v1::Receipt> r =
      mailbox_->Submit(ngo_.id, Seal(Header(ngo_, naptip_), ngo_, /*to=*/ngo_));
  ExpectRefused(r, StatusCode::kFailedPrecondition,
                "RECIPIENT_KEY_NOT_IN_DIRECTORY");
  const crypto::KeyId good = crypto::X25519KeyIdOf(naptip_.enc.public_key());
  EXPECT_NE(r.status().message().find(HexEncode(good)), std::string::npos)
      << "names the key it would accept: " << r.status();
  // A revoked key is no longer accepted either.
  v1::Directory next = registry_->directory()->doc();
  next.set_serial(2);
  next.mutable_organisations(1)
      ->mutable_encryption_keys(0)
      ->set_revoked_unix_ms(absl::ToUnixMillis(clock_.Now()));
  ASSERT_TRUE(registry_->Replace(*directory::Directory::FromLocal(next)).ok());
  ExpectRefused(mailbox_->Submit(ngo_.id, Referral()),
                StatusCode::kFailedPrecondition,
                "RECIPIENT_KEY_NOT_IN_DIRECTORY");
}

TEST_F(MailboxTest, ExpiryBeyondTheLifetimeIsRefused) {
  v1::Header h = Header(ngo_, naptip_);
  h.set_expires_unix_ms(INT64_MAX);
  absl::StatusOr<v1::Receipt> r =
      mailbox_->Submit(ngo_.id, Seal(h, ngo_, naptip_));
  ExpectRefused(r, StatusCode::kInvalidArgument, "EXPIRY_TOO_FAR");
  EXPECT_NE(r.status().message().find("latest allowed expiry is"),
            std::string::npos)
      << r.status();
  h = Header(ngo_, naptip_);
  h.set_expires_unix_ms(h.created_unix_ms() + 30LL * 24 * 3600 * 1000);
  EXPECT_TRUE(mailbox_->Submit(ngo_.id, Seal(h, ngo_, naptip_)).ok())
      << "30 days is the default limit";
  // The federation lowers it to a week.
  v1::Directory next = registry_->directory()->doc();
  next.set_serial(2);
  next.set_max_message_lifetime_seconds(7 * 24 * 3600);
  ASSERT_TRUE(registry_->Replace(*directory::Directory::FromLocal(next)).ok());
  h = Header(ngo_, naptip_);
  h.set_expires_unix_ms(h.created_unix_ms() + 8LL * 24 * 3600 * 1000);
  ExpectRefused(mailbox_->Submit(ngo_.id, Seal(h, ngo_, naptip_)),
                StatusCode::kInvalidArgument, "EXPIRY_TOO_FAR", 1);
}

TEST_F(MailboxTest, Expired) {
  std::string wire = Referral();
  clock_.Advance(absl::Hours(2));
  ExpectRefused(mailbox_->Submit(ngo_.id, wire),
                StatusCode::kFailedPrecondition, "MESSAGE_EXPIRED");
}

TEST_F(MailboxTest, DuplicatesSameAndDifferent) {
  v1::Header h = Header(ngo_, naptip_);
  std::string wire = Seal(h, ngo_, naptip_);
  auto first = mailbox_->Submit(ngo_.id, wire);
  ASSERT_TRUE(first.ok());
  clock_.Advance(absl::Seconds(5));
  auto again = mailbox_->Submit(ngo_.id, wire);
  ASSERT_TRUE(again.ok());
  v1::ReceiptLeaf a, b;
  a.ParseFromString(first->leaf());
  b.ParseFromString(again->leaf());
  EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString())
      << "a retry gets the original receipt's content";
  // Same id, other bytes (a fresh seal has a fresh ephemeral key).
  auto conflict = mailbox_->Submit(ngo_.id, Seal(h, ngo_, naptip_));
  EXPECT_EQ(conflict.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*store_.QueueDepth(naptip_.id), 1u);
}

TEST_F(MailboxTest, FullDiskIsUnavailableAndReadsGoOn) {
  ASSERT_TRUE(mailbox_->Submit(ngo_.id, Referral()).ok());
  memory_.FailWrites(true);
  auto r = mailbox_->Submit(ngo_.id, Referral());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  memory_.FailWrites(false);
  auto got = mailbox_->Receive(naptip_.id, 10);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->size(), 1u);
}

// The free space a test says there is.
class FakeFreeSpace final : public storage::FreeSpace {
 public:
  absl::StatusOr<uint64_t> Available(const std::string&) const override {
    return free.load();
  }
  std::atomic<uint64_t> free{1ull << 30};
};

TEST_F(MailboxTest, ALowDiskRefusesSubmissionsAndKeepsReceiveAndAck) {
  FakeFreeSpace space;
  storage::DiskGuard guard({.path = "/data", .min_free_bytes = 100 << 20},
                           space, clock_);
  MailboxOptions guarded = options_;
  guarded.disk_guard = &guard;
  Mailbox mailbox(guarded, *registry_, store_, signer_, clock_);
  absl::StatusOr<v1::Receipt> first = mailbox.Submit(ngo_.id, Referral());
  ASSERT_TRUE(first.ok()) << first.status();
  v1::ReceiptLeaf leaf;
  leaf.ParseFromString(first->leaf());

  space.free = 99 << 20;
  clock_.Advance(absl::Seconds(1));
  v1::Header h = Header(ngo_, naptip_);
  absl::StatusOr<v1::Receipt> r =
      mailbox.Submit(ngo_.id, Seal(h, ngo_, naptip_));
  ExpectRefused(r, StatusCode::kResourceExhausted, "STORE_DISK_LOW", 1);
  EXPECT_NE(r.status().message().find("99.0 MiB free"), std::string::npos)
      << r.status();
  EXPECT_EQ(mailbox.GetStatus(ngo_.id, h.message_id()).status().code(),
            StatusCode::kNotFound)
      << "a refusal for disk space writes nothing, not even its status";
  EXPECT_EQ(
      mailbox.SubmitMany(ngo_.id, {Referral(), Referral()})[1].status().code(),
      StatusCode::kResourceExhausted);
  EXPECT_EQ(guard.refused(), 2u);
  // Reading and acknowledging go on: they free space.
  absl::StatusOr<std::vector<Delivery>> got = mailbox.Receive(naptip_.id, 10);
  ASSERT_TRUE(got.ok() && got->size() == 1) << got.status();
  EXPECT_TRUE(mailbox
                  .Ack(naptip_.id, got->front().message_id,
                       SignedAck(naptip_, got->front().message_id))
                  .ok());
  // Space returns: accepted again, no restart.
  space.free = 200 << 20;
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(mailbox.Submit(ngo_.id, Referral()).ok());
  EXPECT_FALSE(guard.Current().low);
}

TEST_F(MailboxTest, RefusalsShowAsRejectedToTheirSenderOnly) {
  // Expired: refused, and GetStatus tells the sender why, later.
  v1::Header h = Header(ngo_, naptip_);
  h.set_expires_unix_ms(kStartMs + 1000);
  std::string late = Seal(h, ngo_, naptip_);
  clock_.Advance(absl::Seconds(2));
  ExpectRefused(mailbox_->Submit(ngo_.id, late),
                StatusCode::kFailedPrecondition, "MESSAGE_EXPIRED");
  auto st = mailbox_->GetStatus(ngo_.id, h.message_id());
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->state(), v1::REJECTED);
  EXPECT_EQ(st->reason_code(), "MESSAGE_EXPIRED");
  EXPECT_EQ(st->error_code(),
            static_cast<int>(StatusCode::kFailedPrecondition));
  EXPECT_EQ(st->rejected_unix_ms(), kStartMs + 2000);
  EXPECT_FALSE(st->reason().empty());
  // The recipient neither sees it nor can acknowledge it.
  EXPECT_EQ(mailbox_->GetStatus(naptip_.id, h.message_id()).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(Ack(naptip_, h.message_id()).code(), StatusCode::kNotFound);

  // A bad signature, recorded the same way.
  v1::Header h2 = Header(ngo_, naptip_);
  std::string bad = Seal(h2, ngo_, naptip_);
  bad[bad.size() - 50] ^= 1;
  ExpectRefused(mailbox_->Submit(ngo_.id, bad), StatusCode::kUnauthenticated,
                "SIGNATURE_INVALID");
  EXPECT_EQ(mailbox_->GetStatus(ngo_.id, h2.message_id())->reason_code(),
            "SIGNATURE_INVALID");
  // Sent again correctly, the same id is accepted.
  ASSERT_TRUE(mailbox_->Submit(ngo_.id, Seal(h2, ngo_, naptip_)).ok());
  EXPECT_EQ(mailbox_->GetStatus(ngo_.id, h2.message_id())->state(),
            v1::ACCEPTED);

  // Someone else's refused attempt at an accepted id changes nothing, and is
  // recorded under the caller, not the organisation it claimed to be.
  auto stolen = mailbox_->Submit(naptip_.id, Seal(h2, ngo_, naptip_));
  EXPECT_EQ(stolen.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(mailbox_->GetStatus(ngo_.id, h2.message_id())->state(),
            v1::ACCEPTED);
  EXPECT_EQ(mailbox_->GetStatus(naptip_.id, h2.message_id()).status().code(),
            StatusCode::kNotFound);
  v1::Header h3 = Header(ngo_, naptip_);
  ASSERT_FALSE(mailbox_->Submit(naptip_.id, Seal(h3, ngo_, naptip_)).ok());
  auto theirs = mailbox_->GetStatus(naptip_.id, h3.message_id());
  ASSERT_TRUE(theirs.ok());
  EXPECT_EQ(theirs->reason_code(), "SENDER_NOT_CALLER");
  EXPECT_EQ(mailbox_->GetStatus(ngo_.id, h3.message_id()).status().code(),
            StatusCode::kNotFound);

  // Malformed bytes have no id: nothing to record, nothing recorded.
  EXPECT_FALSE(mailbox_->Submit(ngo_.id, "junk").ok());
}

TEST_F(MailboxTest, LeasesRedeliveryAckAndStatus) {
  auto receipt = mailbox_->Submit(ngo_.id, Referral());
  ASSERT_TRUE(receipt.ok());
  v1::ReceiptLeaf leaf;
  leaf.ParseFromString(receipt->leaf());
  const std::string id = leaf.message_id();
  EXPECT_EQ(mailbox_->GetStatus(ngo_.id, id)->state(), v1::ACCEPTED);

  auto first = mailbox_->Receive(naptip_.id, 10);
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].attempt, 1u);
  EXPECT_EQ(mailbox_->GetStatus(ngo_.id, id)->state(), v1::DELIVERED);
  EXPECT_TRUE(mailbox_->Receive(naptip_.id, 10)->empty()) << "leased";

  clock_.Advance(options_.visibility_timeout + absl::Seconds(1));
  auto again = mailbox_->Receive(naptip_.id, 10);
  ASSERT_EQ(again->size(), 1u) << "the lease ran out";
  EXPECT_EQ((*again)[0].attempt, 2u);

  ASSERT_TRUE(mailbox_->Release(naptip_.id, id).ok());
  auto released = mailbox_->Receive(naptip_.id, 10);
  ASSERT_EQ(released->size(), 1u) << "released early";

  ASSERT_TRUE(Ack(naptip_, id).ok());
  clock_.Advance(options_.visibility_timeout * 2);
  EXPECT_TRUE(mailbox_->Receive(naptip_.id, 10)->empty()) << "acknowledged";
  EXPECT_EQ(ErrorReason(mailbox_->Release(naptip_.id, id)), "NOT_LEASED");
  auto st = mailbox_->GetStatus(ngo_.id, id);
  EXPECT_EQ(st->state(), v1::ACKNOWLEDGED);
  EXPECT_GT(st->acknowledged_unix_ms(), st->delivered_unix_ms());
  // Only the sender may ask.
  EXPECT_EQ(mailbox_->GetStatus(naptip_.id, id).status().code(),
            StatusCode::kNotFound);
}

TEST_F(MailboxTest, ReceiveStopsAtItsByteBudgetAndLeasesNoMore) {
  // Three 20 KiB messages; a budget of 50 KiB takes two, and the third is
  // neither delivered nor leased: the next call gets it at once.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(mailbox_->Submit(ngo_.id, Referral(20 * 1024)).ok());
  }
  auto first = mailbox_->Receive(naptip_.id, 10, 50 * 1024);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->size(), 2u);
  auto rest = mailbox_->Receive(naptip_.id, 10, 50 * 1024);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 1u) << "the third was leased without delivery";
  EXPECT_EQ((*rest)[0].attempt, 1u);
  for (const auto* got : {&*first, &*rest}) {
    for (const Delivery& d : *got) ASSERT_TRUE(Ack(naptip_, d.message_id).ok());
  }
  // One message larger than the budget still comes, alone.
  ASSERT_TRUE(mailbox_->Submit(ngo_.id, Referral(20 * 1024)).ok());
  auto big = mailbox_->Receive(naptip_.id, 10, 1024);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->size(), 1u);
}

TEST_F(MailboxTest, AckManyClearsLeases) {
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(mailbox_->Submit(ngo_.id, Referral()).ok());
  auto got = mailbox_->Receive(naptip_.id, 10);
  ASSERT_EQ(got->size(), 3u);
  std::vector<std::string> ids = {(*got)[0].message_id, (*got)[2].message_id};
  std::vector<storage::AckRequest> acks;
  for (const std::string& id : ids) {
    acks.push_back(storage::AckRequest{id, SignedAck(naptip_, id), ""});
  }
  auto results = mailbox_->AckMany(naptip_.id, acks);
  ASSERT_TRUE(results.ok());
  EXPECT_TRUE((*results)[0].ok() && (*results)[1].ok());
  EXPECT_EQ(ErrorReason(mailbox_->Release(naptip_.id, ids[0])), "NOT_LEASED");
  clock_.Advance(options_.visibility_timeout * 2);
  auto again = mailbox_->Receive(naptip_.id, 10);
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].message_id, (*got)[1].message_id);
  EXPECT_EQ(mailbox_->AckMany("nobody", acks).status().code(),
            StatusCode::kUnauthenticated);
}

TEST_F(MailboxTest, StatusShowsExpiryBeforeAcknowledgement) {
  auto receipt = mailbox_->Submit(ngo_.id, Referral());
  v1::ReceiptLeaf leaf;
  leaf.ParseFromString(receipt->leaf());
  clock_.Advance(absl::Hours(2));
  auto st = mailbox_->GetStatus(ngo_.id, leaf.message_id());
  EXPECT_EQ(st->state(), v1::EXPIRED);
  EXPECT_FALSE(st->reason().empty());
  EXPECT_TRUE(mailbox_->Receive(naptip_.id, 10)->empty())
      << "expired messages are not delivered";
  EXPECT_TRUE(store_.GetDeadLetter(leaf.message_id()).ok());
}

TEST_F(MailboxTest, RetentionPurgesPayloadsAfterTheWindow) {
  auto receipt = mailbox_->Submit(ngo_.id, Referral());
  v1::ReceiptLeaf leaf;
  leaf.ParseFromString(receipt->leaf());
  ASSERT_EQ(mailbox_->Receive(naptip_.id, 1)->size(), 1u);
  ASSERT_TRUE(Ack(naptip_, leaf.message_id()).ok());
  EXPECT_EQ(*mailbox_->PurgeRetained(), 0u) << "inside the window";
  clock_.Advance(options_.retention + absl::Seconds(1));
  EXPECT_EQ(*mailbox_->PurgeRetained(), 1u);
  auto st = mailbox_->GetStatus(ngo_.id, leaf.message_id());
  EXPECT_EQ(st->state(), v1::ACKNOWLEDGED);
  EXPECT_GT(st->purged_unix_ms(), 0);
}

TEST_F(MailboxTest, ExpiredWhileQueuedIsNotDelivered) {
  v1::Header h = Header(ngo_, naptip_);
  h.set_expires_unix_ms(h.created_unix_ms() + 60 * 1000);
  ASSERT_TRUE(mailbox_->Submit(ngo_.id, Seal(h, ngo_, naptip_)).ok());
  ASSERT_TRUE(mailbox_->Submit(ngo_.id, Referral()).ok());
  clock_.Advance(absl::Minutes(2));
  auto got = mailbox_->Receive(naptip_.id, 10);
  ASSERT_EQ(got->size(), 1u);
  EXPECT_NE((*got)[0].message_id, h.message_id());
  EXPECT_EQ(mailbox_->GetStatus(ngo_.id, h.message_id())->state(), v1::EXPIRED);
}

TEST_F(MailboxTest, AcknowledgementsAreSignedByTheRecipient) {
  auto receipt = mailbox_->Submit(ngo_.id, Referral());
  ASSERT_TRUE(receipt.ok());
  v1::ReceiptLeaf leaf;
  leaf.ParseFromString(receipt->leaf());
  const std::string id = leaf.message_id();
  ASSERT_EQ(mailbox_->Receive(naptip_.id, 1)->size(), 1u);
  auto refused = [&](const std::string& ack) {
    return ErrorReason(mailbox_->Ack(naptip_.id, id, ack));
  };
  EXPECT_EQ(refused(""), "ACKNOWLEDGEMENT_UNSIGNED");
  EXPECT_EQ(refused("junk"), "ACKNOWLEDGEMENT_MALFORMED");
  // For another message, or by another organisation.
  EXPECT_EQ(refused(SignedAck(naptip_, envelope::NewMessageId())),
            "ACKNOWLEDGEMENT_MISMATCH");
  EXPECT_EQ(refused(SignedAck(ngo_, id)), "ACKNOWLEDGEMENT_MISMATCH");
  // Signed with a key the directory does not list for the recipient.
  TestOrg impostor{naptip_.id};
  EXPECT_EQ(refused(SignedAck(impostor, id)), "SENDER_KEY_UNKNOWN");
  // A valid signature over other bytes.
  std::string forged = SignedAck(naptip_, id);
  v1::SignedAcknowledgement sa;
  ASSERT_TRUE(sa.ParseFromString(forged));
  std::string sig = sa.signature();
  sig[0] ^= 1;
  sa.set_signature(sig);
  EXPECT_EQ(refused(sa.SerializeAsString()),
            "ACKNOWLEDGEMENT_SIGNATURE_INVALID");
  // Dated outside the clock skew.
  EXPECT_EQ(refused(SignedAck(naptip_, id, clock_.Now() - absl::Hours(1))),
            "ACKNOWLEDGEMENT_TIME");
  EXPECT_EQ(*store_.QueueDepth(naptip_.id), 1u) << "a refusal acknowledged";

  const std::string good = SignedAck(naptip_, id);
  ASSERT_TRUE(mailbox_->Ack(naptip_.id, id, good).ok());
  auto st = mailbox_->GetStatus(ngo_.id, id);
  EXPECT_EQ(st->state(), v1::ACKNOWLEDGED);
  EXPECT_EQ(st->acknowledgement(), good) << "the sender sees the evidence";
  auto parsed = envelope::ParseAcknowledgement(st->acknowledgement());
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(
      envelope::VerifyAcknowledgement(*parsed, naptip_.sign.public_key()).ok());
}

TEST_F(MailboxTest, ABatchOfAcknowledgementsIsSignedOnceAndEachKeepsItsPart) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto receipt = mailbox_->Submit(ngo_.id, Referral());
    ASSERT_TRUE(receipt.ok());
    v1::ReceiptLeaf leaf;
    leaf.ParseFromString(receipt->leaf());
    ids.push_back(leaf.message_id());
  }
  ASSERT_EQ(mailbox_->Receive(naptip_.id, 10)->size(), 5u);
  auto acks_for = [](const std::vector<std::string>& of) {
    std::vector<storage::AckRequest> acks;
    for (const std::string& id : of) acks.push_back({id, "", ""});
    return acks;
  };
  auto reasons = [&](const std::vector<std::string>& of,
                     const std::string& batch) {
    std::vector<std::string> out;
    auto results = mailbox_->AckMany(naptip_.id, acks_for(of), batch);
    if (!results.ok())
      return std::vector<std::string>{ErrorReason(results.status())};
    for (const absl::Status& r : *results) out.push_back(ErrorReason(r));
    return out;
  };
  using V = std::vector<std::string>;
  const V two = {ids[0], ids[1]};
  // Refused whole: not a batch, bodies not one per id, signed by a key the
  // directory does not list, a broken signature, dated outside the skew.
  EXPECT_EQ(reasons(two, "junk"), V(2, "ACKNOWLEDGEMENT_MALFORMED"));
  EXPECT_EQ(reasons(two, SignedAckBatch(naptip_, {ids[0]})),
            V{"ACKNOWLEDGEMENTS_MISMATCH"});
  TestOrg impostor{naptip_.id};
  EXPECT_EQ(reasons(two, SignedAckBatch(impostor, two)),
            V(2, "SENDER_KEY_UNKNOWN"));
  v1::AcknowledgementBatch broken;
  ASSERT_TRUE(broken.ParseFromString(SignedAckBatch(naptip_, two)));
  (*broken.mutable_signature())[0] ^= 1;
  EXPECT_EQ(reasons(two, broken.SerializeAsString()),
            V(2, "ACKNOWLEDGEMENT_SIGNATURE_INVALID"));
  EXPECT_EQ(
      reasons(two, SignedAckBatch(naptip_, two, clock_.Now() - absl::Hours(1))),
      V(2, "ACKNOWLEDGEMENT_TIME"));
  // The bodies in another order than the ids: each names another message.
  EXPECT_EQ(reasons({ids[1], ids[0]}, SignedAckBatch(naptip_, two)),
            V(2, "ACKNOWLEDGEMENT_MISMATCH"));
  EXPECT_EQ(*store_.QueueDepth(naptip_.id), 5u) << "a refusal acknowledged";

  // A batch over four ids where one is not the caller's to acknowledge:
  // that one is refused alone, the other three are acknowledged.
  const std::string unknown = envelope::NewMessageId();
  const V four = {ids[0], ids[1], unknown, ids[2]};
  EXPECT_EQ(reasons(four, SignedAckBatch(naptip_, four)),
            (V{"", "", "MESSAGE_NOT_FOUND", ""}));
  EXPECT_EQ(*store_.QueueDepth(naptip_.id), 2u);
  for (int i : {0, 1, 2}) {
    auto st = mailbox_->GetStatus(ngo_.id, ids[i]);
    ASSERT_EQ(st->state(), v1::ACKNOWLEDGED);
    // The sender's evidence is this message's part alone, which verifies
    // with the recipient's key.
    auto ack = envelope::ParseAcknowledgement(st->acknowledgement());
    ASSERT_TRUE(ack.ok()) << ack.status();
    EXPECT_EQ(ack->body.message_id(), ids[i]);
    EXPECT_EQ(ack->signed_ack.batch_size(), 4u);
    EXPECT_EQ(ack->signed_ack.leaf_index(), i == 2 ? 3u : uint64_t(i));
    EXPECT_TRUE(
        envelope::VerifyAcknowledgement(*ack, naptip_.sign.public_key()).ok());
  }
}

TEST_F(MailboxTest, ARefusalIsSignedByTheRecipientAndTheSenderSeesIt) {
  auto receipt = mailbox_->Submit(ngo_.id, Referral());
  ASSERT_TRUE(receipt.ok());
  v1::ReceiptLeaf leaf;
  leaf.ParseFromString(receipt->leaf());
  const std::string id = leaf.message_id();
  ASSERT_EQ(mailbox_->Receive(naptip_.id, 1)->size(), 1u);
  auto refused = [&](const std::string& refusal) {
    return ErrorReason(mailbox_->Refuse(naptip_.id, id, refusal));
  };
  EXPECT_EQ(refused(""), "REFUSAL_MALFORMED") << "a refusal is always signed";
  EXPECT_EQ(refused("junk"), "REFUSAL_MALFORMED");
  EXPECT_EQ(refused(SignedAck(naptip_, id)), "REFUSAL_MALFORMED")
      << "an acknowledgement is not a refusal";
  EXPECT_EQ(refused(SignedRefusal(naptip_, envelope::NewMessageId())),
            "REFUSAL_MISMATCH");
  const std::string unknown = envelope::NewMessageId();
  EXPECT_EQ(ErrorReason(mailbox_->Refuse(naptip_.id, unknown,
                                         SignedRefusal(naptip_, unknown))),
            "MESSAGE_NOT_FOUND");
  EXPECT_EQ(refused(SignedRefusal(ngo_, id)), "REFUSAL_MISMATCH");
  EXPECT_EQ(ErrorReason(mailbox_->Refuse(ngo_.id, id, SignedRefusal(ngo_, id))),
            "MESSAGE_NOT_FOUND")
      << "only the recipient refuses";
  TestOrg impostor{naptip_.id};
  EXPECT_EQ(refused(SignedRefusal(impostor, id)), "SENDER_KEY_UNKNOWN");
  v1::SignedRefusal sr;
  ASSERT_TRUE(sr.ParseFromString(SignedRefusal(naptip_, id)));
  std::string sig = sr.signature();
  sig[0] ^= 1;
  sr.set_signature(sig);
  EXPECT_EQ(refused(sr.SerializeAsString()), "REFUSAL_SIGNATURE_INVALID");
  EXPECT_EQ(refused(SignedRefusal(naptip_, id, v1::REFUSAL_CANNOT_OPEN,
                                  clock_.Now() - absl::Hours(1))),
            "REFUSAL_TIME");
  EXPECT_EQ(*store_.QueueDepth(naptip_.id), 1u) << "a bad refusal took it";

  const std::string good = SignedRefusal(naptip_, id);
  ASSERT_TRUE(mailbox_->Refuse(naptip_.id, id, good).ok());
  EXPECT_EQ(*store_.QueueDepth(naptip_.id), 0u) << "it left the queue";
  EXPECT_TRUE(mailbox_->Receive(naptip_.id, 8)->empty());
  auto st = mailbox_->GetStatus(ngo_.id, id);
  EXPECT_EQ(st->state(), v1::REFUSED);
  EXPECT_EQ(st->refusal(), good) << "the sender sees the evidence";
  EXPECT_EQ(st->reason_code(), "REFUSED_CANNOT_OPEN");
  EXPECT_EQ(st->reason(), "sealed to a key we never had");
  EXPECT_GT(st->refused_unix_ms(), 0);
  // Once refused, it is neither acknowledged nor refused anew; refusing
  // again is answered OK (a retried call).
  EXPECT_TRUE(mailbox_->Refuse(naptip_.id, id, good).ok());
  EXPECT_EQ(ErrorReason(mailbox_->Ack(naptip_.id, id, SignedAck(naptip_, id))),
            "MESSAGE_REFUSED");
  EXPECT_EQ(mailbox_->GetStatus(ngo_.id, id)->refusal(), good);

  // An acknowledged message can be refused afterwards (its recipient stored
  // it, then read that it is not its own); the sender sees REFUSED and
  // keeps the acknowledgement as evidence.
  receipt = mailbox_->Submit(ngo_.id, Referral());
  leaf.ParseFromString(receipt->leaf());
  ASSERT_TRUE(Ack(naptip_, leaf.message_id()).ok());
  ASSERT_TRUE(mailbox_
                  ->Refuse(naptip_.id, leaf.message_id(),
                           SignedRefusal(naptip_, leaf.message_id()))
                  .ok());
  auto late = mailbox_->GetStatus(ngo_.id, leaf.message_id());
  EXPECT_EQ(late->state(), v1::REFUSED);
  EXPECT_GT(late->acknowledged_unix_ms(), 0);
  EXPECT_FALSE(late->acknowledgement().empty());
  EXPECT_EQ(late->reason_code(), "REFUSED_CANNOT_OPEN");
}

TEST_F(MailboxTest, UnsignedAcknowledgementsWhenTheNodeAllowsThem) {
  options_.require_signed_acknowledgements = false;
  mailbox_ =
      std::make_unique<Mailbox>(options_, *registry_, store_, signer_, clock_);
  auto receipt = mailbox_->Submit(ngo_.id, Referral());
  v1::ReceiptLeaf leaf;
  leaf.ParseFromString(receipt->leaf());
  ASSERT_TRUE(mailbox_->Ack(naptip_.id, leaf.message_id(), "").ok());
  auto st = mailbox_->GetStatus(ngo_.id, leaf.message_id());
  EXPECT_EQ(st->state(), v1::ACKNOWLEDGED);
  EXPECT_TRUE(st->acknowledgement().empty());
}

}  // namespace
}  // namespace trm::mailbox
