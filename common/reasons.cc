#include "common/reasons.h"

#include <algorithm>

#include "absl/strings/match.h"

namespace trm {
namespace {

using absl::StatusCode::kAborted;
using absl::StatusCode::kAlreadyExists;
using absl::StatusCode::kDataLoss;
using absl::StatusCode::kFailedPrecondition;
using absl::StatusCode::kInternal;
using absl::StatusCode::kInvalidArgument;
using absl::StatusCode::kNotFound;
using absl::StatusCode::kOutOfRange;
using absl::StatusCode::kPermissionDenied;
using absl::StatusCode::kResourceExhausted;
using absl::StatusCode::kUnauthenticated;
using absl::StatusCode::kUnavailable;
using absl::StatusCode::kUnimplemented;
using absl::StatusCode::kUnknown;

// Sorted by token (a test checks it); FindReason searches it by halves.
// A refusal by a case rule says so first ("Case rule: ..."): the
// statistics count those by rule (IsCaseRule).
constexpr ReasonInfo kReasons[] = {
    {"ACKNOWLEDGEMENTS_MISMATCH",
     {kInvalidArgument},
     "Client bug: AckMany's acknowledgements must be in the order of its "
     "message ids, one each; send them again in that order."},
    {"ACKNOWLEDGEMENT_MALFORMED",
     {kInvalidArgument},
     "Client bug: the signed acknowledgement does not parse as "
     "docs/protocol.md section 15.1 defines it; build it with the client "
     "library."},
    {"ACKNOWLEDGEMENT_MISMATCH",
     {kInvalidArgument},
     "The acknowledgement names another message, envelope or organisation than "
     "the one delivered; sign the statement for the delivery in hand."},
    {"ACKNOWLEDGEMENT_SIGNATURE_INVALID",
     {kInvalidArgument},
     "The acknowledgement's signature does not verify with your current "
     "signing key in the directory; sign with the key the directory lists for "
     "your organisation."},
    {"ACKNOWLEDGEMENT_TIME",
     {kInvalidArgument},
     "The acknowledgement's signing time is outside the node's clock skew; set "
     "the recipient's clock right (NTP) and acknowledge again."},
    {"ACKNOWLEDGEMENT_UNSIGNED",
     {kFailedPrecondition},
     "This node takes only signed acknowledgements; give your signing key "
     "(trmctl receive --sign-key, or the client config)."},
    {"AEAD_AUTH_FAILED",
     {kUnauthenticated},
     "The ciphertext was altered or sealed to another key; ask the sender to "
     "send again. Never process it."},
    {"AEAD_BAD_ARGUMENT",
     {kInvalidArgument},
     "Internal: an AEAD was called with a key or nonce of the wrong size; "
     "report it as a bug."},
    {"AGENT_AUDIT_NOT_CONFIGURED",
     {kFailedPrecondition},
     "This trm-agent has no audit scope: add an \"audit\" section to its "
     "configuration with the auditor's certificate and key (as the directory "
     "lists the auditor) and the nodes in its scope (docs/integration.md, "
     "\"audit\"), then restart it."},
    {"AGENT_BODY_TOO_LARGE",
     {kResourceExhausted},
     "The request body is larger than trm-agent takes (1 MiB); send a smaller "
     "payload."},
    {"AGENT_CSRF_REQUIRED",
     {kPermissionDenied},
     "A change made with the console's session cookie lacked the session's "
     "X-CSRF-Token header: reload the console page. Integrations use an API "
     "token as Bearer instead, which needs none."},
    {"AGENT_MESSAGE_NOT_FOUND",
     {kNotFound},
     "No such message in the agent's store; the inbox lists the ids it holds."},
    {"AGENT_NOT_REFUSABLE",
     {kFailedPrecondition},
     "Only the recipient refuses a message; this one was sent by your "
     "organisation. Send a CASE_CLOSURE or a new message instead."},
    {"AGENT_RECORD_INVALID",
     {kInvalidArgument},
     "The agent was given a message without its id or envelope to store; a "
     "defect in the agent: report it."},
    {"AGENT_REQUEST_INVALID",
     {kInvalidArgument},
     "The request to trm-agent's API is malformed (not JSON, a wrong key or "
     "value); the message and path name the field; see /api/v1/openapi.json."},
    {"AGENT_ROLE_REQUIRED",
     {kPermissionDenied},
     "Your trm-agent user's role may not do this; the message names the role "
     "that may. Ask the agent's operator (trm-agent user add --role)."},
    {"AGENT_ROUTE_UNKNOWN",
     {kNotFound},
     "No route of trm-agent's API has this method and path; GET "
     "/api/v1/openapi.json lists them."},
    {"AGENT_STORE_CORRUPT",
     {kDataLoss},
     "The agent's store is damaged; restore its data folder from a backup, or "
     "start with an empty one (the node delivers nothing again)."},
    {"AGENT_STORE_IO",
     {kInternal},
     "The agent cannot write its store; check the disk and the data folder."},
    {"AGENT_STORE_OPEN_FAILED",
     {kFailedPrecondition},
     "The agent cannot open its store; check data_dir, its permissions, and "
     "that no other trm-agent uses it."},
    {"AGENT_TRAIL_TOO_LARGE",
     {kResourceExhausted},
     "A node holds more matching audit entries than one page shows (5,000): "
     "ask for one case or a shorter period, or export with trmctl audit "
     "export."},
    {"AGENT_TYPE_UNKNOWN",
     {kInvalidArgument},
     "The message type is not one an organisation sends; GET /api/v1/types "
     "lists them."},
    {"AGENT_UNAUTHENTICATED",
     {kUnauthenticated},
     "trm-agent does not know the caller: send Authorization: Bearer TOKEN "
     "with a token from trm-agent user add, or sign in again (POST "
     "/api/v1/sessions)."},
    {"AGENT_USERS_INVALID",
     {kInvalidArgument, kInternal, kResourceExhausted},
     "trm-agent's users file or a user's entry is wrong (the message names "
     "it); fix the file or recreate the user with trm-agent user add."},
    {"ALREADY_DEPARTED",
     {kFailedPrecondition},
     "Case rule: after departure a return is not withdrawn; send an "
     "ARRIVAL_CONFIRMATION or a NON_DEPARTURE_NOTICE instead."},
    {"ASYLUM_BLOCKS_VERIFICATION",
     {kFailedPrecondition},
     "Case rule: a person with a pending asylum claim is never verified with "
     "the country of origin; close or transfer the case instead."},
    {"AUDIT_ENTRY_CORRUPT",
     {kDataLoss},
     "An audit entry does not parse or does not match its hash; restore the "
     "node from a backup and alert the auditors."},
    {"AUDIT_LOG_CORRUPT",
     {kDataLoss},
     "The node's stored audit log does not rehash to its signed tree heads; "
     "the node refuses to start. Its coordinator restores from a backup and "
     "alerts the auditors."},
    {"AUDIT_LOG_INCONSISTENT",
     {kDataLoss},
     "The node's stored tree heads do not agree with each other; the node "
     "refuses to start. Its coordinator alerts the auditors."},
    {"AUDIT_LOG_TRUNCATED",
     {kDataLoss},
     "The node's audit log is shorter than its newest signed tree head; the "
     "node refuses to start. Its coordinator restores from a backup and alerts "
     "the auditors."},
    {"AUDIT_PROOF_INVALID",
     {kInvalidArgument},
     "The inclusion or consistency proof does not lead to the signed root; do "
     "not trust the entry, and report it to the auditors."},
    {"BACKUP_DIR_EXISTS",
     {kAlreadyExists},
     "Give a backup directory that does not exist yet; a backup never "
     "overwrites another."},
    {"BACKUP_DIR_INVALID",
     {kInvalidArgument},
     "Give the backup directory as an absolute path on the node's machine."},
    {"BACKUP_FAILED",
     {kUnavailable},
     "The node could not write the backup; check the disk and permissions "
     "named in the message and run it again."},
    {"BACKUP_NOT_FOUND",
     {kNotFound},
     "Give the directory a `trmctl admin backup` wrote."},
    {"BACKUP_UNAVAILABLE",
     {kUnimplemented},
     "This node was started without online backups; stop it and copy its "
     "data directory while it is stopped."},
    {"BAD_HEX",
     {kInvalidArgument},
     "Give the value in hexadecimal digits, as the command printed it."},
    {"BAD_KEY",
     {kInvalidArgument},
     "The key has the wrong length or encoding; give a key file written by "
     "trmctl keygen or trmctl org init."},
    {"BATCH_TOO_LARGE",
     {kInvalidArgument},
     "Send fewer envelopes per SubmitBatch (the limit is in the message)."},
    {"BEST_INTERESTS_REQUIRED",
     {kFailedPrecondition},
     "Case rule: for a child, send a BEST_INTERESTS_DETERMINATION that finds "
     "return in the child's best interests first."},
    {"BUNDLE_KEY_MISMATCH",
     {kPermissionDenied},
     "The audit bundle was signed by another node key than the one you trust; "
     "get the bundle from the node itself, or check which key you gave."},
    {"BUNDLE_MALFORMED",
     {kInvalidArgument},
     "The audit bundle is damaged or not an audit bundle; export it again with "
     "trmctl audit export."},
    {"CASE_CLOSED",
     {kFailedPrecondition},
     "Case rule: the case is closed; start a new case reference for new work."},
    {"CASE_NOT_FOUND",
     {kNotFound},
     "No message of this case has passed your node; check the case reference."},
    {"CASE_REF_MISSING", {kInvalidArgument}, "Give the case reference."},
    {"CASE_RULES_OFF",
     {kFailedPrecondition},
     "This node keeps no case rules (case_rules.enforce is off), so case "
     "deadlines and contingencies do not apply here; ask its operator."},
    {"CERT_EXPIRED",
     {kUnauthenticated},
     "The client certificate has expired; get a new one signed "
     "(deploy/pki/make-pki.sh sign-csr)."},
    {"CERT_NOT_YET_VALID",
     {kUnauthenticated},
     "The client certificate is not valid yet; check the clocks of both "
     "machines."},
    {"CERT_NO_IDENTITY",
     {kUnauthenticated},
     "The certificate has no trm:// identity; make a CSR with trmctl org init "
     "and have it signed."},
    {"CERT_UNREADABLE",
     {kNotFound, kInvalidArgument},
     "Give a readable PEM certificate file."},
    {"CERT_UNTRUSTED",
     {kUnauthenticated},
     "The certificate is not signed by the federation's CA; use the "
     "certificate the CA signed for you."},
    {"CONFIG_INVALID",
     {kInvalidArgument, kNotFound, kFailedPrecondition},
     "Fix the configuration file as the message says; trm-broker "
     "--check-config and trmctl --config check it without starting anything."},
    {"CONSENT_NOT_CASE_OWNER",
     {kFailedPrecondition},
     "Case rule: only the organisation that opened the case records consent "
     "for it."},
    {"CONSENT_REF_MISMATCH",
     {kFailedPrecondition},
     "Case rule: give the consent reference of the case's current consent "
     "record."},
    {"CONSENT_REQUIRED",
     {kFailedPrecondition},
     "Case rule: the person's data goes nowhere before a CONSENT_RECORD "
     "granting it; send one first."},
    {"CONSENT_WITHDRAWN",
     {kFailedPrecondition},
     "Case rule: the person withdrew consent; only closure and erasure "
     "messages may follow."},
    {"CONTINGENCY_INVALID",
     {kInvalidArgument, kPermissionDenied, kNotFound},
     "The contingency declaration is malformed, is not your node's "
     "coordinator's, or names no known declaration; the message names the "
     "field."},
    {"CONTINGENCY_SIGNATURE_INVALID",
     {kUnauthenticated},
     "The contingency declaration is not signed by its coordinator's key in "
     "the directory; sign it with that key (trmctl contingency declare "
     "--sign-key)."},
    {"CREATED_IN_FUTURE",
     {kFailedPrecondition},
     "The sender's clock is ahead; set it right (NTP) and send again."},
    {"DEADLINE_CHANGED",
     {kAborted},
     "A deadline changed while the node was updating it (met, escalated or "
     "paused meanwhile); it is read again at the next check."},
    {"DEADLINE_NOT_DUE",
     {kFailedPrecondition},
     "Case rule: the deadline this message answers is not due from you."},
    {"DEADLINE_NOT_OPEN",
     {kFailedPrecondition},
     "Case rule: no open deadline for this step; check the case with trmctl "
     "case show."},
    {"DECRYPTION_FAILED",
     {kUnauthenticated},
     "The message was not sealed to your key (or was altered); refuse it as "
     "CANNOT_OPEN so the sender sends it again."},
    {"DEPARTURE_REQUIRED",
     {kFailedPrecondition},
     "Case rule: a TRAVEL_ARRANGEMENT states the departure time; fill in "
     "departure in the payload."},
    {"DIRECTORY_INVALID",
     {kInvalidArgument},
     "The directory is inconsistent as the message says; the directory "
     "authority fixes and signs it again."},
    {"DIRECTORY_LAPSED",
     {kFailedPrecondition},
     "The node's federation directory is past its validity and grace period: "
     "it takes no new cases until the federation authority publishes a newer "
     "directory (messages of open cases still go). Ask your node's operator."},
    {"DIRECTORY_MALFORMED",
     {kInvalidArgument},
     "Give a signed directory file (trmctl directory sign writes one)."},
    {"DIRECTORY_SIGNATURE_INVALID",
     {kUnauthenticated},
     "The directory is not signed by the authority key you trust; get the "
     "directory from your authority."},
    {"DIRECTORY_SPEC_INVALID",
     {kInvalidArgument},
     "Fix the directory spec JSON at the path the message names "
     "(docs/trmctl.md, \"directory\")."},
    {"DIRECTORY_STALE",
     {kFailedPrecondition},
     "The new directory is older than, or from another federation than, the "
     "one in use; get the current one from your authority."},
    {"DIRECTORY_UNREADABLE", {kNotFound}, "Give a readable directory file."},
    {"DUPLICATE_MESSAGE_ID",
     {kAlreadyExists},
     "A message with this id is already stored; send the same envelope again "
     "to get its receipt, or seal a new message."},
    {"ENVELOPE_MALFORMED",
     {kInvalidArgument},
     "The envelope does not parse as docs/protocol.md section 3 defines it; "
     "build it with the client library."},
    {"EXPIRY_TOO_FAR",
     {kInvalidArgument},
     "Give a shorter lifetime (the node's limit is in the message)."},
    {"FIELD_TOO_LARGE",
     {kResourceExhausted, kInvalidArgument},
     "Shorten the field to the limit the message names."},
    {"FILE_IO",
     {kFailedPrecondition, kNotFound},
     "Check the file path and its permissions."},
    {"HEADER_INVALID",
     {kInvalidArgument},
     "Fix the header field the message names."},
    {"HEADER_MALFORMED",
     {kInvalidArgument},
     "The header has fields protocol v1 does not define; build it with the "
     "client library."},
    {"HEADER_NOT_CANONICAL",
     {kInvalidArgument},
     "Encode the header canonically (docs/protocol.md section 4)."},
    {"HEADER_PAYLOAD_MISMATCH",
     {kInvalidArgument},
     "The header's outcome, departure or consent reference is not what the "
     "payload says. A sender: leave them out, they are taken from the "
     "payload. A recipient refuses the message as HEADER_PAYLOAD_MISMATCH."},
    {"HKDF_OUTPUT_TOO_LONG",
     {kInvalidArgument},
     "Internal: an HPKE expansion asked for too many bytes; report it as a "
     "bug."},
    {"HPKE_BAD_AUTH_INPUTS",
     {kInvalidArgument},
     "Internal: an HPKE auth mode was called without its keys; report it as a "
     "bug."},
    {"HPKE_BAD_ENC",
     {kInvalidArgument},
     "The encapsulated key is damaged; ask the sender to send again."},
    {"HPKE_BAD_PSK_INPUTS",
     {kInvalidArgument},
     "Internal: an HPKE PSK mode was called with inconsistent inputs; report "
     "it as a bug."},
    {"HPKE_SEQUENCE_EXHAUSTED",
     {kResourceExhausted},
     "Internal: an HPKE context was used for too many messages; report it as a "
     "bug."},
    {"INDEX_OUT_OF_RANGE",
     {kInvalidArgument, kOutOfRange},
     "Ask for entries below the tree size the node reports."},
    {"JSON_CONVERSION_FAILED",
     {kInternal},
     "A report did not convert to JSON: a defect of trm-broker; report it "
     "with the log line."},
    {"JSON_INVALID",
     {kInvalidArgument},
     "Fix the JSON at the field path the message names; trmctl case payload "
     "--type T prints a filled-in example."},
    {"KEY_EXPIRED",
     {kUnauthenticated},
     "The key's validity in the directory has ended; use the current key, or "
     "have the authority publish a new one."},
    {"KEY_FILE_EXISTS",
     {kAlreadyExists},
     "A key file is never overwritten; choose another name, or remove the old "
     "file yourself if you mean to."},
    {"KEY_FILE_INVALID",
     {kInvalidArgument},
     "Give a key file written by trmctl keygen or trmctl org init."},
    {"KEY_FILE_IO",
     {kFailedPrecondition},
     "Check the key file's path and permissions."},
    {"KEY_FILE_PERMISSIONS",
     {kFailedPrecondition},
     "A private key file must be readable by its owner only: chmod 600 it."},
    {"KEY_NOT_YET_VALID",
     {kUnauthenticated},
     "The key is not valid yet in the directory; wait for its start, or check "
     "the clock."},
    {"KEY_REVOKED",
     {kUnauthenticated},
     "The key was revoked in the directory; use the organisation's current "
     "key."},
    {"LISTEN_FAILED",
     {kUnavailable},
     "Another program holds the port, or the address is not this machine's; "
     "change the listen address."},
    {"MAILBOX_FULL",
     {kResourceExhausted},
     "The recipient's queue is full; the node takes more once the recipient "
     "receives. Send again later."},
    {"MESSAGES_NOT_OPENED",
     {kDataLoss},
     "Some deliveries did not open and were given back to the node; fix the "
     "key the message names, or refuse them."},
    {"MESSAGE_EXPIRED",
     {kFailedPrecondition},
     "The message's lifetime has passed; seal a new one."},
    {"MESSAGE_NOT_FOUND",
     {kNotFound},
     "No such message on this node for you; check the id."},
    {"MESSAGE_NOT_RELAYED_TO_PEER",
     {kNotFound},
     "The message was not relayed to that node; ask the node that holds it."},
    {"MESSAGE_REFUSED",
     {kFailedPrecondition},
     "The recipient refused the message; read its signed refusal with trmctl "
     "status."},
    {"MESSAGE_RELAY_PENDING",
     {kUnavailable},
     "The message is still on its way to the next node; ask again later."},
    {"MISSING_CREDENTIAL",
     {kUnauthenticated},
     "Connect with your client certificate (or, on a development node, your "
     "token)."},
    {"NODE_ERROR",
     {kUnknown},
     "The node could not be reached or gave no reason; check the address and "
     "that the node runs."},
    {"NODE_NOT_IN_DIRECTORY",
     {kFailedPrecondition},
     "The node's id is not in its directory; the authority adds it, or fix "
     "node_id."},
    {"NOTICE_TOO_SHORT",
     {kFailedPrecondition},
     "Case rule: the departure is too soon after the notice; give the "
     "receiving side the minimum notice."},
    {"NOT_AUDITOR",
     {kPermissionDenied},
     "Only an auditor reads trails; use an auditor identity."},
    {"NOT_COORDINATOR",
     {kPermissionDenied},
     "Only the node's coordinator does this; use the coordinator's identity."},
    {"NOT_LEASED",
     {kFailedPrecondition},
     "The delivery's lease ran out and it will be delivered again; acknowledge "
     "that delivery."},
    {"NOT_PEERS_ORGANISATION",
     {kPermissionDenied},
     "A node relays only for its own organisations; check the directory."},
    {"NOT_SERVING",
     {kUnavailable},
     "The node is starting or stopping; try again in a moment."},
    {"NOT_YOUR_CASE",
     {kPermissionDenied},
     "Your organisation has no part in this case."},
    {"NOT_YOUR_TRAIL",
     {kPermissionDenied},
     "Ask only for your own organisation's trail."},
    {"NO_DIRECTORY",
     {kFailedPrecondition},
     "The client profile names no signed directory; add \"directory\" and "
     "\"authority_pub\" to it."},
    {"NO_DIRECTORY_FILE",
     {kFailedPrecondition},
     "The node was started without a directory file; set directory_file in its "
     "configuration."},
    {"NO_ENCRYPTION_KEY",
     {kFailedPrecondition},
     "The directory lists no current encryption key for the organisation; its "
     "authority publishes one."},
    {"NO_PAYLOAD_SCHEMA",
     {kInvalidArgument},
     "This message type has no payload an organisation writes; choose another "
     "type."},
    {"NO_REFLECTION",
     {kUnavailable},
     "The node does not answer reflection; it is older or configured without "
     "it."},
    {"OPENSSL_ERROR",
     {kInternal},
     "The crypto library failed; report it with the message."},
    {"OUTCOME_MISMATCH",
     {kFailedPrecondition},
     "Case rule: the outcome does not fit the message type; the message names "
     "the allowed ones."},
    {"OUTPUT_EXISTS",
     {kAlreadyExists},
     "Choose an output path that does not exist."},
    {"OUTPUT_NOT_REGULAR_FILE",
     {kFailedPrecondition},
     "Write to a regular file."},
    {"OUT_OF_SCOPE",
     {kPermissionDenied},
     "The auditor's scope in the directory does not cover this; ask for what "
     "it covers."},
    {"PAYLOAD_FIELD_REQUIRED",
     {kInvalidArgument},
     "The payload lacks a field its type requires (the message names it); "
     "trmctl case payload --type TYPE shows every field. A recipient refuses "
     "such a message as WRONG_TYPE."},
    {"PAYLOAD_INVALID",
     {kInvalidArgument, kInternal},
     "The payload does not parse as its type; the sender does not follow "
     "case.proto. Refuse it as WRONG_TYPE."},
    {"PAYLOAD_TEXT_INVALID",
     {kInvalidArgument},
     "Write the payload as protobuf text of its type, or as JSON with "
     "--payload."},
    {"PEER_IDENTITY_MISMATCH",
     {kUnauthenticated},
     "The node at that address is not the node the directory names; check the "
     "endpoint."},
    {"PEER_REFUSED",
     {kUnknown},
     "The next node refused the message without a reason token; its "
     "coordinator reads the node's log."},
    {"POLICY_LOOSER_THAN_FEDERATION",
     {kFailedPrecondition},
     "The node's configuration sets a period or limit looser than the "
     "federation's policy in the signed directory; remove the setting or make "
     "it at least as strict as the message says."},
    {"RANGE_INVALID",
     {kInvalidArgument},
     "Give start < end and at most the number of entries the message names."},
    {"RECEIPT_INVALID",
     {kDataLoss, kInvalidArgument},
     "The receipt does not verify; do not rely on it, and report it to the "
     "node's coordinator."},
    {"RECIPIENT_KEY_MISMATCH",
     {kFailedPrecondition},
     "Sealed to another key than the recipient's current one; seal again with "
     "the directory's key."},
    {"RECIPIENT_KEY_NOT_IN_DIRECTORY",
     {kFailedPrecondition},
     "Sealed to a key the directory does not list; seal again with the "
     "directory's key."},
    {"REFUSAL_MALFORMED",
     {kInvalidArgument},
     "Client bug: the refusal does not parse; build it with the client "
     "library."},
    {"REFUSAL_MISMATCH",
     {kInvalidArgument},
     "The refusal names another message, envelope or organisation than the "
     "delivery; sign it for the delivery in hand."},
    {"REFUSAL_SIGNATURE_INVALID",
     {kInvalidArgument},
     "The refusal's signature does not verify with your key in the directory; "
     "sign with your current key."},
    {"REFUSAL_TIME",
     {kInvalidArgument},
     "The refusal's signing time is outside the node's clock skew; set the "
     "recipient's clock right (NTP) and refuse again."},
    {"REINTEGRATION_PLAN_REQUIRED",
     {kFailedPrecondition},
     "Case rule: no travel before an agreed REINTEGRATION_PLAN; agree one "
     "first."},
    {"RELAY_FAILED",
     {kUnavailable},
     "The next node did not take the message; it is retried, nothing to do."},
    {"RELAY_PROTOCOL",
     {kInternal},
     "The next node answered outside the protocol; its coordinator checks its "
     "version."},
    {"RELAY_UNAVAILABLE",
     {kFailedPrecondition},
     "This node does not relay to that node; check the directory."},
    {"REQUEST_UNPARSEABLE",
     {kInvalidArgument},
     "The request is not a valid protobuf message of its type; build it from "
     "proto/ with a protobuf library."},
    {"RESERVED_TYPE",
     {kPermissionDenied},
     "Only nodes send DEADLINE_NOTICE; choose another type."},
    {"RESTORE_FAILED",
     {kUnavailable},
     "The restore could not copy the backup; check the disk and run it again."},
    {"RESTORE_TARGET_NOT_EMPTY",
     {kFailedPrecondition},
     "Restore only into an empty data directory."},
    {"RISK_ASSESSMENT_REQUIRED",
     {kFailedPrecondition},
     "Case rule: send the RISK_ASSESSMENT this step depends on first."},
    {"SENDER_KEY_MISMATCH",
     {kUnauthenticated},
     "The envelope names another signing key than the one that signed it; seal "
     "it with the client library."},
    {"SENDER_KEY_UNKNOWN",
     {kUnauthenticated},
     "The directory lists no such key for the sender; the sender signs with "
     "its current key."},
    {"SENDER_NOT_CALLER",
     {kPermissionDenied},
     "Send only as your own organisation."},
    {"SIGNATURE_INVALID",
     {kUnauthenticated},
     "The signature does not verify; the message was altered or signed with "
     "another key. Do not process it."},
    {"STATISTICS_SIGNATURE_INVALID",
     {kInvalidArgument},
     "The statistics file does not verify with its node's key in the signed "
     "directory: it was altered or is not the node's. Ask the node's "
     "coordinator to export it again (trmctl stats --export)."},
    {"STATS_REPORTS_DIFFER",
     {kInvalidArgument},
     "Give one report per node, all for the same months and period "
     "(trmctl stats --from --to --period --export on each node)."},
    {"STATS_REQUEST_INVALID",
     {kInvalidArgument},
     "Give the statistics' range as months (--from 2026-01 --to 2026-12), at "
     "most ten years, and a period of month, quarter or year."},
    {"STORE_CLOSING",
     {kUnavailable},
     "The node is shutting down; send again to the restarted node."},
    {"STORE_CORRUPT",
     {kDataLoss},
     "The node's store is damaged; its coordinator restores it from a backup."},
    {"STORE_DISK_LOW",
     {kResourceExhausted},
     "The node's disk is nearly full; its coordinator frees space. Nothing was "
     "lost."},
    {"STORE_DISK_UNREADABLE",
     {kInternal},
     "The node cannot read its disk's free space; its coordinator checks the "
     "data directory."},
    {"STORE_FORMAT_UNKNOWN",
     {kFailedPrecondition},
     "The store was written by another version; use the matching trm-broker."},
    {"STORE_OF_OTHER_NODE",
     {kFailedPrecondition},
     "The data directory belongs to another node; check data_dir and node_id."},
    {"STORE_OPEN_FAILED",
     {kFailedPrecondition},
     "The node cannot open its store; check the data directory, its "
     "permissions and that no other node holds it."},
    {"STORE_RESERVE_FAILED",
     {kInternal, kResourceExhausted},
     "The disk reserve could not be set up or released; its coordinator checks "
     "the disk."},
    {"STORE_UNAVAILABLE",
     {kUnavailable},
     "The node could not write; send again. Nothing was stored."},
    {"TLS_CONFIG_INVALID",
     {kInvalidArgument},
     "Give all three of --ca, --cert and --key, or --insecure-dev for a "
     "development node."},
    {"TLS_REQUIRED",
     {kFailedPrecondition},
     "The node serves only mutual TLS; give --ca, --cert and --key."},
    {"TOO_MANY_CALLS",
     {kResourceExhausted},
     "Your organisation has too many calls open at once; wait for some to "
     "finish."},
    {"TRANSFER_TO_OWNER",
     {kFailedPrecondition},
     "Case rule: a case is transferred to another organisation than its "
     "owner."},
    {"TREE_HEAD_FORK",
     {kDataLoss},
     "Two tree heads of the same size differ: the node's log forked. Alert the "
     "federation."},
    {"TREE_HEAD_INVALID",
     {kInvalidArgument},
     "The tree head does not verify with the node's key."},
    {"TREE_SIZE_TOO_LARGE",
     {kOutOfRange},
     "Ask for a tree size the node has reached."},
    {"UNKNOWN_AEAD",
     {kInvalidArgument},
     "Use an AEAD that protocol v1 defines."},
    {"UNKNOWN_CREDENTIAL",
     {kUnauthenticated},
     "The token is not registered on this node; check the token file."},
    {"UNKNOWN_IDENTITY",
     {kPermissionDenied},
     "The certificate's identity is in no role of the directory; the authority "
     "adds it."},
    {"UNKNOWN_NODE",
     {kUnauthenticated, kUnavailable},
     "The node is not in the directory; check the name or get the current "
     "directory."},
    {"UNKNOWN_ORGANISATION",
     {kNotFound, kPermissionDenied, kUnauthenticated},
     "The organisation is not in the directory; check the name (trmctl "
     "directory inspect)."},
    {"UNKNOWN_RECIPIENT",
     {kNotFound},
     "The recipient is not in the directory; check ORG@NODE."},
    {"UNSUPPORTED_SCHEMA_VERSION",
     {kInvalidArgument},
     "The message is of a protocol version this node does not speak."},
    {"USAGE",
     {kInvalidArgument},
     "Fix the command line as the message says; --help lists the flags."},
    {"WRITE_FAILED",
     {kUnavailable},
     "The file could not be written; check the disk and permissions."},
    {"WRONG_KEY_TYPE",
     {kInvalidArgument},
     "Give a key of the kind the flag asks for (signing or encryption, private "
     "or public)."},
    {"WRONG_ROLE",
     {kPermissionDenied},
     "The identity has another role; use the identity of the role the message "
     "names."},
    {"WRONG_SENDER_NODE", {kPermissionDenied}, "Send through your own node."},
    {"WRONG_SIDE_FOR_TYPE",
     {kFailedPrecondition},
     "Case rule: this type is sent by the other side of the case "
     "(docs/workflow.md names who sends what)."},
    {"X25519_LOW_ORDER_POINT",
     {kInvalidArgument},
     "The public key is invalid; get the organisation's key from the "
     "directory."},
};

}  // namespace

absl::Span<const ReasonInfo> Reasons() { return kReasons; }

const ReasonInfo* FindReason(absl::string_view token) {
  const ReasonInfo* end = kReasons + sizeof(kReasons) / sizeof(kReasons[0]);
  const ReasonInfo* it = std::lower_bound(
      kReasons, end, token,
      [](const ReasonInfo& r, absl::string_view t) { return r.token < t; });
  return it != end && it->token == token ? it : nullptr;
}

bool ReasonInfo::Allows(absl::StatusCode c) const {
  return std::find(codes.begin(), codes.end(), c) != codes.end();
}

bool IsCaseRule(const ReasonInfo& r) {
  return absl::StartsWith(r.action, "Case rule:");
}

}  // namespace trm
