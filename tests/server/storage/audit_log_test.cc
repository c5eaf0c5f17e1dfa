// The audit log inside the RocksDB store: every state change leaves an
// event in the same write; roots and proofs from stored subtrees agree with
// the naive RFC 9162 definitions; trail queries; and tampering, truncation
// and inconsistency are caught, naming the entry.
#include "server/storage/audit_log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "common/crypto/hash.h"
#include "common/status.h"
#include "rocksdb/db.h"
#include "server/storage/rocksdb_store.h"

namespace trm::storage {
namespace {

namespace fs = std::filesystem;

std::string Id(uint64_t n) {
  std::string id(16, '\0');
  for (int i = 0; i < 8; ++i) id[15 - i] = static_cast<char>(n >> (8 * i));
  return id;
}

AcceptRequest Request(uint64_t n, const std::string& case_ref) {
  AcceptRequest r;
  r.message_id = Id(n);
  r.sender_org = "bg-ngo";
  r.recipient_org = "bg-naptip";
  r.envelope = "envelope-" + std::to_string(n);
  auto d = crypto::Sha256({AsBytes(r.envelope)});
  r.envelope_sha256.assign(d.begin(), d.end());
  r.expires_unix_ms = 1'000'000;
  r.now_unix_ms = 1000 + static_cast<int64_t>(n);
  r.case_ref = case_ref;
  r.message_type = v1::REFERRAL_REQUEST;
  return r;
}

class AuditLogTest : public ::testing::Test {
 protected:
  ~AuditLogTest() override { fs::remove_all(dir_); }
  std::unique_ptr<RocksMessageStore> Open() {
    RocksStoreOptions o;
    o.path = dir_;
    o.node_id = "bg";
    auto s = RocksMessageStore::Open(o);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(*s) : nullptr;
  }
  absl::Status OpenStatus() {
    RocksStoreOptions o;
    o.path = dir_;
    return RocksMessageStore::Open(o).status();
  }
  // Changes the stored database directly, as an attacker with the disk.
  void Tamper(const std::function<
              void(rocksdb::DB*, std::vector<rocksdb::ColumnFamilyHandle*>&,
                   const std::vector<std::string>&)>& f) {
    std::vector<std::string> names;
    ASSERT_TRUE(
        rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir_, &names)
            .ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const std::string& n : names) cfs.push_back({n, {}});
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(
        rocksdb::DB::Open(rocksdb::Options(), dir_, cfs, &handles, &db).ok());
    f(db, handles, names);
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h).ok();
    delete db;
  }
  static rocksdb::ColumnFamilyHandle* Cf(
      std::vector<rocksdb::ColumnFamilyHandle*>& handles,
      const std::vector<std::string>& names, const std::string& name) {
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == name) return handles[i];
    }
    return nullptr;
  }
  static std::string U64(uint64_t v) {
    std::string k;
    for (int i = 7; i >= 0; --i) k.push_back(static_cast<char>(v >> (8 * i)));
    return k;
  }
  // Signs nothing: the store keeps whatever tree head it is given, and the
  // check at open compares the stored tree with it.
  static void StoreHead(AuditLog& log) {
    v1::TreeHead head;
    head.set_node("bg");
    head.set_tree_size(log.Current().size);
    head.set_root_hash(log.Current().root.data(), 32);
    head.set_timestamp_unix_ms(5000);
    v1::SignedTreeHead sth;
    sth.set_tree_head(head.SerializeAsString());
    ASSERT_TRUE(log.StoreTreeHead(sth).ok());
  }
  // Rewrites the stored event at `index` with `change`, leaving the tree.
  void ChangeEvent(uint64_t index,
                   const std::function<void(v1::AuditEvent&)>& change) {
    Tamper([&](rocksdb::DB* db, auto& handles, const auto& names) {
      rocksdb::ColumnFamilyHandle* audit = Cf(handles, names, "audit");
      v1::AuditEvent e;
      std::string v;
      ASSERT_TRUE(db->Get({}, audit, U64(index), &v).ok());
      ASSERT_TRUE(e.ParseFromString(v));
      change(e);
      ASSERT_TRUE(db->Put({}, audit, U64(index), e.SerializeAsString()).ok());
    });
  }
  // The store's format record, read with the store closed.
  std::string StoredFormat() {
    std::string format;
    Tamper([&](rocksdb::DB* db, auto& handles, const auto& names) {
      EXPECT_TRUE(
          db->Get({}, Cf(handles, names, "default"), "store/format", &format)
              .ok());
    });
    return format;
  }
  // Accepts n messages of case BG-1 and, if `sign`, stores a tree head of
  // them; then closes the store.
  void Fill(uint64_t n, bool sign) {
    auto s = Open();
    ASSERT_NE(s, nullptr);
    for (uint64_t i = 1; i <= n; ++i) {
      ASSERT_TRUE(s->Accept(Request(i, "BG-1")).ok());
    }
    if (sign) StoreHead(*s->audit());
  }
  std::string dir_ = (fs::temp_directory_path() /
                      ("audit-test-" + std::to_string(::getpid()) + "-" +
                       std::to_string(reinterpret_cast<uintptr_t>(this))))
                         .string();
};

std::vector<merkle::MerkleHash> LeafHashes(AuditLog& log) {
  std::vector<merkle::MerkleHash> out;
  absl::StatusOr<std::vector<AuditEntry>> entries =
      log.Entries(0, log.Current().size);
  EXPECT_TRUE(entries.ok()) << entries.status();
  if (!entries.ok()) return out;
  for (size_t i = 0; i < entries->size(); ++i) {
    out.push_back(merkle::LeafHash(AsBytes((*entries)[i].event)));
  }
  return out;
}

TEST_F(AuditLogTest, EveryStepIsLoggedInOrder) {
  auto s = Open();
  ASSERT_NE(s->audit(), nullptr);
  ASSERT_TRUE(s->Accept(Request(1, "BG-1")).ok());
  ASSERT_TRUE(s->MarkDelivered(Id(1), 2000).ok());
  ASSERT_TRUE(s->AcknowledgeAll("bg-naptip", {{Id(1), "signed-ack", ""}}, 3000)
                  .front()
                  .ok());
  ASSERT_TRUE(s->Accept(Request(2, "BG-2")).ok());
  ASSERT_EQ(*s->ExpireDue(2'000'000, 10), 1u);
  ASSERT_TRUE(s->Accept(Request(3, "BG-3")).ok());
  v1::RefusalBody refusal;
  refusal.set_reason(v1::REFUSAL_NOT_OURS);
  v1::SignedRefusal signed_refusal;
  signed_refusal.set_body(refusal.SerializeAsString());
  const std::string refusal_bytes = signed_refusal.SerializeAsString();
  ASSERT_TRUE(s->AcknowledgeAll("bg-naptip", {{Id(3), "", refusal_bytes}}, 4000)
                  .front()
                  .ok());
  ASSERT_TRUE(s->Accept(Request(1, "BG-1"))->duplicate);  // no new event
  v1::AuditEvent admin;
  admin.set_kind(v1::NODE_STARTED);
  admin.set_detail("test");
  ASSERT_TRUE(s->AppendAudit(admin).ok());
  auto entries = s->audit()->Entries(0, s->audit()->Current().size);
  ASSERT_TRUE(entries.ok());
  std::vector<v1::AuditEventKind> kinds;
  for (const AuditEntry& e : *entries) {
    v1::AuditEvent ev;
    ASSERT_TRUE(ev.ParseFromString(e.event));
    EXPECT_EQ(ev.node(), "bg");
    kinds.push_back(ev.kind());
    if (ev.kind() == v1::MESSAGE_ACKNOWLEDGED) {
      auto d = crypto::Sha256({AsBytes(std::string("signed-ack"))});
      EXPECT_EQ(ev.evidence_sha256(), std::string(d.begin(), d.end()));
      EXPECT_EQ(ev.case_ref(), "BG-1");
      EXPECT_EQ(ev.message_type(), v1::REFERRAL_REQUEST);
      EXPECT_EQ(ev.time_unix_ms(), 3000);
    }
    if (ev.kind() == v1::MESSAGE_REFUSED) {
      auto d = crypto::Sha256({AsBytes(refusal_bytes)});
      EXPECT_EQ(ev.evidence_sha256(), std::string(d.begin(), d.end()));
      EXPECT_EQ(ev.reason_code(), "REFUSED_NOT_OURS");
      EXPECT_EQ(ev.case_ref(), "BG-3");
    }
  }
  EXPECT_EQ(kinds, (std::vector<v1::AuditEventKind>{
                       v1::MESSAGE_ACCEPTED, v1::MESSAGE_DELIVERED,
                       v1::MESSAGE_ACKNOWLEDGED, v1::MESSAGE_ACCEPTED,
                       v1::MESSAGE_EXPIRED, v1::MESSAGE_ACCEPTED,
                       v1::MESSAGE_REFUSED, v1::NODE_STARTED}));
  EXPECT_EQ(s->audit()->Current().root,
            merkle::RootOf(LeafHashes(*s->audit())));
}

// On the origin node: the recipient node's report of a refusal is logged
// with the peer, the reason and the refusal's hash.
TEST_F(AuditLogTest, ARemoteRefusalIsLoggedWithItsEvidence) {
  auto s = Open();
  AcceptRequest r = Request(1, "BG-1");
  r.queue = OutboundQueue("ng");
  ASSERT_TRUE(s->Accept(r).ok());
  ASSERT_TRUE(s->MarkRelayed(">ng", {{Id(1), "ng", "receipt"}}, 2000)[0].ok());
  v1::RefusalBody body;
  body.set_reason(v1::REFUSAL_WRONG_TYPE);
  v1::SignedRefusal signed_refusal;
  signed_refusal.set_body(body.SerializeAsString());
  v1::PathNotice n;
  n.set_message_id(Id(1));
  n.set_refused_unix_ms(3000);
  n.set_refusal(signed_refusal.SerializeAsString());
  ASSERT_TRUE(s->RecordPath("ng", {n}, 3100)[0].ok());
  auto entries = s->audit()->Entries(0, s->audit()->Current().size);
  ASSERT_TRUE(entries.ok());
  v1::AuditEvent last;
  ASSERT_TRUE(last.ParseFromString(entries->back().event));
  EXPECT_EQ(last.kind(), v1::REMOTE_REFUSED);
  EXPECT_EQ(last.peer_node(), "ng");
  EXPECT_EQ(last.reason_code(), "REFUSED_WRONG_TYPE");
  EXPECT_EQ(last.time_unix_ms(), 3000);
  auto d = crypto::Sha256({AsBytes(n.refusal())});
  EXPECT_EQ(last.evidence_sha256(), std::string(d.begin(), d.end()));
}

// Roots, inclusion and consistency proofs from stored subtrees equal the
// RFC 9162 definitions over the leaves, for every size and pair, and
// survive a restart (the right edge is rebuilt from the store).
TEST_F(AuditLogTest, ProofsFromStoredSubtreesMatchTheDefinition) {
  constexpr uint64_t kN = 70;
  std::vector<merkle::MerkleHash> written;
  {
    auto s = Open();
    for (uint64_t n = 1; n <= kN; ++n) {
      ASSERT_TRUE(s->Accept(Request(n, "C" + std::to_string(n % 7))).ok());
      // The incomplete chunk at the end is held in memory as it grows.
      ASSERT_EQ(*s->audit()->RootAt(n), s->audit()->Current().root);
    }
    written = LeafHashes(*s->audit());
    ASSERT_EQ(*s->audit()->InclusionProof(68, kN),
              merkle::InclusionPath(written, 68));
  }
  auto s = Open();
  AuditLog& log = *s->audit();
  ASSERT_EQ(log.Current().size, kN);
  const std::vector<merkle::MerkleHash> leaves = LeafHashes(log);
  ASSERT_EQ(leaves, written);
  for (uint64_t n = 1; n <= kN; ++n) {
    const auto first = std::span(leaves).first(n);
    const merkle::MerkleHash root = merkle::RootOf(first);
    ASSERT_EQ(*log.RootAt(n), root) << n;
    for (uint64_t i = 0; i < n; ++i) {
      auto proof = log.InclusionProof(i, n);
      ASSERT_TRUE(proof.ok());
      ASSERT_EQ(*proof, merkle::InclusionPath(first, i)) << i << " of " << n;
    }
    for (uint64_t m = 1; m <= n; ++m) {
      auto proof = log.ConsistencyProof(m, n);
      ASSERT_TRUE(proof.ok());
      ASSERT_TRUE(merkle::VerifyConsistency(
          m, n, merkle::RootOf(std::span(leaves).first(m)), root, *proof))
          << m << " -> " << n;
    }
  }
  EXPECT_EQ(log.Current().root, merkle::RootOf(leaves));
  EXPECT_EQ(ErrorReason(log.InclusionProof(0, kN + 1).status()),
            "TREE_SIZE_TOO_LARGE");
  EXPECT_TRUE(log.VerifyAll().ok());
  // New entries go on after the restart.
  ASSERT_TRUE(s->Accept(Request(kN + 1, "C")).ok());
  EXPECT_EQ(log.Current().root, merkle::RootOf(LeafHashes(log)));
}

TEST_F(AuditLogTest, TrailQueriesByCaseMessageOrganisationAndPage) {
  auto s = Open();
  for (uint64_t n = 1; n <= 30; ++n) {
    ASSERT_TRUE(s->Accept(Request(n, n % 3 == 0 ? "BG-X" : "BG-Y")).ok());
  }
  ASSERT_TRUE(s->MarkDelivered(Id(3), 5000).ok());
  AuditLog& log = *s->audit();
  v1::TrailQuery q;
  q.set_case_ref("BG-X");
  auto page = log.Query(q, log.Current().size);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->entries.size(), 11u) << "10 accepted, 1 delivered";
  EXPECT_FALSE(page->more);
  q.set_page_size(4);
  std::vector<uint64_t> seen;
  for (;;) {
    auto p = log.Query(q, log.Current().size);
    ASSERT_TRUE(p.ok());
    for (const AuditEntry& e : p->entries) seen.push_back(e.index);
    if (!p->more) break;
    q.set_page_token(p->next);
  }
  EXPECT_EQ(seen.size(), 11u) << "pages neither skip nor repeat";
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  v1::TrailQuery by_id;
  by_id.set_message_id(Id(3));
  EXPECT_EQ(log.Query(by_id, log.Current().size)->entries.size(), 2u);
  by_id.set_kind(v1::MESSAGE_DELIVERED);
  EXPECT_EQ(log.Query(by_id, log.Current().size)->entries.size(), 1u);
  v1::TrailQuery by_org;
  by_org.set_organisation("nobody");
  EXPECT_TRUE(log.Query(by_org, log.Current().size)->entries.empty());
  v1::TrailQuery by_time;
  by_time.set_from_unix_ms(1010);
  by_time.set_to_unix_ms(1020);
  EXPECT_EQ(log.Query(by_time, log.Current().size)->entries.size(), 10u);
  // Only entries under the limit (a signed tree head's size) are returned.
  EXPECT_EQ(log.Query(v1::TrailQuery(), 5)->entries.size(), 5u);
}

// What a trail query by message id or case reference must return: every
// event carrying it, oldest first, read from the log itself.
std::vector<uint64_t> Expected(AuditLog& log, const v1::TrailQuery& q) {
  std::vector<uint64_t> out;
  auto all = log.Entries(0, log.Current().size);
  EXPECT_TRUE(all.ok());
  for (const AuditEntry& e : *all) {
    v1::AuditEvent ev;
    ev.ParseFromString(e.event);
    if (!q.message_id().empty() && ev.message_id() != q.message_id()) continue;
    if (!q.case_ref().empty() && ev.case_ref() != q.case_ref()) continue;
    out.push_back(e.index);
  }
  return out;
}

// Every page of `q` at `page_size`, as the indexes returned.
std::vector<uint64_t> Paged(AuditLog& log, v1::TrailQuery q,
                            uint32_t page_size) {
  std::vector<uint64_t> seen;
  q.set_page_size(page_size);
  for (int calls = 0; calls < 1000; ++calls) {
    auto p = log.Query(q, log.Current().size);
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok()) break;
    for (const AuditEntry& e : p->entries) seen.push_back(e.index);
    if (!p->more) break;
    q.set_page_token(p->next);
  }
  return seen;
}

// Messages of three cases, each delivered and acknowledged in another
// order than they arrived, checked against the log at every page size.
void ExpectEveryQueryComplete(AuditLog& log, uint64_t messages) {
  for (uint64_t n = 1; n <= messages; ++n) {
    v1::TrailQuery q;
    q.set_message_id(Id(n));
    const std::vector<uint64_t> want = Expected(log, q);
    EXPECT_FALSE(want.empty());
    EXPECT_EQ(Paged(log, q, 1), want) << "message " << n;
    EXPECT_EQ(Paged(log, q, 100), want) << "message " << n;
  }
  for (const char* c : {"BG-0", "BG-1", "BG-2"}) {
    v1::TrailQuery q;
    q.set_case_ref(c);
    const std::vector<uint64_t> want = Expected(log, q);
    for (uint32_t page : {1u, 3u, 7u, 1000u}) {
      EXPECT_EQ(Paged(log, q, page), want) << c << " in pages of " << page;
    }
  }
}

void DeliverAndAcknowledge(RocksMessageStore& s, uint64_t from, uint64_t to) {
  for (uint64_t n = to; n >= from; --n) {
    ASSERT_TRUE(s.MarkDelivered(Id(n), 5000 + static_cast<int64_t>(n)).ok());
  }
  for (uint64_t n = from; n <= to; n += 2) {
    ASSERT_TRUE(
        s.AcknowledgeAll("bg-naptip", {{Id(n), "ack", ""}}, 9000).front().ok());
  }
}

// Format 3: a message's first event is indexed under its message id and
// case reference, its later events once each, under the first.
TEST_F(AuditLogTest, LaterEventsAreIndexedUnderTheMessagesFirst) {
  constexpr uint64_t kN = 30;
  {
    auto s = Open();
    for (uint64_t n = 1; n <= kN; ++n) {
      ASSERT_TRUE(s->Accept(Request(n, "BG-" + std::to_string(n % 3))).ok());
    }
    DeliverAndAcknowledge(*s, 1, kN);
    ExpectEveryQueryComplete(*s->audit(), kN);
    EXPECT_EQ(s->audit()->Current().size, kN * 2 + (kN + 1) / 2);
  }
  Tamper([&](rocksdb::DB* db, auto& handles, const auto& names) {
    std::map<char, int> keys;
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator({}, Cf(handles, names, "audit_index")));
    for (it->SeekToFirst(); it->Valid(); it->Next()) keys[it->key()[0]]++;
    EXPECT_EQ(keys['m'], static_cast<int>(kN)) << "one per message";
    EXPECT_EQ(keys['c'], static_cast<int>(kN));
    EXPECT_EQ(keys['f'], static_cast<int>(kN + (kN + 1) / 2))
        << "one per later event";
  });
}

// A format 2 store indexed every event under its message id and case, and
// its status records keep no group: it opens as format 3, every event is
// still found, and the messages' next events start groups of their own.
TEST_F(AuditLogTest, AFormatTwoIndexIsReadAsItIs) {
  constexpr uint64_t kN = 30;
  {
    auto s = Open();
    for (uint64_t n = 1; n <= kN; ++n) {
      ASSERT_TRUE(s->Accept(Request(n, "BG-" + std::to_string(n % 3))).ok());
    }
    DeliverAndAcknowledge(*s, 1, kN / 2);
  }
  Tamper([&](rocksdb::DB* db, auto& handles, const auto& names) {
    rocksdb::ColumnFamilyHandle* index = Cf(handles, names, "audit_index");
    rocksdb::ColumnFamilyHandle* status = Cf(handles, names, "status");
    ASSERT_NE(status, nullptr);
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator({}, index));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->key()[0] == 'm' || it->key()[0] == 'c' || it->key()[0] == 'f') {
        ASSERT_TRUE(db->Delete({}, index, it->key()).ok());
      }
    }
    std::unique_ptr<rocksdb::Iterator> ev(
        db->NewIterator({}, Cf(handles, names, "audit")));
    for (ev->SeekToFirst(); ev->Valid(); ev->Next()) {
      v1::AuditEvent e;
      ASSERT_TRUE(e.ParseFromString(ev->value().ToString()));
      for (auto [tag, field] :
           {std::pair{'m', e.message_id()}, std::pair{'c', e.case_ref()}}) {
        std::string k(1, tag);
        k.push_back(static_cast<char>(field.size()));
        ASSERT_TRUE(
            db->Put({}, index, k + field + ev->key().ToString(), "").ok());
      }
    }
    std::unique_ptr<rocksdb::Iterator> st(db->NewIterator({}, status));
    for (st->SeekToFirst(); st->Valid(); st->Next()) {
      v1::StoredStatus record;
      ASSERT_TRUE(record.ParseFromString(st->value().ToString()));
      ASSERT_NE(record.audit_group(), 0u);
      record.clear_audit_group();
      ASSERT_TRUE(
          db->Put({}, status, st->key(), record.SerializeAsString()).ok());
    }
    ASSERT_TRUE(
        db->Put({}, Cf(handles, names, "default"), "store/format", "2").ok());
  });
  auto s = Open();
  ASSERT_NE(s, nullptr);
  ExpectEveryQueryComplete(*s->audit(), kN);
  DeliverAndAcknowledge(*s, kN / 2 + 1, kN);
  ExpectEveryQueryComplete(*s->audit(), kN);
  s.reset();
  EXPECT_EQ(StoredFormat(), "3");
}

TEST_F(AuditLogTest, AChangedEntryIsNamed) {
  Fill(40, /*sign=*/true);
  // Entry 4 is in the first chunk of 16, whose record keeps its leaf hash.
  ChangeEvent(4,
              [](v1::AuditEvent& e) { e.set_recipient_org("someone-else"); });
  auto s = Open();  // the end and the signed root still check
  ASSERT_NE(s, nullptr);
  auto entries = s->audit()->Entries(0, 40);
  EXPECT_EQ(ErrorReason(entries.status()), "AUDIT_ENTRY_CORRUPT");
  EXPECT_NE(entries.status().message().find("entry 4 "), std::string::npos)
      << entries.status();
  EXPECT_TRUE(s->audit()->Entries(16, 40).ok());
  v1::TrailQuery q;
  q.set_case_ref("BG-1");
  EXPECT_EQ(ErrorReason(s->audit()->Query(q, 40).status()),
            "AUDIT_ENTRY_CORRUPT");
  auto all = s->audit()->VerifyAll();
  EXPECT_NE(all.message().find("entry 4 "), std::string::npos) << all;
}

// A chunk record whose hash does not match its own leaf hashes is named
// when its entries are read, and by the whole-log check.
TEST_F(AuditLogTest, AChunkRecordThatDisagreesWithItselfIsNamed) {
  Fill(40, /*sign=*/true);
  Tamper([&](rocksdb::DB* db, auto& handles, const auto& names) {
    rocksdb::ColumnFamilyHandle* tree = Cf(handles, names, "audit_tree");
    const std::string key = std::string(1, '\4') + U64(0);
    std::string chunk;
    ASSERT_TRUE(db->Get({}, tree, key, &chunk).ok());
    chunk[0] ^= 1;
    ASSERT_TRUE(db->Put({}, tree, key, chunk).ok());
  });
  auto s = Open();  // the signed root is read from the level above
  ASSERT_NE(s, nullptr);
  auto entries = s->audit()->Entries(3, 4);
  EXPECT_EQ(ErrorReason(entries.status()), "AUDIT_LOG_CORRUPT");
  EXPECT_NE(entries.status().message().find("entries 0 to 15 does not match"),
            std::string::npos)
      << entries.status();
  EXPECT_EQ(ErrorReason(s->audit()->VerifyAll()), "AUDIT_LOG_CORRUPT");
}

// The leaf hashes of the last, incomplete chunk are computed from the
// events when the log opens; the signed root covers them.
TEST_F(AuditLogTest, AChangedEntryAtTheEndRefusesToOpen) {
  Fill(40, /*sign=*/true);
  ChangeEvent(35, [](v1::AuditEvent& e) { e.set_case_ref("forged"); });
  absl::Status s = OpenStatus();
  EXPECT_EQ(ErrorReason(s), "AUDIT_LOG_INCONSISTENT") << s;
}

// A stored chunk of 16 leaves is one key, and so is each subtree above it:
// 40 entries store chunks 0 and 1 and the subtree of 32 leaves.
TEST_F(AuditLogTest, TheTreeIsStoredFromChunksOfSixteenUp) {
  Fill(40, /*sign=*/false);
  Tamper([&](rocksdb::DB* db, auto& handles, const auto& names) {
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator({}, Cf(handles, names, "audit_tree")));
    std::vector<std::pair<std::string, size_t>> keys;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      keys.emplace_back(it->key().ToString(), it->value().size());
    }
    EXPECT_EQ(keys, (std::vector<std::pair<std::string, size_t>>{
                        {std::string(1, '\4') + U64(0), 544},
                        {std::string(1, '\4') + U64(1), 544},
                        {std::string(1, '\5') + U64(0), 32}}));
  });
}

// A format 1 store kept a hash for every leaf and every subtree. Opening it
// converts it: the same roots and proofs, the lowest levels removed.
TEST_F(AuditLogTest, AFormatOneStoreIsConverted) {
  constexpr uint64_t kN = 40;
  merkle::MerkleHash root;
  std::vector<merkle::MerkleHash> leaves;
  {
    auto s = Open();
    for (uint64_t n = 1; n <= kN; ++n) {
      ASSERT_TRUE(s->Accept(Request(n, "BG-1")).ok());
    }
    StoreHead(*s->audit());
    root = s->audit()->Current().root;
    leaves = LeafHashes(*s->audit());
  }
  // Rewrites the tree as format 1 wrote it: every level, 32 bytes each.
  Tamper([&](rocksdb::DB* db, auto& handles, const auto& names) {
    rocksdb::ColumnFamilyHandle* tree = Cf(handles, names, "audit_tree");
    // (Key by key: a range deletion and later puts under the same one-byte
    // prefix trip RocksDB 7.8's memtable insert hints on replay.)
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator({}, tree));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ASSERT_TRUE(db->Delete({}, tree, it->key()).ok());
    }
    std::vector<merkle::MerkleHash> level = leaves;
    for (int l = 0; !level.empty(); ++l) {
      std::vector<merkle::MerkleHash> up;
      for (size_t i = 0; i < level.size(); ++i) {
        ASSERT_TRUE(db->Put({}, tree,
                            std::string(1, static_cast<char>(l)) + U64(i),
                            std::string(level[i].begin(), level[i].end()))
                        .ok());
        if (i % 2 == 1) up.push_back(merkle::NodeHash(level[i - 1], level[i]));
      }
      level = up;
    }
    ASSERT_TRUE(
        db->Put({}, Cf(handles, names, "default"), "store/format", "1").ok());
  });
  auto s = Open();
  ASSERT_NE(s, nullptr);
  AuditLog& log = *s->audit();
  EXPECT_EQ(log.Current().root, root);
  EXPECT_TRUE(log.VerifyAll().ok());
  for (uint64_t i = 0; i < kN; ++i) {
    EXPECT_EQ(*log.InclusionProof(i, kN), merkle::InclusionPath(leaves, i));
  }
  s.reset();
  EXPECT_EQ(StoredFormat(), "3");
  Tamper([&](rocksdb::DB* db, auto& handles, const auto& names) {
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator({}, Cf(handles, names, "audit_tree")));
    it->SeekToFirst();
    ASSERT_TRUE(it->Valid());
    EXPECT_EQ(it->key().ToString(), std::string(1, '\4') + U64(0))
        << "levels 0 to 3 are gone";
  });
  // The new log goes on from the converted one.
  s = Open();
  ASSERT_TRUE(s->Accept(Request(kN + 1, "C")).ok());
  EXPECT_EQ(s->audit()->Current().root,
            merkle::RootOf(LeafHashes(*s->audit())));
}

TEST_F(AuditLogTest, ATruncatedLogRefusesToOpen) {
  Fill(10, /*sign=*/true);
  Tamper([&](rocksdb::DB* db, auto& handles, const auto& names) {
    for (uint64_t i = 7; i < 10; ++i) {
      ASSERT_TRUE(db->Delete({}, Cf(handles, names, "audit"), U64(i)).ok());
    }
  });
  absl::Status s = OpenStatus();
  EXPECT_EQ(ErrorReason(s), "AUDIT_LOG_TRUNCATED") << s;
  EXPECT_NE(s.message().find("entries 7 to 9 were removed"), std::string::npos)
      << s;
}

TEST_F(AuditLogTest, ARewrittenHistoryRefusesToOpen) {
  Fill(40, /*sign=*/true);
  // Entry 2 and its chunk's record replaced consistently, and the subtree
  // of 32 leaves above it too: the root no longer matches the signed one.
  Tamper([&](rocksdb::DB* db, auto& handles, const auto& names) {
    rocksdb::ColumnFamilyHandle* tree = Cf(handles, names, "audit_tree");
    v1::AuditEvent e;
    e.set_kind(v1::MESSAGE_ACCEPTED);
    e.set_case_ref("forged");
    const std::string bytes = e.SerializeAsString();
    ASSERT_TRUE(db->Put({}, Cf(handles, names, "audit"), U64(2), bytes).ok());
    auto get = [&](int level, uint64_t i) {
      std::string v;
      EXPECT_TRUE(db->Get({}, tree,
                          std::string(1, static_cast<char>(level)) + U64(i), &v)
                      .ok());
      return v;
    };
    std::string chunk = get(4, 0);
    std::vector<merkle::MerkleHash> leaves(16);
    for (size_t k = 0; k < 16; ++k) {
      std::copy(chunk.begin() + 32 * (1 + k), chunk.begin() + 32 * (2 + k),
                leaves[k].begin());
    }
    leaves[2] = merkle::LeafHash(AsBytes(bytes));
    const merkle::MerkleHash hash = merkle::RootOf(leaves);
    chunk.replace(0, 32, std::string(hash.begin(), hash.end()));
    chunk.replace(32 * 3, 32, std::string(leaves[2].begin(), leaves[2].end()));
    ASSERT_TRUE(db->Put({}, tree, std::string(1, '\4') + U64(0), chunk).ok());
    merkle::MerkleHash right;
    const std::string next = get(4, 1);
    std::copy(next.begin(), next.begin() + 32, right.begin());
    const merkle::MerkleHash up = merkle::NodeHash(hash, right);
    ASSERT_TRUE(db->Put({}, tree, std::string(1, '\5') + U64(0),
                        std::string(up.begin(), up.end()))
                    .ok());
  });
  absl::Status s = OpenStatus();
  EXPECT_EQ(ErrorReason(s), "AUDIT_LOG_INCONSISTENT") << s;
}

}  // namespace
}  // namespace trm::storage
