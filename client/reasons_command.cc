#include "client/reasons_command.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/reasons.h"
#include "common/status.h"

namespace trm::client {
namespace {

// INVALID_ARGUMENT, as gRPC names its codes.
std::string CodeName(absl::StatusCode code) {
  return absl::StatusCodeToString(code);
}

std::string CodeNames(const ReasonInfo& r) {
  std::vector<std::string> names;
  for (absl::StatusCode c : r.codes) {
    if (c != absl::StatusCode::kOk) names.push_back(CodeName(c));
  }
  return absl::StrJoin(names, ", ");
}

}  // namespace

absl::Status ReasonsCommand(const std::string& token, bool markdown,
                            const Output& out) {
  std::vector<const ReasonInfo*> rows;
  if (!token.empty()) {
    const ReasonInfo* r = FindReason(token);
    if (r == nullptr) {
      return UsageError(absl::StrCat("'", token,
                                     "' is not a reason token; trmctl reasons "
                                     "lists them all"));
    }
    rows.push_back(r);
  } else {
    for (const ReasonInfo& r : Reasons()) rows.push_back(&r);
  }
  if (out.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const ReasonInfo* r : rows) {
      nlohmann::json codes = nlohmann::json::array();
      for (absl::StatusCode c : r->codes) {
        if (c != absl::StatusCode::kOk) codes.push_back(CodeName(c));
      }
      list.push_back({{"reason", std::string(r->token)},
                      {"codes", codes},
                      {"action", std::string(r->action)}});
    }
    std::cout << nlohmann::json{{"ok", true}, {"reasons", list}}.dump() << "\n";
    return absl::OkStatus();
  }
  if (markdown) {
    std::cout << "# Reason tokens\n\n"
                 "Every error trm-broker returns names one of these tokens: "
                 "first in its message, and on the wire as a "
                 "`google.rpc.ErrorInfo` detail with domain `"
              << kReasonDomain
              << "` (docs/protocol.md section 10). Tokens never change once "
                 "published. This page is written by `trmctl reasons "
                 "--markdown` from common/reasons.cc, and a test checks that "
                 "they agree.\n\n"
                 "| reason | gRPC status | what to do |\n"
                 "|---|---|---|\n";
    for (const ReasonInfo* r : rows) {
      std::cout << "| `" << r->token << "` | " << CodeNames(*r) << " | "
                << r->action << " |\n";
    }
    return absl::OkStatus();
  }
  for (const ReasonInfo* r : rows) {
    std::cout << r->token << " (" << CodeNames(*r) << ")\n  " << r->action
              << "\n";
  }
  return absl::OkStatus();
}

}  // namespace trm::client
