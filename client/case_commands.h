// trmctl case: a case as the node knows it (show, timeline), what is late
// across the node (overdue, for the coordinator), and the erasure notice
// that goes to every organisation that received the person's data (erase).
// docs/trmctl.md, "case".
#ifndef TRM_CLIENT_CASE_COMMANDS_H_
#define TRM_CLIENT_CASE_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <functional>

#include "absl/status/status.h"
#include "client/cli_util.h"

namespace trm::client {

// Adds `case` and its verbs to `app`; the returned function runs the one
// given.
std::function<absl::Status(const Output&)> AddCaseCommands(CLI::App& app);

}  // namespace trm::client

#endif  // TRM_CLIENT_CASE_COMMANDS_H_
