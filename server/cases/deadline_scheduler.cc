#include "server/cases/deadline_scheduler.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/bytes.h"
#include "common/crypto/hash.h"
#include "common/envelope/envelope.h"
#include "common/log.h"
#include "common/status.h"
#include "server/cases/contingency_rule.h"
#include "server/cases/failed_link.h"

namespace trm::cases {
namespace {

// A notice stays in the mailbox this long before it expires unread.
constexpr absl::Duration kNoticeLifetime = absl::Hours(24 * 30);

bool Hosts(const directory::Directory& dir, const std::string& node,
           const std::string& org) {
  const v1::DirectoryOrganisation* o = dir.FindOrganisation(org);
  return o != nullptr && o->home_node() == node;
}

// The route between the deadline's two organisations' nodes.
contingency::Route RouteOf(const directory::Directory& dir,
                           const v1::Deadline& d) {
  contingency::Route r;
  for (auto [org, node, country] :
       {std::tuple{&d.responsible_org(), &r.node_a, &r.country_a},
        std::tuple{&d.waiting_org(), &r.node_b, &r.country_b}}) {
    const v1::DirectoryOrganisation* o = dir.FindOrganisation(*org);
    if (o == nullptr) continue;
    *node = o->home_node();
    const v1::DirectoryNode* n = dir.FindNode(o->home_node());
    *country = n == nullptr || n->country().empty() ? *node : n->country();
  }
  return r;
}

}  // namespace

DeadlineScheduler::DeadlineScheduler(storage::MessageStore& store,
                                     const mailbox::OrgRegistry& registry,
                                     const crypto::Ed25519PrivateKey& node_key,
                                     const Clock& clock, std::string node_id)
    : store_(store),
      registry_(registry),
      node_key_(node_key),
      clock_(clock),
      node_id_(std::move(node_id)) {}

std::vector<std::string> DeadlineScheduler::NoticeRecipients(
    const directory::Directory& dir, const v1::Deadline& d,
    bool coordinators_only) const {
  std::vector<std::string> out;
  if (coordinators_only) {
    // Across a failed link: nobody is told they missed it.
  } else if (Hosts(dir, node_id_, d.responsible_org())) {
    out.push_back(d.responsible_org());
  } else if (Hosts(dir, node_id_, d.waiting_org())) {
    out.push_back(d.waiting_org());
  }
  for (const v1::DirectoryOrganisation& o : dir.doc().organisations()) {
    if (o.home_node() == node_id_ &&
        std::find(o.roles().begin(), o.roles().end(),
                  v1::NATIONAL_COORDINATOR) != o.roles().end() &&
        std::find(out.begin(), out.end(), o.id()) == out.end()) {
      out.push_back(o.id());
    }
  }
  return out;
}

absl::StatusOr<size_t> DeadlineScheduler::Tick(size_t max_cases) {
  const absl::Time now = clock_.Now();
  const int64_t now_ms = absl::ToUnixMillis(now);
  ASSIGN_OR_RETURN(std::vector<std::string> due,
                   store_.DueCases(now_ms, max_cases));
  if (due.empty()) return 0;
  std::shared_ptr<const directory::Directory> dir = registry_.directory();
  const v1::FailedLinkRule rule =
      dir->doc().policy().contingency().failed_link();
  size_t escalated = 0;
  for (const std::string& ref : due) {
    absl::StatusOr<v1::CaseRecord> rec = store_.GetCase(ref);
    if (!rec.ok()) return rec.status();
    for (const v1::Deadline& d : rec->deadlines()) {
      if (d.escalated_unix_ms() != 0 || d.due_unix_ms() > now_ms) continue;
      if (book_ != nullptr) {
        std::optional<Extension> extended = ExtendForContingency(
            d, ref, book_->Covering(RouteOf(*dir, d)),
            absl::Seconds(
                static_cast<int64_t>(dir->doc()
                                         .policy()
                                         .contingency()
                                         .deadline_extension_seconds())),
            now);
        if (extended) {
          absl::Status s = store_.ReplaceDeadline(ref, d, extended->replacement,
                                                  &extended->event);
          if (s.ok()) {
            log::Warn(
                "deadline.extended", extended->event.detail(),
                {{"case", ref}, {"deadline", v1::DeadlineKind_Name(d.kind())}});
          } else if (ErrorReason(s) != "DEADLINE_CHANGED") {
            log::Error(
                "deadline.update_failed",
                absl::StrCat("extending ", v1::DeadlineKind_Name(d.kind()),
                             " of case ", ref, ": ", s.message()),
                {{"case", ref}});
          }
          continue;
        }
      }
      std::string owing_node = d.unreachable_node();
      if (owing_node.empty()) {
        const v1::DirectoryOrganisation* o =
            dir->FindOrganisation(d.responsible_org());
        if (o != nullptr && o->home_node() != node_id_) {
          owing_node = o->home_node();
        }
      }
      const absl::Time failing = owing_node.empty() || !links_
                                     ? absl::InfinitePast()
                                     : links_(owing_node);
      LinkDecision decision =
          DecideAcrossLink(d, ref, owing_node, failing, rule, now);
      const bool coordinators_only =
          decision.kind == LinkDecision::Kind::kEscalateToCoordinators;
      if (decision.kind != LinkDecision::Kind::kEscalate &&
          decision.replacement.SerializeAsString() != d.SerializeAsString()) {
        absl::Status s =
            store_.ReplaceDeadline(ref, d, decision.replacement,
                                   decision.event ? &*decision.event : nullptr);
        if (!s.ok()) {
          if (ErrorReason(s) != "DEADLINE_CHANGED") {
            log::Error(
                "deadline.update_failed",
                absl::StrCat("updating ", v1::DeadlineKind_Name(d.kind()),
                             " of case ", ref, ": ", s.message()),
                {{"case", ref}});
          }
          continue;
        }
        if (decision.event) {
          const bool paused = decision.kind == LinkDecision::Kind::kPause;
          if (paused) paused_.fetch_add(1);
          log::Warn(paused ? "deadline.paused" : "deadline.resumed",
                    decision.event->detail(),
                    {{"case", ref},
                     {"deadline", v1::DeadlineKind_Name(d.kind())},
                     {"node", owing_node}});
        }
      }
      if (decision.kind != LinkDecision::Kind::kEscalate &&
          !coordinators_only) {
        continue;
      }
      ASSIGN_OR_RETURN(bool stored, Escalate(*dir, *rec, decision.replacement,
                                             coordinators_only, now));
      if (!stored) continue;
      ++escalated;
      escalated_.fetch_add(1);
      log::Warn("deadline.missed",
                coordinators_only
                    ? absl::StrCat("DEADLINE_MISSED case ", ref, " ",
                                   v1::DeadlineKind_Name(d.kind()), " owed by ",
                                   d.responsible_org(),
                                   " across the failed link to node ",
                                   owing_node, "; told to the coordinators")
                    : absl::StrCat("DEADLINE_MISSED case ", ref, " ",
                                   v1::DeadlineKind_Name(d.kind()), " owed by ",
                                   d.responsible_org()),
                {{"case", ref},
                 {"deadline", v1::DeadlineKind_Name(d.kind())},
                 {"responsible", d.responsible_org()}});
    }
  }
  return escalated;
}

absl::StatusOr<bool> DeadlineScheduler::Escalate(
    const directory::Directory& dir, const v1::CaseRecord& rec,
    const v1::Deadline& d, bool coordinators_only, absl::Time now) {
  const int64_t now_ms = absl::ToUnixMillis(now);
  const std::string& ref = rec.case_ref();
  v1::DeadlineNotice notice;
  notice.set_case_ref(ref);
  *notice.mutable_deadline() = d;
  notice.set_node(node_id_);
  notice.set_action(ActionFor(d.kind()));
  const std::string payload = notice.SerializeAsString();
  std::vector<storage::AcceptRequest> requests;
  for (const std::string& org : NoticeRecipients(dir, d, coordinators_only)) {
    absl::StatusOr<crypto::X25519PublicKey> to =
        dir.OrganisationEncryptionKey(org, now);
    if (!to.ok()) {
      log::Error("deadline.notify_failed",
                 absl::StrCat("cannot notify ", org, " of ",
                              v1::DeadlineKind_Name(d.kind()), " of case ", ref,
                              ": ", to.status().message()),
                 {{"case", ref}, {"org", org}});
      continue;
    }
    v1::Header h;
    h.set_schema_version(1);
    h.set_message_id(envelope::NewMessageId());
    h.set_case_ref(ref);
    h.set_type(v1::DEADLINE_NOTICE);
    h.set_sender_org(node_id_);
    h.set_sender_node(node_id_);
    h.set_recipient_org(org);
    h.set_recipient_node(node_id_);
    h.set_created_unix_ms(now_ms);
    h.set_expires_unix_ms(absl::ToUnixMillis(now + kNoticeLifetime));
    h.set_in_reply_to(d.set_by_message_id());
    h.set_minor(rec.minor());
    h.set_asylum(rec.asylum());
    h.set_outcome(d.kind());
    ASSIGN_OR_RETURN(v1::Envelope env,
                     envelope::Seal(h, AsBytes(payload), node_key_, *to));
    storage::AcceptRequest r;
    r.message_id = h.message_id();
    r.sender_org = node_id_;
    r.recipient_org = org;
    r.envelope = env.SerializeAsString();
    const crypto::Sha256Digest digest = crypto::Sha256({AsBytes(r.envelope)});
    r.envelope_sha256.assign(digest.begin(), digest.end());
    r.expires_unix_ms = h.expires_unix_ms();
    r.now_unix_ms = now_ms;
    r.case_ref = ref;
    r.message_type = v1::DEADLINE_NOTICE;
    r.header = std::move(h);
    r.policy = any_policy_;
    requests.push_back(std::move(r));
  }
  if (requests.empty()) {
    log::Error("deadline.no_recipient",
               absl::StrCat(v1::DeadlineKind_Name(d.kind()), " of case ", ref,
                            " passed, but no organisation of this node "
                            "can be notified; add a NATIONAL_COORDINATOR "
                            "to the directory"),
               {{"case", ref}});
    return false;
  }
  bool stored = false;
  for (absl::StatusOr<storage::AcceptOutcome>& out :
       store_.AcceptMany(requests)) {
    if (out.ok()) {
      stored = true;
    } else if (ErrorReason(out.status()) != "DEADLINE_NOT_OPEN") {
      // Met in the meantime: nothing to escalate. Anything else is
      // retried at the next tick.
      log::Error("deadline.escalation_failed",
                 absl::StrCat("escalating ", ref, ": ", out.status().message()),
                 {{"case", ref}});
    }
  }
  return stored;
}

}  // namespace trm::cases
