// trmctl audit: tree heads, trails, and self-contained bundles an auditor
// verifies offline (docs/trmctl.md, "audit").
#ifndef TRM_CLIENT_AUDIT_COMMANDS_H_
#define TRM_CLIENT_AUDIT_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <functional>

#include "absl/status/status.h"
#include "client/cli_util.h"

namespace trm::client {

// Adds `audit` and its verbs to `app`; the returned function runs the one
// given.
std::function<absl::Status(const Output&)> AddAuditCommands(CLI::App& app);

}  // namespace trm::client

#endif  // TRM_CLIENT_AUDIT_COMMANDS_H_
