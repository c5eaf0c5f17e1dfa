// `trmctl contingency`: a national coordinator declares a contingency for a
// country or a link, ends it, and lists those the node knows
// (docs/workflow.md, "Contingency").
#ifndef TRM_CLIENT_CONTINGENCY_COMMAND_H_
#define TRM_CLIENT_CONTINGENCY_COMMAND_H_

#include <functional>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "client/cli_util.h"

namespace trm::client {

// Registers `contingency` on `app`; the returned function runs it when
// parsed.
std::function<absl::Status(const Output&)> AddContingencyCommand(CLI::App& app);

}  // namespace trm::client

#endif  // TRM_CLIENT_CONTINGENCY_COMMAND_H_
