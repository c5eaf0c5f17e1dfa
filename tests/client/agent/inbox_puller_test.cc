// trm-agent's intake against a fake node: stored before acknowledged, never
// acknowledged when not stored, refused when it can never open, released
// when the fault is on this side.
#include "client/agent/inbox_puller.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <deque>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace trm::agent {
namespace {

class FakeMailbox final : public Mailbox {
 public:
  explicit FakeMailbox(AgentStore& store) : store_(store) {}
  absl::Status Receive(
      uint32_t max, absl::Duration,
      const std::function<void(const client::Delivery&)>& handle) override {
    if (!receive_error.ok()) return receive_error;
    for (uint32_t i = 0; i < max && !queue.empty(); ++i) {
      client::Delivery d = queue.front();
      queue.pop_front();
      handle(d);
    }
    return absl::OkStatus();
  }
  absl::Status Verify(const client::Delivery& d) override {
    log.push_back("verify " + d.header.case_ref());
    return verify_error;
  }
  absl::Status Acknowledge(const client::Delivery& d) override {
    // The rule under test: the record is durable before this call.
    stored_at_ack.push_back(store_.Get(d.message_id).ok());
    log.push_back("ack " + d.header.case_ref());
    return ack_error;
  }
  absl::Status Refuse(const client::Delivery& d, v1::RefusalReason reason,
                      absl::string_view text) override {
    log.push_back(absl::StrCat("refuse ", d.header.case_ref(), " ",
                               v1::RefusalReason_Name(reason)));
    refusal_text = std::string(text);
    return absl::OkStatus();
  }
  absl::Status Release(const client::Delivery& d) override {
    log.push_back("release " + d.header.case_ref());
    return absl::OkStatus();
  }

  std::deque<client::Delivery> queue;
  absl::Status receive_error, verify_error, ack_error;
  std::vector<std::string> log;
  std::vector<bool> stored_at_ack;
  std::string refusal_text;

 private:
  AgentStore& store_;
};

class InboxPullerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/trm-agent-puller-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    store_ = *AgentStore::Open(dir_, clock_);
    mailbox_ = std::make_unique<FakeMailbox>(*store_);
    puller_ = std::make_unique<InboxPuller>(*mailbox_, *store_);
  }
  void TearDown() override {
    puller_.reset();
    mailbox_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  client::Delivery Deliver(const std::string& case_ref, std::string id = "") {
    client::Delivery d;
    d.message_id = id.empty() ? std::string(15, 'm') + case_ref.back() : id;
    d.attempt = 1;
    d.envelope = "sealed bytes of " + case_ref;
    d.header.set_case_ref(case_ref);
    d.header.set_type(v1::REFERRAL_REQUEST);
    mailbox_->queue.push_back(d);
    return d;
  }
  PullResult Pull() {
    absl::StatusOr<PullResult> r = puller_->PullOnce(16, absl::Seconds(1));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : PullResult{};
  }

  SimulatedClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  std::string dir_;
  std::unique_ptr<AgentStore> store_;
  std::unique_ptr<FakeMailbox> mailbox_;
  std::unique_ptr<InboxPuller> puller_;
};

TEST_F(InboxPullerTest, EachMessageIsStoredBeforeItIsAcknowledged) {
  client::Delivery a = Deliver("BG-1");
  Deliver("BG-2");
  PullResult r = Pull();
  EXPECT_EQ(r.stored, 2u);
  EXPECT_EQ(mailbox_->log,
            (std::vector<std::string>{"verify BG-1", "ack BG-1", "verify BG-2",
                                      "ack BG-2"}));
  EXPECT_EQ(mailbox_->stored_at_ack, (std::vector<bool>{true, true}));
  absl::StatusOr<v1::AgentRecord> got = store_->Get(a.message_id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->envelope(), a.envelope);
  EXPECT_FALSE(got->read());
}

TEST_F(InboxPullerTest, AMessageThatCanNeverOpenIsRefusedAndNotStored) {
  client::Delivery a = Deliver("BG-1");
  mailbox_->verify_error = Error(absl::StatusCode::kInvalidArgument,
                                 "DECRYPTION_FAILED", "the tag does not match");
  std::vector<std::string> told;
  puller_->OnRefused([&](const client::Delivery& d, const absl::Status& why) {
    told.push_back(d.header.case_ref() + " " + ErrorReason(why));
  });
  PullResult r = Pull();
  EXPECT_EQ(r.refused, 1u);
  EXPECT_EQ(told, std::vector<std::string>{"BG-1 DECRYPTION_FAILED"});
  EXPECT_EQ(mailbox_->log,
            (std::vector<std::string>{"verify BG-1",
                                      "refuse BG-1 REFUSAL_CANNOT_OPEN"}));
  EXPECT_NE(mailbox_->refusal_text.find("DECRYPTION_FAILED"),
            std::string::npos);
  EXPECT_FALSE(store_->Get(a.message_id).ok());
}

TEST_F(InboxPullerTest, AFaultOnThisSideReleasesItUnacknowledged) {
  client::Delivery a = Deliver("BG-1");
  mailbox_->verify_error = Error(absl::StatusCode::kUnauthenticated,
                                 "SENDER_KEY_UNKNOWN", "no such key");
  PullResult r = Pull();
  EXPECT_EQ(r.released, 1u);
  EXPECT_EQ(ErrorReason(r.first_error), "SENDER_KEY_UNKNOWN");
  EXPECT_EQ(mailbox_->log,
            (std::vector<std::string>{"verify BG-1", "release BG-1"}));
  EXPECT_FALSE(store_->Get(a.message_id).ok());
}

TEST_F(InboxPullerTest, WhatCannotBeStoredIsNeverAcknowledged) {
  Deliver("BG-1", "short id");  // the store refuses the record
  PullResult r = Pull();
  EXPECT_EQ(r.released, 1u);
  EXPECT_EQ(ErrorReason(r.first_error), "AGENT_RECORD_INVALID");
  EXPECT_EQ(mailbox_->log,
            (std::vector<std::string>{"verify BG-1", "release BG-1"}));
  EXPECT_TRUE(mailbox_->stored_at_ack.empty());
}

TEST_F(InboxPullerTest, ALostAcknowledgementIsSentAgainForTheStoredCopy) {
  client::Delivery a = Deliver("BG-1");
  mailbox_->ack_error =
      Error(absl::StatusCode::kUnavailable, "NODE_ERROR", "connection reset");
  PullResult r = Pull();
  EXPECT_EQ(r.released, 1u);
  EXPECT_TRUE(store_->Get(a.message_id).ok()) << "stored before the ack";
  mailbox_->ack_error = absl::OkStatus();
  mailbox_->queue.push_back(a);  // the node delivers it again
  r = Pull();
  EXPECT_EQ(r.duplicates, 1u);
  EXPECT_EQ(r.stored, 0u);
  EXPECT_EQ(mailbox_->log.back(), "ack BG-1");
}

TEST_F(InboxPullerTest, TheNodesRefusalOfTheCallComesBack) {
  mailbox_->receive_error =
      Error(absl::StatusCode::kUnauthenticated, "UNKNOWN_IDENTITY", "who?");
  absl::StatusOr<PullResult> r = puller_->PullOnce(16, absl::Seconds(1));
  EXPECT_EQ(ErrorReason(r.status()), "UNKNOWN_IDENTITY");
}

}  // namespace
}  // namespace trm::agent
