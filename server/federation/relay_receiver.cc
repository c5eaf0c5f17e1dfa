#include "server/federation/relay_receiver.h"

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/crypto/hash.h"
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
  RETURN_IF_ERROR(envelope::CheckTimes(h, now, options_.max_clock_skew));
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
  storage::AcceptRequest r;
  r.message_id = h.message_id();
  r.sender_org = h.sender_org();
  r.recipient_org = h.recipient_org();
  r.envelope = bytes;
  const crypto::Sha256Digest digest = crypto::Sha256({AsBytes(bytes)});
  r.envelope_sha256.assign(digest.begin(), digest.end());
  r.expires_unix_ms = h.expires_unix_ms();
  r.now_unix_ms = absl::ToUnixMillis(now);
  return r;
}

std::vector<v1::RelayResult> RelayReceiver::Receive(
    const std::string& peer, const std::vector<std::string>& envelopes) {
  const absl::Time now = clock_.Now();
  std::shared_ptr<const directory::Directory> dir = registry_.directory();
  std::vector<v1::RelayResult> results(envelopes.size());
  std::vector<storage::AcceptRequest> requests;
  std::vector<size_t> index;  // request -> result
  // Signature checks dominate: spread a batch over the cores.
  std::vector<absl::StatusOr<storage::AcceptRequest>> checked(
      envelopes.size(), absl::UnknownError("unchecked"));
  const size_t workers = std::clamp<size_t>(std::thread::hardware_concurrency(),
                                            1, envelopes.size() / 8 + 1);
  {
    std::vector<std::thread> threads;
    for (size_t w = 1; w < workers; ++w) {
      threads.emplace_back([&, w] {
        for (size_t i = w; i < envelopes.size(); i += workers) {
          checked[i] = Check(*dir, peer, envelopes[i], now);
        }
      });
    }
    for (size_t i = 0; i < envelopes.size(); i += workers) {
      checked[i] = Check(*dir, peer, envelopes[i], now);
    }
    for (std::thread& t : threads) t.join();
  }
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
    v1::ReceiptLeaf leaf;
    leaf.set_kind(v1::RECEIPT_RELAYED);
    leaf.set_message_id(requests[k].message_id);
    leaf.set_envelope_sha256(requests[k].envelope_sha256);
    leaf.set_node(options_.node_id);
    // A resent envelope gets its first acceptance time again.
    leaf.set_time_unix_ms(stored[k]->status.accepted_unix_ms());
    leaves.push_back(std::move(leaf));
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

}  // namespace trm::federation
