// trm-agent's store: the messages an organisation received, in its own
// RocksDB, each written with an fsync before the agent acknowledges it to the
// node. It keeps the sealed envelope as delivered and never the payload in
// plaintext; the agent opens a message in memory when someone asks for it.
// Alongside: read/unread and notes per message, the erasure of a case's
// local copies, and the retention purge of closed cases.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<AgentStore> store,
//                    AgentStore::Open(dir, SystemClock::Get()));
//   ASSIGN_OR_RETURN(bool is_new, store->Put(record));   // fsynced
//   ... then acknowledge to the node.
//
// Thread-safe.
#ifndef TRM_CLIENT_AGENT_AGENT_STORE_H_
#define TRM_CLIENT_AGENT_AGENT_STORE_H_

#include <rocksdb/db.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "trm/v1/agent.pb.h"

namespace trm::agent {

// What List returns; every field empty or false matches everything.
struct ListFilter {
  std::string case_ref;
  v1::MessageType type = v1::MESSAGE_TYPE_UNSPECIFIED;
  bool unread_only = false;
  enum class Box { kAny, kInbox, kOutbox } box = Box::kAny;
  size_t limit = 100;  // at most kMaxList
};

class AgentStore {
 public:
  static constexpr size_t kMaxList = 1000;

  // Opens (or creates) the store in `dir`. AGENT_STORE_OPEN_FAILED when it
  // cannot (another agent holds it, permissions).
  static absl::StatusOr<std::unique_ptr<AgentStore>> Open(
      const std::string& dir, const Clock& clock);

  // Stores `r` durably (fsync) unless a record with its id is there: true
  // when it was new. The first stored copy is kept: a message delivered
  // again after a crash before its acknowledgement changes nothing.
  absl::StatusOr<bool> Put(v1::AgentRecord r);
  // The record, or AGENT_MESSAGE_NOT_FOUND.
  absl::StatusOr<v1::AgentRecord> Get(const std::string& message_id) const;
  // Newest first, at most filter.limit (capped at kMaxList).
  absl::StatusOr<std::vector<v1::AgentRecord>> List(
      const ListFilter& filter) const;

  // Each case the stored messages name, newest first (at most kMaxList).
  absl::StatusOr<std::vector<std::string>> Cases() const;

  absl::Status SetRead(const std::string& message_id, bool read);
  absl::Status SetLastState(const std::string& message_id,
                            v1::MessageState state);
  absl::Status AddNote(const std::string& message_id, v1::AgentNote note);
  // Records that the organisation refused the message (its node took the
  // signed refusal) and deletes its envelope, so nothing of the person's
  // data stays here; its header and notes stay.
  absl::Status MarkRefused(const std::string& message_id,
                           const std::string& reason, const std::string& text,
                           const std::string& user);

  // The auditor page's memory of `node`'s audit log (absent: never seen).
  absl::StatusOr<std::optional<v1::AgentWitness>> Witness(
      const std::string& node) const;
  absl::Status PutWitness(const v1::AgentWitness& w);

  // Deletes every local copy of `case_ref` (an erasure notice); how many.
  absl::StatusOr<size_t> EraseCase(const std::string& case_ref);
  // Erases each case whose CASE_CLOSURE was stored at least `retention` ago;
  // the cases erased.
  absl::StatusOr<std::vector<std::string>> PurgeClosed(
      absl::Duration retention);

 private:
  AgentStore(std::unique_ptr<rocksdb::DB> db, const Clock& clock)
      : db_(std::move(db)), clock_(clock) {}
  absl::StatusOr<std::optional<v1::AgentRecord>> Read(
      const std::string& message_id) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::Status Update(const std::string& message_id,
                      const std::function<void(v1::AgentRecord&)>& change)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<size_t> EraseCaseLocked(const std::string& case_ref)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Read-modify-write sequences hold it exclusively; reads shared.
  mutable absl::Mutex mu_;
  std::unique_ptr<rocksdb::DB> db_ ABSL_GUARDED_BY(mu_);
  const Clock& clock_;
};

}  // namespace trm::agent

#endif  // TRM_CLIENT_AGENT_AGENT_STORE_H_
