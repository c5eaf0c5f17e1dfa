// A message's status evidence (the nodes' signed receipts, the recipient's
// signed acknowledgement or refusal), each checked against the key its
// signer holds in the signed directory.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "client/lib/internal.h"
#include "common/envelope/acknowledgement.h"
#include "common/envelope/refusal.h"
#include "common/receipts/receipt.h"
#include "common/status.h"
#include "common/time_text.h"

namespace trm::client::internal {
namespace {

// A node's receipt of `kind` for the message of `s`, signed by `node`.
absl::StatusOr<std::string> CheckNodeReceipt(const v1::StoredStatus& s,
                                             const std::string& bytes,
                                             v1::ReceiptKind kind,
                                             const std::string& node,
                                             const directory::Directory& dir) {
  v1::Receipt receipt;
  v1::ReceiptLeaf leaf;
  if (!receipt.ParseFromString(bytes) ||
      !leaf.ParseFromString(receipt.leaf())) {
    return Error(absl::StatusCode::kDataLoss, "RECEIPT_INVALID",
                 "the node's record of the receipt does not parse");
  }
  if (leaf.kind() != kind || leaf.message_id() != s.message_id() ||
      leaf.envelope_sha256() != s.envelope_sha256() || leaf.node() != node) {
    return Error(
        absl::StatusCode::kDataLoss, "RECEIPT_INVALID",
        absl::StrCat("the ", v1::ReceiptKind_Name(kind),
                     " receipt is not for this message and node ", node));
  }
  ASSIGN_OR_RETURN(
      crypto::Ed25519PublicKey key,
      dir.NodeSigningKey(leaf.node(), receipt.node_key_id(),
                         absl::FromUnixMillis(leaf.time_unix_ms())));
  RETURN_IF_ERROR(receipts::VerifyReceipt(receipt, key));
  return absl::StrCat("valid, signed by node ", leaf.node(), " at ",
                      IsoMillis(leaf.time_unix_ms()));
}

absl::StatusOr<std::string> CheckAcknowledgement(
    const v1::StoredStatus& s, const directory::Directory& dir) {
  ASSIGN_OR_RETURN(envelope::ParsedAcknowledgement ack,
                   envelope::ParseAcknowledgement(s.acknowledgement()));
  RETURN_IF_ERROR(envelope::CheckAcknowledgementFor(
      ack.body, s.message_id(), s.envelope_sha256(), s.recipient_org()));
  const absl::Time at = absl::FromUnixMillis(ack.body.time_unix_ms());
  ASSIGN_OR_RETURN(crypto::Ed25519PublicKey key,
                   dir.OrganisationSigningKey(s.recipient_org(),
                                              ack.signed_ack.key_id(), at, at));
  RETURN_IF_ERROR(envelope::VerifyAcknowledgement(ack, key));
  const uint64_t batch = ack.signed_ack.batch_size();
  return absl::StrCat(
      "valid, signed by ", s.recipient_org(), " (key ",
      HexEncode(AsBytes(ack.signed_ack.key_id())), ") at ",
      IsoMillis(ack.body.time_unix_ms()),
      batch > 0 ? absl::StrCat(", one signature over a batch of ", batch) : "");
}

absl::StatusOr<std::string> CheckRefusal(const v1::StoredStatus& s,
                                         const directory::Directory& dir) {
  ASSIGN_OR_RETURN(envelope::ParsedRefusal r,
                   envelope::ParseRefusal(s.refusal()));
  RETURN_IF_ERROR(envelope::CheckRefusalFor(
      r, s.message_id(), s.envelope_sha256(), s.recipient_org()));
  const absl::Time at = absl::FromUnixMillis(r.body.time_unix_ms());
  ASSIGN_OR_RETURN(crypto::Ed25519PublicKey key,
                   dir.OrganisationSigningKey(
                       s.recipient_org(), r.signed_refusal.key_id(), at, at));
  RETURN_IF_ERROR(envelope::VerifyRefusal(r, key));
  return absl::StrCat("valid, signed by ", s.recipient_org(), " (key ",
                      HexEncode(AsBytes(r.signed_refusal.key_id())), ") at ",
                      IsoMillis(r.body.time_unix_ms()));
}

}  // namespace

absl::StatusOr<Evidence> CheckEvidence(const v1::StoredStatus& s,
                                       const directory::Directory* dir) {
  constexpr absl::string_view kUnchecked =
      "not checked: no signed directory to check it with (the profile's "
      "directory and authority_pub, or trmctl's --directory and "
      "--authority-pub)";
  Evidence e;
  e.status = s;
  const std::pair<const char*, std::pair<const std::string*, v1::ReceiptKind>>
      receipts[] = {
          {"relay_receipt", {&s.relay_receipt(), v1::RECEIPT_RELAYED}},
          {"delivery_receipt", {&s.delivery_receipt(), v1::RECEIPT_DELIVERED}},
          {"expiry_receipt", {&s.expiry_receipt(), v1::RECEIPT_EXPIRED}}};
  for (const auto& [name, what] : receipts) {
    if (what.first->empty()) continue;
    if (dir == nullptr) {
      e.checks.emplace_back(name, kUnchecked);
      continue;
    }
    ASSIGN_OR_RETURN(
        std::string check,
        CheckNodeReceipt(s, *what.first, what.second, s.relayed_to(), *dir));
    e.checks.emplace_back(name, std::move(check));
  }
  if (s.acknowledged_unix_ms() > 0) {
    if (s.acknowledgement().empty()) {
      e.checks.emplace_back(
          "acknowledgement",
          "unsigned (the recipient's node took an acknowledgement without "
          "the recipient's signature)");
    } else if (dir == nullptr) {
      e.checks.emplace_back("acknowledgement", kUnchecked);
    } else {
      ASSIGN_OR_RETURN(std::string check, CheckAcknowledgement(s, *dir));
      e.checks.emplace_back("acknowledgement", std::move(check));
    }
  }
  if (s.refused_unix_ms() > 0) {
    if (dir == nullptr) {
      e.checks.emplace_back("refusal", kUnchecked);
    } else {
      ASSIGN_OR_RETURN(std::string check, CheckRefusal(s, *dir));
      e.checks.emplace_back("refusal", std::move(check));
    }
  }
  return e;
}

}  // namespace trm::client::internal

namespace trm::client {

std::string WhereHeld(const Evidence& e, int64_t now_unix_ms) {
  const v1::StoredStatus& s = e.status;
  if (s.state() != v1::ACCEPTED || s.queue().empty() || s.queue()[0] != '>') {
    return "";
  }
  const std::string peer = s.queue().substr(1);
  std::string out = absl::StrCat("held at the sender's node for node ", peer,
                                 " since ", IsoSeconds(s.accepted_unix_ms()));
  if (!e.link.has_value()) return out;
  const v1::PeerLink& l = *e.link;
  if (l.consecutive_failures() == 0) {
    absl::StrAppend(
        &out, "; the link to ", peer, " is up",
        l.last_success_unix_ms() > 0
            ? absl::StrCat(" (last relay ",
                           IsoSeconds(l.last_success_unix_ms()), ")")
            : "",
        ": it goes with the next batch");
    return out;
  }
  absl::StrAppend(&out, "; the link to ", peer, " has failed since ",
                  IsoSeconds(l.failing_since_unix_ms()), " (",
                  l.consecutive_failures(), " attempts");
  if (l.next_attempt_unix_ms() > now_unix_ms) {
    absl::StrAppend(&out, ", next at ", IsoSeconds(l.next_attempt_unix_ms()));
  }
  absl::StrAppend(&out, "; last error: ", l.last_error(),
                  "). Nothing is lost: it goes when ", peer,
                  " answers, if before it expires at ",
                  IsoSeconds(s.expires_unix_ms()));
  return out;
}

absl::Duration PausedTimeLeft(const v1::Deadline& d) {
  const int64_t stopped = std::max(d.paused_since_unix_ms(), d.set_unix_ms());
  return absl::Milliseconds(
      std::max<int64_t>(0, d.paused_due_unix_ms() - stopped));
}

std::string DeadlineLinkNote(const v1::Deadline& d) {
  if (d.paused_since_unix_ms() != 0) {
    return absl::StrCat(
        "paused since ", IsoSeconds(d.paused_since_unix_ms()), ": node ",
        d.unreachable_node(), " cannot be reached; ",
        absl::FormatDuration(absl::Trunc(PausedTimeLeft(d), absl::Seconds(1))),
        " left once the link is back");
  }
  if (d.unreachable_since_unix_ms() != 0) {
    return absl::StrCat("passed while node ", d.unreachable_node(),
                        " could not be reached (since ",
                        IsoSeconds(d.unreachable_since_unix_ms()),
                        "): told to the coordinators, not counted against ",
                        d.responsible_org());
  }
  return "";
}

}  // namespace trm::client
