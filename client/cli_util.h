// Helpers shared by trmctl's commands: flags to headers, files, output.
#ifndef TRM_CLIENT_CLI_UTIL_H_
#define TRM_CLIENT_CLI_UTIL_H_

#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "common/bytes.h"
#include "common/directory/directory.h"
#include "trm/client/client.h"
#include "trm/v1/envelope.pb.h"

namespace trm::client {

struct Output {
  bool json = false;
  // Print nothing on success (a command that sends on behalf of another,
  // such as case erase, prints one summary of its own).
  bool quiet = false;
};

// A USAGE error: exit status 2.
absl::Status UsageError(absl::string_view message);
// An RFC 3339 time given to `flag`, in Unix milliseconds; a usage error
// naming the flag otherwise.
absl::StatusOr<int64_t> ParseIsoMs(const std::string& flag,
                                   const std::string& text);
// A file's bytes, or standard input for "-".
absl::StatusOr<std::string> ReadInput(const std::string& path);
// The signed directory in `path`, checked with the authority's public key
// in `authority_pub` (errors name the file).
absl::StatusOr<std::shared_ptr<const directory::Directory>> LoadSignedDirectory(
    const std::string& path, const std::string& authority_pub);
// Writes atomically with `mode` ("-": standard output).
absl::Status WriteOutput(const std::string& path, ByteView data, int mode);
nlohmann::json HeaderJson(const v1::Header& h,
                          const std::string& sender_key_id);
void PrintHeader(const nlohmann::json& j);

// The flags of `seal` and `send`.
struct SealFlags {
  std::string type, case_ref, from, to, consent, in_reply_to, departure;
  std::string outcome;  // a StepOutcome name, e.g. consent-granted
  std::string expires_in = "168h";
  std::string sign_key, recipient_pub, in = "-", out, aead = "chacha20poly1305";
  std::string payload_json;              // --payload: JSON, instead of --in
  std::string directory, authority_pub;  // the signed directory
  bool minor = false, asylum = false;
};
// A message type by name: "referral-request", "REFERRAL_REQUEST" and
// "ReferralRequest" all name REFERRAL_REQUEST.
absl::StatusOr<v1::MessageType> ParseType(const std::string& text);
// The message the flags describe, its payload read; the sender's side of
// `p` (--from, --sign-key, --directory, --authority-pub) overridden by them.
absl::StatusOr<Message> MessageFromFlags(const SealFlags& f, Profile* p);

}  // namespace trm::client

#endif  // TRM_CLIENT_CLI_UTIL_H_
