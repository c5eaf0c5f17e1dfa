// trmctl org init: an organisation makes its own keys (signing, encryption,
// TLS) and a certificate signing request, and gets the public part to send
// to the federation's directory authority and CA. Nobody else ever holds
// its private keys. docs/operations.md, "Onboarding an organisation".
#ifndef TRM_CLIENT_ORG_COMMANDS_H_
#define TRM_CLIENT_ORG_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <functional>

#include "absl/status/status.h"
#include "client/cli_util.h"

namespace trm::client {

// Adds `org` and its verbs to `app`; the returned function runs the one
// given.
std::function<absl::Status(const Output&)> AddOrgCommands(CLI::App& app);

}  // namespace trm::client

#endif  // TRM_CLIENT_ORG_COMMANDS_H_
