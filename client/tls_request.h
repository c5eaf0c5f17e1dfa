// An organisation's own TLS key and a certificate signing request for it,
// so that the federation CA signs a certificate without ever holding the
// private key (trmctl org init; deploy/pki/make-pki.sh DIR sign org ID CSR).
#ifndef TRM_CLIENT_TLS_REQUEST_H_
#define TRM_CLIENT_TLS_REQUEST_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace trm::client {

// Makes an ECDSA P-256 key (written to `key_path`, 0600, never
// overwritten) and a PEM certificate signing request for it (`csr_path`)
// with subject CN=`common_name` and the subject alternative name URI
// `uri` (e.g. trm://org/bg-ngo), signed with the key (SHA-256).
absl::Status WriteTlsKeyAndCsr(const std::string& key_path,
                               const std::string& csr_path,
                               absl::string_view common_name,
                               absl::string_view uri);

}  // namespace trm::client

#endif  // TRM_CLIENT_TLS_REQUEST_H_
