// The coordinator's view of a node, without a network: peer links from a
// fake, queues from the in-memory store, and who may ask.
#include "server/admin/node_status.h"

#include <gtest/gtest.h>

#include "common/status.h"
#include "server/storage/rocksdb_store.h"
#include "tests/server/storage/in_memory_store.h"

namespace trm::admin {
namespace {

class FakeLinks : public PeerLinks {
 public:
  std::vector<std::pair<std::string, federation::PeerState>> Links()
      const override {
    return links;
  }
  std::vector<std::pair<std::string, federation::PeerState>> links;
};

class NodeStatusTest : public ::testing::Test {
 protected:
  NodeStatusTest() {
    v1::Directory d;
    d.set_federation("test");
    d.set_serial(7);
    d.add_nodes()->set_id("bg");
    d.add_nodes()->set_id("ng");
    auto add = [&](const std::string& id, const std::string& home,
                   v1::Role role) {
      v1::DirectoryOrganisation* o = d.add_organisations();
      o->set_id(id);
      o->set_home_node(home);
      o->add_roles(role);
    };
    add("bg-nrm", "bg", v1::NATIONAL_COORDINATOR);
    add("bg-ngo", "bg", v1::NGO);
    add("ng-naptip", "ng", v1::NATIONAL_COORDINATOR);
    registry_ = std::make_unique<mailbox::OrgRegistry>(
        "bg", *directory::Directory::FromLocal(d));
  }
  void Queue(const std::string& queue, const std::string& id) {
    storage::AcceptRequest r;
    r.message_id = id;
    r.sender_org = "bg-ngo";
    r.recipient_org = "ng-naptip";
    r.queue = queue;
    r.envelope = "0123456789";
    r.envelope_sha256 = std::string(32, 'h');
    r.expires_unix_ms = 10'000;
    ASSERT_TRUE(store_.Accept(r).ok());
  }
  std::unique_ptr<mailbox::OrgRegistry> registry_;
  storage::testing::InMemoryStore memory_;
  storage::RocksMessageStore& store_ = memory_.store();
};

TEST_F(NodeStatusTest, OnlyTheNodesCoordinator) {
  EXPECT_TRUE(CheckCoordinator(*registry_, "bg-nrm").ok());
  EXPECT_EQ(ErrorReason(CheckCoordinator(*registry_, "bg-ngo")),
            "NOT_COORDINATOR");
  EXPECT_EQ(ErrorReason(CheckCoordinator(*registry_, "ng-naptip")),
            "NOT_COORDINATOR")
      << "another node's coordinator";
  EXPECT_EQ(ErrorReason(CheckCoordinator(*registry_, "nobody")),
            "NOT_COORDINATOR");
}

TEST_F(NodeStatusTest, PeersWithTheirRetryScheduleAndBacklog) {
  Queue(storage::OutboundQueue("ng"), std::string(16, '\1'));
  Queue(storage::OutboundQueue("ng"), std::string(16, '\2'));
  Queue("bg-ngo", std::string(16, '\3'));
  const absl::Time now = absl::FromUnixMillis(1'000'000);
  FakeLinks links;
  federation::PeerState ng;
  ng.breaker = federation::PeerState::Breaker::kOpen;
  ng.consecutive_failures = 5;
  ng.failed_attempts = 9;
  ng.next_attempt = now + absl::Seconds(30);
  ng.last_success = now - absl::Minutes(2);
  ng.last_error = "connection refused";
  ng.relayed = 40;
  federation::PeerState it;  // idle, never used
  it.next_attempt = now - absl::Seconds(1);
  it.last_error = "an old error, since recovered";
  links.links = {{"it", it}, {"ng", ng}};

  auto s = BuildNodeStatus(*registry_, store_, &links, nullptr, now);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->node_id(), "bg");
  EXPECT_EQ(s->directory_serial(), 7u);
  EXPECT_TRUE(s->relay_enabled());
  ASSERT_EQ(s->peers_size(), 2);
  const v1::PeerLink& i = s->peers(0);
  EXPECT_EQ(i.node(), "it");
  EXPECT_EQ(i.next_attempt_unix_ms(), 0) << "due: no wait shown";
  EXPECT_EQ(i.last_success_unix_ms(), 0);
  EXPECT_EQ(i.last_error(), "") << "only while failing";
  const v1::PeerLink& n = s->peers(1);
  EXPECT_EQ(n.breaker(), "open");
  EXPECT_EQ(n.consecutive_failures(), 5u);
  EXPECT_EQ(n.next_attempt_unix_ms(), 1'030'000);
  EXPECT_EQ(n.last_success_unix_ms(), 880'000);
  EXPECT_EQ(n.last_error(), "connection refused");
  EXPECT_EQ(n.outbound_queued(), 2u);
  EXPECT_EQ(n.outbound_bytes(), 20u);
  EXPECT_EQ(n.relayed(), 40u);
  EXPECT_EQ(n.failed_attempts(), 9u);
  ASSERT_EQ(s->queues_size(), 2) << "this node's organisations only";
  EXPECT_EQ(s->queues(0).organisation(), "bg-nrm");
  EXPECT_EQ(s->queues(1).organisation(), "bg-ngo");
  EXPECT_EQ(s->queues(1).queued(), 1u);

  auto plain = BuildNodeStatus(*registry_, store_, nullptr, nullptr, now);
  EXPECT_FALSE(plain->relay_enabled());
  EXPECT_EQ(plain->peers_size(), 0);
}

}  // namespace
}  // namespace trm::admin
