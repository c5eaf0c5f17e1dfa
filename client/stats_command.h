// `trmctl stats`: the node's mechanism statistics for its coordinator, as a
// table, CSV or JSON (docs/workflow.md, "Statistics").
#ifndef TRM_CLIENT_STATS_COMMAND_H_
#define TRM_CLIENT_STATS_COMMAND_H_

#include <functional>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "client/cli_util.h"

namespace trm::client {

// Registers `stats` on `app`; the returned function runs it when parsed.
std::function<absl::Status(const Output&)> AddStatsCommand(CLI::App& app);

}  // namespace trm::client

#endif  // TRM_CLIENT_STATS_COMMAND_H_
