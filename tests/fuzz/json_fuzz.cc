// libFuzzer target: the JSON files trm-broker reads, through the strict
// reader. The first input byte picks the parser (its value modulo 3):
//   0: the node configuration (server/config/node_config.h);
//   1: a directory spec (trmctl directory sign);
//   2: an audit bundle (trmctl audit verify --trust-bundle-key).
// Any outcome is fine as long as nothing crashes, leaks, hangs or reads out
// of bounds; the seeds in json_seeds/ start with '0', '1' or '2'.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "client/audit_commands.h"
#include "client/directory_commands.h"
#include "common/json/strict_json.h"
#include "server/config/node_config.h"

namespace {

using namespace trm;  // NOLINT

std::string TempFile(absl::string_view text) {
  static const std::string path =
      "/tmp/trm-json-fuzz-" + std::to_string(getpid()) + ".json";
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(text.data(), static_cast<std::streamsize>(text.size()));
  return path;
}

void FuzzDirectorySpec(absl::string_view text) {
  absl::StatusOr<nlohmann::json> j =
      jsonio::ParseStrictJson(text, {"DIRECTORY_SPEC_INVALID", "spec", ""});
  if (!j.ok()) return;
  client::DirectoryFromJson(*j, "/nonexistent").status().IgnoreError();
}

void FuzzBundle(absl::string_view text) {
  const std::string path = TempFile(text);
  CLI::App app;
  std::function<absl::Status(const client::Output&)> run =
      client::AddAuditCommands(app);
  // trmctl audit verify PATH --trust-bundle-key, last first (CLI11's order
  // for a vector).
  std::vector<std::string> args = {"--trust-bundle-key", path, "verify",
                                   "audit"};
  try {
    app.parse(args);
  } catch (const CLI::ParseError&) {
    std::abort();  // the arguments above are fixed: never
  }
  client::Output out;
  // Quiet: a verified bundle would print its summary.
  std::streambuf* saved = std::cout.rdbuf(nullptr);
  run(out).IgnoreError();
  std::cout.rdbuf(saved);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view text(reinterpret_cast<const char*>(data) + 1,
                               size - 1);
  switch (data[0] % 3) {
    case 0:
      config::LoadNodeConfig(TempFile(text)).status().IgnoreError();
      break;
    case 1:
      FuzzDirectorySpec(text);
      break;
    default:
      FuzzBundle(text);
      break;
  }
  return 0;
}
