// The HTTPS listener's certificate chain and key, read from their files.
//
// certctld builds its TLS context from what this returns, and `certctl-admin
// config check` calls the same function, so that the check refuses exactly
// what start-up would.
#pragma once

#include <string>
#include <vector>

#include "certctl/pki/ossl.h"
#include "certctl/util/status.h"

namespace certctl {

struct ServerTlsMaterial {
  std::vector<UniquePtr<X509>> chain;  // leaf first, then the rest of the file
  UniquePtr<EVP_PKEY> key;
};

// Reads `cert_path` (PEM, the leaf first, optionally followed by its chain)
// and `key_path` (through LoadPrivateKeyFile: a key readable or writable by
// others is refused) and checks that the key is the leaf's. Every failure is
// a Configuration error naming the file, or the CERTCTL_SERVER_TLS_* variables
// when a path is empty.
Result<ServerTlsMaterial> LoadServerTlsMaterial(const std::string& cert_path,
                                                const std::string& key_path);

}  // namespace certctl
