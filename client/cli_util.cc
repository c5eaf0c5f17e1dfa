#include "client/cli_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/crypto/key_files.h"
#include "common/envelope/envelope.h"
#include "common/output_file.h"
#include "common/status.h"
#include "common/time_text.h"
#include "trm/client/payload_json.h"
#include "trm/v1/case.pb.h"

namespace trm::client {

using nlohmann::json;

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

// Writes `data` to `path` ("-" for stdout) with `mode`
// (common/output_file.h: never replaces anything but a regular file).
absl::Status WriteOutput(const std::string& path, ByteView data, int mode) {
  if (path == "-") {
    std::cout.write(reinterpret_cast<const char*>(data.data()),
                    static_cast<std::streamsize>(data.size()));
    std::cout.flush();
    return absl::OkStatus();
  }
  return WriteOutputFile(path, data, mode);
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
      {"created", IsoMillis(h.created_unix_ms())},
      {"expires", IsoMillis(h.expires_unix_ms())},
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
  if (h.has_departure_unix_ms())
    j["departure"] = IsoMillis(h.departure_unix_ms());
  if (h.outcome() != 0) {
    j["outcome"] =
        v1::StepOutcome_IsValid(static_cast<int>(h.outcome()))
            ? v1::StepOutcome_Name(static_cast<v1::StepOutcome>(h.outcome()))
            : absl::StrCat(h.outcome());
  }
  return j;
}

void PrintHeader(const json& j) {
  const char* order[] = {
      "message_id",  "type",    "case_ref",      "sender",
      "recipient",   "created", "expires",       "in_reply_to",
      "consent_ref", "outcome", "minor",         "asylum",
      "departure",   "aead",    "sender_key_id", "recipient_key_id"};
  for (const char* key : order) {
    if (!j.contains(key)) continue;
    const json& v = j[key];
    std::string text = v.is_string() ? v.get<std::string>() : v.dump();
    if (text.empty()) text = "-";
    std::cout << "  " << key << ":" << std::string(18 - strlen(key), ' ')
              << text << "\n";
  }
}

absl::StatusOr<Message> MessageFromFlags(const SealFlags& f, Profile* p) {
  Message m;
  ASSIGN_OR_RETURN(m.type, ParseType(f.type));
  m.case_ref = f.case_ref;
  if (!f.from.empty()) {
    ASSIGN_OR_RETURN(auto from, ParseAddress("--from", f.from));
    p->identity.org = from.first;
    p->identity.node = from.second;
  }
  if (f.to.empty()) return UsageError("--to ORG[@NODE] is required");
  if (f.to.find('@') == std::string::npos) {
    m.recipient_org = f.to;  // the node from the directory
  } else {
    ASSIGN_OR_RETURN(auto to, ParseAddress("--to", f.to));
    m.recipient_org = to.first;
    m.recipient_node = to.second;
  }
  if (!f.sign_key.empty()) p->identity.sign_key_file = f.sign_key;
  if (!f.directory.empty()) p->trust.directory_file = f.directory;
  if (!f.authority_pub.empty()) p->trust.authority_pub_file = f.authority_pub;
  m.recipient_pub_file = f.recipient_pub;
  if (!absl::ParseDuration(f.expires_in, &m.expires_in) ||
      m.expires_in <= absl::ZeroDuration()) {
    return UsageError(absl::StrCat("--expires-in '", f.expires_in,
                                   "' is not a positive duration such as "
                                   "72h or 30m"));
  }
  m.consent_ref = f.consent;
  if (!f.outcome.empty()) {
    const std::string want =
        absl::AsciiStrToUpper(absl::StrReplaceAll(f.outcome, {{"-", "_"}}));
    if (!v1::StepOutcome_Parse(want, &m.outcome) ||
        m.outcome == v1::STEP_OUTCOME_UNSPECIFIED) {
      return UsageError(absl::StrCat(
          "unknown --outcome '", f.outcome,
          "'; use consent-granted, consent-withdrawn, referral-accepted, "
          "referral-declined, risk-acceptable, risk-unsafe, "
          "return-in-best-interests, return-not-in-best-interests, "
          "plan-agreed, plan-proposed or return-withdrawn"));
    }
  }
  m.minor = f.minor;
  m.asylum = f.asylum;
  if (!f.in_reply_to.empty()) {
    auto id = HexDecode(f.in_reply_to);
    if (!id.ok()) {
      return UsageError(
          "--in-reply-to must be a message id in hex (32 "
          "digits)");
    }
    m.in_reply_to.assign(id->begin(), id->end());
  }
  if (!f.departure.empty()) {
    ASSIGN_OR_RETURN(int64_t ms, ParseIsoMs("--departure", f.departure));
    m.departure = absl::FromUnixMillis(ms);
  }
  if (f.aead == "chacha20poly1305") {
    m.aead = Aead::kChaCha20Poly1305;
  } else if (f.aead == "aes128gcm") {
    m.aead = Aead::kAes128Gcm;
  } else {
    return UsageError(absl::StrCat("--aead '", f.aead,
                                   "' is not supported; use chacha20poly1305 "
                                   "or aes128gcm"));
  }
  if (!f.payload_json.empty()) {
    ASSIGN_OR_RETURN(std::string text, ReadInput(f.payload_json));
    ASSIGN_OR_RETURN(m.payload, PayloadFromJson(m.type, text));
  } else {
    ASSIGN_OR_RETURN(m.payload, ReadInput(f.in));
  }
  return m;
}

absl::StatusOr<std::shared_ptr<const directory::Directory>> LoadSignedDirectory(
    const std::string& path, const std::string& authority_pub) {
  ASSIGN_OR_RETURN(crypto::Ed25519PublicKey authority,
                   crypto::LoadVerifyKey(authority_pub));
  ASSIGN_OR_RETURN(std::string bytes, ReadInput(path));
  auto dir = directory::Directory::Verify(bytes, authority);
  if (!dir.ok()) {
    return absl::Status(dir.status().code(),
                        absl::StrCat(path, ": ", dir.status().message()));
  }
  return dir;
}

}  // namespace trm::client
