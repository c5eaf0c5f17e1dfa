// Seal: a Message to a signed envelope, sealed to the recipient's current
// key from the signed directory (or an offline key file).
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/lib/internal.h"
#include "common/cases/payload_facts.h"
#include "common/crypto/key_files.h"
#include "common/envelope/envelope.h"
#include "common/status.h"

namespace trm::client {
namespace internal {

absl::StatusOr<std::shared_ptr<const directory::Directory>> LoadDirectory(
    const Trust& t) {
  if (t.directory_file.empty()) return nullptr;
  if (t.authority_pub_file.empty()) {
    return Missing("the directory is only trusted with its authority's key",
                   "authority_pub", "--authority-pub");
  }
  ASSIGN_OR_RETURN(crypto::Ed25519PublicKey authority,
                   crypto::LoadVerifyKey(t.authority_pub_file));
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(t.directory_file));
  return directory::Directory::Verify(bytes, authority);
}

absl::StatusOr<Sealed> SealWith(const Message& m, const Identity& me,
                                const crypto::Ed25519PrivateKey& sign,
                                const directory::Directory* dir) {
  if (me.org.empty() || me.node.empty()) {
    return Missing("who sends it", "org and home_node", "--from ORG@NODE");
  }
  if (m.recipient_org.empty()) {
    return Missing("no recipient", "recipient_org", "--to ORG[@NODE]");
  }
  if (m.expires_in <= absl::ZeroDuration()) {
    return Error(absl::StatusCode::kInvalidArgument, "USAGE",
                 "expires_in must be a positive duration");
  }
  const absl::Time now = absl::Now();
  v1::Header h;
  h.set_schema_version(envelope::kSchemaVersion);
  h.set_message_id(envelope::NewMessageId());
  h.set_type(m.type);
  h.set_case_ref(m.case_ref);
  h.set_sender_org(me.org);
  h.set_sender_node(me.node);
  h.set_recipient_org(m.recipient_org);
  h.set_created_unix_ms(absl::ToUnixMillis(now));
  h.set_expires_unix_ms(absl::ToUnixMillis(now + m.expires_in));
  h.set_consent_ref(m.consent_ref);
  h.set_in_reply_to(m.in_reply_to);
  if (m.outcome != v1::STEP_OUTCOME_UNSPECIFIED) h.set_outcome(m.outcome);
  if (m.departure.has_value()) {
    h.set_departure_unix_ms(absl::ToUnixMillis(*m.departure));
  }
  // What the payload states, the header states too: taken from it, and
  // what the caller gave must agree (the recipient checks the same).
  ASSIGN_OR_RETURN(cases::PayloadFacts facts,
                   cases::ReadPayloadFacts(m.type, m.payload));
  if (m.outcome == v1::STEP_OUTCOME_UNSPECIFIED) h.set_outcome(facts.outcome);
  if (!m.departure.has_value() && facts.departure_unix_ms.has_value()) {
    h.set_departure_unix_ms(*facts.departure_unix_ms);
  }
  if (m.type == v1::CONSENT_RECORD && m.consent_ref.empty()) {
    h.set_consent_ref(facts.consent_ref);
  }
  RETURN_IF_ERROR(cases::CheckHeaderAgrees(h, facts));
  h.set_minor(m.minor);
  h.set_asylum(m.asylum);
  // The recipient's node and key: the directory's, unless given.
  std::string node = m.recipient_node;
  std::optional<crypto::X25519PublicKey> key;
  if (!m.recipient_pub_file.empty()) {
    ASSIGN_OR_RETURN(key,
                     crypto::LoadEncryptionPublicKey(m.recipient_pub_file));
  }
  if (dir != nullptr) {
    const v1::DirectoryOrganisation* org =
        dir->FindOrganisation(m.recipient_org);
    if (org == nullptr) {
      return Error(absl::StatusCode::kNotFound, "UNKNOWN_ORGANISATION",
                   absl::StrCat("no organisation '", m.recipient_org,
                                "' in the directory (serial ", dir->serial(),
                                "); trmctl directory inspect lists them"));
    }
    if (node.empty()) node = org->home_node();
    if (!key.has_value()) {
      ASSIGN_OR_RETURN(key,
                       dir->OrganisationEncryptionKey(m.recipient_org, now));
    }
  }
  if (node.empty()) {
    return Missing("the recipient's node is not known without the directory",
                   "directory", "--to ORG@NODE or --directory");
  }
  if (!key.has_value()) {
    return Missing(
        "no key to seal to: the recipient's key comes from the "
        "directory, or offline from a key file",
        "directory", "--directory or --recipient-pub");
  }
  h.set_recipient_node(node);
  ASSIGN_OR_RETURN(
      v1::Envelope env,
      envelope::Seal(h, AsBytes(m.payload), sign, *key,
                     m.aead == Aead::kAes128Gcm
                         ? crypto::AeadAlgorithm::kAes128Gcm
                         : crypto::AeadAlgorithm::kChaCha20Poly1305));
  // Seal filled in the recipient key id and the AEAD: the header as sent.
  std::string wire = env.SerializeAsString();
  ASSIGN_OR_RETURN(envelope::ParsedEnvelope parsed,
                   envelope::ParsedEnvelope::Parse(wire));
  return Sealed{parsed.header(), std::move(wire)};
}

}  // namespace internal

absl::StatusOr<Sealed> Seal(const Message& m, const Profile& profile) {
  if (profile.identity.sign_key_file.empty()) {
    return internal::Missing("no key to sign with", "sign_key", "--sign-key");
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const directory::Directory> dir,
                   internal::LoadDirectory(profile.trust));
  ASSIGN_OR_RETURN(crypto::Ed25519PrivateKey sign,
                   crypto::LoadSigningKey(profile.identity.sign_key_file));
  return internal::SealWith(m, profile.identity, sign, dir.get());
}

}  // namespace trm::client
