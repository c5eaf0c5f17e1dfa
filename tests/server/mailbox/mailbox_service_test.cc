// The Mailbox gRPC service over a loopback port: who may call, AckMany with
// one signature for a batch, and its bounds (issue 15 section 3): calls per
// organisation, many waiting calls, a submit stream that outruns the
// commit, and a Receive stream whose client stops reading.
#include "server/mailbox/mailbox_service.h"

#include <dirent.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <thread>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "common/bytes.h"
#include "common/crypto/hash.h"
#include "common/crypto/key_files.h"
#include "common/envelope/acknowledgement.h"
#include "common/envelope/envelope.h"
#include "common/rpc_status.h"
#include "common/status.h"
#include "server/storage/rocksdb_store.h"
#include "tests/server/mailbox/test_org.h"
#include "tests/server/storage/in_memory_store.h"

namespace trm::mailbox {
namespace {

std::string TokenOf(const TestOrg& o) { return o.id + "-token"; }

size_t ThreadsOfThisProcess() {
  size_t n = 0;
  DIR* d = opendir("/proc/self/task");
  if (d == nullptr) return 0;
  while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

// Spins (yielding, never sleeping) until `done` or ~20 s pass.
template <typename Fn>
bool Eventually(Fn done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (!done()) {
    if (absl::Now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

class MailboxServiceTest : public ::testing::Test {
 protected:
  void Start(ServiceLimits limits) {
    v1::Directory d;
    d.set_federation("test");
    d.set_serial(1);
    d.add_nodes()->set_id("bg");
    absl::flat_hash_map<std::string, std::string> tokens;
    for (TestOrg* o : {&ngo_, &naptip_, &shelter_}) {
      AddOrganisation(d, *o, "bg");
      const crypto::Sha256Digest h = crypto::Sha256({AsBytes(TokenOf(*o))});
      tokens[HexEncode(ByteView(h.data(), h.size()))] = o->id;
    }
    registry_ = std::make_unique<OrgRegistry>(
        "bg", *directory::Directory::FromLocal(d),
        absl::flat_hash_map<std::string, uint64_t>{});
    MailboxOptions options;
    options.node_id = "bg";
    options.require_signed_acknowledgements = false;
    mailbox_ = std::make_unique<Mailbox>(options, *registry_, store_, signer_,
                                         SystemClock::Get());
    auth_ = std::make_unique<auth::TokenAuthenticator>(tokens);
    service_ = std::make_unique<MailboxService>(*mailbox_, *auth_, 2, limits,
                                                &watchdog_);
    grpc::ServerBuilder b;
    int port = 0;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    b.RegisterService(service_.get());
    server_ = b.BuildAndStart();
    ASSERT_NE(port, 0);
    // A client that does not read holds back at most its HTTP/2 window:
    // a fixed 64 KiB (no BDP probing, which would grow it), so that a
    // stalled reader stalls the node's writes whatever the machine's load.
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
    args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 64 * 1024);
    args.SetMaxReceiveMessageSize(8 << 20);
    channel_ =
        grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                  grpc::InsecureChannelCredentials(), args);
    stub_ = v1::Mailbox::NewStub(channel_);
    // And a client as an integrator would make it: gRPC's defaults.
    grpc::ChannelArguments defaults;
    defaults.SetMaxReceiveMessageSize(8 << 20);
    ordinary_stub_ = v1::Mailbox::NewStub(grpc::CreateCustomChannel(
        absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials(),
        defaults));
  }
  ~MailboxServiceTest() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
  }
  static void As(const TestOrg& o, grpc::ClientContext* ctx) {
    ctx->AddMetadata("authorization", "Bearer " + TokenOf(o));
  }
  std::string Envelope(size_t payload = 100) {
    v1::Header h;
    h.set_schema_version(1);
    h.set_message_id(envelope::NewMessageId());
    h.set_case_ref("BG-2026-1");
    h.set_type(v1::INFORMATION_REQUEST);
    h.set_sender_org(ngo_.id);
    h.set_sender_node("bg");
    h.set_recipient_org(naptip_.id);
    h.set_recipient_node("bg");
    h.set_created_unix_ms(absl::ToUnixMillis(absl::Now()));
    h.set_expires_unix_ms(h.created_unix_ms() + 3600 * 1000);
    auto env = envelope::Seal(h, AsBytes(std::string(payload, 'p')), ngo_.sign,
                              naptip_.enc.public_key());
    return env->SerializeAsString();
  }
  // An ordinary exchange: submit, receive, acknowledge; how long it took.
  absl::Duration Ordinary() {
    const absl::Time start = absl::Now();
    grpc::ClientContext c1;
    As(ngo_, &c1);
    v1::SubmitRequest req;
    req.set_envelope(Envelope());
    v1::SubmitResponse resp;
    EXPECT_TRUE(stub_->Submit(&c1, req, &resp).ok());
    grpc::ClientContext c2;
    As(naptip_, &c2);
    v1::ReceiveRequest rr;
    rr.set_max_messages(1);
    v1::Deliveries got;
    EXPECT_TRUE(stub_->ReceiveMany(&c2, rr, &got).ok());
    EXPECT_EQ(got.deliveries_size(), 1);
    if (got.deliveries_size() == 1) {
      grpc::ClientContext c3;
      As(naptip_, &c3);
      v1::MessageRef ref;
      ref.set_message_id(got.deliveries(0).message_id());
      v1::AckResponse ack;
      EXPECT_TRUE(stub_->Ack(&c3, ref, &ack).ok());
    }
    return absl::Now() - start;
  }

  TestOrg ngo_{"bg-ngo"};
  TestOrg naptip_{"bg-naptip"};
  TestOrg shelter_{"bg-shelter"};
  std::unique_ptr<OrgRegistry> registry_;
  storage::testing::InMemoryStore memory_;
  storage::RocksMessageStore& store_ = memory_.store();
  crypto::Ed25519PrivateKey node_key_ = *crypto::Ed25519PrivateKey::Generate();
  receipts::ReceiptSigner signer_{node_key_};
  SimulatedClock watch_clock_{absl::FromUnixSeconds(1700000000)};
  StreamWatchdog watchdog_{absl::Seconds(30), watch_clock_};
  std::unique_ptr<Mailbox> mailbox_;
  std::unique_ptr<auth::TokenAuthenticator> auth_;
  std::unique_ptr<MailboxService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Mailbox::Stub> stub_;
  std::unique_ptr<v1::Mailbox::Stub> ordinary_stub_;
};

// Who may call, and what each caller may see: the development token's
// decisions over the wire.
TEST_F(MailboxServiceTest, TheTokenDecidesWhoCallsAndEachSeesItsOwn) {
  Start({});
  absl::StatusOr<v1::Receipt> sent = mailbox_->Submit(ngo_.id, Envelope());
  ASSERT_TRUE(sent.ok());
  v1::ReceiptLeaf leaf;
  ASSERT_TRUE(leaf.ParseFromString(sent->leaf()));
  struct Row {
    const char* name;
    std::string authorization;  // empty: no metadata
    grpc::StatusCode code;
    const char* reason;  // the message starts with it
  } rows[] = {
      {"no credential", "", grpc::StatusCode::UNAUTHENTICATED,
       "MISSING_CREDENTIAL"},
      {"another scheme", "Basic " + TokenOf(ngo_),
       grpc::StatusCode::UNAUTHENTICATED, "MISSING_CREDENTIAL"},
      {"an unknown token", "Bearer not-a-token",
       grpc::StatusCode::UNAUTHENTICATED, "UNKNOWN_CREDENTIAL"},
      {"an empty token", "Bearer ", grpc::StatusCode::UNAUTHENTICATED,
       "UNKNOWN_CREDENTIAL"},
      {"a token with a space added", "Bearer " + TokenOf(ngo_) + " ",
       grpc::StatusCode::UNAUTHENTICATED, "UNKNOWN_CREDENTIAL"},
      {"the sender", "Bearer " + TokenOf(ngo_), grpc::StatusCode::OK, ""},
      // The recipient, or anyone else, cannot read the sender's status.
      {"the recipient", "Bearer " + TokenOf(naptip_),
       grpc::StatusCode::NOT_FOUND, "MESSAGE_NOT_FOUND"},
      {"a third organisation", "Bearer " + TokenOf(shelter_),
       grpc::StatusCode::NOT_FOUND, "MESSAGE_NOT_FOUND"},
  };
  for (const Row& row : rows) {
    grpc::ClientContext ctx;
    if (!row.authorization.empty()) {
      ctx.AddMetadata("authorization", row.authorization);
    }
    v1::MessageRef ref;
    ref.set_message_id(leaf.message_id());
    v1::MessageStatus st;
    grpc::Status s = stub_->GetStatus(&ctx, ref, &st);
    EXPECT_EQ(s.error_code(), row.code)
        << row.name << ": " << s.error_message();
    EXPECT_TRUE(absl::StartsWith(s.error_message(), row.reason))
        << row.name << ": " << s.error_message();
    // The reason travels as a google.rpc.ErrorInfo detail too, and the
    // client reads it from there, not from the text.
    grpc::Status detail_only(s.error_code(), "no text", s.error_details());
    EXPECT_EQ(ErrorReason(FromGrpcStatus(detail_only)), row.reason) << row.name;
    if (s.ok()) {
      EXPECT_EQ(st.status().sender_org(), ngo_.id);
    }
  }
}

// AckMany over the wire with one AcknowledgementBatch for all its ids, and
// the call refused whole when it carries both forms.
TEST_F(MailboxServiceTest, AckManyTakesOneSignatureForABatch) {
  Start({});
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(mailbox_->Submit(ngo_.id, Envelope()).ok());
  }
  grpc::ClientContext rc;
  As(naptip_, &rc);
  v1::ReceiveRequest rr;
  rr.set_max_messages(10);
  v1::Deliveries got;
  ASSERT_TRUE(stub_->ReceiveMany(&rc, rr, &got).ok());
  ASSERT_EQ(got.deliveries_size(), 3);
  v1::AckManyRequest req;
  std::vector<v1::AcknowledgementBody> bodies;
  for (const v1::Delivery& d : got.deliveries()) {
    req.add_message_ids(d.message_id());
    v1::AcknowledgementBody& b = bodies.emplace_back();
    b.set_message_id(d.message_id());
    const crypto::Sha256Digest h = crypto::Sha256({AsBytes(d.envelope())});
    b.set_envelope_sha256(h.data(), h.size());
    b.set_recipient_org(naptip_.id);
    b.set_time_unix_ms(absl::ToUnixMillis(absl::Now()));
  }
  req.set_acknowledgement_batch(
      *envelope::SignAcknowledgementBatch(bodies, naptip_.sign));

  v1::AckManyRequest both = req;
  both.add_acknowledgements("x");
  both.add_acknowledgements("y");
  both.add_acknowledgements("z");
  grpc::ClientContext c1;
  As(naptip_, &c1);
  v1::AckManyResponse resp;
  grpc::Status s = stub_->AckMany(&c1, both, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "ACKNOWLEDGEMENTS_MISMATCH"))
      << s.error_message();

  grpc::ClientContext c2;
  As(naptip_, &c2);
  ASSERT_TRUE(stub_->AckMany(&c2, req, &resp).ok());
  ASSERT_EQ(resp.results_size(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(resp.results(i).message_id(), req.message_ids(i));
    EXPECT_EQ(resp.results(i).error_code(), 0)
        << resp.results(i).error_message();
    auto st = mailbox_->GetStatus(ngo_.id, req.message_ids(i));
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->state(), v1::ACKNOWLEDGED);
    auto ack = envelope::ParseAcknowledgement(st->acknowledgement());
    ASSERT_TRUE(ack.ok());
    EXPECT_EQ(ack->signed_ack.batch_size(), 3u);
  }
  EXPECT_EQ(*store_.QueueDepth(naptip_.id), 0u);
}

TEST_F(MailboxServiceTest, ThousandsOfWaitingCallsHoldBoundedThreads) {
  ServiceLimits limits;
  limits.max_calls_per_organisation = 64;
  Start(limits);
  const absl::Duration quiet = Ordinary();
  const size_t threads_before = ThreadsOfThisProcess();
  // 2,000 long polls of one organisation, made asynchronously so that the
  // client side adds no threads.
  constexpr int kCalls = 2000;
  grpc::CompletionQueue cq;
  struct Call {
    grpc::ClientContext ctx;
    v1::Deliveries resp;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<v1::Deliveries>> rpc;
  };
  std::vector<std::unique_ptr<Call>> calls;
  v1::ReceiveRequest wait;
  wait.set_wait_ms(60000);
  for (int i = 0; i < kCalls; ++i) {
    auto c = std::make_unique<Call>();
    As(shelter_, &c->ctx);
    c->rpc = stub_->AsyncReceiveMany(&c->ctx, wait, &cq);
    c->rpc->Finish(&c->resp, &c->status, c.get());
    calls.push_back(std::move(c));
  }
  // Those past the limit come back at once, refused with the reason.
  int refused = 0;
  for (int i = 0; i < kCalls - 64; ++i) {
    void* tag;
    bool ok;
    ASSERT_TRUE(cq.Next(&tag, &ok));
    const grpc::Status& s = static_cast<Call*>(tag)->status;
    ASSERT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
        << s.error_message();
    EXPECT_NE(s.error_message().find("max_calls_per_organisation"),
              std::string::npos);
    ++refused;
  }
  ASSERT_TRUE(
      Eventually([&] { return service_->calls().Open(shelter_.id) == 64; }));
  const size_t threads_waiting = ThreadsOfThisProcess();
  // Other organisations' ordinary work is not held up.
  const absl::Duration busy = Ordinary();
  std::printf(
      "[ figures ] %d waiting ReceiveMany calls of one organisation: %d "
      "refused (TOO_MANY_CALLS), %zu waiting; process threads %zu before, "
      "%zu while waiting (+%zu); ordinary submit+receive+ack %.1f ms idle, "
      "%.1f ms while they wait\n",
      kCalls, refused, service_->calls().Open(shelter_.id), threads_before,
      threads_waiting, threads_waiting - threads_before,
      absl::ToDoubleMilliseconds(quiet), absl::ToDoubleMilliseconds(busy));
  // gRPC keeps threads of its own beyond one per open call (more after a
  // burst, on a loaded machine); without the limit there would be one per
  // call, 2,000.
  EXPECT_LT(threads_waiting - threads_before, static_cast<size_t>(kCalls / 2))
      << "threads grow with calls";
  for (auto& c : calls) c->ctx.TryCancel();
  for (int i = 0; i < 64; ++i) {
    void* tag;
    bool ok;
    ASSERT_TRUE(cq.Next(&tag, &ok));
  }
  EXPECT_TRUE(
      Eventually([&] { return service_->calls().Open(shelter_.id) == 0; }));
  cq.Shutdown();
}

TEST_F(MailboxServiceTest, AWaitingCallIsWokenByTheArrivalNotATimer) {
  Start({});
  grpc::ClientContext ctx;
  As(naptip_, &ctx);
  v1::ReceiveRequest wait;
  wait.set_wait_ms(60000);
  v1::Deliveries got;
  grpc::Status status;
  std::thread waiter([&] { status = stub_->ReceiveMany(&ctx, wait, &got); });
  ASSERT_TRUE(
      Eventually([&] { return service_->calls().Open(naptip_.id) == 1; }));
  const uint64_t before = mailbox_->arrivals().Generation(naptip_.id);
  ASSERT_TRUE(mailbox_->Submit(ngo_.id, Envelope()).ok());
  EXPECT_EQ(mailbox_->arrivals().Generation(naptip_.id), before + 1);
  waiter.join();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(got.deliveries_size(), 1);
}

TEST_F(MailboxServiceTest, ASubmitStreamThatOutrunsTheCommitIsHeldBack) {
  ServiceLimits limits;
  limits.submit_queue = 8;
  Start(limits);
  // The commit stalls until the gate opens.
  absl::Notification gate;
  service_->set_submit_observer(
      [&](const absl::Status&, absl::Duration) { gate.WaitForNotification(); });
  grpc::ClientContext ctx;
  As(ngo_, &ctx);
  auto stream = stub_->SubmitStream(&ctx);
  constexpr int kRequests = 3000;
  std::atomic<int> written{0};
  std::thread writer([&] {
    v1::SubmitRequest req;
    req.set_envelope(std::string(200, 'x'));  // refused, quickly
    for (int i = 0; i < kRequests; ++i) {
      req.set_correlation(i);
      if (!stream->Write(req)) break;
      written++;
    }
    stream->WritesDone();
  });
  // Either the node's queue fills to its bound (and stays there), or, with
  // no bound, the whole stream is read into memory.
  ASSERT_TRUE(Eventually([&] {
    return service_->deepest_submit_queue() >= 8 || written == kRequests;
  }));
  EXPECT_LE(service_->deepest_submit_queue(), 8u)
      << "the node read " << service_->deepest_submit_queue()
      << " requests ahead of its commit";
  gate.Notify();
  int answers = 0;
  v1::SubmitResponse resp;
  while (stream->Read(&resp)) ++answers;
  writer.join();
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(answers, kRequests) << "every request is answered";
  EXPECT_LE(service_->deepest_submit_queue(), 8u);
}

TEST_F(MailboxServiceTest, AReceiveStreamWhoseClientStopsReadingIsEnded) {
  ServiceLimits limits;
  limits.receive_window_messages = 2;
  Start(limits);
  // More than the transport buffers for a client that does not read.
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(mailbox_->Submit(ngo_.id, Envelope(900000)).ok());
  }
  grpc::ClientContext ctx;
  As(naptip_, &ctx);
  v1::ReceiveRequest req;
  req.set_max_messages(40);
  auto reader = stub_->Receive(&ctx, req);
  v1::Delivery d;
  ASSERT_TRUE(reader->Read(&d));  // then the client stops reading
  ASSERT_TRUE(Eventually([&] { return watchdog_.watched() == 1; }));
  // Not yet stalled for the limit: nothing happens.
  watch_clock_.Advance(absl::Seconds(29));
  EXPECT_EQ(watchdog_.Tick(), 0u);
  // Whatever the transport buffered, the stream cannot have taken all 40:
  // the window keeps the rest unleased for other readers.
  absl::StatusOr<std::vector<Delivery>> rest =
      mailbox_->Receive(naptip_.id, 100);
  ASSERT_TRUE(rest.ok());
  EXPECT_GT(rest->size(), 0u) << "the stream leased the whole mailbox";
  std::printf(
      "[ figures ] a Receive stream of 40 messages of 900 KB whose client "
      "read one: %zu leased and held by the stream (window 2), %zu free "
      "for other readers\n",
      40 - 1 - rest->size(), rest->size());
  for (const Delivery& x : *rest) {
    ASSERT_TRUE(mailbox_->Release(naptip_.id, x.message_id).ok());
  }
  // The node may still be filling the transport's buffers (each write is
  // progress). Once they are full its write blocks: then 30 s (simulated)
  // without progress, and the watchdog ends the stream.
  ASSERT_TRUE(Eventually([&] {
    watch_clock_.Advance(absl::Seconds(30));
    return watchdog_.Tick() == 1;
  })) << "the stream never stalled";
  ASSERT_TRUE(Eventually([&] { return watchdog_.watched() == 0; }))
      << "the stream did not end";
  while (reader->Read(&d)) {
  }
  EXPECT_FALSE(reader->Finish().ok());
  EXPECT_TRUE(
      Eventually([&] { return service_->calls().Open(naptip_.id) == 0; }));
}

// The same with an ordinary gRPC client (default channel, BDP probing on):
// its transport and the node's may buffer much more than a window, so a
// written delivery is no sign of a taken one. The stream still holds at
// most its window unsettled; and a client that acknowledges as it reads
// gets the whole mailbox through one stream.
TEST_F(MailboxServiceTest,
       AnOrdinaryClientGetsAWindowUnsettledAndMoreAsItAcks) {
  ServiceLimits limits;
  limits.receive_window_messages = 4;
  Start(limits);
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(mailbox_->Submit(ngo_.id, Envelope(100000)).ok());
  }
  std::vector<std::string> first_stream;
  {
    grpc::ClientContext ctx;
    As(naptip_, &ctx);
    v1::ReceiveRequest req;
    req.set_max_messages(40);
    auto reader = ordinary_stub_->Receive(&ctx, req);
    v1::Delivery d;
    // It reads on but settles nothing. Whatever the transports buffer, the
    // stream wrote one window: the client can read exactly that many.
    while (first_stream.size() < 4 && reader->Read(&d)) {
      first_stream.push_back(d.message_id());
    }
    EXPECT_EQ(first_stream.size(), 4u);
    absl::StatusOr<std::vector<Delivery>> rest =
        mailbox_->Receive(naptip_.id, 100);
    ASSERT_TRUE(rest.ok());
    EXPECT_EQ(rest->size(), 36u) << "the stream leased past its window";
    std::printf(
        "[ figures ] an ordinary client's Receive stream, window 4, 40 "
        "messages, nothing settled: 4 leased to it, %zu free for others\n",
        rest->size());
    for (const Delivery& x : *rest) {
      ASSERT_TRUE(mailbox_->Release(naptip_.id, x.message_id).ok());
    }
    ctx.TryCancel();
    while (reader->Read(&d)) {
    }
    reader->Finish();
  }
  // The client's Finish returns before the node's handler has seen the
  // cancel. Until it has, a release below would give it room to lease (and
  // then give back) more, and the next stream could find the mailbox empty
  // for a moment and end early.
  ASSERT_TRUE(Eventually([&] {
    return service_->calls().Open(naptip_.id) == 0;
  })) << "the cancelled stream did not end";
  // A client that acknowledges each one as it reads: all 40 in one stream
  // (the 4 above stay leased to the cancelled stream: release them first).
  for (const std::string& id : first_stream) {
    ASSERT_TRUE(mailbox_->Release(naptip_.id, id).ok());
  }
  grpc::ClientContext ctx;
  As(naptip_, &ctx);
  v1::ReceiveRequest req;
  req.set_max_messages(40);
  auto reader = ordinary_stub_->Receive(&ctx, req);
  v1::Delivery d;
  size_t acked = 0;
  while (reader->Read(&d)) {
    ASSERT_TRUE(mailbox_->Ack(naptip_.id, d.message_id(), "").ok());
    ++acked;
  }
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(acked, 40u);
}

}  // namespace
}  // namespace trm::mailbox
