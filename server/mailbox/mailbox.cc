#include "server/mailbox/mailbox.h"

#include <algorithm>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/hash.h"
#include "common/envelope/acknowledgement.h"
#include "common/envelope/refusal.h"
#include "common/log.h"
#include "common/parallel.h"
#include "common/status.h"
#include "common/time_text.h"

namespace trm::mailbox {
namespace {

using absl::StatusCode;

}  // namespace

Mailbox::Mailbox(MailboxOptions options, const OrgRegistry& orgs,
                 storage::MessageStore& store, receipts::ReceiptSigner& signer,
                 const Clock& clock)
    : options_(std::move(options)),
      orgs_(orgs),
      store_(store),
      signer_(signer),
      clock_(clock) {}

absl::StatusOr<Mailbox::Own> Mailbox::Caller(const std::string& caller) const {
  Own own;
  own.directory = orgs_.directory();
  own.org = own.directory->FindOrganisation(caller);
  if (own.org == nullptr || own.org->home_node() != options_.node_id) {
    return Error(
        StatusCode::kUnauthenticated, "UNKNOWN_ORGANISATION",
        absl::StrCat("organisation '", caller,
                     "' is not an organisation of node ", options_.node_id,
                     " in the federation directory (serial ",
                     own.directory->serial(),
                     "); ask the federation authority to list it with this "
                     "node as its home node"));
  }
  return own;
}

absl::StatusOr<v1::Receipt> Mailbox::Submit(const std::string& caller,
                                            absl::string_view envelope_bytes) {
  std::vector<absl::StatusOr<v1::Receipt>> out =
      SubmitMany(caller, {envelope_bytes});
  return std::move(out.front());
}

std::vector<absl::StatusOr<v1::Receipt>> Mailbox::SubmitMany(
    const std::string& caller,
    const std::vector<absl::string_view>& envelopes) {
  const size_t n = envelopes.size();
  std::vector<absl::StatusOr<v1::Receipt>> results(
      n, absl::UnknownError("not submitted"));
  absl::StatusOr<Own> sender = Caller(caller);
  if (!sender.ok()) {
    for (auto& r : results) r = sender.status();
    return results;
  }
  if (options_.disk_guard != nullptr) {
    if (absl::Status room = options_.disk_guard->AdmitWrite(); !room.ok()) {
      for (auto& r : results) r = room;
      return results;
    }
  }
  const absl::Time now = clock_.Now();
  // 1-5 for each envelope. Signature checks dominate: spread them over the
  // cores.
  std::vector<absl::StatusOr<envelope::ParsedEnvelope>> parsed(
      n, absl::UnknownError("not parsed"));
  std::vector<absl::StatusOr<storage::AcceptRequest>> checked(
      n, absl::UnknownError("not checked"));
  auto check = [&](size_t i) {
    parsed[i] = envelope::ParsedEnvelope::Parse(envelopes[i], options_.limits);
    checked[i] =
        parsed[i].ok()
            ? CheckEnvelope(*sender, *parsed[i], envelopes[i], now)
            : absl::StatusOr<storage::AcceptRequest>(parsed[i].status());
  };
  ForEachOnCores(n, check);
  // The quotas, counting what this batch adds to each queue.
  std::vector<storage::AcceptRequest> requests;
  std::vector<size_t> index;  // request -> envelope
  absl::flat_hash_map<std::string, uint64_t> adding;
  for (size_t i = 0; i < n; ++i) {
    if (checked[i].ok()) {
      uint64_t& added = adding[checked[i]->queue];
      absl::Status room =
          CheckQuota(checked[i]->queue, envelopes[i].size(), added);
      if (room.ok()) {
        added += envelopes[i].size();
        index.push_back(i);
        requests.push_back(std::move(*checked[i]));
        continue;
      }
      checked[i] = room;
    }
    results[i] = checked[i].status();
  }
  // 6. Durable and deduplicated, in one write. 7. The receipts, under one
  // signature; a duplicate gets the original acceptance time.
  std::vector<absl::StatusOr<storage::AcceptOutcome>> stored =
      store_.AcceptMany(requests);
  std::vector<v1::ReceiptLeaf> leaves;
  std::vector<size_t> signed_index;
  for (size_t k = 0; k < stored.size(); ++k) {
    if (!stored[k].ok()) {
      results[index[k]] = stored[k].status();
      continue;
    }
    leaves.push_back(storage::AcceptanceLeaf(v1::RECEIPT_ACCEPTED, requests[k],
                                             *stored[k], options_.node_id));
    signed_index.push_back(index[k]);
    arrivals_.Notify(requests[k].recipient_org);  // wakes waiting receivers
  }
  if (!leaves.empty()) {
    absl::StatusOr<std::vector<v1::Receipt>> receipts =
        signer_.SignMany(leaves);
    for (size_t k = 0; k < signed_index.size(); ++k) {
      if (receipts.ok()) {
        results[signed_index[k]] = std::move((*receipts)[k]);
      } else {
        results[signed_index[k]] = receipts.status();
      }
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (!parsed[i].ok()) continue;  // no header to record it under
    const v1::Header& h = parsed[i]->header();
    if (!results[i].ok()) {
      RecordRejection(caller, h, envelopes[i], now, results[i].status());
    }
    if (log::MessageLogging()) {
      log::Message(
          results[i].ok() ? "message.accepted" : "message.refused",
          h.message_id(),
          {{"node", options_.node_id},
           {"case", h.case_ref()},
           {"type", v1::MessageType_Name(h.type())},
           {"from", caller},
           {"to", absl::StrCat(h.recipient_org(), "@", h.recipient_node())},
           {"reason",
            results[i].ok() ? "" : ErrorReason(results[i].status())}});
    }
  }
  return results;
}

void Mailbox::RecordRejection(const std::string& caller, const v1::Header& h,
                              absl::string_view envelope_bytes, absl::Time now,
                              const absl::Status& refusal) {
  switch (refusal.code()) {
    case StatusCode::kAlreadyExists:  // the id belongs to another message
    case StatusCode::kUnavailable:    // not a refusal: the store failed
    case StatusCode::kInternal:
    case StatusCode::kDataLoss:
    case StatusCode::kCancelled:
    case StatusCode::kDeadlineExceeded:
      return;
    default:
      break;
  }
  if (!MayRecordRefusal(caller, ErrorReason(refusal), now)) return;
  v1::StoredStatus st;
  st.set_message_id(h.message_id());
  st.set_sender_org(caller);  // the authenticated caller, whatever it claimed
  st.set_recipient_org(h.recipient_org());
  st.set_case_ref(h.case_ref());
  st.set_message_type(h.type());
  const crypto::Sha256Digest digest = crypto::Sha256({AsBytes(envelope_bytes)});
  st.set_envelope_sha256(digest.data(), digest.size());
  st.set_state(v1::REJECTED);
  st.set_expires_unix_ms(h.expires_unix_ms());
  st.set_rejected_unix_ms(absl::ToUnixMillis(now));
  st.set_reason_code(ErrorReason(refusal));
  st.set_error_code(static_cast<int32_t>(refusal.code()));
  st.set_reason(std::string(refusal.message()));
  st.set_forget_unix_ms(absl::ToUnixMillis(
      now + orgs_.directory()->MaxRetention(options_.retention)));
  // Best effort: the caller has its answer already; a rejection record that
  // cannot be written (the disk is full, say) only means GetStatus will say
  // NOT_FOUND for it.
  store_.RecordRejection(st).IgnoreError();
}

absl::StatusOr<storage::AcceptRequest> Mailbox::CheckEnvelope(
    const Own& sender, const envelope::ParsedEnvelope& parsed,
    absl::string_view envelope_bytes, absl::Time now) const {
  const std::string& caller = sender.org->id();
  const directory::Directory& dir = *sender.directory;
  const v1::Header& h = parsed.header();
  // 2. Times.
  absl::Duration lifetime =
      dir.MaxMessageLifetime(options_.max_message_lifetime);
  if (options_.contingencies != nullptr) {
    lifetime = options_.contingencies->MaxLifetime(
        dir, options_.node_id, h.recipient_node(), lifetime);
  }
  RETURN_IF_ERROR(
      envelope::CheckTimes(h, now, options_.max_clock_skew, lifetime));
  // 3. Only as yourself, and never as the node.
  if (h.type() == v1::DEADLINE_NOTICE) {
    return Error(StatusCode::kPermissionDenied, "RESERVED_TYPE",
                 "DEADLINE_NOTICE is written by nodes only; an organisation "
                 "answers the deadline with the step it asks for");
  }
  if (h.sender_org() != caller) {
    return Error(StatusCode::kPermissionDenied, "SENDER_NOT_CALLER",
                 absl::StrCat("the envelope's sender is '", h.sender_org(),
                              "' but the caller is '", caller,
                              "'; an organisation submits only its own "
                              "messages"));
  }
  if (h.sender_node() != options_.node_id) {
    return Error(
        StatusCode::kPermissionDenied, "WRONG_SENDER_NODE",
        absl::StrCat("the envelope says its sender is on node '",
                     h.sender_node(), "' but this is node '", options_.node_id,
                     "'; set sender_node to your own node"));
  }
  // 4. One signature check per message on this node.
  // The key the envelope names, valid at its creation time and not revoked
  // by now (docs/protocol.md section 13.3).
  ASSIGN_OR_RETURN(crypto::Ed25519PublicKey sender_key,
                   dir.OrganisationSigningKey(
                       caller, parsed.envelope().sender_key_id(),
                       absl::FromUnixMillis(h.created_unix_ms()), now));
  if (options_.verify_signatures) {
    RETURN_IF_ERROR(envelope::VerifySignature(parsed, sender_key));
  }
  // 5. A recipient in the directory: here, or on the node that relays to
  // it; with room in its mailbox or in that node's outbound queue.
  const v1::DirectoryOrganisation* recipient =
      dir.FindOrganisation(h.recipient_org());
  if (recipient == nullptr) {
    return Error(
        StatusCode::kNotFound, "UNKNOWN_RECIPIENT",
        absl::StrCat("no organisation '", h.recipient_org(),
                     "' is in the federation directory (serial ", dir.serial(),
                     "); check the recipient id (trmctl directory inspect "
                     "lists them)"));
  }
  if (recipient->home_node() != h.recipient_node()) {
    return Error(
        StatusCode::kNotFound, "UNKNOWN_RECIPIENT",
        absl::StrCat("'", h.recipient_org(), "' is at node ",
                     recipient->home_node(), ", not ", h.recipient_node(),
                     " (directory serial ", dir.serial(), "); send it to ",
                     h.recipient_org(), "@", recipient->home_node()));
  }

  RETURN_IF_ERROR(
      dir.CheckRecipientKey(h.recipient_org(), h.recipient_key_id(), now));
  const bool remote = h.recipient_node() != options_.node_id;
  if (remote && !options_.relay_enabled) {
    return Error(StatusCode::kFailedPrecondition, "RELAY_UNAVAILABLE",
                 absl::StrCat("'", h.recipient_org(), "' is on node ",
                              h.recipient_node(),
                              " and this node does not relay: relaying "
                              "needs mutual TLS between nodes (the node runs "
                              "with --insecure-dev)"));
  }
  const std::string queue =
      remote ? storage::OutboundQueue(h.recipient_node()) : h.recipient_org();
  storage::AcceptRequest request;
  request.message_id = h.message_id();
  request.sender_org = h.sender_org();
  request.recipient_org = h.recipient_org();
  request.queue = queue;
  request.case_ref = h.case_ref();
  request.message_type = h.type();
  if (options_.case_policies != nullptr) {
    request.header = h;
    request.policy =
        options_.case_policies->For(dir, h.sender_node(), h.recipient_node());
    // A lapsed directory: no new cases from this node's organisations.
    request.policy->refuse_new_cases = dir.NewCasesRefusal(now);
  }
  request.envelope.assign(envelope_bytes.data(), envelope_bytes.size());
  const crypto::Sha256Digest digest = crypto::Sha256({AsBytes(envelope_bytes)});
  request.envelope_sha256.assign(digest.begin(), digest.end());
  request.expires_unix_ms = h.expires_unix_ms();
  request.now_unix_ms = absl::ToUnixMillis(now);
  return request;
}

absl::Status Mailbox::CheckQuota(const std::string& queue, size_t bytes,
                                 uint64_t adding) const {
  const uint64_t quota = orgs_.QuotaOf(queue);
  ASSIGN_OR_RETURN(uint64_t queued, store_.QueueBytes(queue));
  if (queued + adding + bytes > quota) {
    return Error(StatusCode::kResourceExhausted, "MAILBOX_FULL",
                 absl::StrCat("queue ", queue, " holds ", queued + adding,
                              " bytes, and this message would pass its quota "
                              "of ",
                              quota,
                              "; retry after the recipient has received its "
                              "messages"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Delivery>> Mailbox::Receive(
    const std::string& caller, size_t max, size_t max_bytes) {
  RETURN_IF_ERROR(Caller(caller).status());
  std::vector<Delivery> out;
  const absl::Time now = clock_.Now();
  // Nothing expired is delivered: it goes to the dead letters first.
  RETURN_IF_ERROR(store_.ExpireDue(absl::ToUnixMillis(now), 4096).status());
  uint64_t from = 0;
  size_t bytes = 0;
  std::vector<std::string> first_deliveries;
  absl::ReaderMutexLock queue_lock(&QueueLock(caller));
  while (out.size() < max) {
    // Pages of what is still wanted: a page loads its envelopes, leased
    // ones too, so a Receive for two must not load the whole mailbox.
    ASSIGN_OR_RETURN(
        std::vector<storage::QueuedMessage> page,
        store_.ReadQueue(caller, from,
                         std::clamp<size_t>(max - out.size(), 1, 256)));
    if (page.empty()) break;
    from = page.back().seq + 1;
    absl::MutexLock lock(&mu_);
    auto& leases = leases_[caller];
    for (storage::QueuedMessage& m : page) {
      if (out.size() >= max) break;
      Lease& lease = leases[m.message_id];
      if (lease.attempts > 0 && lease.expires > now) continue;  // leased
      if (!out.empty() && bytes + m.envelope.size() > max_bytes) {
        max = out.size();  // full: nothing more this time
        break;
      }
      lease.expires = now + options_.visibility_timeout;
      if (++lease.attempts == 1) first_deliveries.push_back(m.message_id);
      bytes += m.envelope.size();
      out.push_back(Delivery{std::move(m.message_id), std::move(m.envelope),
                             lease.attempts, lease.expires});
    }
  }
  // One durable write for the whole page.
  RETURN_IF_ERROR(
      store_.MarkDeliveredMany(first_deliveries, absl::ToUnixMillis(now)));
  return out;
}

absl::Status Mailbox::CheckAcknowledgement(const Own& me, const std::string& id,
                                           const std::string& ack_bytes,
                                           absl::Time now) const {
  const std::string& caller = me.org->id();
  if (ack_bytes.empty()) {
    if (!options_.require_signed_acknowledgements) return absl::OkStatus();
    return Error(
        StatusCode::kFailedPrecondition, "ACKNOWLEDGEMENT_UNSIGNED",
        absl::StrCat("node ", options_.node_id,
                     " requires a signed acknowledgement for message ",
                     HexEncode(AsBytes(id)),
                     ": sign it with your organisation's signing key "
                     "(trmctl receive --sign-key) so that the sender gets "
                     "proof of receipt"));
  }
  ASSIGN_OR_RETURN(envelope::ParsedAcknowledgement ack,
                   envelope::ParseAcknowledgement(ack_bytes));
  ASSIGN_OR_RETURN(const std::string sha256, QueuedEnvelopeHash(caller, id));
  RETURN_IF_ERROR(
      envelope::CheckAcknowledgementFor(ack.body, id, sha256, caller));
  const absl::Time signed_at = absl::FromUnixMillis(ack.body.time_unix_ms());
  RETURN_IF_ERROR(CheckSigningTime("ACKNOWLEDGEMENT_TIME", "acknowledgement",
                                   signed_at, now));
  ASSIGN_OR_RETURN(crypto::Ed25519PublicKey key,
                   me.directory->OrganisationSigningKey(
                       caller, ack.signed_ack.key_id(), signed_at, now));
  return envelope::VerifyAcknowledgement(ack, key);
}

absl::Status Mailbox::CheckAcknowledgementBatch(
    const Own& me, const std::string& batch_bytes, absl::Time now,
    std::vector<storage::AckRequest>& acks,
    std::vector<absl::Status>& results) const {
  const std::string& caller = me.org->id();
  absl::StatusOr<envelope::ParsedAcknowledgementBatch> batch =
      envelope::ParseAcknowledgementBatch(batch_bytes);
  absl::Status all = batch.status();
  if (all.ok() && batch->bodies.size() != acks.size()) {
    return Error(StatusCode::kInvalidArgument, "ACKNOWLEDGEMENTS_MISMATCH",
                 absl::StrCat("AckMany has ", acks.size(),
                              " message ids but its acknowledgement batch has ",
                              batch->bodies.size(),
                              " bodies; sign one body per id, in the same "
                              "order"));
  }
  if (all.ok()) {
    // The message checks, each a status read: spread over the cores.
    ForEachOnCores(acks.size(), [&](size_t i) {
      absl::StatusOr<std::string> sha256 =
          QueuedEnvelopeHash(caller, acks[i].message_id);
      results[i] = sha256.ok() ? envelope::CheckAcknowledgementFor(
                                     batch->bodies[i], acks[i].message_id,
                                     *sha256, caller)
                               : sha256.status();
    });
    const absl::Time signed_at =
        absl::FromUnixMillis(batch->bodies.front().time_unix_ms());
    all = CheckSigningTime("ACKNOWLEDGEMENT_TIME", "acknowledgement batch",
                           signed_at, now);
    if (all.ok()) {
      absl::StatusOr<crypto::Ed25519PublicKey> key =
          me.directory->OrganisationSigningKey(caller, batch->batch.key_id(),
                                               signed_at, now);
      all = key.ok() ? envelope::VerifyAcknowledgementBatch(*batch, *key)
                     : key.status();
    }
  }
  if (!all.ok()) {
    for (absl::Status& r : results) {
      if (r.ok()) r = all;
    }
    return absl::OkStatus();
  }
  std::vector<std::string> evidence = envelope::AcknowledgementsOf(*batch);
  for (size_t i = 0; i < acks.size(); ++i) {
    if (results[i].ok()) acks[i].acknowledgement = std::move(evidence[i]);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Mailbox::QueuedEnvelopeHash(
    const std::string& caller, const std::string& id) const {
  absl::StatusOr<v1::StoredStatus> st = store_.GetStatus(id);
  if (!st.ok() || st->recipient_org() != caller) {
    return Error(StatusCode::kNotFound, "MESSAGE_NOT_FOUND",
                 absl::StrCat("no message ", HexEncode(AsBytes(id)),
                              " is queued for ", caller,
                              " on this node; acknowledge or refuse only ids "
                              "you received"));
  }
  return st->envelope_sha256();
}

absl::Status Mailbox::CheckSigningTime(absl::string_view reason,
                                       absl::string_view what,
                                       absl::Time signed_at,
                                       absl::Time now) const {
  if (absl::AbsDuration(signed_at - now) <= options_.max_clock_skew) {
    return absl::OkStatus();
  }
  return Error(
      StatusCode::kInvalidArgument, reason,
      absl::StrCat("the ", what, " is dated ", absl::FormatTime(signed_at),
                   ", more than the allowed clock skew from the "
                   "node's time ",
                   absl::FormatTime(now),
                   "; sign it when you send "
                   "it, with a correct clock"));
}

absl::Status Mailbox::Refuse(const std::string& caller,
                             const std::string& message_id,
                             const std::string& refusal_bytes) {
  ASSIGN_OR_RETURN(const Own me, Caller(caller));
  const absl::Time now = clock_.Now();
  if (refusal_bytes.empty()) {
    return Error(
        StatusCode::kInvalidArgument, "REFUSAL_MALFORMED",
        absl::StrCat("a refusal of message ", HexEncode(AsBytes(message_id)),
                     " needs your signed refusal (trmctl receive "
                     "refuses what it cannot open; docs/protocol.md "
                     "section 15.3)"));
  }
  ASSIGN_OR_RETURN(envelope::ParsedRefusal refusal,
                   envelope::ParseRefusal(refusal_bytes));
  ASSIGN_OR_RETURN(const std::string sha256,
                   QueuedEnvelopeHash(caller, message_id));
  RETURN_IF_ERROR(
      envelope::CheckRefusalFor(refusal, message_id, sha256, caller));
  const absl::Time signed_at =
      absl::FromUnixMillis(refusal.body.time_unix_ms());
  RETURN_IF_ERROR(CheckSigningTime("REFUSAL_TIME", "refusal", signed_at, now));
  ASSIGN_OR_RETURN(
      crypto::Ed25519PublicKey key,
      me.directory->OrganisationSigningKey(
          caller, refusal.signed_refusal.key_id(), signed_at, now));
  RETURN_IF_ERROR(envelope::VerifyRefusal(refusal, key));
  {
    absl::WriterMutexLock queue_lock(&QueueLock(caller));
    std::vector<absl::Status> stored = store_.AcknowledgeAll(
        caller, {storage::AckRequest{message_id, "", refusal_bytes}},
        absl::ToUnixMillis(now));
    RETURN_IF_ERROR(stored.front());
    absl::MutexLock lock(&mu_);
    leases_[caller].erase(message_id);
  }
  settlements_.Notify(caller);
  if (log::MessageLogging())
    log::Message(
        "message.refused", message_id,
        {{"node", options_.node_id},
         {"by", caller},
         {"reason", envelope::RefusalReasonToken(refusal.body.reason())}});
  return absl::OkStatus();
}

absl::Status Mailbox::Ack(const std::string& caller,
                          const std::string& message_id,
                          const std::string& acknowledgement) {
  ASSIGN_OR_RETURN(
      std::vector<absl::Status> results,
      AckMany(caller, {storage::AckRequest{message_id, acknowledgement, ""}}));
  return results.front();
}

absl::StatusOr<std::vector<absl::Status>> Mailbox::AckMany(
    const std::string& caller, std::vector<storage::AckRequest> acks,
    const std::string& batch) {
  ASSIGN_OR_RETURN(const Own me, Caller(caller));
  const absl::Time now = clock_.Now();
  std::vector<absl::Status> results(acks.size());
  if (!batch.empty()) {
    RETURN_IF_ERROR(CheckAcknowledgementBatch(me, batch, now, acks, results));
  } else {
    // Each signed acknowledgement costs a status read and a signature check:
    // spread them over the cores, as a submitted batch's envelopes are.
    ForEachOnCores(acks.size(), [&](size_t i) {
      results[i] = CheckAcknowledgement(me, acks[i].message_id,
                                        acks[i].acknowledgement, now);
    });
  }
  std::vector<storage::AckRequest> checked;
  std::vector<size_t> index;
  for (size_t i = 0; i < acks.size(); ++i) {
    if (!results[i].ok()) continue;
    checked.push_back(acks[i]);
    index.push_back(i);
  }
  absl::WriterMutexLock queue_lock(&QueueLock(caller));
  std::vector<absl::Status> stored =
      store_.AcknowledgeAll(caller, checked, absl::ToUnixMillis(now));
  absl::MutexLock lock(&mu_);
  auto& leases = leases_[caller];
  for (size_t k = 0; k < stored.size(); ++k) {
    if (stored[k].ok()) {
      leases.erase(checked[k].message_id);
      if (log::MessageLogging())
        log::Message(
            "message.acknowledged", checked[k].message_id,
            {{"node", options_.node_id},
             {"by", caller},
             {"signed", checked[k].acknowledgement.empty() ? "no" : "yes"}});
    }
    results[index[k]] = std::move(stored[k]);
  }
  if (!checked.empty()) settlements_.Notify(caller);
  return results;
}

absl::Mutex& Mailbox::QueueLock(const std::string& caller) {
  absl::MutexLock lock(&mu_);
  return queue_locks_[caller];
}

std::vector<std::string> Mailbox::StillLeased(const std::string& caller,
                                              std::vector<std::string> ids) {
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  auto leases = leases_.find(caller);
  if (leases == leases_.end()) return {};
  std::erase_if(ids, [&](const std::string& id) {
    auto it = leases->second.find(id);
    return it == leases->second.end() || it->second.expires <= now;
  });
  return ids;
}

absl::Status Mailbox::Release(const std::string& caller,
                              const std::string& message_id) {
  RETURN_IF_ERROR(Caller(caller).status());
  absl::MutexLock lock(&mu_);
  auto& leases = leases_[caller];
  auto it = leases.find(message_id);
  if (it == leases.end() || it->second.expires <= clock_.Now()) {
    return Error(StatusCode::kFailedPrecondition, "NOT_LEASED",
                 absl::StrCat("message ", HexEncode(AsBytes(message_id)),
                              " is not leased to ", caller,
                              " (never received, acknowledged, or its lease "
                              "ran out)"));
  }
  it->second.expires = absl::InfinitePast();  // deliverable again now
  arrivals_.Notify(caller);
  settlements_.Notify(caller);
  return absl::OkStatus();
}

bool Mailbox::MayRecordRefusal(const std::string& caller,
                               const std::string& reason, absl::Time now) {
  absl::MutexLock lock(&refusals_mu_);
  RefusalBudget& b = refusals_[caller];
  if (b.refilled == absl::InfinitePast()) {
    b.tokens = options_.refusal_record_burst;
  } else if (now > b.refilled) {
    b.tokens = std::min(options_.refusal_record_burst,
                        b.tokens + absl::ToDoubleSeconds(now - b.refilled) *
                                       options_.refusal_records_per_second);
  }
  b.refilled = std::max(b.refilled, now);
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return true;
  }
  if (b.unrecorded.empty()) b.since = now;
  ++b.unrecorded[reason.empty() ? "UNKNOWN" : reason];
  return false;
}

absl::StatusOr<size_t> Mailbox::SummarizeRefusals() {
  const absl::Time now = clock_.Now();
  std::vector<v1::AuditEvent> events;
  {
    absl::MutexLock lock(&refusals_mu_);
    if (last_summary_ != absl::InfinitePast() &&
        now - last_summary_ < options_.refusal_summary_interval) {
      return 0;
    }
    for (auto& [org, b] : refusals_) {
      if (b.unrecorded.empty()) continue;
      uint64_t total = 0, top = 0;
      std::string top_reason, counts;
      for (const auto& [reason, n] : b.unrecorded) {
        total += n;
        if (n > top) top = n, top_reason = reason;
        absl::StrAppend(&counts, counts.empty() ? "" : ", ", reason, " ", n);
      }
      v1::AuditEvent e;
      e.set_kind(v1::REFUSALS_SUMMARIZED);
      e.set_time_unix_ms(absl::ToUnixMillis(now));
      e.set_sender_org(org);
      e.set_reason_code(top_reason);
      e.set_detail(absl::StrCat(
          total, " refusals of ", org, " from ",
          IsoMillis(absl::ToUnixMillis(b.since)), " to ",
          IsoMillis(absl::ToUnixMillis(now)),
          " over its budget of individual records, counted: ", counts));
      events.push_back(std::move(e));
    }
  }
  size_t written = 0;
  for (const v1::AuditEvent& e : events) {
    // Counts are cleared only once their event is stored: a failed write
    // keeps them for the next summary.
    RETURN_IF_ERROR(store_.AppendAudit(e));
    absl::MutexLock lock(&refusals_mu_);
    RefusalBudget& b = refusals_[e.sender_org()];
    b.unrecorded.clear();
    ++written;
  }
  absl::MutexLock lock(&refusals_mu_);
  if (written > 0 || events.empty()) last_summary_ = now;
  return written;
}

absl::StatusOr<size_t> Mailbox::SweepExpired() {
  return store_.ExpireDue(absl::ToUnixMillis(clock_.Now()), 4096);
}

absl::StatusOr<size_t> Mailbox::PurgeRetained() {
  const absl::Time now = clock_.Now();
  // The federation's policy may keep payloads for less time than the node.
  const absl::Duration retention =
      orgs_.directory()->MaxRetention(options_.retention);
  return store_.PurgeAcknowledged(absl::ToUnixMillis(now - retention),
                                  absl::ToUnixMillis(now), 4096);
}

absl::StatusOr<v1::StoredStatus> Mailbox::GetStatus(
    const std::string& caller, const std::string& message_id) {
  RETURN_IF_ERROR(Caller(caller).status());
  absl::StatusOr<v1::StoredStatus> status = store_.GetStatus(message_id);
  if (!status.ok() || status->sender_org() != caller) {
    // Not revealing whether someone else's message exists.
    return Error(
        StatusCode::kNotFound, "MESSAGE_NOT_FOUND",
        absl::StrCat("no message ", HexEncode(AsBytes(message_id)), " sent by ",
                     caller, " is known to node ", options_.node_id));
  }
  if ((status->state() == v1::ACCEPTED || status->state() == v1::DELIVERED) &&
      status->relayed_unix_ms() == 0 &&
      status->expires_unix_ms() <= absl::ToUnixMillis(clock_.Now())) {
    // Due, but no sweep has run yet: give the answer the sweep will give.
    RETURN_IF_ERROR(
        store_.ExpireDue(absl::ToUnixMillis(clock_.Now()), 4096).status());
    return store_.GetStatus(message_id);
  }
  return status;
}

}  // namespace trm::mailbox
