// The organisation's side of trm-broker: connect to your node, send typed
// messages sealed to the recipient's key from the signed directory, receive,
// open and verify them, acknowledge or refuse them with a signed statement,
// and look up a message's status with its evidence checked.
//
//   trm::client::Profile p;  // or LoadProfile("client.json")
//   p.connect.address = "bg-node.example:7400";
//   ...
//   ASSIGN_OR_RETURN(std::unique_ptr<trm::client::Client> c,
//                    trm::client::Client::Connect(p));
//   trm::client::Message m;
//   m.type = trm::v1::REFERRAL_REQUEST;
//   m.case_ref = "BG-2026-0001";
//   m.recipient_org = "ng-naptip";
//   ASSIGN_OR_RETURN(m.payload, trm::client::PayloadFromJson(m.type, json));
//   ASSIGN_OR_RETURN(trm::client::Accepted a, c->Send(m));
//
// Every error is an absl::Status whose reason token (ReasonOf) is one of
// docs/reasons.md; the node's reasons travel as a structured gRPC error
// detail. docs/integration.md walks through a whole program. Thread-safe:
// one Client may be shared by threads.
#ifndef TRM_CLIENT_CLIENT_H_
#define TRM_CLIENT_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "trm/v1/admin.pb.h"
#include "trm/v1/audit.pb.h"
#include "trm/v1/case.pb.h"
#include "trm/v1/directory.pb.h"
#include "trm/v1/envelope.pb.h"
#include "trm/v1/mailbox.pb.h"

namespace trm::client {

// The reason token of a status from this library or from the node
// ("RULE_CONSENT_REQUIRED", "RECIPIENT_UNKNOWN"), or "" when it is OK.
// docs/reasons.md says what each means and who acts.
std::string ReasonOf(const absl::Status& status);

// How to reach the node.
struct ConnectOptions {
  std::string address = "127.0.0.1:7400";
  // Mutual TLS: the federation CA, and your organisation's certificate and
  // private key (PEM files; deploy/pki/make-pki.sh or trmctl org init).
  std::string ca_file, cert_file, key_file;
  // Instead, a development node on loopback in plaintext: your
  // organisation's bearer token (ORG.token from trmctl keygen).
  std::string dev_token_file;
  // The largest answer taken from the node (a Receive of large messages).
  int max_receive_message_bytes = 64 << 20;
  // Longest wait between reconnection attempts after the node went away;
  // zero: gRPC's default (up to two minutes). Load tests use 200 ms.
  absl::Duration max_reconnect_backoff = absl::ZeroDuration();
};

// The organisation the client speaks for, and its private keys.
struct Identity {
  std::string org;   // e.g. "bg-ngo"
  std::string node;  // its home node, e.g. "bg"
  // ORG.sign.key: signs what you send, acknowledge and refuse.
  std::string sign_key_file;
  // ORG.enc.key: opens messages sealed to you (needed to receive only).
  std::string encryption_key_file;
};

// Where the other parties' public keys come from.
struct Trust {
  // The federation's signed directory (directory.bin) and the authority key
  // that signs it (authority.sign.pub): every node's and organisation's
  // current keys. With these, Send seals to the recipient's current key,
  // Open checks the sender's key, and receipts are checked.
  std::string directory_file, authority_pub_file;
  // Offline instead, without a directory: a folder of ORG.sign.pub and
  // ORG.enc.pub files, and your node's NODE.sign.pub for its receipts.
  std::string keys_dir, node_pub_file;
};

// All a client needs, as one file (LoadProfile) or filled in by hand.
struct Profile {
  ConnectOptions connect;
  Identity identity;
  Trust trust;
};

// A client profile from a JSON file (docs/integration.md shows its fields);
// relative paths in it are taken from the file's folder. CONFIG_INVALID
// names the field that is wrong.
absl::StatusOr<Profile> LoadProfile(const std::string& path);

enum class Aead { kChaCha20Poly1305, kAes128Gcm };

// One message to send. The library fills in the rest of the header.
struct Message {
  v1::MessageType type = v1::MESSAGE_TYPE_UNSPECIFIED;
  std::string case_ref;
  std::string recipient_org;
  // Empty: the recipient's home node in the directory.
  std::string recipient_node;
  // The serialised payload message of `type` (case.proto), e.g. from
  // PayloadFromJson or a v1::ReferralRequest's SerializeAsString.
  std::string payload;
  std::string consent_ref;
  std::string in_reply_to;  // the 16-byte id of the message answered
  v1::StepOutcome outcome = v1::STEP_OUTCOME_UNSPECIFIED;
  std::optional<absl::Time> departure;
  bool minor = false, asylum = false;
  absl::Duration expires_in = absl::Hours(168);
  Aead aead = Aead::kChaCha20Poly1305;
  // Offline: seal to this ORG.enc.pub file instead of the directory's key.
  std::string recipient_pub_file;
};

// A message sealed and signed, ready to submit.
struct Sealed {
  v1::Header header;
  std::string envelope;  // wire bytes (docs/protocol.md)
};

// Seals and signs `m` as `profile.identity`, without a node: the recipient's
// key from the directory (or m.recipient_pub_file).
absl::StatusOr<Sealed> Seal(const Message& m, const Profile& profile);

// The node took the message: its signed receipt, checked.
struct Accepted {
  v1::Header header;
  std::string message_id;  // 32 hex digits
  std::string node;        // the node that signed the receipt
  absl::Time at;
  // How the receipt was checked: "valid" (against the directory's or the
  // given node key), or why it was not.
  std::string receipt_check;
  bool receipt_verified = false;
  uint64_t batch_size = 0;
};

// A message the node handed out, leased to you until you acknowledge,
// refuse or release it. Nothing in it is checked yet: see Open.
struct Delivery {
  std::string message_id;  // 16 bytes
  uint32_t attempt = 0;
  std::string envelope;
  // The visible header, parsed but not yet verified; parse_status says why
  // it could not be parsed (and then only Refuse or Release apply).
  v1::Header header;
  absl::Status parse_status;
};

// A delivery as the node's Mailbox API sends it (for callers of
// channel()'s streams).
Delivery ToDelivery(v1::Delivery d);

// An opened message: its signature and times checked against the sender's
// key, the payload decrypted, parsed as its type and found to agree with the
// header (HEADER_PAYLOAD_MISMATCH, PAYLOAD_INVALID, PAYLOAD_FIELD_REQUIRED).
// The payload is the person's data: keep it in memory, and wipe it when done.
struct Opened {
  v1::Header header;
  std::string sender_key_id;  // hex
  std::string payload;        // the serialised payload of header.type
  Opened() = default;
  Opened(Opened&&) = default;
  Opened& operator=(Opened&&) = default;
  ~Opened();
};

// True when `s` (from Open) lies in the message itself, whatever keys you
// hold: it will never open, and the right answer is a refusal as
// REFUSAL_CANNOT_OPEN. Otherwise the fault is yours to fix (a key file, a
// clock) and the message should be released to come again.
bool NeverOpens(const absl::Status& s);

// The refusal `s` (from Open) calls for: REFUSAL_CANNOT_OPEN when it never
// opens, REFUSAL_WRONG_TYPE for a payload that is not its type or lacks a
// field its type requires, REFUSAL_HEADER_PAYLOAD_MISMATCH when the header
// states what the payload does not; REFUSAL_REASON_UNSPECIFIED when the
// fault is yours (release it).
v1::RefusalReason RefusalFor(const absl::Status& s);

// A message's status at the node, with each piece of evidence checked.
struct Evidence {
  v1::StoredStatus status;
  // One entry per receipt, acknowledgement or refusal present, in the order
  // of the steps: ("delivery_receipt", "valid, signed by node ng at ...").
  std::vector<std::pair<std::string, std::string>> checks;
  // While it waits at the sender's node for the next node: that link's
  // state (failures, last error, next attempt).
  std::optional<v1::PeerLink> link;
};

// Where a message waits, since when and why, in words ("held at node bg for
// node ng since ...; the link to ng has failed since ..."); "" when it does
// not wait for another node.
std::string WhereHeld(const Evidence& e, int64_t now_unix_ms);

// Why a case deadline does not run as usual, in words; "" when it does.
// Paused across a failed link: "paused since ...: node ng cannot be
// reached; 71h0m0s left once the link is back". Passed across one:
// "passed while node ng could not be reached (since ...): told to the
// coordinators, not counted against ng-naptip" (docs/workflow.md, "When a
// link fails").
std::string DeadlineLinkNote(const v1::Deadline& d);
// The time a paused deadline has left once the link is back.
absl::Duration PausedTimeLeft(const v1::Deadline& d);

// The key a node's signed tree head must be signed with, raw Ed25519 (32
// bytes): the node's key in the signed directory `trust` names (checked
// against its authority), or trust.node_pub_file; "" when it names neither.
absl::StatusOr<std::string> TrustedNodeKey(const Trust& trust,
                                           const v1::SignedTreeHead& sth);

// Checks the trail's signed tree head with `node_key` (raw, as from
// TrustedNodeKey) and every entry's inclusion proof against that head.
// AUDIT_* reasons on failure; the head when all hold.
absl::StatusOr<v1::TreeHead> VerifyTrail(const v1::Trail& trail,
                                         absl::string_view node_key);

class Client {
 public:
  // Makes the channel (no call yet) and loads the keys and directory the
  // profile names. USAGE when the profile lacks what connecting needs.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(
      const Profile& profile);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Seals and signs `m` with this client's key and directory, without
  // submitting it (Submit it later, as it is).
  absl::StatusOr<Sealed> Seal(const Message& m) const;
  // Seals, signs, submits and checks the node's receipt.
  absl::StatusOr<Accepted> Send(const Message& m);
  // Submits an envelope sealed before, as it is.
  absl::StatusOr<Accepted> Submit(const std::string& envelope);

  // Calls `handle` for each of up to `max` messages for you, waiting up to
  // `wait` for the first, while the stream is open. The node hands out a
  // window at a time and more only once earlier ones are settled, so
  // `handle` acknowledges, refuses or releases each one.
  absl::Status Receive(uint32_t max, absl::Duration wait,
                       const std::function<void(const Delivery&)>& handle);
  // Up to `max` messages for you in one answer (at most 3 MiB of
  // envelopes, or one larger envelope alone), waiting up to `wait` for the
  // first; an empty page when none came. Each is leased to you: acknowledge
  // the page with AcknowledgeMany once it is stored on your side.
  absl::StatusOr<std::vector<Delivery>> ReceiveMany(uint32_t max,
                                                    absl::Duration wait);
  // Verifies and decrypts with the sender's key from the directory (or
  // keys_dir) and your encryption key.
  absl::StatusOr<Opened> Open(const Delivery& d) const;
  // A signed acknowledgement: proof for the sender that you received it.
  // Send it only once the message is stored on your side.
  absl::Status Acknowledge(const Delivery& d);
  // The signed acknowledgement Acknowledge sends, for a batch of them in one
  // call (v1::AckManyRequest on channel()).
  absl::StatusOr<std::string> SignAcknowledgement(const Delivery& d) const;
  // Acknowledges many in one call and one durable write on the node, all
  // signed with one signature (docs/protocol.md section 15.1): one status
  // per delivery, in order. Each sender still gets its own message's
  // evidence. At most 4,096 at a time (USAGE otherwise).
  absl::StatusOr<std::vector<absl::Status>> AcknowledgeMany(
      const std::vector<Delivery>& ds);
  // The trm.v1.AcknowledgementBatch AcknowledgeMany sends, for your own
  // calls (v1::AckManyRequest.acknowledgement_batch on channel(), with the
  // message ids in the same order).
  absl::StatusOr<std::string> SignAcknowledgementBatch(
      const std::vector<const Delivery*>& ds) const;
  // Without a signature: only nodes configured with
  // require_signed_acknowledgements false take it.
  absl::Status AcknowledgeUnsigned(const Delivery& d);
  // A signed refusal (issue 9): the sender sees REFUSED with your reason.
  absl::Status Refuse(const Delivery& d, v1::RefusalReason reason,
                      absl::string_view text);
  // Gives the lease back: the message comes again at once.
  absl::Status Release(const Delivery& d);

  // The status of a message you sent (or received), `message_id` as 16
  // bytes or 32 hex digits. With a directory, each receipt, acknowledgement
  // and refusal is checked against its signer's key; DATA_LOSS
  // (RECEIPT_INVALID, ...) when one does not hold.
  absl::StatusOr<Evidence> Status(absl::string_view message_id);

  // A case as your node knows it: its record, steps and deadlines.
  absl::StatusOr<v1::CaseView> Case(const std::string& case_ref);
  // The node's overdue deadlines (its coordinator only); with `upcoming`,
  // also the open ones due within that time (OverdueList.upcoming).
  absl::StatusOr<v1::OverdueList> Overdue(
      uint32_t max, absl::Duration upcoming = absl::ZeroDuration());
  // The node's mechanism statistics (its coordinator only), small counts
  // suppressed (docs/workflow.md, "Statistics").
  absl::StatusOr<v1::StatisticsReport> Statistics(
      const v1::StatisticsRequest& req);
  // The same, signed by the node, to hand to a regional secretariat.
  absl::StatusOr<v1::SignedStatistics> ExportStatistics(
      const v1::StatisticsRequest& req);
  // A contingency declared or ended by this organisation, a coordinator of
  // its node (docs/workflow.md, "Contingency"); and every one the node
  // knows.
  absl::StatusOr<v1::ContingencyList> DeclareContingency(
      const v1::SignedContingency& s);
  absl::StatusOr<v1::ContingencyList> Contingencies();

  // The node's signed audit tree head (`fresh`: signed now).
  absl::StatusOr<v1::SignedTreeHead> AuditTreeHead(bool fresh);
  // Every page of the audit trail matching `q`, against one tree head (asked
  // again from the start if the head moved meanwhile). Check it with
  // VerifyTrail.
  absl::StatusOr<v1::Trail> AuditTrail(v1::TrailQuery q);
  // The node's proof that its log of `second` entries extends its log of
  // `first` (check it with the two heads' roots).
  absl::StatusOr<v1::Proof> AuditConsistency(uint64_t first, uint64_t second);

  // The node's status: peer links, queues, certificate and key validity,
  // disk (its national coordinator only: NOT_COORDINATOR otherwise).
  absl::StatusOr<v1::NodeStatus> NodeStatus();

  // The signed directory the profile names, as checked against its
  // authority when the client connected (every node and organisation, for
  // choosing a recipient); NO_DIRECTORY when the profile names none.
  absl::StatusOr<v1::Directory> Directory() const;

  const Profile& profile() const;
  // For the node's other services (cases, audit, admin).
  std::shared_ptr<grpc::Channel> channel() const;
  // Adds your credential and a deadline to a call on channel().
  void Prepare(grpc::ClientContext* ctx, absl::Duration timeout) const;

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace trm::client

#endif  // TRM_CLIENT_CLIENT_H_
