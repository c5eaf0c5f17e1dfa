// trmctl: the command-line client of trm-broker.
//
//   trmctl keygen  --org ORG --dir DIR
//   trmctl seal    --type T --case C --from ORG@NODE --to ORG@NODE
//                  --sign-key K --recipient-pub P --in F --out E
//   trmctl open    --in E --sender-pub P --recipient-key K --out F
//   trmctl inspect --in E [--sender-pub P]
//
// Exit status: 0 on success, 1 when the operation was refused (bad envelope,
// bad key, failed check), 2 on a usage error. `--json` prints one JSON object
// on stdout for scripts. docs/trmctl.md describes every flag.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/crypto/key_files.h"
#include "common/envelope/envelope.h"
#include "common/status.h"

namespace trm::client {
namespace {

using nlohmann::json;

constexpr int kExitRefused = 1;

struct Output {
  bool json = false;
};

absl::Status UsageError(absl::string_view message) {
  return Error(absl::StatusCode::kInvalidArgument, "USAGE", message);
}

absl::StatusOr<std::string> ReadInput(const std::string& path) {
  std::ostringstream out;
  if (path == "-") {
    out << std::cin.rdbuf();
    return out.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error(
        absl::StatusCode::kNotFound, "FILE_IO",
        absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  out << in.rdbuf();
  return out.str();
}

// Writes `data` to `path` ("-" for stdout) with `mode`, via a temporary file
// and rename so a reader never sees half a file.
absl::Status WriteOutput(const std::string& path, ByteView data, int mode) {
  if (path == "-") {
    std::cout.write(reinterpret_cast<const char*>(data.data()),
                    static_cast<std::streamsize>(data.size()));
    std::cout.flush();
    return absl::OkStatus();
  }
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  bool ok = fd >= 0 && ::fchmod(fd, mode) == 0 &&
            ::write(fd, data.data(), data.size()) ==
                static_cast<ssize_t>(data.size()) &&
            ::fsync(fd) == 0;
  if (fd >= 0) ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string err = std::strerror(errno);
    ::unlink(tmp.c_str());
    return Error(absl::StatusCode::kFailedPrecondition, "FILE_IO",
                 absl::StrCat("cannot write ", path, ": ", err));
  }
  return absl::OkStatus();
}

std::string Iso(int64_t ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

absl::StatusOr<int64_t> ParseIsoMs(const std::string& flag,
                                   const std::string& text) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &err)) {
    return UsageError(absl::StrCat(flag, " '", text,
                                   "' is not an RFC 3339 time such as "
                                   "2026-12-01T09:30:00Z"));
  }
  return absl::ToUnixMillis(t);
}

// "referral-request", "REFERRAL_REQUEST" and "ReferralRequest" all name
// REFERRAL_REQUEST.
absl::StatusOr<v1::MessageType> ParseType(const std::string& text) {
  std::string want =
      absl::AsciiStrToUpper(absl::StrReplaceAll(text, {{"-", ""}, {"_", ""}}));
  const auto* desc = v1::MessageType_descriptor();
  std::string names;
  for (int i = 1; i < desc->value_count(); ++i) {
    std::string name = desc->value(i)->name();
    if (absl::StrReplaceAll(name, {{"_", ""}}) == want) {
      return static_cast<v1::MessageType>(desc->value(i)->number());
    }
    absl::StrAppend(
        &names, names.empty() ? "" : ", ",
        absl::AsciiStrToLower(absl::StrReplaceAll(name, {{"_", "-"}})));
  }
  return UsageError(
      absl::StrCat("unknown message type '", text, "'; use one of: ", names));
}

absl::StatusOr<std::pair<std::string, std::string>> ParseAddress(
    const std::string& flag, const std::string& text) {
  size_t at = text.find('@');
  if (at == std::string::npos || at == 0 || at + 1 == text.size()) {
    return UsageError(absl::StrCat(flag, " '", text,
                                   "' must be ORGANISATION@NODE, e.g. "
                                   "ng-naptip@ng"));
  }
  return std::make_pair(text.substr(0, at), text.substr(at + 1));
}

json HeaderJson(const v1::Header& h, const std::string& sender_key_id) {
  json j = {
      {"schema_version", h.schema_version()},
      {"message_id", HexEncode(AsBytes(h.message_id()))},
      {"case_ref", h.case_ref()},
      {"type", v1::MessageType_Name(h.type())},
      {"sender", h.sender_org() + "@" + h.sender_node()},
      {"recipient", h.recipient_org() + "@" + h.recipient_node()},
      {"created", Iso(h.created_unix_ms())},
      {"expires", Iso(h.expires_unix_ms())},
      {"consent_ref", h.consent_ref()},
      {"minor", h.minor()},
      {"asylum", h.asylum()},
      {"aead", v1::AeadId_Name(h.aead_id())},
      {"recipient_key_id", HexEncode(AsBytes(h.recipient_key_id()))},
      {"sender_key_id", sender_key_id},
  };
  if (!h.in_reply_to().empty()) {
    j["in_reply_to"] = HexEncode(AsBytes(h.in_reply_to()));
  }
  if (h.has_departure_unix_ms()) j["departure"] = Iso(h.departure_unix_ms());
  return j;
}

void PrintHeader(const json& j) {
  const char* order[] = {"message_id", "type",          "case_ref",
                         "sender",     "recipient",     "created",
                         "expires",    "in_reply_to",   "consent_ref",
                         "minor",      "asylum",        "departure",
                         "aead",       "sender_key_id", "recipient_key_id"};
  for (const char* key : order) {
    if (!j.contains(key)) continue;
    const json& v = j[key];
    std::string text = v.is_string() ? v.get<std::string>() : v.dump();
    if (text.empty()) text = "-";
    std::cout << "  " << key << ":" << std::string(18 - strlen(key), ' ')
              << text << "\n";
  }
}

// ---- keygen ----------------------------------------------------------------

struct KeygenFlags {
  std::string org;
  std::string dir = ".";
};

absl::Status Keygen(const KeygenFlags& f, const Output& out) {
  if (f.org.empty()) return UsageError("--org is required");
  ASSIGN_OR_RETURN(crypto::Ed25519PrivateKey sign,
                   crypto::Ed25519PrivateKey::Generate());
  ASSIGN_OR_RETURN(crypto::X25519PrivateKey enc,
                   crypto::X25519PrivateKey::Generate());
  const std::string base = f.dir + "/" + f.org;
  RETURN_IF_ERROR(crypto::WritePrivateKeyFile(base + ".sign.key", sign.pkey()));
  RETURN_IF_ERROR(crypto::WritePrivateKeyFile(base + ".enc.key", enc.pkey()));
  RETURN_IF_ERROR(crypto::WritePublicKeyFile(
      base + ".sign.pub", crypto::Ed25519PublicKeyPem(sign.public_key())));
  RETURN_IF_ERROR(crypto::WritePublicKeyFile(
      base + ".enc.pub", crypto::X25519PublicKeyPem(enc.public_key())));
  const std::string sign_id = HexEncode(crypto::KeyIdOf(sign.public_key()));
  const std::string enc_id = HexEncode(crypto::X25519KeyIdOf(enc.public_key()));
  if (out.json) {
    std::cout << json{{"ok", true},
                      {"org", f.org},
                      {"signing_key_id", sign_id},
                      {"encryption_key_id", enc_id},
                      {"files",
                       {base + ".sign.key", base + ".sign.pub",
                        base + ".enc.key", base + ".enc.pub"}}}
                     .dump()
              << "\n";
  } else {
    std::cout << "keys for " << f.org << "\n"
              << "  signing (Ed25519)    key id " << sign_id << "\n"
              << "    " << base << ".sign.key (private, 0600)\n"
              << "    " << base << ".sign.pub\n"
              << "  encryption (X25519)  key id " << enc_id << "\n"
              << "    " << base << ".enc.key (private, 0600)\n"
              << "    " << base << ".enc.pub\n";
  }
  return absl::OkStatus();
}

// ---- seal ------------------------------------------------------------------

struct SealFlags {
  std::string type, case_ref, from, to, consent, in_reply_to, departure;
  std::string expires_in = "168h";
  std::string sign_key, recipient_pub, in = "-", out, aead = "chacha20poly1305";
  bool minor = false, asylum = false;
};

absl::Status SealCommand(const SealFlags& f, const Output& out) {
  v1::Header h;
  h.set_schema_version(envelope::kSchemaVersion);
  h.set_message_id(envelope::NewMessageId());
  ASSIGN_OR_RETURN(v1::MessageType type, ParseType(f.type));
  h.set_type(type);
  h.set_case_ref(f.case_ref);
  ASSIGN_OR_RETURN(auto from, ParseAddress("--from", f.from));
  ASSIGN_OR_RETURN(auto to, ParseAddress("--to", f.to));
  h.set_sender_org(from.first);
  h.set_sender_node(from.second);
  h.set_recipient_org(to.first);
  h.set_recipient_node(to.second);
  const absl::Time now = absl::Now();
  absl::Duration ttl;
  if (!absl::ParseDuration(f.expires_in, &ttl) || ttl <= absl::ZeroDuration()) {
    return UsageError(absl::StrCat("--expires-in '", f.expires_in,
                                   "' is not a positive duration such as "
                                   "72h or 30m"));
  }
  h.set_created_unix_ms(absl::ToUnixMillis(now));
  h.set_expires_unix_ms(absl::ToUnixMillis(now + ttl));
  h.set_consent_ref(f.consent);
  h.set_minor(f.minor);
  h.set_asylum(f.asylum);
  if (!f.in_reply_to.empty()) {
    auto id = HexDecode(f.in_reply_to);
    if (!id.ok()) {
      return UsageError(
          "--in-reply-to must be a message id in hex (32 "
          "digits)");
    }
    h.set_in_reply_to(std::string(id->begin(), id->end()));
  }
  if (!f.departure.empty()) {
    ASSIGN_OR_RETURN(int64_t ms, ParseIsoMs("--departure", f.departure));
    h.set_departure_unix_ms(ms);
  }
  crypto::AeadAlgorithm aead;
  if (f.aead == "chacha20poly1305") {
    aead = crypto::AeadAlgorithm::kChaCha20Poly1305;
  } else if (f.aead == "aes128gcm") {
    aead = crypto::AeadAlgorithm::kAes128Gcm;
  } else {
    return UsageError(absl::StrCat("--aead '", f.aead,
                                   "' is not supported; use chacha20poly1305 "
                                   "or aes128gcm"));
  }
  ASSIGN_OR_RETURN(crypto::Ed25519PrivateKey sign,
                   crypto::LoadSigningKey(f.sign_key));
  ASSIGN_OR_RETURN(crypto::X25519PublicKey recipient,
                   crypto::LoadEncryptionPublicKey(f.recipient_pub));
  ASSIGN_OR_RETURN(std::string payload, ReadInput(f.in));
  absl::StatusOr<v1::Envelope> env =
      envelope::Seal(h, AsBytes(payload), sign, recipient, aead);
  Wipe(MutableByteView(reinterpret_cast<uint8_t*>(payload.data()),
                       payload.size()));
  if (!env.ok()) return env.status();
  const std::string wire = env->SerializeAsString();
  RETURN_IF_ERROR(WriteOutput(f.out, AsBytes(wire), 0644));
  const std::string id = HexEncode(AsBytes(h.message_id()));
  if (out.json) {
    std::cout << json{{"ok", true},
                      {"message_id", id},
                      {"envelope", f.out},
                      {"bytes", wire.size()}}
                     .dump()
              << "\n";
  } else {
    std::cout << "sealed " << v1::MessageType_Name(type) << " " << id << " for "
              << f.to << " -> " << f.out << " (" << wire.size() << " bytes)\n";
  }
  return absl::OkStatus();
}

// ---- open ------------------------------------------------------------------

struct OpenFlags {
  std::string in, sender_pub, recipient_key, out = "-";
  bool allow_expired = false;
};

absl::Status OpenCommand(const OpenFlags& f, const Output& out) {
  ASSIGN_OR_RETURN(std::string wire, ReadInput(f.in));
  ASSIGN_OR_RETURN(envelope::ParsedEnvelope parsed,
                   envelope::ParsedEnvelope::Parse(wire));
  ASSIGN_OR_RETURN(crypto::Ed25519PublicKey sender,
                   crypto::LoadVerifyKey(f.sender_pub));
  ASSIGN_OR_RETURN(crypto::X25519PrivateKey recipient,
                   crypto::LoadEncryptionKey(f.recipient_key));
  envelope::OpenOptions options{absl::Now()};
  options.allow_expired = f.allow_expired;
  ASSIGN_OR_RETURN(SecretBytes payload,
                   envelope::Open(parsed, sender, recipient, options));
  RETURN_IF_ERROR(WriteOutput(f.out, payload.view(), 0600));
  json h = HeaderJson(parsed.header(),
                      HexEncode(AsBytes(parsed.envelope().sender_key_id())));
  std::ostream& report = f.out == "-" ? std::cerr : std::cout;
  if (out.json) {
    report << json{{"ok", true},
                   {"signature", "valid"},
                   {"header", h},
                   {"payload_bytes", payload.size()},
                   {"payload", f.out}}
                  .dump()
           << "\n";
  } else {
    report << "opened " << h["type"].get<std::string>() << " "
           << h["message_id"].get<std::string>() << ": signature by "
           << h["sender"].get<std::string>() << " valid, " << payload.size()
           << " payload bytes -> " << (f.out == "-" ? "stdout" : f.out) << "\n";
  }
  return absl::OkStatus();
}

// ---- inspect ---------------------------------------------------------------

struct InspectFlags {
  std::string in, sender_pub;
};

absl::Status InspectCommand(const InspectFlags& f, const Output& out) {
  ASSIGN_OR_RETURN(std::string wire, ReadInput(f.in));
  ASSIGN_OR_RETURN(envelope::ParsedEnvelope parsed,
                   envelope::ParsedEnvelope::Parse(wire));
  json h = HeaderJson(parsed.header(),
                      HexEncode(AsBytes(parsed.envelope().sender_key_id())));
  std::string signature = "not checked (give --sender-pub to check it)";
  absl::Status verdict;
  if (!f.sender_pub.empty()) {
    ASSIGN_OR_RETURN(crypto::Ed25519PublicKey sender,
                     crypto::LoadVerifyKey(f.sender_pub));
    verdict = envelope::VerifySignature(parsed, sender);
    signature = verdict.ok() ? "valid" : std::string(verdict.message());
  }
  if (out.json) {
    std::cout << json{{"ok", verdict.ok()},
                      {"header", h},
                      {"signature",
                       verdict.ok() && !f.sender_pub.empty()
                           ? "valid"
                           : (f.sender_pub.empty() ? "unchecked" : "invalid")},
                      {"reason", ErrorReason(verdict)},
                      {"envelope_bytes", wire.size()},
                      {"ciphertext_bytes",
                       parsed.envelope().ciphertext().size()}}
                     .dump()
              << "\n";
    return verdict.ok() ? absl::OkStatus()
                        : absl::Status(verdict.code(), "");  // already shown
  }
  std::cout << "envelope " << f.in << " (" << wire.size() << " bytes, "
            << parsed.envelope().ciphertext().size() << " bytes sealed)\n";
  PrintHeader(h);
  std::cout << "  signature:         " << signature << "\n";
  return verdict.ok() ? absl::OkStatus() : absl::Status(verdict.code(), "");
}

int Report(const absl::Status& status, const Output& out) {
  if (status.ok()) return 0;
  if (!status.message().empty()) {
    if (out.json) {
      std::cout << json{{"ok", false},
                        {"reason", ErrorReason(status)},
                        {"error", std::string(status.message())}}
                       .dump()
                << "\n";
    } else {
      std::cerr << "trmctl: error: " << status.message() << "\n";
    }
  }
  return ErrorReason(status) == "USAGE" ? 2 : kExitRefused;
}

int Main(int argc, char** argv) {
  CLI::App app{
      "trmctl: keys, sealed envelopes and (with later releases) the node, "
      "for trm-broker.\nExit status: 0 success, 1 refused, 2 usage error."};
  app.require_subcommand(1);
  Output out;
  app.add_flag("--json", out.json, "print one JSON object for scripts");

  KeygenFlags kg;
  CLI::App* keygen = app.add_subcommand(
      "keygen",
      "make an organisation's Ed25519 signing and X25519 encryption keys: "
      "DIR/ORG.sign.key, .sign.pub, .enc.key, .enc.pub (private keys 0600, "
      "never overwritten)");
  keygen->add_option("--org", kg.org, "organisation id, e.g. bg-ngo-animus")
      ->required();
  keygen->add_option("--dir", kg.dir, "directory for the key files")
      ->capture_default_str();

  SealFlags sf;
  CLI::App* seal = app.add_subcommand(
      "seal", "seal a payload to a recipient and sign it (protocol v1)");
  seal->add_option("--type", sf.type,
                   "message type, e.g. referral-request, consent-record")
      ->required();
  seal->add_option("--case", sf.case_ref,
                   "pseudonymous case reference (never a name)")
      ->required();
  seal->add_option("--from", sf.from, "sender as ORG@NODE")->required();
  seal->add_option("--to", sf.to, "recipient as ORG@NODE")->required();
  seal->add_option("--sign-key", sf.sign_key,
                   "sender's signing private key (ORG.sign.key)")
      ->required();
  seal->add_option("--recipient-pub", sf.recipient_pub,
                   "recipient's encryption public key (ORG.enc.pub)")
      ->required();
  seal->add_option("--in", sf.in, "payload file, - for stdin")
      ->capture_default_str();
  seal->add_option("--out", sf.out, "envelope file to write")->required();
  seal->add_option("--consent", sf.consent, "consent reference");
  seal->add_flag("--minor", sf.minor, "the person is a child");
  seal->add_flag("--asylum", sf.asylum, "the person seeks asylum");
  seal->add_option("--departure", sf.departure,
                   "planned departure, RFC 3339 (travel arrangements)");
  seal->add_option("--in-reply-to", sf.in_reply_to,
                   "message id (hex) this message answers");
  seal->add_option("--expires-in", sf.expires_in, "lifetime, e.g. 72h")
      ->capture_default_str();
  seal->add_option("--aead", sf.aead, "chacha20poly1305 or aes128gcm")
      ->capture_default_str();

  OpenFlags of;
  CLI::App* open = app.add_subcommand(
      "open",
      "verify the sender's signature and the times, then decrypt the payload");
  open->add_option("--in", of.in, "envelope file, - for stdin")->required();
  open->add_option("--sender-pub", of.sender_pub,
                   "sender's signing public key (ORG.sign.pub)")
      ->required();
  open->add_option("--recipient-key", of.recipient_key,
                   "your encryption private key (ORG.enc.key)")
      ->required();
  open->add_option("--out", of.out, "payload file (written 0600), - for stdout")
      ->capture_default_str();
  open->add_flag("--allow-expired", of.allow_expired,
                 "forensics: open a message past its expiry");

  InspectFlags inf;
  CLI::App* inspect = app.add_subcommand(
      "inspect",
      "print an envelope's header; with --sender-pub, check its signature");
  inspect->add_option("--in", inf.in, "envelope file, - for stdin")->required();
  inspect->add_option("--sender-pub", inf.sender_pub,
                      "sender's signing public key to check the signature");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  absl::Status status;
  if (*keygen) status = Keygen(kg, out);
  if (*seal) status = SealCommand(sf, out);
  if (*open) status = OpenCommand(of, out);
  if (*inspect) status = InspectCommand(inf, out);
  return Report(status, out);
}

}  // namespace
}  // namespace trm::client

int main(int argc, char** argv) { return trm::client::Main(argc, argv); }
