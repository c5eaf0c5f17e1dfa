// The one strict JSON reader for every JSON file trm-broker reads: the node
// configuration, the directory spec and audit bundles. nlohmann's parser
// keeps the last of two equal keys without a word, so two readers of the
// same file could disagree; this one refuses that, and refuses nesting
// deeper than kMaxJsonDepth, invalid UTF-8 and anything after the value.
//
//   ASSIGN_OR_RETURN(nlohmann::json j,
//                    ParseStrictJson(text, {"CONFIG_INVALID", path, hint}));
//   JsonReader r(j, "", errors);
//   RETURN_IF_ERROR(r.Keys({"node_id", "listen"}));
//   ASSIGN_OR_RETURN(std::string id, r.Str("node_id", /*required=*/true));
#ifndef TRM_COMMON_JSON_STRICT_JSON_H_
#define TRM_COMMON_JSON_STRICT_JSON_H_

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trm::jsonio {

inline constexpr int kMaxJsonDepth = 32;

// How a reader reports what is wrong: INVALID_ARGUMENT with `reason`, the
// message "<file>: <path>: <what><hint>".
struct JsonErrors {
  std::string reason;  // e.g. "CONFIG_INVALID"
  std::string file;    // where the text came from, first in each message
  std::string hint;    // appended, e.g. "; see docs/operations.md"
  absl::Status Bad(absl::string_view path, absl::string_view what) const;
};

// One JSON value, strictly (see above).
absl::StatusOr<nlohmann::json> ParseStrictJson(absl::string_view text,
                                               const JsonErrors& errors);

// Reads one object of a parsed document: every refusal names its path
// ("organisations[2].signing_keys[0].valid_from"). Keys starting with '_'
// are comments. References `errors` and `j`, which must outlive it.
class JsonReader {
 public:
  JsonReader(const nlohmann::json& j, std::string path,
             const JsonErrors& errors)
      : j_(j), path_(std::move(path)), errors_(errors) {}

  // Refuses a value that is not an object, or a key not in `known` (a
  // misspelt key must not fall back to a default silently).
  absl::Status Keys(std::initializer_list<const char*> known) const;
  bool Has(const char* key) const;
  // A string; "" when absent and not required.
  absl::StatusOr<std::string> Str(const char* key, bool required) const;
  // A non-negative integer into `out`, left alone when absent.
  absl::Status UInt(const char* key, uint64_t* out) const;
  // true or false into `out`, left alone when absent.
  absl::Status Bool(const char* key, bool* out) const;
  // An RFC 3339 time as Unix milliseconds; 0 when absent.
  absl::StatusOr<int64_t> Time(const char* key) const;
  // The elements of a list (none when absent).
  absl::StatusOr<std::vector<JsonReader>> List(const char* key) const;
  // A member that must be an object, when present.
  absl::StatusOr<JsonReader> Object(const char* key) const;

  const nlohmann::json& value() const { return j_; }
  const std::string& path() const { return path_; }
  std::string Path(const char* key) const;
  absl::Status Bad(absl::string_view what) const {
    return errors_.Bad(path_, what);
  }

 private:
  const nlohmann::json& j_;
  std::string path_;
  const JsonErrors& errors_;
};

}  // namespace trm::jsonio

#endif  // TRM_COMMON_JSON_STRICT_JSON_H_
