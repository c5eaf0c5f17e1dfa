// `trmctl reasons`: the registry of reason tokens (common/reasons.h), as a
// table, as JSON, or as the Markdown of docs/reasons.md.
#ifndef TRM_CLIENT_REASONS_COMMAND_H_
#define TRM_CLIENT_REASONS_COMMAND_H_

#include <string>

#include "absl/status/status.h"
#include "client/cli_util.h"

namespace trm::client {

// With `token` only that entry (USAGE when there is none).
absl::Status ReasonsCommand(const std::string& token, bool markdown,
                            const Output& out);

}  // namespace trm::client

#endif  // TRM_CLIENT_REASONS_COMMAND_H_
