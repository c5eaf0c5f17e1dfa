#include "common/crypto/openssl_ptr.h"

#include <openssl/err.h>

namespace trm::crypto {

std::string DrainOpenSslErrors() {
  std::string out;
  char buf[256];
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

}  // namespace trm::crypto
