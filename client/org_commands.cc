#include "client/org_commands.h"

#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "client/tls_request.h"
#include "common/crypto/ed25519.h"
#include "common/crypto/key_files.h"
#include "common/crypto/x25519.h"
#include "common/status.h"
#include "trm/v1/directory.pb.h"

namespace trm::client {
namespace {

using nlohmann::json;

struct InitFlags {
  std::string org, home_node, display_name, dir = ".";
  std::vector<std::string> roles;
};

// Ids as the directory and the trm:// URIs take them.
bool ValidId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-' ||
          c == '.')) {
      return false;
    }
  }
  return true;
}

absl::Status Init(const InitFlags& f, const Output& out) {
  if (!ValidId(f.org) || !ValidId(f.home_node)) {
    return UsageError(
        "--org and --home-node are ids of a-z, 0-9, '-' and '.', at most 64 "
        "characters, e.g. --org bg-ngo --home-node bg");
  }
  std::vector<std::string> roles;
  for (const std::string& r : f.roles) {
    const std::string want =
        absl::AsciiStrToUpper(absl::StrReplaceAll(r, {{"-", "_"}}));
    v1::Role role;
    if (!v1::Role_Parse(want, &role) || role == v1::ROLE_UNSPECIFIED) {
      return UsageError(absl::StrCat(
          "unknown --role '", r,
          "'; use national-coordinator, ngo, receiving-organisation, "
          "law-enforcement or consular-service"));
    }
    roles.push_back(v1::Role_Name(role));
  }
  std::error_code made;
  std::filesystem::create_directories(f.dir, made);
  if (made) {
    return Error(absl::StatusCode::kFailedPrecondition, "FILE_IO",
                 absl::StrCat("cannot create ", f.dir, ": ", made.message()));
  }
  const std::string base = f.dir + "/" + f.org;
  const std::string uri = "trm://org/" + f.org;
  // Every private key is made here and never leaves this folder.
  ASSIGN_OR_RETURN(crypto::Ed25519PrivateKey sign,
                   crypto::Ed25519PrivateKey::Generate());
  ASSIGN_OR_RETURN(crypto::X25519PrivateKey enc,
                   crypto::X25519PrivateKey::Generate());
  RETURN_IF_ERROR(crypto::WritePrivateKeyFile(base + ".sign.key", sign.pkey()));
  RETURN_IF_ERROR(crypto::WritePrivateKeyFile(base + ".enc.key", enc.pkey()));
  const std::string sign_pem = crypto::Ed25519PublicKeyPem(sign.public_key());
  const std::string enc_pem = crypto::X25519PublicKeyPem(enc.public_key());
  RETURN_IF_ERROR(crypto::WritePublicKeyFile(base + ".sign.pub", sign_pem));
  RETURN_IF_ERROR(crypto::WritePublicKeyFile(base + ".enc.pub", enc_pem));
  RETURN_IF_ERROR(
      WriteTlsKeyAndCsr(base + ".tls.key", base + ".csr", "org " + f.org, uri));
  // The public part, as an entry of the directory spec (trmctl directory
  // sign): what the directory authority adds.
  json entry = {{"id", f.org},
                {"home_node", f.home_node},
                {"roles", roles},
                {"tls_identity", uri},
                {"signing_keys", {{{"public_key_pem", sign_pem}}}},
                {"encryption_keys", {{{"public_key_pem", enc_pem}}}}};
  if (!f.display_name.empty()) entry["display_name"] = f.display_name;
  const std::string entry_text = entry.dump(2) + "\n";
  RETURN_IF_ERROR(
      WriteOutput(base + ".directory-entry.json", AsBytes(entry_text), 0644));
  const std::string sign_id = HexEncode(crypto::KeyIdOf(sign.public_key()));
  const std::string enc_id = HexEncode(crypto::X25519KeyIdOf(enc.public_key()));
  if (out.json) {
    std::cout << json{{"ok", true},
                      {"org", f.org},
                      {"tls_identity", uri},
                      {"signing_key_id", sign_id},
                      {"encryption_key_id", enc_id},
                      {"private",
                       {base + ".sign.key", base + ".enc.key",
                        base + ".tls.key"}},
                      {"send_to_the_federation",
                       {base + ".directory-entry.json", base + ".csr"}},
                      {"directory_entry", entry}}
                     .dump()
              << "\n";
    return absl::OkStatus();
  }
  std::cout
      << "organisation " << f.org << " (" << uri << ")\n"
      << "  private, 0600, never leave this machine:\n"
      << "    " << base << ".sign.key   signing (Ed25519), key id " << sign_id
      << "\n"
      << "    " << base << ".enc.key    encryption (X25519), key id " << enc_id
      << "\n"
      << "    " << base << ".tls.key    TLS (ECDSA P-256)\n"
      << "  send to your federation (public):\n"
      << "    " << base
      << ".directory-entry.json   to the directory authority: your entry\n"
      << "    " << base
      << ".csr                    to the federation CA: your certificate "
         "request\n"
      << "  the CA signs it with: deploy/pki/make-pki.sh PKI_DIR sign org "
      << f.org << " " << f.org << ".csr\n"
      << "  and sends back org-" << f.org
      << ".crt; check it with: openssl verify -CAfile ca.crt org-" << f.org
      << ".crt\n";
  return absl::OkStatus();
}

}  // namespace

std::function<absl::Status(const Output&)> AddOrgCommands(CLI::App& app) {
  auto flags = std::make_shared<InitFlags>();
  CLI::App* org = app.add_subcommand(
      "org", "your organisation's own keys and certificate request");
  org->require_subcommand(1);
  CLI::App* init = org->add_subcommand(
      "init",
      "make your signing, encryption and TLS keys and a certificate signing "
      "request (trm://org/ID), and print the public part for the directory "
      "authority and the CA; private keys never leave DIR");
  init->add_option("--org", flags->org, "your organisation's id, e.g. bg-ngo")
      ->required();
  init->add_option("--home-node", flags->home_node,
                   "the node you submit to, e.g. bg")
      ->required();
  init->add_option("--role", flags->roles,
                   "ngo, national-coordinator, receiving-organisation, "
                   "law-enforcement or consular-service (repeatable)")
      ->required();
  init->add_option("--display-name", flags->display_name,
                   "the name others see when they choose a recipient");
  init->add_option("--dir", flags->dir, "folder for the files")
      ->capture_default_str();
  return [flags, init](const Output& out) -> absl::Status {
    if (*init) return Init(*flags, out);
    return absl::OkStatus();
  };
}

}  // namespace trm::client
