#include "client/agent/audit_view.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/audit/bundle.h"
#include "common/audit/tree_head.h"
#include "common/bytes.h"
#include "common/status.h"
#include "common/time_text.h"
#include "trm/client/client.h"

namespace trm::agent {
namespace {

using nlohmann::json;

json ErrorJson(const absl::Status& s) {
  return {{"reason", client::ReasonOf(s)},
          {"message", std::string(s.message())}};
}

std::string HeadText(const v1::TreeHead& h) {
  return absl::StrCat(h.tree_size(), " entries signed ",
                      IsoMillis(h.timestamp_unix_ms()));
}

// The node's trail, verified: the head with the node's key, each entry
// against the head.
struct Checked {
  v1::Trail trail;
  v1::TreeHead head;
  std::string key;
};

absl::StatusOr<Checked> FetchChecked(AuditSource& source,
                                     const std::string& node,
                                     const v1::TrailQuery& q) {
  Checked c;
  ASSIGN_OR_RETURN(c.trail, source.Trail(node, q));
  if (static_cast<size_t>(c.trail.entries_size()) > AuditView::kMaxEntries) {
    return Error(absl::StatusCode::kResourceExhausted, "AGENT_TRAIL_TOO_LARGE",
                 absl::StrCat("node ", node, " holds ", c.trail.entries_size(),
                              " matching entries, more than the ",
                              AuditView::kMaxEntries,
                              " one page shows; ask for a case or a shorter "
                              "period"));
  }
  ASSIGN_OR_RETURN(c.key, source.NodeKey(c.trail.tree_head()));
  ASSIGN_OR_RETURN(c.head, client::VerifyTrail(c.trail, c.key));
  if (c.head.node() != node) {
    return Error(absl::StatusCode::kInvalidArgument, "TREE_HEAD_INVALID",
                 absl::StrCat("the address configured for node ", node,
                              " answered with node ", c.head.node(),
                              "'s log; correct the agent's audit.nodes"));
  }
  return c;
}

}  // namespace

absl::Status AuditView::CheckHistory(const std::string& node,
                                     const v1::SignedTreeHead& sth,
                                     const v1::TreeHead& head) {
  absl::MutexLock lock(&mu_);
  const int64_t now = absl::ToUnixMillis(clock_.Now());
  ASSIGN_OR_RETURN(std::optional<v1::AgentWitness> seen, store_.Witness(node));
  v1::AgentWitness w;
  if (seen.has_value()) w = *std::move(seen);
  w.set_node(node);
  auto fork = [&](const std::string& detail) -> absl::Status {
    w.set_fork_unix_ms(now);
    *w.mutable_fork_head() = sth;
    w.set_fork_detail(detail);
    RETURN_IF_ERROR(store_.PutWitness(w));
    return Error(absl::StatusCode::kDataLoss, "TREE_HEAD_FORK", detail);
  };
  if (w.fork_unix_ms() != 0) {
    return Error(absl::StatusCode::kDataLoss, "TREE_HEAD_FORK",
                 absl::StrCat(w.fork_detail(), " (found ",
                              IsoSeconds(w.fork_unix_ms()), ")"));
  }
  if (w.has_head()) {
    ASSIGN_OR_RETURN(v1::TreeHead before, audit::ParseTreeHead(w.head()));
    const std::string was =
        absl::StrCat("node ", node, "'s history was rewritten: its head of ",
                     HeadText(head), " does not extend the head of ",
                     HeadText(before), " this agent verified before");
    if (head.tree_size() < before.tree_size()) return fork(was);
    v1::Proof proof;
    if (head.tree_size() > before.tree_size() && before.tree_size() > 0) {
      ASSIGN_OR_RETURN(proof, source_.Consistency(node, before.tree_size(),
                                                  head.tree_size()));
    }
    if (before.tree_size() > 0 &&
        !audit::VerifyExtends(before, head, proof).ok()) {
      return fork(was);
    }
  }
  *w.mutable_head() = sth;
  w.set_checked_unix_ms(now);
  return store_.PutWitness(w);
}

absl::StatusOr<json> AuditView::Trail(const v1::TrailQuery& q) {
  const int64_t now = absl::ToUnixMillis(clock_.Now());
  json nodes = json::array();
  json alarms = json::array();
  struct Row {
    int64_t time;
    std::string node;
    uint64_t index;
    json j;
  };
  std::vector<Row> rows;
  std::map<std::pair<std::string, std::string>, std::set<std::string>> flows;
  bool all_verified = true;
  for (const std::string& node : source_.Nodes()) {
    json n = {{"node", node}};
    absl::StatusOr<Checked> c = FetchChecked(source_, node, q);
    if (!c.ok()) {
      all_verified = false;
      const bool unreachable = absl::IsUnavailable(c.status()) ||
                               absl::IsDeadlineExceeded(c.status());
      n["state"] = unreachable ? "unreachable" : "failed";
      n.update(ErrorJson(c.status()));
      // What this agent remembers of a node it cannot check now.
      absl::StatusOr<std::optional<v1::AgentWitness>> w = store_.Witness(node);
      if (w.ok() && w->has_value() && (*w)->fork_unix_ms() != 0) {
        n["state"] = "fork";
        n["fork"] = (*w)->fork_detail();
      }
      nodes.push_back(std::move(n));
      continue;
    }
    const int64_t signed_ms = c->head.timestamp_unix_ms();
    n["tree_size"] = c->head.tree_size();
    n["root"] = HexEncode(AsBytes(c->head.root_hash()));
    n["signed_unix_ms"] = signed_ms;
    n["age_ms"] = now - signed_ms;
    n["stale"] = absl::Milliseconds(now - signed_ms) > kStaleAfter;
    n["entries"] = c->trail.entries_size();
    absl::Status history = CheckHistory(node, c->trail.tree_head(), c->head);
    std::string proof = "verified";
    if (!history.ok()) {
      all_verified = false;
      proof = "failed";
      n["state"] =
          client::ReasonOf(history) == "TREE_HEAD_FORK" ? "fork" : "failed";
      n.update(ErrorJson(history));
      if (n["state"] == "fork") n["fork"] = std::string(history.message());
    } else {
      n["state"] = "verified";
    }
    for (const v1::Entry& e : c->trail.entries()) {
      v1::AuditEvent ev;
      ev.ParseFromString(e.event());
      json j = audit::EventJson(e);
      j["time_unix_ms"] = ev.time_unix_ms();
      j["proof"] = proof;
      if (ev.kind() == v1::MESSAGE_RELAYED && !ev.peer_node().empty()) {
        flows[{node, ev.peer_node()}].insert(ev.message_id());
      } else if (ev.kind() == v1::MESSAGE_ACCEPTED &&
                 ev.recipient_org().empty() == false) {
        flows[{node, node}].insert(ev.message_id());
      }
      rows.push_back({ev.time_unix_ms(), node, e.leaf_index(), std::move(j)});
    }
    nodes.push_back(std::move(n));
    // The node's own alarms: forks it found witnessing its peers' logs.
    v1::TrailQuery forks;
    forks.set_kind(v1::TREE_HEAD_FORK);
    forks.set_page_size(1000);
    absl::StatusOr<v1::Trail> f = source_.Trail(node, forks);
    if (f.ok()) {
      for (const v1::Entry& e : f->entries()) {
        v1::AuditEvent ev;
        ev.ParseFromString(e.event());
        alarms.push_back({{"node", node},
                          {"peer_node", ev.peer_node()},
                          {"time_unix_ms", ev.time_unix_ms()},
                          {"detail", ev.detail()}});
      }
    }
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return std::tie(a.time, a.node, a.index) <
           std::tie(b.time, b.node, b.index);
  });
  json entries = json::array();
  for (Row& r : rows) entries.push_back(std::move(r.j));
  // A relayed message is counted once per link, however many nodes saw it;
  // messages within a node are counted where they were accepted, once they
  // are not relayed.
  std::set<std::string> relayed;
  for (const auto& [link, ids] : flows) {
    if (link.first != link.second) relayed.insert(ids.begin(), ids.end());
  }
  json flow_list = json::array();
  for (const auto& [link, ids] : flows) {
    size_t count = 0;
    for (const std::string& id : ids) {
      if (link.first != link.second || relayed.count(id) == 0) ++count;
    }
    if (count == 0) continue;
    flow_list.push_back(
        {{"from", link.first}, {"to", link.second}, {"messages", count}});
  }
  return json{{"verified", all_verified && !source_.Nodes().empty()},
              {"checked_unix_ms", now},
              {"nodes", nodes},
              {"entries", entries},
              {"flows", flow_list},
              {"alarms", alarms}};
}

absl::StatusOr<json> AuditView::Bundle(const v1::TrailQuery& q,
                                       const std::string& node) {
  const std::vector<std::string> scope = source_.Nodes();
  if (std::find(scope.begin(), scope.end(), node) == scope.end()) {
    return Error(
        absl::StatusCode::kInvalidArgument, "AGENT_REQUEST_INVALID",
        absl::StrCat("node '", node, "' is not in this agent's audit scope (",
                     absl::StrJoin(scope, ", "), ")"));
  }
  ASSIGN_OR_RETURN(Checked c, FetchChecked(source_, node, q));
  RETURN_IF_ERROR(CheckHistory(node, c.trail.tree_head(), c.head));
  return audit::BundleJson(c.trail, c.head, c.key);
}

}  // namespace trm::agent
