#include "server/federation/relay_receiver.h"

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/audit/tree_head.h"
#include "common/crypto/hash.h"
#include "common/envelope/acknowledgement.h"
#include "common/envelope/refusal.h"
#include "common/log.h"
#include "common/parallel.h"
#include "common/status.h"

namespace trm::federation {

using absl::StatusCode;

void SetError(const absl::Status& status, v1::RelayResult* result) {
  result->set_error_code(static_cast<int32_t>(status.code()));
  result->set_error_reason(ErrorReason(status));
  result->set_error_message(std::string(status.message()));
}

RelayReceiver::RelayReceiver(RelayReceiverOptions options,
                             const mailbox::OrgRegistry& registry,
                             storage::MessageStore& store,
                             receipts::ReceiptSigner& signer,
                             const Clock& clock)
    : options_(std::move(options)),
      registry_(registry),
      store_(store),
      signer_(signer),
      clock_(clock) {}

absl::StatusOr<storage::AcceptRequest> RelayReceiver::Check(
    const directory::Directory& dir, const std::string& peer,
    const std::string& bytes, absl::Time now) const {
  ASSIGN_OR_RETURN(envelope::ParsedEnvelope parsed,
                   envelope::ParsedEnvelope::Parse(bytes, options_.limits));
  const v1::Header& h = parsed.header();
  absl::Duration lifetime =
      dir.MaxMessageLifetime(options_.max_message_lifetime);
  if (options_.contingencies != nullptr) {
    lifetime = options_.contingencies->MaxLifetime(dir, peer, options_.node_id,
                                                   lifetime);
  }
  RETURN_IF_ERROR(
      envelope::CheckTimes(h, now, options_.max_clock_skew, lifetime));
  if (h.type() == v1::DEADLINE_NOTICE) {
    // A node notifies its own organisations only (docs/workflow.md).
    return Error(StatusCode::kPermissionDenied, "RESERVED_TYPE",
                 "DEADLINE_NOTICE is written by a node for its own "
                 "organisations and is never relayed");
  }
  const v1::DirectoryOrganisation* sender =
      dir.FindOrganisation(h.sender_org());
  if (h.sender_node() != peer || sender == nullptr ||
      sender->home_node() != peer) {
    return Error(
        StatusCode::kPermissionDenied, "NOT_PEERS_ORGANISATION",
        absl::StrCat("node '", peer, "' relayed a message from '",
                     h.sender_org(), "@", h.sender_node(),
                     "', which the federation directory (serial ", dir.serial(),
                     ") does not list as one of its "
                     "organisations; a node relays only its own "
                     "organisations' messages"));
  }
  ASSIGN_OR_RETURN(crypto::Ed25519PublicKey key,
                   dir.OrganisationSigningKey(
                       h.sender_org(), parsed.envelope().sender_key_id(),
                       absl::FromUnixMillis(h.created_unix_ms())));
  RETURN_IF_ERROR(envelope::VerifySignature(parsed, key));
  const v1::DirectoryOrganisation* recipient =
      dir.FindOrganisation(h.recipient_org());
  if (h.recipient_node() != options_.node_id || recipient == nullptr ||
      recipient->home_node() != options_.node_id) {
    return Error(
        StatusCode::kNotFound, "UNKNOWN_RECIPIENT",
        absl::StrCat("'", h.recipient_org(), "@", h.recipient_node(),
                     "' is not an organisation of node ", options_.node_id,
                     " in directory serial ", dir.serial()));
  }
  RETURN_IF_ERROR(
      dir.CheckRecipientKey(h.recipient_org(), h.recipient_key_id(), now));
  storage::AcceptRequest r;
  r.message_id = h.message_id();
  r.sender_org = h.sender_org();
  r.recipient_org = h.recipient_org();
  r.envelope = bytes;
  const crypto::Sha256Digest digest = crypto::Sha256({AsBytes(bytes)});
  r.envelope_sha256.assign(digest.begin(), digest.end());
  r.expires_unix_ms = h.expires_unix_ms();
  r.now_unix_ms = absl::ToUnixMillis(now);
  r.origin_node = peer;
  r.case_ref = h.case_ref();
  r.message_type = h.type();
  if (options_.case_policies != nullptr) {
    r.header = h;
    r.policy =
        options_.case_policies->For(dir, h.sender_node(), h.recipient_node());
  }
  return r;
}

std::vector<v1::RelayResult> RelayReceiver::Receive(
    const std::string& peer, const std::vector<std::string>& envelopes) {
  const absl::Time now = clock_.Now();
  std::shared_ptr<const directory::Directory> dir = registry_.directory();
  std::vector<v1::RelayResult> results(envelopes.size());
  if (options_.disk_guard != nullptr) {
    if (absl::Status room = options_.disk_guard->AdmitWrite(); !room.ok()) {
      for (size_t i = 0; i < envelopes.size(); ++i) {
        auto parsed =
            envelope::ParsedEnvelope::Parse(envelopes[i], options_.limits);
        if (parsed.ok()) {
          results[i].set_message_id(parsed->header().message_id());
        }
        SetError(room, &results[i]);
      }
      return results;
    }
  }
  std::vector<storage::AcceptRequest> requests;
  std::vector<size_t> index;  // request -> result
  // Signature checks dominate: spread a batch over the cores.
  std::vector<absl::StatusOr<storage::AcceptRequest>> checked(
      envelopes.size(), absl::UnknownError("unchecked"));
  ForEachOnCores(envelopes.size(), [&](size_t i) {
    checked[i] = Check(*dir, peer, envelopes[i], now);
  });
  for (size_t i = 0; i < envelopes.size(); ++i) {
    absl::StatusOr<storage::AcceptRequest>& r = checked[i];
    if (!r.ok()) {
      // The id, when the envelope parses far enough to have one.
      auto parsed =
          envelope::ParsedEnvelope::Parse(envelopes[i], options_.limits);
      if (parsed.ok()) results[i].set_message_id(parsed->header().message_id());
      SetError(r.status(), &results[i]);
      continue;
    }
    results[i].set_message_id(r->message_id);
    index.push_back(i);
    requests.push_back(std::move(*r));
  }
  std::vector<absl::StatusOr<storage::AcceptOutcome>> stored =
      store_.AcceptMany(requests);
  std::vector<v1::ReceiptLeaf> leaves;
  std::vector<size_t> signed_index;
  for (size_t k = 0; k < stored.size(); ++k) {
    v1::RelayResult& result = results[index[k]];
    if (!stored[k].ok()) {
      SetError(stored[k].status(), &result);
      continue;
    }
    if (log::MessageLogging())
      log::Message("message.received", requests[k].message_id,
                   {{"node", options_.node_id},
                    {"peer", peer},
                    {"case", requests[k].case_ref},
                    {"type", v1::MessageType_Name(requests[k].message_type)},
                    {"to", requests[k].recipient_org},
                    {"duplicate", stored[k]->duplicate ? "yes" : "no"}});
    leaves.push_back(storage::AcceptanceLeaf(v1::RECEIPT_RELAYED, requests[k],
                                             *stored[k], options_.node_id));
    if (options_.arrivals != nullptr) {
      options_.arrivals->Notify(requests[k].recipient_org);
    }
    signed_index.push_back(index[k]);
  }
  absl::StatusOr<std::vector<v1::Receipt>> receipts = signer_.SignMany(leaves);
  for (size_t k = 0; k < signed_index.size(); ++k) {
    v1::RelayResult& result = results[signed_index[k]];
    if (!receipts.ok()) {
      SetError(receipts.status(), &result);
    } else {
      *result.mutable_receipt() = std::move((*receipts)[k]);
    }
  }
  return results;
}

absl::Status RelayReceiver::CheckNotice(
    const directory::Directory& dir, const std::string& peer,
    const v1::PathNotice& n, receipts::VerifiedBatches& verified) const {
  ASSIGN_OR_RETURN(v1::StoredStatus st, store_.GetStatus(n.message_id()));
  if (st.relayed_unix_ms() == 0 && st.state() == v1::ACCEPTED &&
      st.queue() == storage::OutboundQueue(peer)) {
    // The peer stored it but its answer has not been recorded here yet (a
    // lost or slow answer, a crash): this node relays it again, the peer
    // answers the duplicate with its receipt, and the notice, retried,
    // then passes (docs/protocol.md section 15.2).
    return Error(StatusCode::kUnavailable, "MESSAGE_RELAY_PENDING",
                 absl::StrCat("message ", HexEncode(AsBytes(n.message_id())),
                              " is still queued here for node ", peer,
                              "; its relay answer is not recorded yet. The "
                              "notice is retried"));
  }
  if (st.relayed_unix_ms() == 0 || st.relayed_to() != peer) {
    return Error(StatusCode::kNotFound, "MESSAGE_NOT_RELAYED_TO_PEER",
                 absl::StrCat("message ", HexEncode(AsBytes(n.message_id())),
                              " was not relayed from node ", options_.node_id,
                              " to node ", peer,
                              "; a node reports only on messages it "
                              "received from their origin node"));
  }
  auto check_receipt = [&](const v1::Receipt& receipt, v1::ReceiptKind kind,
                           int64_t time) -> absl::Status {
    v1::ReceiptLeaf leaf;
    if (!leaf.ParseFromString(receipt.leaf()) || leaf.kind() != kind ||
        leaf.message_id() != st.message_id() ||
        leaf.envelope_sha256() != st.envelope_sha256() || leaf.node() != peer ||
        leaf.time_unix_ms() != time) {
      return Error(
          StatusCode::kInvalidArgument, "RECEIPT_INVALID",
          absl::StrCat("node ", peer, "'s ", v1::ReceiptKind_Name(kind),
                       " receipt for ", HexEncode(AsBytes(n.message_id())),
                       " is not for this message, envelope, node "
                       "and time"));
    }
    ASSIGN_OR_RETURN(crypto::Ed25519PublicKey key,
                     dir.NodeSigningKey(peer, receipt.node_key_id(),
                                        absl::FromUnixMillis(time)));
    return receipts::VerifyReceipt(receipt, key, verified);
  };
  if (n.delivered_unix_ms() > 0) {
    RETURN_IF_ERROR(check_receipt(n.delivery_receipt(), v1::RECEIPT_DELIVERED,
                                  n.delivered_unix_ms()));
  }
  if (n.expired_unix_ms() > 0) {
    RETURN_IF_ERROR(check_receipt(n.expiry_receipt(), v1::RECEIPT_EXPIRED,
                                  n.expired_unix_ms()));
  }
  if (n.refused_unix_ms() > 0) {
    ASSIGN_OR_RETURN(envelope::ParsedRefusal refusal,
                     envelope::ParseRefusal(n.refusal()));
    RETURN_IF_ERROR(envelope::CheckRefusalFor(
        refusal, st.message_id(), st.envelope_sha256(), st.recipient_org()));
  }
  if (n.acknowledged_unix_ms() > 0 && !n.acknowledgement().empty()) {
    ASSIGN_OR_RETURN(envelope::ParsedAcknowledgement ack,
                     envelope::ParseAcknowledgement(n.acknowledgement()));
    RETURN_IF_ERROR(envelope::CheckAcknowledgementFor(
        ack.body, st.message_id(), st.envelope_sha256(), st.recipient_org()));
  }
  return absl::OkStatus();
}

void RelayReceiver::AddTreeHead(uint64_t known, v1::RelayAck& ack) const {
  if (head_signer_ == nullptr || audit_log_ == nullptr) return;
  absl::StatusOr<v1::SignedTreeHead> sth = head_signer_->Latest(false);
  if (!sth.ok()) return;
  absl::StatusOr<v1::TreeHead> head = audit::ParseTreeHead(*sth);
  if (!head.ok()) return;
  *ack.mutable_tree_head() = *sth;
  if (known == 0 || known > head->tree_size()) return;
  absl::StatusOr<std::vector<merkle::MerkleHash>> proof =
      audit_log_->ConsistencyProof(known, head->tree_size());
  if (!proof.ok()) return;
  for (const merkle::MerkleHash& h : *proof) {
    ack.mutable_consistency()->add_hashes(h.data(), h.size());
  }
}

std::vector<v1::NoticeResult> RelayReceiver::ReceiveNotices(
    const std::string& peer, const std::vector<v1::PathNotice>& notices) {
  std::shared_ptr<const directory::Directory> dir = registry_.directory();
  receipts::VerifiedBatches verified;
  std::vector<v1::NoticeResult> results(notices.size());
  std::vector<v1::PathNotice> good;
  std::vector<size_t> index;
  for (size_t i = 0; i < notices.size(); ++i) {
    results[i].set_message_id(notices[i].message_id());
    absl::Status ok = CheckNotice(*dir, peer, notices[i], verified);
    if (!ok.ok()) {
      results[i].set_error_code(static_cast<int32_t>(ok.code()));
      results[i].set_error_reason(ErrorReason(ok));
      results[i].set_error_message(std::string(ok.message()));
      continue;
    }
    good.push_back(notices[i]);
    index.push_back(i);
  }
  std::vector<absl::Status> stored =
      store_.RecordPath(peer, good, absl::ToUnixMillis(clock_.Now()));
  for (size_t k = 0; k < stored.size(); ++k) {
    if (stored[k].ok()) continue;
    v1::NoticeResult& r = results[index[k]];
    r.set_error_code(static_cast<int32_t>(stored[k].code()));
    r.set_error_reason(ErrorReason(stored[k]));
    r.set_error_message(std::string(stored[k].message()));
  }
  return results;
}

}  // namespace trm::federation
