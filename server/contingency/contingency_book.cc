#include "server/contingency/contingency_book.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/bytes.h"
#include "common/crypto/hash.h"
#include "common/log.h"
#include "common/status.h"
#include "common/time_text.h"

namespace trm::contingency {

ContingencyBook::ContingencyBook(storage::MessageStore& store,
                                 const mailbox::OrgRegistry& registry,
                                 const Clock& clock, std::string node_id)
    : store_(store),
      registry_(registry),
      clock_(clock),
      node_id_(std::move(node_id)) {}

absl::Status ContingencyBook::Load() {
  if (loaded_) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::vector<v1::SignedContingency> all,
                   store_.Contingencies());
  for (v1::SignedContingency& s : all) {
    Known k;
    if (!k.contingency.ParseFromString(s.contingency())) continue;
    k.signed_contingency = std::move(s);
    known_.push_back(std::move(k));
  }
  loaded_ = true;
  return absl::OkStatus();
}

absl::Status ContingencyBook::Keep(const v1::SignedContingency& s,
                                   const v1::Contingency& c,
                                   const std::string& from_peer) {
  const bool ended = c.end_unix_ms() != 0;
  v1::AuditEvent e;
  e.set_kind(ended ? v1::CONTINGENCY_ENDED : v1::CONTINGENCY_DECLARED);
  e.set_time_unix_ms(absl::ToUnixMillis(clock_.Now()));
  e.set_sender_org(c.declared_by());
  e.set_peer_node(from_peer);
  const crypto::Sha256Digest digest =
      crypto::Sha256({AsBytes(s.SerializeAsString())});
  e.set_evidence_sha256(digest.data(), digest.size());
  e.set_detail(absl::StrCat(
      "contingency ", HexEncode(AsBytes(c.id())), " for the ", ScopeText(c),
      " by ", c.declared_by(), " of node ", c.node(), ", from ",
      IsoSeconds(c.start_unix_ms()),
      ended ? absl::StrCat(" to ", IsoSeconds(c.end_unix_ms())) : "", ": ",
      c.reason()));
  ASSIGN_OR_RETURN(bool kept, store_.PutContingency(s, c, e));
  if (!kept) return absl::OkStatus();
  log::Warn(ended ? "contingency.ended" : "contingency.declared", e.detail(),
            {{"contingency", HexEncode(AsBytes(c.id()))}});
  absl::MutexLock lock(&mu_);
  if (c.node() == node_id_) ++changes_;
  for (Known& k : known_) {
    if (k.contingency.id() == c.id()) {
      k = Known{s, c};
      return absl::OkStatus();
    }
  }
  known_.push_back(Known{s, c});
  return absl::OkStatus();
}

uint64_t ContingencyBook::Changes() {
  absl::MutexLock lock(&mu_);
  return changes_;
}

absl::StatusOr<v1::ContingencyList> ContingencyBook::Declare(
    const std::string& caller_org, const v1::SignedContingency& s) {
  {
    absl::MutexLock lock(&mu_);
    RETURN_IF_ERROR(Load());
  }
  ASSIGN_OR_RETURN(v1::Contingency c,
                   VerifyContingency(s, *registry_.directory()));
  if (c.declared_by() != caller_org || c.node() != node_id_) {
    return Error(absl::StatusCode::kPermissionDenied, "CONTINGENCY_INVALID",
                 absl::StrCat("the declaration is ", c.declared_by(),
                              "'s of node ", c.node(), "; ", caller_org,
                              " declares its own, at its own node ", node_id_));
  }
  if (c.end_unix_ms() != 0) {
    absl::MutexLock lock(&mu_);
    bool found = false;
    for (const Known& k : known_) found = found || k.contingency.id() == c.id();
    if (!found) {
      return Error(absl::StatusCode::kNotFound, "CONTINGENCY_INVALID",
                   absl::StrCat("no contingency ", HexEncode(AsBytes(c.id())),
                                " was declared at node ", node_id_,
                                "; trmctl contingency list shows them"));
    }
  }
  RETURN_IF_ERROR(Keep(s, c, ""));
  ASSIGN_OR_RETURN(v1::ContingencyList out, List());
  if (c.end_unix_ms() != 0) {
    ASSIGN_OR_RETURN(std::vector<std::string> deferred, Deferred(c.id()));
    for (std::string& d : deferred) *out.add_deferred() = std::move(d);
  }
  return out;
}

absl::Status ContingencyBook::Receive(const std::string& peer,
                                      const v1::SignedContingency& s) {
  {
    absl::MutexLock lock(&mu_);
    RETURN_IF_ERROR(Load());
  }
  ASSIGN_OR_RETURN(v1::Contingency c,
                   VerifyContingency(s, *registry_.directory()));
  if (c.node() != peer) {
    return Error(absl::StatusCode::kPermissionDenied, "CONTINGENCY_INVALID",
                 absl::StrCat("node ", peer, " carried a contingency of node ",
                              c.node(), "; each node carries its own"));
  }
  return Keep(s, c, peer);
}

bool ContingencyBook::FirstRefusal(const v1::SignedContingency& s) {
  const crypto::Sha256Digest d =
      crypto::Sha256({AsBytes(s.SerializeAsString())});
  absl::MutexLock lock(&mu_);
  if (refused_.size() >= kMaxRemembered) refused_.clear();
  return refused_.insert(std::string(d.begin(), d.end())).second;
}

absl::StatusOr<v1::ContingencyList> ContingencyBook::List() {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Load());
  v1::ContingencyList out;
  for (const Known& k : known_) *out.add_items() = k.signed_contingency;
  out.set_now_unix_ms(absl::ToUnixMillis(clock_.Now()));
  return out;
}

std::vector<v1::SignedContingency> ContingencyBook::ToCarry() {
  absl::MutexLock lock(&mu_);
  std::vector<v1::SignedContingency> out;
  if (!Load().ok()) return out;  // retried at the next batch
  const int64_t since = absl::ToUnixMillis(clock_.Now() - kCarryEnded);
  std::vector<const Known*> carried;
  for (const Known& k : known_) {
    if (k.contingency.node() != node_id_) continue;
    if (k.contingency.end_unix_ms() != 0 &&
        k.contingency.end_unix_ms() < since) {
      continue;
    }
    carried.push_back(&k);
  }
  // Open ones (no end: sorted as the largest) before ended ones.
  auto key = [](const Known* k) {
    const int64_t end = k->contingency.end_unix_ms();
    return std::pair{end == 0 ? INT64_MAX : end,
                     k->contingency.start_unix_ms()};
  };
  std::sort(carried.begin(), carried.end(),
            [&key](const Known* a, const Known* b) { return key(a) > key(b); });
  if (carried.size() > kMaxCarried) carried.resize(kMaxCarried);
  for (const Known* k : carried) out.push_back(k->signed_contingency);
  return out;
}

std::vector<v1::Contingency> ContingencyBook::Covering(const Route& route) {
  absl::MutexLock lock(&mu_);
  std::vector<v1::Contingency> out;
  if (!Load().ok()) return out;
  for (const Known& k : known_) {
    if (contingency::Covers(k.contingency, route)) out.push_back(k.contingency);
  }
  return out;
}

bool ContingencyBook::HoldsNow(const directory::Directory& dir,
                               const std::string& from, const std::string& to) {
  auto country = [&](const std::string& node) {
    const v1::DirectoryNode* n = dir.FindNode(node);
    return n == nullptr || n->country().empty() ? node : n->country();
  };
  const absl::Time now = clock_.Now();
  for (const v1::Contingency& c :
       Covering(Route{from, country(from), to, country(to)})) {
    if (HoldsAt(c, now)) return true;
  }
  return false;
}

absl::Duration ContingencyBook::MaxLifetime(const directory::Directory& dir,
                                            const std::string& from,
                                            const std::string& to,
                                            absl::Duration base) {
  const uint64_t extension =
      dir.doc().policy().contingency().lifetime_extension_seconds();
  if (extension == 0 || !HoldsNow(dir, from, to)) return base;
  return base + absl::Seconds(static_cast<int64_t>(extension));
}

absl::StatusOr<std::vector<std::string>> ContingencyBook::Deferred(
    const std::string& id) {
  std::vector<std::string> out;
  RETURN_IF_ERROR(store_.ForEachCase([&](const v1::CaseRecord& rec) {
    for (const v1::Deadline& d : rec.deadlines()) {
      if (d.extended_by() != id || d.escalated_unix_ms() != 0) continue;
      out.push_back(absl::StrCat(
          rec.case_ref(), " ", v1::DeadlineKind_Name(d.kind()), " owed by ",
          d.responsible_org(), " to ", d.waiting_org(), ", due ",
          IsoSeconds(d.due_unix_ms()), " (extended by ",
          absl::FormatDuration(absl::Milliseconds(d.extended_ms())), ")"));
    }
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace trm::contingency
