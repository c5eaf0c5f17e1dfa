#include "common/json/strict_json.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/status.h"

namespace trm::jsonio {

using nlohmann::json;

absl::Status JsonErrors::Bad(absl::string_view path,
                             absl::string_view what) const {
  std::string where = file;
  if (!path.empty()) absl::StrAppend(&where, where.empty() ? "" : ": ", path);
  return Error(absl::StatusCode::kInvalidArgument, reason,
               absl::StrCat(where, where.empty() ? "" : ": ", what, hint));
}

absl::StatusOr<json> ParseStrictJson(absl::string_view text,
                                     const JsonErrors& errors) {
  // The keys seen so far in each object being read, innermost last.
  std::vector<std::set<std::string>> keys;
  std::string problem;
  auto check = [&](int depth, json::parse_event_t event, json& parsed) {
    if (!problem.empty()) return false;
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (depth >= kMaxJsonDepth) {
          problem =
              absl::StrCat("nested deeper than ", kMaxJsonDepth, " levels");
          return false;
        }
        if (event == json::parse_event_t::object_start) keys.emplace_back();
        return true;
      case json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        return true;
      case json::parse_event_t::key:
        if (!keys.empty() &&
            !keys.back().insert(parsed.get<std::string>()).second) {
          problem = absl::StrCat("the key \"", parsed.get<std::string>(),
                                 "\" appears twice in one object; give "
                                 "each key once");
          return false;
        }
        return true;
      default:
        return true;
    }
  };
  json j = json::parse(text.begin(), text.end(), check,
                       /*allow_exceptions=*/false);
  if (!problem.empty()) return errors.Bad("", problem);
  if (j.is_discarded()) {
    return errors.Bad("",
                      "not valid JSON (a syntax error, invalid UTF-8 or text "
                      "after the value)");
  }
  return j;
}

absl::Status JsonReader::Keys(std::initializer_list<const char*> known) const {
  if (!j_.is_object()) return Bad("must be a JSON object");
  for (const auto& [key, value] : j_.items()) {
    if (!key.empty() && key[0] == '_') continue;  // a comment
    bool found = false;
    for (const char* k : known) found = found || key == k;
    if (!found) {
      return Bad(absl::StrCat("unknown key \"", key,
                              "\" (prefix a key with '_' to comment)"));
    }
  }
  return absl::OkStatus();
}

bool JsonReader::Has(const char* key) const {
  return j_.is_object() && j_.contains(key);
}

std::string JsonReader::Path(const char* key) const {
  return path_.empty() ? key : absl::StrCat(path_, ".", key);
}

absl::StatusOr<std::string> JsonReader::Str(const char* key,
                                            bool required) const {
  if (!Has(key)) {
    if (required) return Bad(absl::StrCat("\"", key, "\" is missing"));
    return std::string();
  }
  const json& v = j_.at(key);
  if (!v.is_string()) return errors_.Bad(Path(key), "must be a string");
  return v.get<std::string>();
}

absl::Status JsonReader::UInt(const char* key, uint64_t* out) const {
  if (!Has(key)) return absl::OkStatus();
  const json& v = j_.at(key);
  if (!v.is_number_unsigned()) {
    return errors_.Bad(Path(key), "must be a non-negative integer");
  }
  *out = v.get<uint64_t>();
  return absl::OkStatus();
}

absl::Status JsonReader::Bool(const char* key, bool* out) const {
  if (!Has(key)) return absl::OkStatus();
  const json& v = j_.at(key);
  if (!v.is_boolean()) return errors_.Bad(Path(key), "must be true or false");
  *out = v.get<bool>();
  return absl::OkStatus();
}

absl::StatusOr<int64_t> JsonReader::Time(const char* key) const {
  ASSIGN_OR_RETURN(std::string s, Str(key, false));
  if (s.empty()) return 0;
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, s, &t, &err)) {
    return errors_.Bad(Path(key), absl::StrCat("'", s,
                                               "' is not an RFC 3339 time "
                                               "such as 2027-01-15T00:00:00Z"));
  }
  return absl::ToUnixMillis(t);
}

absl::StatusOr<std::vector<JsonReader>> JsonReader::List(
    const char* key) const {
  std::vector<JsonReader> out;
  if (!Has(key)) return out;
  const json& v = j_.at(key);
  if (!v.is_array()) return errors_.Bad(Path(key), "must be a list");
  for (size_t i = 0; i < v.size(); ++i) {
    out.emplace_back(v.at(i), absl::StrCat(Path(key), "[", i, "]"), errors_);
  }
  return out;
}

absl::StatusOr<JsonReader> JsonReader::Object(const char* key) const {
  static const json kEmpty = json::object();
  if (!Has(key)) return JsonReader(kEmpty, Path(key), errors_);
  const json& v = j_.at(key);
  if (!v.is_object()) return errors_.Bad(Path(key), "must be an object");
  return JsonReader(v, Path(key), errors_);
}

}  // namespace trm::jsonio
