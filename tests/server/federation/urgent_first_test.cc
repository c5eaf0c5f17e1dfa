// The order of a relay batch under a contingency: urgent messages first,
// with their own case's earlier messages, every case's order kept.
#include "server/federation/urgent_first.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace trm::federation {
namespace {

// A queued message: only its header matters here.
storage::QueuedMessage Queued(uint64_t seq, const std::string& case_ref,
                              v1::MessageType type,
                              const std::string& sender = "bg-ngo") {
  v1::Header h;
  h.set_case_ref(case_ref);
  h.set_type(type);
  h.set_sender_org(sender);
  v1::Envelope e;
  e.set_header(h.SerializeAsString());
  return {seq, "m" + std::to_string(seq), e.SerializeAsString()};
}

std::vector<uint64_t> Seqs(const std::vector<storage::QueuedMessage>& w) {
  std::vector<uint64_t> out;
  for (const auto& m : w) out.push_back(m.seq);
  return out;
}

const std::vector<v1::MessageType> kUrgent = {v1::RISK_FEEDBACK,
                                              v1::NON_DEPARTURE_NOTICE};

TEST(UrgentFirstTest, UrgentMessagesOvertakeOtherCasesOnly) {
  std::vector<storage::QueuedMessage> w = {
      Queued(1, "A", v1::REFERRAL_REQUEST),
      Queued(2, "B", v1::REFERRAL_REQUEST),
      Queued(3, "C", v1::INFORMATION_REQUEST),
      Queued(4, "B", v1::RISK_FEEDBACK),  // urgent, after B's request
      Queued(5, "A", v1::MONITORING_REPORT),
      Queued(6, "D", v1::NON_DEPARTURE_NOTICE),  // urgent
      Queued(7, "B", v1::INFORMATION_REQUEST),   // after B's urgent one
  };
  EXPECT_EQ(UrgentFirst(w, kUrgent), 3u);  // 2 over 1; 4 and 6 over 1, 3
  // B's request goes with its urgent feedback, which may not overtake it;
  // B's later message stays behind them; A and C keep their places.
  EXPECT_EQ(Seqs(w), (std::vector<uint64_t>{2, 4, 6, 1, 3, 5, 7}));
}

TEST(UrgentFirstTest, EveryCaseKeepsItsOrderWhateverTheMix) {
  // Many cases, urgent and not, interleaved: each case's (and each
  // case-less sender's) messages stay in queue order, and every urgent
  // message comes before every message that is not pulled ahead.
  std::vector<storage::QueuedMessage> w;
  const std::vector<v1::MessageType> types = {
      v1::REFERRAL_REQUEST, v1::RISK_FEEDBACK, v1::MONITORING_REPORT,
      v1::INFORMATION_REQUEST, v1::NON_DEPARTURE_NOTICE};
  for (uint64_t i = 0; i < 200; ++i) {
    const std::string case_ref =
        (i % 7 == 0) ? "" : "C" + std::to_string(i % 5);
    w.push_back(Queued(i, case_ref, types[(i * 3 + i / 4) % types.size()],
                       i % 2 ? "bg-ngo" : "bg-nrm"));
  }
  const std::vector<storage::QueuedMessage> before = w;
  EXPECT_GT(UrgentFirst(w, kUrgent), 0u);
  ASSERT_EQ(w.size(), before.size());
  std::map<std::string, uint64_t> last;
  size_t last_urgent = 0, first_plain_behind = w.size();
  for (size_t i = 0; i < w.size(); ++i) {
    v1::Envelope e;
    v1::Header h;
    ASSERT_TRUE(e.ParseFromString(w[i].envelope));
    ASSERT_TRUE(h.ParseFromString(e.header()));
    const std::string key = h.case_ref().empty() ? "sender " + h.sender_org()
                                                 : "case " + h.case_ref();
    if (last.count(key)) {
      EXPECT_LT(last[key], w[i].seq) << key;
    }
    last[key] = w[i].seq;
    const bool urgent =
        h.type() == v1::RISK_FEEDBACK || h.type() == v1::NON_DEPARTURE_NOTICE;
    if (urgent) last_urgent = i;
    if (i > 0 && w[i].seq < w[i - 1].seq) {
      first_plain_behind = std::min(first_plain_behind, i);
    }
  }
  // The order first drops back after the last urgent message: where the
  // part pulled ahead ends.
  EXPECT_GT(first_plain_behind, last_urgent);
}

TEST(UrgentFirstTest, NothingUrgentOrNothingListedChangesNothing) {
  std::vector<storage::QueuedMessage> w = {Queued(1, "A", v1::REFERRAL_REQUEST),
                                           Queued(2, "B", v1::RISK_FEEDBACK)};
  EXPECT_EQ(UrgentFirst(w, {}), 0u);
  EXPECT_EQ(Seqs(w), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(UrgentFirst(w, {v1::TRAVEL_ARRANGEMENT}), 0u);
  EXPECT_EQ(Seqs(w), (std::vector<uint64_t>{1, 2}));
  // Already first: nothing overtaken.
  std::vector<storage::QueuedMessage> first = {
      Queued(1, "B", v1::RISK_FEEDBACK), Queued(2, "A", v1::REFERRAL_REQUEST)};
  EXPECT_EQ(UrgentFirst(first, kUrgent), 0u);
  EXPECT_EQ(Seqs(first), (std::vector<uint64_t>{1, 2}));
}

TEST(UrgentFirstTest, AnUnreadableEnvelopeStaysWhereItIs) {
  std::vector<storage::QueuedMessage> w = {{1, "x", "not an envelope \xff\xff"},
                                           Queued(2, "B", v1::RISK_FEEDBACK)};
  EXPECT_EQ(UrgentFirst(w, kUrgent), 1u);
  EXPECT_EQ(Seqs(w), (std::vector<uint64_t>{2, 1}));
}

TEST(UrgentFirstTest, MessagesWithoutACaseKeepTheirSendersOrder) {
  std::vector<storage::QueuedMessage> w = {
      Queued(1, "", v1::INFORMATION_REQUEST, "bg-ngo"),
      Queued(2, "", v1::INFORMATION_REQUEST, "bg-nrm"),
      Queued(3, "", v1::NON_DEPARTURE_NOTICE, "bg-ngo")};
  EXPECT_EQ(UrgentFirst(w, kUrgent), 1u);  // 3 over 2; 1 goes with it
  EXPECT_EQ(Seqs(w), (std::vector<uint64_t>{1, 3, 2}));
}

}  // namespace
}  // namespace trm::federation
