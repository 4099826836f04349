// The self-signed certificate a fresh server makes for itself (OpenSSL): an
// EC P-256 key and a ten-year certificate for localhost, 127.0.0.1 and ::1,
// plus any extra names given. Peers pin it (or the operator installs a
// certificate of their own with --tls-cert/--tls-key).
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace p2c2r::server {

// Writes the certificate (PEM, mode 0644) and its private key (PEM, mode 0600).
Status create_self_signed_certificate(const std::string& cert_path, const std::string& key_path,
                                      const std::vector<std::string>& extra_names = {});

}  // namespace p2c2r::server
