#include "common/envelope/acknowledgement.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/crypto/key_files.h"
#include "common/crypto/signature_input.h"
#include "common/status.h"

namespace trm::envelope {
namespace {

absl::Status Malformed(absl::string_view what) {
  return Error(absl::StatusCode::kInvalidArgument, "ACKNOWLEDGEMENT_MALFORMED",
               absl::StrCat("the signed acknowledgement ", what,
                            "; sign it as docs/protocol.md section 15 says"));
}

absl::Status SignatureInvalid(absl::string_view key_id,
                              absl::string_view recipient_org,
                              absl::string_view what) {
  return Error(absl::StatusCode::kInvalidArgument,
               "ACKNOWLEDGEMENT_SIGNATURE_INVALID",
               absl::StrCat("the acknowledgement's ", what, " with key ",
                            HexEncode(AsBytes(key_id)), " of '", recipient_org,
                            "'; sign with the organisation's current "
                            "signing key"));
}

// Why `body` cannot be an acknowledgement's body, or "" when it can.
absl::string_view BodyProblem(const v1::AcknowledgementBody& body) {
  if (body.message_id().size() != 16 || body.envelope_sha256().size() != 32 ||
      body.recipient_org().empty() || body.time_unix_ms() <= 0) {
    return "body needs a 16-byte message_id, a 32-byte envelope_sha256, the "
           "recipient_org and a time";
  }
  return "";
}

merkle::MerkleHash HashOf(absl::string_view bytes) {
  merkle::MerkleHash h;
  std::copy(bytes.begin(), bytes.end(), h.begin());
  return h;
}

std::string BytesOf(const merkle::MerkleHash& h) {
  return std::string(h.begin(), h.end());
}

}  // namespace

std::string AcknowledgementBatchSignatureInput(uint64_t batch_size,
                                               absl::string_view batch_root) {
  std::string input(kAcknowledgementBatchLabel.data(),
                    kAcknowledgementBatchLabel.size());
  input.push_back('\0');
  for (int i = 7; i >= 0; --i) {
    input.push_back(static_cast<char>(batch_size >> (8 * i)));
  }
  input.append(batch_root.data(), batch_root.size());
  return input;
}

std::string AcknowledgementSignatureInput(absl::string_view body) {
  return crypto::SignatureInput(kAcknowledgementLabel, body);
}

absl::StatusOr<std::string> SignAcknowledgement(
    const v1::AcknowledgementBody& body, const crypto::Ed25519PrivateKey& key) {
  v1::SignedAcknowledgement out;
  out.set_body(body.SerializeAsString());
  const crypto::KeyId id = crypto::KeyIdOf(key.public_key());
  out.set_key_id(id.data(), id.size());
  ASSIGN_OR_RETURN(
      crypto::Ed25519Signature sig,
      key.Sign(AsBytes(AcknowledgementSignatureInput(out.body()))));
  out.set_signature(sig.data(), sig.size());
  return out.SerializeAsString();
}

absl::StatusOr<ParsedAcknowledgement> ParseAcknowledgement(
    absl::string_view bytes) {
  ParsedAcknowledgement ack;
  if (!ack.signed_ack.ParseFromArray(bytes.data(),
                                     static_cast<int>(bytes.size()))) {
    return Malformed("does not parse as trm.v1.SignedAcknowledgement");
  }
  if (ack.signed_ack.key_id().size() != crypto::kKeyIdSize ||
      ack.signed_ack.signature().size() != crypto::kEd25519SignatureSize) {
    return Malformed("needs a 16-byte key_id and a 64-byte signature");
  }
  if (!ack.body.ParseFromString(ack.signed_ack.body())) {
    return Malformed("has a body that does not parse");
  }
  if (absl::string_view problem = BodyProblem(ack.body); !problem.empty()) {
    return Malformed(problem);
  }
  const v1::SignedAcknowledgement& s = ack.signed_ack;
  if (s.batch_size() == 0) {
    if (s.leaf_index() != 0 || s.inclusion_path_size() != 0 ||
        !s.batch_root().empty()) {
      return Malformed(
          "is signed alone (batch_size 0) but carries a leaf_index, "
          "inclusion_path or batch_root");
    }
    return ack;
  }
  const bool path_ok =
      s.inclusion_path_size() <= static_cast<int>(kMaxAcknowledgementPath) &&
      std::all_of(s.inclusion_path().begin(), s.inclusion_path().end(),
                  [](const std::string& h) { return h.size() == 32; });
  if (s.batch_size() > kMaxAcknowledgementBatch ||
      s.leaf_index() >= s.batch_size() || s.batch_root().size() != 32 ||
      !path_ok) {
    return Malformed(absl::StrCat(
        "is signed in a batch but needs a leaf_index below its batch_size "
        "(at most ",
        kMaxAcknowledgementBatch,
        "), a 32-byte batch_root and an inclusion path of at most ",
        kMaxAcknowledgementPath, " 32-byte hashes"));
  }
  return ack;
}

absl::Status CheckAcknowledgementFor(const v1::AcknowledgementBody& body,
                                     absl::string_view message_id,
                                     absl::string_view envelope_sha256,
                                     absl::string_view recipient_org) {
  if (body.message_id() != message_id ||
      body.envelope_sha256() != envelope_sha256 ||
      body.recipient_org() != recipient_org) {
    return Error(
        absl::StatusCode::kInvalidArgument, "ACKNOWLEDGEMENT_MISMATCH",
        absl::StrCat("the signed acknowledgement is for message ",
                     HexEncode(AsBytes(body.message_id())), " by '",
                     body.recipient_org(), "', not for message ",
                     HexEncode(AsBytes(message_id)), " as received by '",
                     recipient_org,
                     "' (or names another envelope hash); sign the id and "
                     "SHA-256 of the envelope you received"));
  }
  return absl::OkStatus();
}

absl::Status VerifyAcknowledgement(const ParsedAcknowledgement& ack,
                                   const crypto::Ed25519PublicKey& key) {
  const v1::SignedAcknowledgement& s = ack.signed_ack;
  if (s.batch_size() == 0) {
    if (!key.Verify(AsBytes(AcknowledgementSignatureInput(s.body())),
                    AsBytes(s.signature()))) {
      return SignatureInvalid(s.key_id(), ack.body.recipient_org(),
                              "signature does not verify");
    }
    return absl::OkStatus();
  }
  std::vector<merkle::MerkleHash> path;
  for (const std::string& h : s.inclusion_path()) path.push_back(HashOf(h));
  if (!merkle::VerifyInclusion(s.leaf_index(), s.batch_size(),
                               merkle::LeafHash(AsBytes(s.body())), path,
                               HashOf(s.batch_root()))) {
    return SignatureInvalid(s.key_id(), ack.body.recipient_org(),
                            "inclusion path does not lead to the root signed");
  }
  if (!key.Verify(AsBytes(AcknowledgementBatchSignatureInput(s.batch_size(),
                                                             s.batch_root())),
                  AsBytes(s.signature()))) {
    return SignatureInvalid(s.key_id(), ack.body.recipient_org(),
                            "batch signature does not verify");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> SignAcknowledgementBatch(
    const std::vector<v1::AcknowledgementBody>& bodies,
    const crypto::Ed25519PrivateKey& key) {
  v1::AcknowledgementBatch out;
  std::vector<merkle::MerkleHash> leaves;
  leaves.reserve(bodies.size());
  for (const v1::AcknowledgementBody& b : bodies) {
    std::string* bytes = out.add_bodies();
    *bytes = b.SerializeAsString();
    leaves.push_back(merkle::LeafHash(AsBytes(*bytes)));
  }
  const crypto::KeyId id = crypto::KeyIdOf(key.public_key());
  out.set_key_id(id.data(), id.size());
  const std::string root = BytesOf(merkle::Tree(std::move(leaves)).Root());
  ASSIGN_OR_RETURN(crypto::Ed25519Signature sig,
                   key.Sign(AsBytes(AcknowledgementBatchSignatureInput(
                       bodies.size(), root))));
  out.set_signature(sig.data(), sig.size());
  return out.SerializeAsString();
}

absl::StatusOr<ParsedAcknowledgementBatch> ParseAcknowledgementBatch(
    absl::string_view bytes) {
  v1::AcknowledgementBatch batch;
  if (!batch.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Malformed("batch does not parse as trm.v1.AcknowledgementBatch");
  }
  if (batch.key_id().size() != crypto::kKeyIdSize ||
      batch.signature().size() != crypto::kEd25519SignatureSize) {
    return Malformed("batch needs a 16-byte key_id and a 64-byte signature");
  }
  if (batch.bodies().empty() ||
      batch.bodies_size() > static_cast<int>(kMaxAcknowledgementBatch)) {
    return Malformed(absl::StrCat("batch has ", batch.bodies_size(),
                                  " bodies; give 1 to ",
                                  kMaxAcknowledgementBatch));
  }
  std::vector<v1::AcknowledgementBody> bodies(batch.bodies_size());
  std::vector<merkle::MerkleHash> leaves;
  leaves.reserve(bodies.size());
  for (int i = 0; i < batch.bodies_size(); ++i) {
    v1::AcknowledgementBody& body = bodies[i];
    if (!body.ParseFromString(batch.bodies(i))) {
      return Malformed(
          absl::StrCat("batch has a body (", i, ") that does not parse"));
    }
    if (absl::string_view problem = BodyProblem(body); !problem.empty()) {
      return Malformed(absl::StrCat("batch's ", problem, " (body ", i, ")"));
    }
    if (body.recipient_org() != bodies[0].recipient_org() ||
        body.time_unix_ms() != bodies[0].time_unix_ms()) {
      return Malformed(
          absl::StrCat("batch's body ", i,
                       " names another organisation or time than body 0; "
                       "one batch is signed by one organisation at one time"));
    }
    leaves.push_back(merkle::LeafHash(AsBytes(batch.bodies(i))));
  }
  return ParsedAcknowledgementBatch{std::move(batch), std::move(bodies),
                                    merkle::Tree(std::move(leaves))};
}

absl::Status VerifyAcknowledgementBatch(const ParsedAcknowledgementBatch& b,
                                        const crypto::Ed25519PublicKey& key) {
  const std::string input = AcknowledgementBatchSignatureInput(
      b.bodies.size(), BytesOf(b.tree.Root()));
  if (!key.Verify(AsBytes(input), AsBytes(b.batch.signature()))) {
    return SignatureInvalid(b.batch.key_id(), b.bodies.front().recipient_org(),
                            "batch signature does not verify");
  }
  return absl::OkStatus();
}

std::vector<std::string> AcknowledgementsOf(
    const ParsedAcknowledgementBatch& b) {
  std::vector<std::string> out;
  out.reserve(b.bodies.size());
  const std::string root = BytesOf(b.tree.Root());
  for (size_t i = 0; i < b.bodies.size(); ++i) {
    v1::SignedAcknowledgement one;
    one.set_body(b.batch.bodies(static_cast<int>(i)));
    one.set_key_id(b.batch.key_id());
    one.set_signature(b.batch.signature());
    one.set_leaf_index(i);
    one.set_batch_size(b.bodies.size());
    for (const merkle::MerkleHash& h : b.tree.Path(i)) {
      one.add_inclusion_path(BytesOf(h));
    }
    one.set_batch_root(root);
    out.push_back(one.SerializeAsString());
  }
  return out;
}

}  // namespace trm::envelope
