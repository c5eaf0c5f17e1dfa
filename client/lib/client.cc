// Client: one organisation's connection to its node.
#include "trm/client/client.h"

#include <openssl/crypto.h>

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "client/lib/internal.h"
#include "common/cases/payload_facts.h"
#include "common/crypto/hash.h"
#include "common/crypto/key_files.h"
#include "common/envelope/acknowledgement.h"
#include "common/envelope/envelope.h"
#include "common/envelope/refusal.h"
#include "common/receipts/receipt.h"
#include "common/rpc_status.h"
#include "common/status.h"
#include "trm/v1/mailbox.grpc.pb.h"

namespace trm::client {

Opened::~Opened() { OPENSSL_cleanse(payload.data(), payload.size()); }

bool NeverOpens(const absl::Status& s) {
  return RefusalFor(s) != v1::REFUSAL_REASON_UNSPECIFIED;
}

v1::RefusalReason RefusalFor(const absl::Status& s) {
  const std::string reason = ReasonOf(s);
  if (reason == "HEADER_PAYLOAD_MISMATCH") {
    return v1::REFUSAL_HEADER_PAYLOAD_MISMATCH;
  }
  if (reason == "PAYLOAD_INVALID" || reason == "PAYLOAD_FIELD_REQUIRED" ||
      reason == "NO_PAYLOAD_SCHEMA") {
    return v1::REFUSAL_WRONG_TYPE;
  }
  static constexpr absl::string_view kPermanent[] = {
      "DECRYPTION_FAILED",
      "SIGNATURE_INVALID",
      "ENVELOPE_MALFORMED",
      "HEADER_MALFORMED",
      "HEADER_NOT_CANONICAL",
      "HEADER_INVALID",
      "UNSUPPORTED_SCHEMA_VERSION",
      "UNKNOWN_AEAD",
      "FIELD_TOO_LARGE"};
  for (absl::string_view p : kPermanent) {
    if (reason == p) return v1::REFUSAL_CANNOT_OPEN;
  }
  return v1::REFUSAL_REASON_UNSPECIFIED;
}

struct Client::Impl {
  Profile profile;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Mailbox::Stub> mailbox;
  std::string token;  // development nodes only
  std::shared_ptr<const directory::Directory> dir;
  std::optional<crypto::Ed25519PrivateKey> sign_key;
  std::optional<crypto::X25519PrivateKey> encryption_key;
  std::optional<crypto::Ed25519PublicKey> node_key;  // offline receipts

  ~Impl() { OPENSSL_cleanse(token.data(), token.size()); }

  void Prepare(grpc::ClientContext* ctx, absl::Duration timeout) const {
    if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
    ctx->set_deadline(std::chrono::system_clock::now() +
                      absl::ToChronoMilliseconds(timeout));
  }

  absl::StatusOr<Accepted> Submit(const std::string& wire,
                                  const v1::Header& header) const {
    v1::SubmitRequest req;
    req.set_envelope(wire);
    v1::SubmitResponse resp;
    grpc::ClientContext ctx;
    Prepare(&ctx, absl::Seconds(30));
    RETURN_IF_ERROR(FromGrpcStatus(mailbox->Submit(&ctx, req, &resp)));
    Accepted a;
    a.header = header;
    a.message_id = HexEncode(AsBytes(header.message_id()));
    a.batch_size = resp.receipt().batch_size();
    v1::ReceiptLeaf leaf;
    if (!leaf.ParseFromString(resp.receipt().leaf()) ||
        leaf.message_id() != header.message_id()) {
      return Error(absl::StatusCode::kDataLoss, "RECEIPT_INVALID",
                   absl::StrCat("the node's receipt for ", a.message_id,
                                " is not for this message"));
    }
    a.node = leaf.node();
    a.at = absl::FromUnixMillis(leaf.time_unix_ms());
    // The node's key: from the directory, or the offline key file.
    std::optional<crypto::Ed25519PublicKey> key;
    if (dir != nullptr) {
      ASSIGN_OR_RETURN(
          key,
          dir->NodeSigningKey(leaf.node(), resp.receipt().node_key_id(), a.at));
    } else if (node_key.has_value()) {
      key = *node_key;
    }
    if (!key.has_value()) {
      a.receipt_check =
          "not checked: no key for the node to check it with (the "
          "profile's directory and authority_pub, or node_pub; trmctl's "
          "--directory and --authority-pub, or --node-pub)";
      return a;
    }
    RETURN_IF_ERROR(receipts::VerifyReceipt(resp.receipt(), *key));
    a.receipt_check = "valid";
    a.receipt_verified = true;
    return a;
  }

  const std::string& OrgOf(const Delivery& d) const {
    return profile.identity.org.empty() ? d.header.recipient_org()
                                        : profile.identity.org;
  }

  // What the recipient states it received, signed at `now`.
  v1::AcknowledgementBody AckBody(const Delivery& d, absl::Time now) const {
    const crypto::Sha256Digest digest = crypto::Sha256({AsBytes(d.envelope)});
    v1::AcknowledgementBody body;
    body.set_message_id(d.message_id);
    body.set_envelope_sha256(digest.data(), digest.size());
    body.set_recipient_org(OrgOf(d));
    body.set_time_unix_ms(absl::ToUnixMillis(now));
    return body;
  }

  absl::Status NeedSignKey() const {
    if (sign_key.has_value()) return absl::OkStatus();
    return internal::Missing("acknowledgements are signed: no signing key",
                             "sign_key", "--sign-key");
  }

  absl::StatusOr<std::string> SignAck(const Delivery& d) const {
    RETURN_IF_ERROR(NeedSignKey());
    return envelope::SignAcknowledgement(AckBody(d, absl::Now()), *sign_key);
  }

  absl::StatusOr<std::string> SignAckBatch(
      const std::vector<const Delivery*>& ds) const {
    RETURN_IF_ERROR(NeedSignKey());
    if (ds.empty() || ds.size() > envelope::kMaxAcknowledgementBatch) {
      return Error(
          absl::StatusCode::kInvalidArgument, "USAGE",
          absl::StrCat("an acknowledgement batch holds 1 to ",
                       envelope::kMaxAcknowledgementBatch, " deliveries, not ",
                       ds.size(), "; acknowledge them in smaller batches"));
    }
    const absl::Time now = absl::Now();
    std::vector<v1::AcknowledgementBody> bodies;
    bodies.reserve(ds.size());
    for (const Delivery* d : ds) bodies.push_back(AckBody(*d, now));
    return envelope::SignAcknowledgementBatch(bodies, *sign_key);
  }

  // An acknowledgement (reason null) or a refusal, signed unless `sign` is
  // false.
  absl::Status Answer(const Delivery& d, const v1::RefusalReason* reason,
                      absl::string_view text, bool sign) const {
    if (sign && !sign_key.has_value()) {
      return internal::Missing(
          "acknowledgements and refusals are signed: no signing key",
          "sign_key", "--sign-key");
    }
    v1::AckResponse ignored;
    grpc::ClientContext ctx;
    Prepare(&ctx, absl::Seconds(30));
    if (reason != nullptr) {
      const crypto::Sha256Digest digest = crypto::Sha256({AsBytes(d.envelope)});
      v1::RefusalBody body;
      body.set_message_id(d.message_id);
      body.set_envelope_sha256(digest.data(), digest.size());
      body.set_recipient_org(OrgOf(d));
      body.set_time_unix_ms(absl::ToUnixMillis(absl::Now()));
      body.set_reason(*reason);
      body.set_text(std::string(text.substr(0, envelope::kMaxRefusalText)));
      v1::RefuseRequest req;
      req.set_message_id(d.message_id);
      ASSIGN_OR_RETURN(*req.mutable_refusal(),
                       envelope::SignRefusal(body, *sign_key));
      return FromGrpcStatus(mailbox->Refuse(&ctx, req, &ignored));
    }
    v1::MessageRef ref;
    ref.set_message_id(d.message_id);
    if (sign) {
      ASSIGN_OR_RETURN(*ref.mutable_acknowledgement(), SignAck(d));
    }
    return FromGrpcStatus(mailbox->Ack(&ctx, ref, &ignored));
  }
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(
    const Profile& profile) {
  auto impl = std::make_unique<Impl>();
  impl->profile = profile;
  const ConnectOptions& o = profile.connect;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(o.max_receive_message_bytes);
  if (o.max_reconnect_backoff > absl::ZeroDuration()) {
    const int ms =
        static_cast<int>(absl::ToInt64Milliseconds(o.max_reconnect_backoff));
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, std::min(ms, 1000));
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, ms);
  }
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (!o.dev_token_file.empty()) {
    if (!o.ca_file.empty() || !o.cert_file.empty()) {
      return Error(absl::StatusCode::kInvalidArgument, "USAGE",
                   "give a development token or mutual TLS files, not both");
    }
    ASSIGN_OR_RETURN(impl->token, internal::ReadFile(o.dev_token_file));
    absl::StripAsciiWhitespace(&impl->token);
    if (impl->token.empty()) {
      return Error(absl::StatusCode::kInvalidArgument, "USAGE",
                   o.dev_token_file + " is empty");
    }
    creds = grpc::InsecureChannelCredentials();
  } else {
    if (o.ca_file.empty() || o.cert_file.empty() || o.key_file.empty()) {
      return Error(
          absl::StatusCode::kInvalidArgument, "USAGE",
          "give --ca (the federation CA), --cert and --key (your "
          "organisation's TLS certificate and key from "
          "deploy/pki/make-pki.sh), or --insecure-dev --token-file for a "
          "development node (\"ca\", \"cert\", \"key\" or \"token_file\" in "
          "the client profile)");
    }
    grpc::SslCredentialsOptions tls;
    ASSIGN_OR_RETURN(tls.pem_root_certs, internal::ReadFile(o.ca_file));
    ASSIGN_OR_RETURN(tls.pem_cert_chain, internal::ReadFile(o.cert_file));
    ASSIGN_OR_RETURN(tls.pem_private_key, internal::ReadFile(o.key_file));
    creds = grpc::SslCredentials(tls);
    OPENSSL_cleanse(tls.pem_private_key.data(), tls.pem_private_key.size());
  }
  impl->channel = grpc::CreateCustomChannel(o.address, creds, args);
  impl->mailbox = v1::Mailbox::NewStub(impl->channel);
  ASSIGN_OR_RETURN(impl->dir, internal::LoadDirectory(profile.trust));
  if (!profile.identity.sign_key_file.empty()) {
    ASSIGN_OR_RETURN(impl->sign_key,
                     crypto::LoadSigningKey(profile.identity.sign_key_file));
  }
  if (!profile.identity.encryption_key_file.empty()) {
    ASSIGN_OR_RETURN(
        impl->encryption_key,
        crypto::LoadEncryptionKey(profile.identity.encryption_key_file));
  }
  if (!profile.trust.node_pub_file.empty()) {
    ASSIGN_OR_RETURN(impl->node_key,
                     crypto::LoadVerifyKey(profile.trust.node_pub_file));
  }
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

absl::StatusOr<Sealed> Client::Seal(const Message& m) const {
  if (!impl_->sign_key.has_value()) {
    return internal::Missing("no key to sign with", "sign_key", "--sign-key");
  }
  const std::string& keys = impl_->profile.trust.keys_dir;
  if (impl_->dir == nullptr && m.recipient_pub_file.empty() && !keys.empty()) {
    // Offline: the recipient's ORG.enc.pub in the keys folder.
    Message with_key = m;
    with_key.recipient_pub_file =
        absl::StrCat(keys, "/", m.recipient_org, ".enc.pub");
    return internal::SealWith(with_key, impl_->profile.identity,
                              *impl_->sign_key, nullptr);
  }
  return internal::SealWith(m, impl_->profile.identity, *impl_->sign_key,
                            impl_->dir.get());
}

absl::StatusOr<Accepted> Client::Send(const Message& m) {
  ASSIGN_OR_RETURN(Sealed sealed, Seal(m));
  return impl_->Submit(sealed.envelope, sealed.header);
}

absl::StatusOr<std::string> Client::SignAcknowledgement(
    const Delivery& d) const {
  return impl_->SignAck(d);
}

absl::StatusOr<std::string> Client::SignAcknowledgementBatch(
    const std::vector<const Delivery*>& ds) const {
  return impl_->SignAckBatch(ds);
}

absl::StatusOr<std::vector<absl::Status>> Client::AcknowledgeMany(
    const std::vector<Delivery>& ds) {
  std::vector<const Delivery*> each;
  v1::AckManyRequest req;
  for (const Delivery& d : ds) {
    each.push_back(&d);
    req.add_message_ids(d.message_id);
  }
  ASSIGN_OR_RETURN(*req.mutable_acknowledgement_batch(),
                   impl_->SignAckBatch(each));
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx, absl::Seconds(30));
  v1::AckManyResponse resp;
  RETURN_IF_ERROR(FromGrpcStatus(impl_->mailbox->AckMany(&ctx, req, &resp)));
  if (resp.results_size() != req.message_ids_size()) {
    return Error(absl::StatusCode::kUnknown, "NODE_ERROR",
                 absl::StrCat("the node answered ", resp.results_size(),
                              " results for ", req.message_ids_size(),
                              " acknowledgements; check that it runs this "
                              "protocol version"));
  }
  std::vector<absl::Status> out;
  for (const v1::AckResult& r : resp.results()) {
    out.push_back(
        r.error_code() == 0
            ? absl::OkStatus()
            : Error(static_cast<absl::StatusCode>(r.error_code()),
                    r.error_reason(),
                    absl::StripPrefix(r.error_message(),
                                      absl::StrCat(r.error_reason(), ": "))));
  }
  return out;
}

Delivery ToDelivery(v1::Delivery d) {
  Delivery got;
  got.message_id = d.message_id();
  got.attempt = d.attempt();
  got.envelope = std::move(*d.mutable_envelope());
  absl::StatusOr<envelope::ParsedEnvelope> parsed =
      envelope::ParsedEnvelope::Parse(got.envelope);
  if (parsed.ok()) {
    got.header = parsed->header();
  } else {
    got.parse_status = parsed.status();
  }
  return got;
}

absl::StatusOr<Accepted> Client::Submit(const std::string& envelope) {
  ASSIGN_OR_RETURN(envelope::ParsedEnvelope parsed,
                   envelope::ParsedEnvelope::Parse(envelope));
  return impl_->Submit(envelope, parsed.header());
}

absl::Status Client::Receive(
    uint32_t max, absl::Duration wait,
    const std::function<void(const Delivery&)>& handle) {
  v1::ReceiveRequest req;
  req.set_max_messages(max);
  req.set_wait_ms(static_cast<uint32_t>(absl::ToInt64Milliseconds(wait)));
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx, wait + absl::Seconds(30));
  std::unique_ptr<grpc::ClientReader<v1::Delivery>> reader =
      impl_->mailbox->Receive(&ctx, req);
  v1::Delivery d;
  while (reader->Read(&d)) handle(ToDelivery(std::move(d)));
  return FromGrpcStatus(reader->Finish());
}

absl::StatusOr<std::vector<Delivery>> Client::ReceiveMany(uint32_t max,
                                                          absl::Duration wait) {
  v1::ReceiveRequest req;
  req.set_max_messages(max);
  req.set_wait_ms(static_cast<uint32_t>(absl::ToInt64Milliseconds(wait)));
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx, wait + absl::Seconds(30));
  v1::Deliveries page;
  RETURN_IF_ERROR(
      FromGrpcStatus(impl_->mailbox->ReceiveMany(&ctx, req, &page)));
  std::vector<Delivery> out;
  out.reserve(page.deliveries_size());
  for (v1::Delivery& d : *page.mutable_deliveries()) {
    out.push_back(ToDelivery(std::move(d)));
  }
  return out;
}

absl::StatusOr<Opened> Client::Open(const Delivery& d) const {
  RETURN_IF_ERROR(d.parse_status);
  if (!impl_->encryption_key.has_value()) {
    return internal::Missing("no key to open messages with", "encryption_key",
                             "--recipient-key");
  }
  ASSIGN_OR_RETURN(envelope::ParsedEnvelope parsed,
                   envelope::ParsedEnvelope::Parse(d.envelope));
  const v1::Header& h = parsed.header();
  std::optional<crypto::Ed25519PublicKey> sender;
  const absl::Time created = absl::FromUnixMillis(h.created_unix_ms());
  if (impl_->dir != nullptr && h.type() == v1::DEADLINE_NOTICE &&
      impl_->dir->FindNode(h.sender_org()) != nullptr) {
    // The node's own notice, signed with the node's key.
    ASSIGN_OR_RETURN(sender, impl_->dir->NodeSigningKey(
                                 h.sender_org(),
                                 parsed.envelope().sender_key_id(), created));
  } else if (impl_->dir != nullptr) {
    ASSIGN_OR_RETURN(sender, impl_->dir->OrganisationSigningKey(
                                 h.sender_org(),
                                 parsed.envelope().sender_key_id(), created));
  } else if (!impl_->profile.trust.keys_dir.empty()) {
    ASSIGN_OR_RETURN(sender, crypto::LoadVerifyKey(absl::StrCat(
                                 impl_->profile.trust.keys_dir, "/",
                                 h.sender_org(), ".sign.pub")));
  } else {
    return internal::Missing(
        "the sender's key comes from the directory, or offline from a keys "
        "folder",
        "directory", "--directory or --keys-dir");
  }
  ASSIGN_OR_RETURN(SecretBytes payload,
                   envelope::Open(parsed, *sender, *impl_->encryption_key,
                                  envelope::OpenOptions{absl::Now()}));
  Opened o;
  o.header = h;
  o.sender_key_id = HexEncode(AsBytes(parsed.envelope().sender_key_id()));
  o.payload.assign(reinterpret_cast<const char*>(payload.view().data()),
                   payload.view().size());
  // The node routed it and applied the case rules by the header: the
  // payload must say the same (docs/protocol.md section 17.2).
  ASSIGN_OR_RETURN(cases::PayloadFacts facts,
                   cases::ReadPayloadFacts(h.type(), o.payload));
  RETURN_IF_ERROR(cases::CheckHeaderAgrees(h, facts));
  return o;
}

absl::Status Client::Acknowledge(const Delivery& d) {
  return impl_->Answer(d, nullptr, "", true);
}

absl::Status Client::AcknowledgeUnsigned(const Delivery& d) {
  return impl_->Answer(d, nullptr, "", false);
}

absl::Status Client::Refuse(const Delivery& d, v1::RefusalReason reason,
                            absl::string_view text) {
  return impl_->Answer(d, &reason, text, true);
}

absl::Status Client::Release(const Delivery& d) {
  v1::MessageRef ref;
  ref.set_message_id(d.message_id);
  v1::AckResponse ignored;
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx, absl::Seconds(10));
  return FromGrpcStatus(impl_->mailbox->Release(&ctx, ref, &ignored));
}

absl::StatusOr<Evidence> Client::Status(absl::string_view message_id) {
  std::string raw(message_id);
  if (raw.size() == 32) {
    absl::StatusOr<std::vector<uint8_t>> id = HexDecode(raw);
    if (!id.ok()) {
      return Error(absl::StatusCode::kInvalidArgument, "USAGE",
                   "a message id is 32 hex digits, as send printed it");
    }
    raw.assign(id->begin(), id->end());
  }
  if (raw.size() != 16) {
    return Error(absl::StatusCode::kInvalidArgument, "USAGE",
                 "a message id is 32 hex digits, as send printed it");
  }
  v1::MessageRef ref;
  ref.set_message_id(raw);
  v1::MessageStatus resp;
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx, absl::Seconds(30));
  RETURN_IF_ERROR(FromGrpcStatus(impl_->mailbox->GetStatus(&ctx, ref, &resp)));
  ASSIGN_OR_RETURN(Evidence e,
                   internal::CheckEvidence(resp.status(), impl_->dir.get()));
  if (resp.has_link()) e.link = resp.link();
  return e;
}

absl::StatusOr<v1::Directory> Client::Directory() const {
  if (impl_->dir == nullptr) {
    return Error(absl::StatusCode::kFailedPrecondition, "NO_DIRECTORY",
                 "the client profile names no signed directory: give "
                 "\"directory\" and \"authority_pub\" in it");
  }
  return impl_->dir->doc();
}

const Profile& Client::profile() const { return impl_->profile; }

std::shared_ptr<grpc::Channel> Client::channel() const {
  return impl_->channel;
}

void Client::Prepare(grpc::ClientContext* ctx, absl::Duration timeout) const {
  impl_->Prepare(ctx, timeout);
}

}  // namespace trm::client
