// trmctl directory: create, sign, inspect and diff the federation directory
// (docs/trmctl.md, "directory"; the signed format is docs/protocol.md
// section 13).
//
//   trmctl directory create --federation NAME --out spec.json
//   trmctl directory sign --in spec.json --authority-key K --out dir.signed
//   trmctl directory inspect --in dir.signed --authority-pub P
//   trmctl directory diff --authority-pub P OLD NEW
#ifndef TRM_CLIENT_DIRECTORY_COMMANDS_H_
#define TRM_CLIENT_DIRECTORY_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/statusor.h"
#include "client/cli_util.h"
#include "trm/v1/directory.pb.h"

namespace trm::client {

// The directory from its JSON source. Key files named in it are read
// relative to `base_dir`. Every problem names the JSON path that has it.
absl::StatusOr<v1::Directory> DirectoryFromJson(const nlohmann::json& j,
                                                const std::string& base_dir);
// The directory as JSON, keys as PEM, times as RFC 3339.
nlohmann::json DirectoryToJson(const v1::Directory& d);

// Adds the `directory` subcommand to `app`. The returned function runs
// whichever of its verbs was given on the command line.
std::function<absl::Status(const Output&)> AddDirectoryCommands(CLI::App& app);

}  // namespace trm::client

#endif  // TRM_CLIENT_DIRECTORY_COMMANDS_H_
